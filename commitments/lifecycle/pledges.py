"""Pledging: one need (commitment_pledge) and the steps a plan of several needs shares
(pledger check, collaborator lock, claim, commitment with its event and marks).

Functions are keyword-only and named <thing>_<action>. Each states its locking
preconditions in its docstring.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import COLLABORATOR, pledge_for_refusal
from ksbb.after_commit import on_commit_once
from locations.mapdata import needs_changed
from locations.models import Need

from ..adoption.first_offer import first_offer_refusal
from ..figures.summaries import summaries_touch
from ..models import Commitment, Status
from ..notify.notifications import notify_new_pledge
from .limits import PledgeLimits
from .transitions import event_record
from .uploads import CleanUpload


class PledgeRefused(Exception):
    """A pledge that cannot be taken; the message is for the person pledging."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PledgeResult:
    commitment: Commitment
    created: bool
    # False when the idempotency key was used before for another pledge: `commitment` is
    # that earlier one, and this request was not carried out.
    same_request: bool = True


# How far ahead a pledge may plan its delivery.
PLAN_WITHIN_DAYS = 366


def planned_delivery_refusal(planned_on: datetime.date | None, today: datetime.date) -> str | None:
    if planned_on is None:
        return None
    if planned_on < today:
        return _("The planned delivery date cannot be in the past.")
    if planned_on > today + datetime.timedelta(days=PLAN_WITHIN_DAYS):
        return _("Plan the delivery within a year.")
    return None


def pledge_matches(
    commitment: Commitment,
    *,
    need: Need,
    quantity: int,
    planned_delivery_on: datetime.date | None,
    aggregator: Collaborator | None,
    is_anonymous: bool,
    note: str,
) -> bool:
    """Whether an earlier commitment is what this pledge asks for (a retry of it) rather
    than another pledge reusing its idempotency key. The statement letter is not compared:
    a retry uploads its bytes again, and the first copy is kept."""
    return (
        commitment.need_id == need.pk
        and commitment.quantity == quantity
        and commitment.planned_delivery_on == planned_delivery_on
        and commitment.aggregator_id == (aggregator.pk if aggregator is not None else None)
        and commitment.is_anonymous == bool(is_anonymous)
        and commitment.note == note
    )


def commitment_pledge(
    *,
    user,
    collaborator: Collaborator,
    need: Need,
    quantity: int,
    idempotency_key: str,
    planned_delivery_on: datetime.date | None = None,
    aggregator: Collaborator | None = None,
    statement_letter: CleanUpload | None = None,
    is_anonymous: bool = False,
    note: str = "",
) -> PledgeResult:
    """Pledge `quantity` of a need for `collaborator`.

    Rejected collaborators are refused; collaborators not verified for the program pledge
    within its limits (commitments.lifecycle.limits), checked with the collaborator row locked.
    The remaining quantity is claimed with one conditional UPDATE and a row-count check,
    so concurrent pledges can never take a need below zero (PostgreSQL re-checks the
    condition on the row it waited for; SQLite serialises writers with IMMEDIATE
    transactions). The same idempotency key returns the commitment it created first,
    whether the retry arrives later or at the same moment (the unique constraint decides).
    Must not run inside an outer transaction: it commits its own.
    """
    pledger_check(user=user, collaborator=collaborator)
    asked = {
        "need": need,
        "quantity": quantity,
        "planned_delivery_on": planned_delivery_on,
        "aggregator": aggregator,
        "is_anonymous": is_anonymous,
        "note": note,
    }
    earlier = Commitment.objects.with_key(collaborator, idempotency_key)
    if earlier is not None:
        return PledgeResult(earlier, created=False, same_request=pledge_matches(earlier, **asked))
    refusal = pledge_line_refusal(need=need, quantity=quantity)
    if refusal:
        raise PledgeRefused(refusal)
    if aggregator is not None and (
        aggregator.pk == collaborator.pk or not aggregator.is_aggregator
    ):
        raise PledgeRefused(_("Choose an aggregator other than yourself."))
    today = timezone.localdate()
    refusal = planned_delivery_refusal(planned_delivery_on, today)
    if refusal:
        raise PledgeRefused(refusal)
    try:
        with transaction.atomic():
            locked = collaborator_lock(collaborator=collaborator, program_id=need.program_id)
            commitment = pledge_take(
                user=user,
                collaborator=locked,
                standing=locked.standing,
                need=need,
                quantity=quantity,
                today=today,
                idempotency_key=idempotency_key,
                planned_delivery_on=planned_delivery_on,
                aggregator=aggregator,
                statement_letter=statement_letter,
                is_anonymous=is_anonymous,
                note=note,
            )
    except (IntegrityError, PledgeRefused):
        # The same submission may have won the race a moment ago (taking the last units,
        # or the idempotency key): then the answer is what it created.
        earlier = Commitment.objects.with_key(collaborator, idempotency_key)
        if earlier is None:
            raise
        return PledgeResult(earlier, created=False, same_request=pledge_matches(earlier, **asked))
    return PledgeResult(commitment, created=True)


# The steps of a pledge, shared by commitment_pledge (one need) and commitments.assistant.plans
# (a plan of several needs in one transaction), so that each rule has one home.


class NeedUnavailable(PledgeRefused):
    """The need no longer has the quantity asked (fully pledged, closed or expired
    meanwhile): the conditional claim found no row to update."""

    def __init__(self, need_id: int, quantity: int) -> None:
        super().__init__(need_shortfall(Need.objects.get(pk=need_id), quantity))
        self.need_id = need_id
        self.quantity = quantity


def pledger_check(*, user, collaborator: Collaborator) -> None:
    """Refuse unless `user` acts for `collaborator` (an approved member)."""
    refusal = pledge_for_refusal(user, collaborator.pk)
    if refusal:
        raise PledgeRefused(refusal)


def pledge_line_refusal(*, need: Need, quantity: int) -> str | None:
    """Why nobody may pledge `quantity` of this need, known before claiming (the quantity
    itself, the program not taking pledges); None if the claim may be tried."""
    if quantity < 1:
        return _("Pledge at least 1.")
    if not need.program.is_accepting_pledges():
        return _("This program is not taking pledges at the moment.")
    return None


def collaborator_lock(*, collaborator: Collaborator, program_id: int) -> Collaborator:
    """The collaborator's row, locked for the rest of the transaction, with its `standing`
    in the program annotated. Concurrent pledges of one collaborator wait here for each
    other, so that together they cannot exceed its limits (SQLite's IMMEDIATE transactions
    already serialise writers; PostgreSQL needs the row lock)."""
    return (
        Collaborator.objects.select_for_update().with_standing(program_id).get(pk=collaborator.pk)
    )


def pledge_take(
    *,
    user,
    collaborator: Collaborator,
    standing: str,
    need: Need,
    quantity: int,
    today: datetime.date,
    idempotency_key: str,
    planned_delivery_on: datetime.date | None = None,
    aggregator: Collaborator | None = None,
    statement_letter: CleanUpload | None = None,
    is_anonymous: bool = False,
    note: str = "",
) -> Commitment:
    """Check the collaborator's limits, claim `quantity` of the need and create the
    commitment with its event, the facilitators' notification and the summary mark.

    Call inside an open transaction, after collaborator_lock (`standing`: the
    collaborator's standing in the need's program). Raises PledgeRefused for a limit and
    NeedUnavailable when the need no longer has `quantity`; the caller's transaction
    must then roll back whatever it claimed before."""
    refusal = first_offer_refusal(need=need, collaborator_id=collaborator.pk)
    if refusal:  # a need of an adopted area, still offered to its adopter alone
        raise PledgeRefused(refusal)
    limits = PledgeLimits.of(collaborator=collaborator, standing=standing, need=need)
    refusal = limits.refusal(quantity)
    if refusal:
        raise PledgeRefused(refusal)
    if not need_claim(need_id=need.pk, quantity=quantity, today=today):
        raise NeedUnavailable(need.pk, quantity)
    commitment = Commitment(
        collaborator=collaborator,
        need=need,
        area=need.area,
        site=need.site,
        program=need.program,
        donation_form=need.donation_form,
        quantity=quantity,
        value_idr=need.estimate_value_idr(quantity),
        channel=Commitment.Channel.PLATFORM,
        aggregator=aggregator,
        planned_delivery_on=planned_delivery_on,
        is_anonymous=is_anonymous,
        note=note,
        idempotency_key=idempotency_key,
        created_by=user,
        statement_letter=statement_letter.as_file() if statement_letter else "",
    )
    try:
        commitment.save()
    except IntegrityError:
        # The letter was written before the row failed: files are not transactional.
        if commitment.statement_letter:
            commitment.statement_letter.storage.delete(commitment.statement_letter.name)
        raise
    event_record(
        commitment=commitment,
        actor=user,
        actor_role=COLLABORATOR,
        to_status=Status.PLEDGED,
        reason=note,
    )
    notify_new_pledge(commitment)
    summaries_touch(commitment)
    on_commit_once(needs_changed)
    return commitment


def need_claim(*, need_id: int, quantity: int, today: datetime.date) -> bool:
    """Take `quantity` off what remains of a need, if that much remains: one conditional
    UPDATE whose row count says whether it happened. Call inside the pledge's transaction."""
    claimed = Need.objects.filter(
        pk=need_id,
        status=Need.Status.OPEN,
        valid_until__gte=today,
        quantity_claimed__lte=F("quantity_needed") - quantity,
    ).update(quantity_claimed=F("quantity_claimed") + quantity, updated_at=timezone.now())
    return claimed == 1


def need_shortfall(need: Need, quantity: int, today: datetime.date | None = None) -> str:
    """Why the need, as read now, cannot take `quantity`, in words for the person pledging."""
    if not need.is_open(today):
        return str(_("This need is no longer open for pledges."))
    return str(
        _("Only %(remaining)s remain to be pledged for this need; you asked for %(quantity)s.")
        % {"remaining": need.quantity_remaining, "quantity": quantity}
    )
