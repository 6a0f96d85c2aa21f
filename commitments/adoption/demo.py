"""The demo's adoption: YPO's adoption of Kampung Tanah Merah under Penataan Pemukiman, the
deck's example ("commitment value: can continue to grow"), with three phases of works, a
facilitator's comment and works in several states. Called by the demo builder
(commitments.housekeeping.demo) inside its transaction, before the summaries are rebuilt;
rows are written directly, as the rest of the demo's are, and marked as demo data."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from collaborators.models import Collaborator
from locations.models import Area
from programs.models import DonationForm, Program

from ..models import Commitment, CommitmentEvent, Delivery, Status
from .models import (
    Adoption,
    AdoptionArea,
    AdoptionStatus,
    AdoptionWork,
    FacilitatorComment,
    Phase,
    PhaseItem,
)

PROGRAM = "penataan-pemukiman"
# Kampung Tanah Merah lies in Koja, Jakarta Utara, across kelurahan Rawa Badak Selatan
# (31.72.03.1006) and Tugu Selatan (31.72.03.1005), beside the Plumpang depot. Its own RW
# (reported as RW 08-10 of Rawa Badak Selatan) are missing from the BPS RW layer we load,
# which has RW 01-07 there; the demo draws the kampung as the nearest documented stand-in:
# RW 06 and 07 of Rawa Badak Selatan and RW 01 of Tugu Selatan.
TANAH_MERAH_RW = ("31.72.03.1006.006", "31.72.03.1006.007", "31.72.03.1005.001")
# (phase title, target in days from today, [(donation form slug, quantity, value per unit)])
PHASES = [
    ("Sanitasi dan saluran air", -90, [("sanitation-plumbing-and-sewage-disposal", 6, 25)]),
    ("Jalan lingkungan dan gerbang", 60, [("infrastructure-portals-benches-gates", 4, 20)]),
    ("Penghijauan dan bedah rumah", 300, [("construction", 10, 75)]),
]
# (phase, status reached, quantity) of the works done so far.
WORKS = [(1, Status.COMPLETED, 4), (1, Status.COMMITTED, 2), (2, Status.PLEDGED, 1)]
MILLION = Decimal(1_000_000)


def adoption_demo(*, today: datetime.date) -> Adoption | None:
    """Create the Tanah Merah adoption; None if its areas or program are not loaded."""
    areas = list(Area.objects.filter(code__in=TANAH_MERAH_RW).order_by("code"))
    program = Program.objects.filter(slug=PROGRAM).first()
    if not areas or program is None:
        return None
    now = timezone.now()
    ypo = Collaborator.objects.create(
        name="Young Presidents' Organization (YPO) Jakarta (demo)",
        slug="ypo-jakarta-demo",
        kind=Collaborator.Kind.INTERNATIONAL,
        verification_status=Collaborator.Verification.VERIFIED,
        verified_at=now - datetime.timedelta(days=400),
        description="Adopsi Kampung Tanah Merah: model yang akan direplikasi (data contoh).",
        is_demo=True,
    )
    adoption = Adoption.objects.create(
        collaborator=ypo,
        program=program,
        name="Kampung Tanah Merah",
        description="Penataan kampung bersama warga: sanitasi, jalan lingkungan, rumah layak.",
        status=AdoptionStatus.ACTIVE,
        starts_on=today - datetime.timedelta(days=300),
        ends_on=today + datetime.timedelta(days=430),
        proposed_at=now - datetime.timedelta(days=320),
        decided_at=now - datetime.timedelta(days=305),
        agreed_at=now - datetime.timedelta(days=305),
        decision_note="Disetujui setelah musyawarah dengan warga dan lurah.",
        is_demo=True,
    )
    AdoptionArea.objects.bulk_create(
        AdoptionArea(adoption=adoption, area=a, program=program, is_chosen=True) for a in areas
    )
    FacilitatorComment.objects.create(
        adoption=adoption,
        author_title="Lurah Rawa Badak Selatan",
        area=areas[0],
        text="Warga Tanah Merah menyambut baik; prioritas pertama saluran air.",
        at=now - datetime.timedelta(days=310),
    )
    forms = {f.slug: f for f in DonationForm.objects.filter(program=program)}
    phases = []
    for order, (title, days, items) in enumerate(PHASES, start=1):
        phase = Phase.objects.create(
            adoption=adoption,
            order=order,
            title=title,
            target_on=today + datetime.timedelta(days=days),
        )
        for slug, quantity, millions in items:
            if slug in forms:
                PhaseItem.objects.create(
                    phase=phase,
                    donation_form=forms[slug],
                    quantity=quantity,
                    value_idr=quantity * millions * MILLION,
                )
        phases.append(phase)
    _works(adoption, phases, areas, now)
    return adoption


def _works(adoption: Adoption, phases: list[Phase], areas: list[Area], now) -> None:
    for n, (order, status, quantity) in enumerate(WORKS):
        item = phases[order - 1].items.first()
        if item is None:
            continue
        at = now - datetime.timedelta(days=280 - 60 * n)
        commitment = Commitment.objects.create(
            collaborator=adoption.collaborator,
            area=areas[n % len(areas)],
            program=adoption.program,
            donation_form=item.donation_form,
            quantity=quantity,
            quantity_delivered=quantity if status == Status.COMPLETED else 0,
            value_idr=item.value_idr / item.quantity * quantity,
            status=status,
            idempotency_key=uuid.uuid4().hex,
            created_at=at,
            status_changed_at=at + datetime.timedelta(days=20),
            last_event_at=at + datetime.timedelta(days=20),
            is_demo=True,
        )
        AdoptionWork.objects.create(adoption=adoption, phase=item.phase, commitment=commitment)
        path = [Status.PLEDGED, Status.COMMITTED, Status.DELIVERED, Status.COMPLETED]
        reached = path[: path.index(status) + 1]
        for step, target in enumerate(reached):
            CommitmentEvent.objects.create(
                commitment=commitment,
                at=at + datetime.timedelta(days=5 * step),
                from_status=reached[step - 1] if step else "",
                to_status=target,
                actor_role="collaborator" if target == Status.PLEDGED else "facilitator",
            )
        if status == Status.COMPLETED:
            Delivery.objects.create(
                commitment=commitment,
                quantity=quantity,
                delivered_on=(at + datetime.timedelta(days=10)).date(),
                recipients_households=quantity * 40,
                recipients_persons=quantity * 150,
                recorded_at=at + datetime.timedelta(days=10),
                confirmed_at=at + datetime.timedelta(days=15),
            )
