"""Demo of the chain through an aggregator: a zakat agency pools gifts from two sources and
commits them to food needs in two RW of Kali Anyar; one delivery is received and
distributed. Rows are written directly (as the rest of the demo is), marked is_demo where
the model has the mark; seed_demo recounts needs and rebuilds the summaries after."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from collaborators.models import Collaborator, Membership
from locations.models import Area, Need
from programs.models import DonationForm

from ..models import Commitment, CommitmentEvent, Delivery, DeliveryProof, Status
from .models import Allocation, Contribution, Distribution

AGENCY = "Baznas (Bazis) DKI Jakarta (demo)"
AGENCY_USER = "baznas.demo@example.org"
SOURCES = ("Yayasan Peduli Sesama (demo)", "Rumah Ziswaf Ummat (demo)")
RW_CODES = ("31.73.04.1002.003", "31.73.04.1002.005")
PDF = b"%PDF-1.4\n% demo\n%%EOF\n"


def pooling_demo(*, today: datetime.date, password: str) -> None:
    """The agency (a member signs in as AGENCY_USER with `password`), its two received
    gifts, a completed commitment with a distribution, and a confirmed one."""
    sources = [Collaborator.objects.filter(name=name).first() for name in SOURCES]
    areas = list(Area.objects.filter(code__in=RW_CODES).order_by("code"))
    groceries = DonationForm.objects.filter(program__slug="pangan", slug="groceries").first()
    if None in sources or len(areas) != 2 or groceries is None:
        return  # not the demo's world (areas or programs missing): nothing to show
    agency = Collaborator.objects.create(
        name=AGENCY,
        slug="baznas-bazis-dki-jakarta-demo",
        kind=Collaborator.Kind.PHILANTHROPY,
        verification_status=Collaborator.Verification.VERIFIED,
        verified_at=timezone.now(),
        description="Badan amil zakat contoh: menghimpun zakat, infak dan sedekah (demo).",
        is_aggregator=True,
        is_demo=True,
    )
    user = get_user_model().objects.create_user(
        AGENCY_USER, AGENCY_USER, password, first_name="Demo amil"
    )
    Membership.objects.create(user=user, collaborator=agency, role=Membership.Role.OWNER)
    gifts = [
        _gift(sources[0], agency, 7_500_000, "BZ/DEMO/001", today - datetime.timedelta(days=30)),
        _gift(sources[1], agency, 3_000_000, "BZ/DEMO/002", today - datetime.timedelta(days=25)),
    ]
    needs = [
        Need.objects.create(
            area=area,
            program=groceries.program,
            donation_form=groceries,
            quantity_needed=40,
            unit_value_idr=300_000,
            households=40,
            assessed_by_role="Ketua RW",
            valid_until=today + datetime.timedelta(days=60),
            is_demo=True,
        )
        for area in areas
    ]
    done = _commitment(agency, needs[0], 20, Status.COMPLETED, today - datetime.timedelta(days=20))
    _shares(done, [(gifts[0], 4_500_000), (gifts[1], 1_500_000)])
    _delivered_and_distributed(done, user, today - datetime.timedelta(days=10))
    under_way = _commitment(
        agency, needs[1], 10, Status.COMMITTED, today - datetime.timedelta(days=5)
    )
    _shares(under_way, [(gifts[0], 1_500_000), (gifts[1], 1_500_000)])


def _gift(source, agency, amount: int, receipt: str, on: datetime.date) -> Contribution:
    # Declared two days before it was received, and decided on the day it was received.
    received = timezone.make_aware(datetime.datetime.combine(on, datetime.time(14)))
    return Contribution.objects.create(
        source=source,
        aggregator=agency,
        kind=Contribution.Kind.MONEY,
        amount=amount,
        status=Contribution.Status.RECEIVED,
        receipt_number=receipt,
        received_on=on,
        declared_at=received - datetime.timedelta(days=2),
        decided_at=received,
        note="Zakat mal (demo)",
        idempotency_key=f"demo-{receipt}",
    )


def _commitment(agency, need: Need, quantity: int, status: str, on: datetime.date) -> Commitment:
    at = timezone.make_aware(datetime.datetime.combine(on, datetime.time(10)))
    commitment = Commitment.objects.create(
        collaborator=agency,
        need=need,
        area=need.area,
        program=need.program,
        donation_form=need.donation_form,
        quantity=quantity,
        value_idr=need.estimate_value_idr(quantity),
        status=status,
        idempotency_key=f"demo-pooled-{need.pk}",
        created_at=at,
        status_changed_at=at,
        last_event_at=at,
        is_demo=True,
    )
    steps = [Status.PLEDGED, Status.COMMITTED]
    if status == Status.COMPLETED:
        steps += [Status.DELIVERED, Status.COMPLETED]
    previous = ""
    for step in steps:
        CommitmentEvent.objects.create(
            commitment=commitment, at=at, from_status=previous, to_status=step
        )
        previous = step
    return commitment


def _shares(commitment: Commitment, shares: list[tuple[Contribution, int]]) -> None:
    for gift, amount in shares:
        Allocation.objects.create(contribution=gift, commitment=commitment, amount=amount)
        gift.committed += amount
        gift.save(update_fields=["committed"])


def _delivered_and_distributed(commitment: Commitment, user, on: datetime.date) -> None:
    at = timezone.make_aware(datetime.datetime.combine(on, datetime.time(9)))
    delivery = Delivery.objects.create(
        commitment=commitment,
        quantity=commitment.quantity,
        delivered_on=on,
        recipients_households=20,
        recipients_persons=78,
        recorded_by=user,
        recorded_at=at,
        confirmed_at=at + datetime.timedelta(days=1),
    )
    Commitment.objects.filter(pk=commitment.pk).update(quantity_delivered=commitment.quantity)
    DeliveryProof.objects.create(
        delivery=delivery,
        file=ContentFile(PDF, name="bukti-serah-terima-demo.pdf"),
        kind=DeliveryProof.Kind.DOCUMENT,
        content_type="application/pdf",
        size_bytes=len(PDF),
    )
    Distribution.objects.create(
        delivery=delivery,
        executor_area=commitment.area,
        quantity=commitment.quantity,
        distributed_on=on + datetime.timedelta(days=2),
        households=20,
        persons=78,
        note="Dibagikan di balai RW kepada keluarga penerima (demo).",
        proof=ContentFile(PDF, name="bukti-distribusi-demo.pdf"),
        proof_kind="document",
        proof_content_type="application/pdf",
    )
