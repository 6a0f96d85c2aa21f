"""The works of an active adoption: each a commitment of the adopter for one of the adopted
areas, under a phase of the scope of works, that then follows the ordinary lifecycle
(confirmed by the area's facilitator, delivered with proof, received).

A work targets an area, not a need line: commitment_pledge claims a need's remaining
quantity, and an adopter's works are planned by its own scope, not by the assessment. So
the commitment is created here the way pledge_take creates one (event, facilitators'
notification, summary mark), with the pledger check it shares.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import COLLABORATOR
from ksbb.bounds import INTEGER_MAX
from locations.models import Area
from programs.models import DonationForm

from ..adoption.models import Adoption, AdoptionArea, AdoptionStatus, AdoptionWork, Phase
from ..adoption.rules import VALUE_MAX
from ..figures.summaries import summaries_touch
from ..models import Commitment, Status
from ..notify.notifications import notify_new_pledge
from .pledges import PledgeRefused, PledgeResult, planned_delivery_refusal, pledger_check
from .transitions import event_record


def adoption_work_add(
    *,
    user,
    adoption: Adoption,
    phase: Phase,
    donation_form: DonationForm,
    area: Area,
    quantity: int,
    idempotency_key: str,
    planned_delivery_on: datetime.date | None = None,
    value_idr: Decimal | None = None,
    note: str = "",
) -> PledgeResult:
    """Add a work to an active adoption, as a pledged commitment of the adopter.

    Refused (PledgeRefused) unless `user` acts for the adopter, the adoption is active, the
    phase is one of its own, the donation form is planned in that phase and the area is one
    it holds. `value_idr` None: the donation form's estimate (none without a standard
    value). The same idempotency key returns the work it created first. Must not run
    inside an outer transaction: it commits its own."""
    collaborator = adoption.collaborator
    pledger_check(user=user, collaborator=collaborator)
    earlier = Commitment.objects.with_key(collaborator, idempotency_key)
    if earlier is not None:
        return PledgeResult(earlier, created=False)
    _work_check(adoption, phase, donation_form, area, quantity, planned_delivery_on)
    if value_idr is not None and not 0 <= value_idr <= VALUE_MAX:
        raise PledgeRefused(_("Values must be positive and below 100 trillion rupiah."))
    if value_idr is None:
        value_idr = donation_form.estimate_value_idr(quantity)
    try:
        with transaction.atomic():
            commitment = _work_create(
                user=user,
                adoption=adoption,
                phase=phase,
                donation_form=donation_form,
                area=area,
                quantity=quantity,
                idempotency_key=idempotency_key,
                planned_delivery_on=planned_delivery_on,
                value_idr=value_idr,
                note=note,
            )
    except IntegrityError:
        earlier = Commitment.objects.with_key(collaborator, idempotency_key)
        if earlier is None:
            raise
        return PledgeResult(earlier, created=False)
    return PledgeResult(commitment, created=True)


def _work_check(
    adoption: Adoption,
    phase: Phase,
    donation_form: DonationForm,
    area: Area,
    quantity: int,
    planned_delivery_on: datetime.date | None,
) -> None:
    if adoption.status != AdoptionStatus.ACTIVE:
        raise PledgeRefused(_("Works are added to an active adoption only."))
    if adoption.collaborator.standing_in(adoption.program_id) != Collaborator.Verification.VERIFIED:
        raise PledgeRefused(_("Only verified collaborators may adopt an area."))
    if phase.adoption_id != adoption.pk:
        raise PledgeRefused(_("Choose a phase of this adoption."))
    if not phase.items.filter(donation_form=donation_form).exists():
        raise PledgeRefused(_("Choose a donation form planned in this phase."))
    if not AdoptionArea.objects.filter(adoption=adoption, area=area, holds=True).exists():
        raise PledgeRefused(_("Choose one of the adopted areas."))
    if not 1 <= quantity <= INTEGER_MAX:
        raise PledgeRefused(_("Pledge at least 1."))
    if not adoption.program.is_accepting_pledges():
        raise PledgeRefused(_("This program is not taking pledges at the moment."))
    refusal = planned_delivery_refusal(planned_delivery_on, timezone.localdate())
    if refusal:
        raise PledgeRefused(refusal)


def _work_create(
    *,
    user,
    adoption: Adoption,
    phase: Phase,
    donation_form: DonationForm,
    area: Area,
    quantity: int,
    idempotency_key: str,
    planned_delivery_on: datetime.date | None,
    value_idr: Decimal | None,
    note: str,
) -> Commitment:
    # Locks the adoption row: a work is never added to an adoption ended meanwhile.
    still_active = (
        Adoption.objects.select_for_update()
        .filter(pk=adoption.pk, status=AdoptionStatus.ACTIVE)
        .exists()
    )
    if not still_active:
        raise PledgeRefused(_("Works are added to an active adoption only."))
    commitment = Commitment.objects.create(
        collaborator=adoption.collaborator,
        need=None,
        area=area,
        program=adoption.program,
        donation_form=donation_form,
        quantity=quantity,
        value_idr=value_idr,
        channel=Commitment.Channel.PLATFORM,
        planned_delivery_on=planned_delivery_on,
        note=note,
        idempotency_key=idempotency_key,
        created_by=user,
    )
    AdoptionWork.objects.create(adoption=adoption, phase=phase, commitment=commitment)
    reason = _("A work of the adoption “%(name)s”, phase %(phase)s.") % {
        "name": adoption.name,
        "phase": phase.order,
    }
    event_record(
        commitment=commitment,
        actor=user,
        actor_role=COLLABORATOR,
        to_status=Status.PLEDGED,
        reason=f"{reason}\n{note}".strip()[:1000],
    )
    notify_new_pledge(commitment)
    summaries_touch(commitment)
    return commitment
