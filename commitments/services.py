"""The commitment lifecycle: pledging, transitions, deliveries and expiry (the figures
built from them are in totals.py).

Functions are keyword-only and named <thing>_<action>. Each states its locking
preconditions in its docstring.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import ADMIN, COLLABORATOR, FACILITATOR, LEAD, SYSTEM, roles_for
from ksbb.after_commit import on_commit_once
from locations.mapdata import needs_changed
from locations.models import Need
from programs.models import Program

from .limits import PledgeLimits
from .models import (
    Commitment,
    CommitmentEvent,
    Delivery,
    DeliveryProof,
    Status,
)
from .notifications import notify_delivery, notify_new_pledge, notify_status
from .summaries import summaries_touch
from .uploads import CleanUpload
from .workflow import (
    CONFIRM_DELIVERY_ROLES,
    RELEASING,
    TransitionRefused,
    check,
    commitment_roles,
    find,
    record_delivery_roles,
)

logger = logging.getLogger(__name__)


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
    within its limits (commitments.limits), checked with the collaborator row locked.
    The remaining quantity is claimed with one conditional UPDATE and a row-count check,
    so concurrent pledges can never take a need below zero (PostgreSQL re-checks the
    condition on the row it waited for; SQLite serialises writers with IMMEDIATE
    transactions). The same idempotency key returns the commitment it created first,
    whether the retry arrives later or at the same moment (the unique constraint decides).
    Must not run inside an outer transaction: it commits its own.
    """
    pledger_check(user=user, collaborator=collaborator, need=need)
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


# The steps of a pledge, shared by commitment_pledge (one need) and commitments.plans
# (a plan of several needs in one transaction), so that each rule has one home.


class NeedUnavailable(PledgeRefused):
    """The need no longer has the quantity asked (fully pledged, closed or expired
    meanwhile): the conditional claim found no row to update."""

    def __init__(self, need_id: int, quantity: int) -> None:
        super().__init__(need_shortfall(Need.objects.get(pk=need_id), quantity))
        self.need_id = need_id
        self.quantity = quantity


def pledger_check(*, user, collaborator: Collaborator, need: Need) -> None:
    """Refuse unless `user` acts for `collaborator` (an approved member)."""
    roles = roles_for(
        user,
        collaborator_id=collaborator.pk,
        area=need.area,
        site=need.site,
        program_id=need.program_id,
    )
    if COLLABORATOR not in roles:
        raise PledgeRefused(_("You can only pledge for a collaborator you belong to."))


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


def event_record(commitment: Commitment, **fields) -> CommitmentEvent:
    """Every event of a commitment is written here, so its last_event_at (which the "no news
    for N days" list reads) is always its newest event."""
    event = CommitmentEvent.objects.create(commitment=commitment, **fields)
    Commitment.objects.filter(pk=commitment.pk).update(last_event_at=event.at)
    commitment.last_event_at = event.at
    return event


def _lock(commitment_id: int) -> Commitment:
    # Lock the row for the rest of the transaction (a no-op on SQLite, whose IMMEDIATE
    # transactions already serialise writers).
    return (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("collaborator", "area", "site", "program", "donation_form", "need")
        .get(pk=commitment_id)
    )


def _move(commitment: Commitment, source: str, target: str, *, actor, role: str, reason: str):
    """Conditional status change; refuses if someone else moved the commitment first."""
    moved = Commitment.objects.filter(pk=commitment.pk, status=source).update(
        status=target, status_changed_at=timezone.now()
    )
    if moved != 1:
        raise TransitionRefused(
            _("This commitment was changed meanwhile; reload the page to see its status.")
        )
    commitment.status = target
    event_record(
        commitment=commitment,
        actor=actor,
        actor_role=role,
        from_status=source,
        to_status=target,
        reason=reason,
    )
    notify_status(commitment, reason)
    summaries_touch(commitment)
    _refresh_totals_on_commit(commitment)


def _acting_role(roles: set[str], allowed: frozenset[str]) -> str:
    for role in (ADMIN, LEAD, FACILITATOR, COLLABORATOR, SYSTEM):
        if role in roles and role in allowed:
            return role
    return ""


def commitment_transition(
    *, commitment_id: int, target: str, actor, reason: str = ""
) -> Commitment:
    """Move a commitment to `target` if the workflow allows it for `actor` (None: the
    system). Releases the need's quantity when the commitment is cancelled, rejected or
    expires. Runs in its own transaction, with the commitment row locked."""
    with transaction.atomic():
        commitment = _lock(commitment_id)
        transition = find(commitment.status, target)
        if transition.by_delivery:
            raise TransitionRefused(_("Record or confirm a delivery to do this."))
        roles = {SYSTEM} if actor is None else commitment_roles(actor, commitment)
        check(transition, roles, commitment, reason)
        _move(
            commitment,
            transition.source,
            target,
            actor=actor,
            role=_acting_role(roles, transition.roles),
            reason=reason.strip(),
        )
        if target in RELEASING and commitment.need_id:
            Need.objects.filter(pk=commitment.need_id).update(
                quantity_claimed=F("quantity_claimed") - commitment.quantity,
                updated_at=timezone.now(),
            )
            on_commit_once(needs_changed)
    return commitment


def delivery_record(
    *,
    commitment_id: int,
    actor,
    quantity: int,
    delivered_on: datetime.date,
    recipients_households: int | None,
    recipients_persons: int | None,
    proofs: list[CleanUpload],
    note: str = "",
) -> Delivery:
    """Record goods handed over (partial deliveries allowed), with checked proof files.
    The first delivery moves a committed commitment to delivered."""
    if not proofs:
        raise TransitionRefused(_("Add at least one photo or document as proof."))
    saved: list[DeliveryProof] = []
    try:
        with transaction.atomic():
            commitment = _lock(commitment_id)
            roles = commitment_roles(actor, commitment)
            if not roles & record_delivery_roles(commitment):
                raise TransitionRefused(
                    _("You may not do this for this commitment."), forbidden=True
                )
            if commitment.status not in (Status.COMMITTED, Status.DELIVERED):
                raise TransitionRefused(
                    _("Deliveries are recorded for confirmed commitments only.")
                )
            if quantity < 1:
                raise TransitionRefused(_("Deliver at least 1."))
            if delivered_on > timezone.localdate():
                raise TransitionRefused(_("The delivery date cannot be in the future."))
            added = Commitment.objects.filter(
                pk=commitment.pk, quantity_delivered__lte=F("quantity") - quantity
            ).update(quantity_delivered=F("quantity_delivered") + quantity)
            if added != 1:
                raise TransitionRefused(
                    _("Only %(left)s are left to deliver for this commitment.")
                    % {"left": commitment.quantity_left}
                )
            delivery = Delivery.objects.create(
                commitment=commitment,
                quantity=quantity,
                delivered_on=delivered_on,
                recipients_households=recipients_households,
                recipients_persons=recipients_persons,
                note=note,
                recorded_by=actor,
            )
            for proof in proofs:
                saved.append(
                    DeliveryProof.objects.create(
                        delivery=delivery,
                        file=proof.as_file(),
                        kind=proof.kind,
                        content_type=proof.content_type,
                        size_bytes=len(proof.content),
                    )
                )
            role = _acting_role(roles, record_delivery_roles(commitment))
            if commitment.status == Status.COMMITTED:
                _move(
                    commitment,
                    Status.COMMITTED,
                    Status.DELIVERED,
                    actor=actor,
                    role=role,
                    reason=_("Delivered %(quantity)s") % {"quantity": quantity},
                )
            else:
                event_record(
                    commitment=commitment,
                    actor=actor,
                    actor_role=role,
                    from_status=Status.DELIVERED,
                    to_status=Status.DELIVERED,
                    reason=_("Delivered %(quantity)s more") % {"quantity": quantity},
                )
            notify_delivery(commitment, quantity)
    except Exception:
        for proof in saved:  # files are not transactional: remove what this attempt wrote
            proof.file.storage.delete(proof.file.name)
        raise
    return delivery


def delivery_confirm(*, delivery_id: int, actor) -> Delivery:
    """The facilitator confirms receipt. When everything promised has arrived and been
    confirmed, the commitment is completed."""
    with transaction.atomic():
        delivery = Delivery.objects.select_related("commitment").get(pk=delivery_id)
        commitment = _lock(delivery.commitment_id)
        roles = commitment_roles(actor, commitment)
        if not roles & CONFIRM_DELIVERY_ROLES:
            raise TransitionRefused(_("You may not do this for this commitment."), forbidden=True)
        confirmed = Delivery.objects.filter(pk=delivery.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now(), confirmed_by=actor
        )
        if confirmed != 1:
            raise TransitionRefused(_("This delivery was already confirmed."))
        if commitment.need_id:
            Need.objects.filter(pk=commitment.need_id).update(
                quantity_delivered=F("quantity_delivered") + delivery.quantity,
                updated_at=timezone.now(),
            )
            on_commit_once(needs_changed)
        total = Delivery.objects.filter(
            commitment=commitment, confirmed_at__isnull=False
        ).aggregate(total=Sum("quantity"))["total"]
        role = _acting_role(roles, CONFIRM_DELIVERY_ROLES)
        if total >= commitment.quantity and commitment.status == Status.DELIVERED:
            _move(
                commitment,
                Status.DELIVERED,
                Status.COMPLETED,
                actor=actor,
                role=role,
                reason=_("Receipt confirmed"),
            )
        else:
            event_record(
                commitment=commitment,
                actor=actor,
                actor_role=role,
                from_status=commitment.status,
                to_status=commitment.status,
                reason=_("Receipt of %(quantity)s confirmed") % {"quantity": delivery.quantity},
            )
            summaries_touch(commitment)  # its beneficiaries reached changed
            _refresh_totals_on_commit(commitment)
        delivery.refresh_from_db()
    return delivery


def commitments_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire pledges not confirmed, and commitments not delivered, within their program's
    limits. Idempotent; each commitment moves in its own transaction."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    expired = 0
    for program in Program.objects.all():
        # Pledges of collaborators not verified for the program expire sooner.
        unconfirmed = (
            Commitment.objects.filter(program=program, status=Status.PLEDGED)
            .with_standing()
            .filter(
                Q(created_at__lt=now - datetime.timedelta(days=program.confirm_within_days))
                | Q(
                    created_at__lt=now
                    - datetime.timedelta(days=program.unverified_confirm_within_days),
                    collaborator_standing__in=[
                        Collaborator.Verification.UNVERIFIED,
                        Collaborator.Verification.REJECTED,
                    ],
                )
            )
        )
        undelivered = Commitment.objects.filter(program=program, status=Status.COMMITTED).filter(
            Q(planned_delivery_on__lt=today - datetime.timedelta(days=program.deliver_within_days))
            | Q(
                planned_delivery_on__isnull=True,
                status_changed_at__lt=now - datetime.timedelta(days=program.deliver_within_days),
            )
        )
        for commitment_id in [
            *unconfirmed.values_list("pk", flat=True),
            *undelivered.values_list("pk", flat=True),
        ]:
            try:
                commitment_transition(
                    commitment_id=commitment_id,
                    target=Status.EXPIRED,
                    actor=None,
                    reason=str(_("Not confirmed or delivered within the program's time limit.")),
                )
            except TransitionRefused:
                continue  # moved by someone else meanwhile
            expired += 1
    return expired


def _refresh_totals_on_commit(commitment: Commitment) -> None:
    """After commit, refresh the figures of the commitment's collaborator (its program and
    donation form figures follow from the summary job that summaries_touch enqueues)."""
    collaborator_id = commitment.collaborator_id
    transaction.on_commit(lambda: _refresh_totals_later(collaborator_id))


def _refresh_totals_later(collaborator_id: int) -> None:
    from .tasks import refresh_collaborator_totals

    try:
        refresh_collaborator_totals.delay([collaborator_id])
    except Exception:  # noqa: BLE001 - the periodic task refreshes them anyway
        logger.warning("Broker unavailable; totals refresh on the next periodic run", exc_info=True)
