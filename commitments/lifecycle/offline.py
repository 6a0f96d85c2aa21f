"""Commitments made outside the portal (`channel = offline`), recorded by the program lead
or the facilitator who would have confirmed them, so that program totals match the city's
"platform & non-platform" figures. From then on they follow the ordinary lifecycle
(commitments.lifecycle, commitments.workflow).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import ADMIN, FACILITATOR, LEAD, Scopes, scopes_for
from ksbb.after_commit import on_commit_once
from locations.mapdata import needs_changed
from locations.models import Area, Need, Site
from programs.models import DonationForm

from ..figures.summaries import summaries_touch
from ..models import Commitment, Status
from ..notify.notifications import notify_offline_commitment
from ..workflow import TransitionRefused
from .pledges import PledgeResult, need_claim
from .transitions import collaborator_totals_after_commit, event_record

# How far back a commitment made outside the portal may be dated.
MADE_WITHIN_DAYS = 5 * 366
# Areas a commitment can be made for: those needs are assessed for.
TARGET_LEVELS = (Area.Level.RW, Area.Level.KELURAHAN)


def offline_roles(scopes: Scopes, *, area: Area, site: Site | None, program_id: int) -> set[str]:
    """Who may record an offline commitment for a target: the people who would confirm a
    pledge there (its facilitator, the program's lead, an administrator)."""
    return scopes.roles_towards(collaborator_id=None, area=area, site=site, program_id=program_id)


def made_on_refusal(made_on: datetime.date, today: datetime.date) -> str | None:
    if made_on > today:
        return _("The date the commitment was made cannot be in the future.")
    if made_on < today - datetime.timedelta(days=MADE_WITHIN_DAYS):
        return _("Record commitments made within the last five years.")
    return None


def commitment_record_offline(
    *,
    actor,
    collaborator: Collaborator,
    need: Need | None = None,
    area: Area | None = None,
    site: Site | None = None,
    donation_form: DonationForm,
    quantity: int,
    value_idr: int | Decimal | None,
    made_on: datetime.date,
    note: str = "",
    idempotency_key: str,
) -> PledgeResult:
    """Record a commitment made outside the portal, already confirmed (`committed`) by the
    lead or facilitator recording it.

    The target is a need (its area, site, program and donation form) or an RW / kelurahan
    (and optionally a site in it) with a donation form. A need's remaining quantity is
    claimed with commitments.lifecycle.need_claim inside this transaction, so offline
    records and pledges together never take a need below zero. `value_idr` None means
    the need's or the donation form's estimate. The same idempotency key for the same
    collaborator returns the commitment it created first. Must not run inside an outer
    transaction: it commits its own.
    """
    area, site, donation_form = _target_of(need, area, site, donation_form)
    program = donation_form.program
    roles = _recorder_roles(actor, area=area, site=site, program_id=program.pk)
    target = {"need": need, "area": area, "site": site, "donation_form": donation_form}
    asked = {"quantity": quantity, "made_on": made_on, "note": note}
    earlier = Commitment.objects.with_key(collaborator, idempotency_key)
    if earlier is not None:
        return _replay(earlier, **target, **asked, value_idr=value_idr)
    _check_target(**target)
    today = timezone.localdate()
    _check_offline_request(collaborator, program, quantity, made_on, today, value_idr)
    value_idr = _value_or_estimate(value_idr, need, donation_form, quantity)
    role = next(r for r in (ADMIN, LEAD, FACILITATOR) if r in roles)
    now = timezone.now()
    try:
        with transaction.atomic():
            commitment = _offline_commitment_create(
                actor=actor,
                today=today,
                role=role,
                collaborator=collaborator,
                program=program,
                **target,
                **asked,
                value_idr=value_idr,
                idempotency_key=idempotency_key,
                now=now,
            )
    except (IntegrityError, TransitionRefused):
        # The same submission may have won the race a moment ago: then the answer is what
        # it created.
        earlier = Commitment.objects.with_key(collaborator, idempotency_key)
        if earlier is None:
            raise
        return _replay(earlier, **target, **asked, value_idr=value_idr)
    return PledgeResult(commitment, created=True)


def _target_of(
    need: Need | None, area: Area | None, site: Site | None, donation_form: DonationForm
) -> tuple[Area, Site | None, DonationForm]:
    """The target's area, site and donation form: a need's own, else those given."""
    if need is not None:
        area, site, donation_form = need.area, need.site, need.donation_form
    if area is None:
        raise TransitionRefused(_("Choose a need or an area."))
    return area, site, donation_form


def _recorder_roles(actor, *, area: Area, site: Site | None, program_id: int) -> set[str]:
    """The actor's roles towards the target; refused if none lets them record there."""
    roles = offline_roles(scopes_for(actor), area=area, site=site, program_id=program_id)
    if not roles:
        raise TransitionRefused(
            _(
                "You can record offline commitments only for the areas you facilitate or "
                "the programs you lead."
            ),
            forbidden=True,
        )
    return roles


def _replay(
    earlier: Commitment,
    *,
    need: Need | None,
    area: Area,
    site: Site | None,
    donation_form: DonationForm,
    quantity: int,
    value_idr: int | Decimal | None,
    made_on: datetime.date,
    note: str,
) -> PledgeResult:
    """The answer for a key already used: its commitment, and whether the request matches."""
    same = (
        earlier.need_id == (need.pk if need is not None else None)
        and earlier.area_id == area.pk
        and earlier.site_id == (site.pk if site is not None else None)
        and earlier.donation_form_id == donation_form.pk
        and earlier.quantity == quantity
        and (value_idr is None or earlier.value_idr == value_idr)
        and timezone.localdate(earlier.created_at) == made_on
        and earlier.note == note
    )
    return PledgeResult(earlier, created=False, same_request=same)


def _check_offline_request(
    collaborator: Collaborator,
    program,
    quantity: int,
    made_on: datetime.date,
    today: datetime.date,
    value: int | Decimal | None,
) -> None:
    """Refuse a quantity, date or value out of bounds, or a collaborator not verified."""
    if quantity < 1:
        raise TransitionRefused(_("Record at least 1."))
    refusal = made_on_refusal(made_on, today)
    if refusal:
        raise TransitionRefused(refusal)
    if value is not None and value < 0:
        raise TransitionRefused(_("The value cannot be negative."))
    if collaborator.standing_in(program.pk) != Collaborator.Verification.VERIFIED:
        raise TransitionRefused(
            _(
                "%(name)s is not verified for this program: an administrator or the "
                "program lead must verify the collaborator first."
            )
            % {"name": collaborator.name}
        )


def _value_or_estimate(
    value_idr: int | Decimal | None, need: Need | None, donation_form: DonationForm, quantity: int
) -> int | Decimal | None:
    """The value given, else the need's or the donation form's estimate for the quantity."""
    if value_idr is None:
        source = need if need is not None else donation_form
        value_idr = source.estimate_value_idr(quantity)
    return value_idr


def _offline_commitment_create(
    *,
    actor,
    role: str,
    collaborator: Collaborator,
    program,
    need: Need | None,
    area: Area,
    site: Site | None,
    donation_form: DonationForm,
    quantity: int,
    value_idr: int | Decimal,
    made_on: datetime.date,
    note: str,
    idempotency_key: str,
    today: datetime.date,
    now: datetime.datetime,
) -> Commitment:
    """Claim the need's quantity, then create the committed commitment, dated the day it was
    made, with its event, notifications and after-commit work."""
    if need is not None and not need_claim(need_id=need.pk, quantity=quantity, today=today):
        raise TransitionRefused(_need_refusal(need.pk, quantity))
    # Dated at noon of the day it was made (its own time today), for the lists and exports.
    made_at = min(timezone.make_aware(datetime.datetime.combine(made_on, datetime.time(12))), now)
    commitment = Commitment.objects.create(
        collaborator=collaborator,
        need=need,
        area=area,
        site=site,
        program=program,
        donation_form=donation_form,
        quantity=quantity,
        value_idr=value_idr,
        channel=Commitment.Channel.OFFLINE,
        status=Status.COMMITTED,
        note=note,
        idempotency_key=idempotency_key,
        created_by=actor,
        created_at=made_at,
        status_changed_at=now,
    )
    reason = _("Recorded offline (made on %(date)s); confirmed by the person who recorded it.") % {
        "date": made_on.isoformat()
    }
    event_record(
        commitment=commitment,
        actor=actor,
        actor_role=role,
        at=now,
        to_status=Status.COMMITTED,
        reason=f"{reason}\n{note}".strip(),
    )
    notify_offline_commitment(commitment, exclude=actor)
    summaries_touch(commitment)
    if need is not None:
        on_commit_once(needs_changed)
    collaborator_totals_after_commit(commitment)
    return commitment


def _check_target(
    *, need: Need | None, area: Area, site: Site | None, donation_form: DonationForm
) -> None:
    if need is not None:
        return  # a need's own target was checked when the need was assessed
    if area.level not in TARGET_LEVELS:
        raise TransitionRefused(_("Choose an RW or a kelurahan."))
    if site is not None and site.area_id != area.pk:
        raise TransitionRefused(_("The site is not in this area."))


def _need_refusal(need_id: int, quantity: int) -> str:
    need = Need.objects.get(pk=need_id)
    if not need.is_open():
        return _("This need is closed or expired; record the commitment against its area.")
    return _("Only %(remaining)s remain of this need; you recorded %(quantity)s.") % {
        "remaining": need.quantity_remaining,
        "quantity": quantity,
    }
