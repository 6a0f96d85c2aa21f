"""Demo data of the donated-asset register (called by commitments.housekeeping.demo inside
its transaction, after the demo commitments): the assets of every confirmed demo delivery of
an asset-creating form, so the demo keeps the rule that receipt registers them, and a school
in Kali Anyar (where the demo facilitator works) with its donated laptops, one of them lost.

Rows are written directly, as the rest of the demo is; everything hangs off demo commitments.
"""

from __future__ import annotations

import datetime
import random
import uuid
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from collaborators.models import Collaborator
from locations.models import Area, Need, Site
from programs.models import AssetOwner, DonationForm

from ..models import Commitment, CommitmentEvent, Delivery, Status
from .models import Asset, AssetCondition, AssetEvent, AssetStatus, EventKind

DEMO_KELURAHAN = "31.73.04.1002"  # Kali Anyar: the demo facilitator's kelurahan
DEMO_NAMES = ["Siti A.", "Budi S.", "Dewi L.", "Rizky P.", "Nur H.", "Agus W.", "Intan M."]
LAPTOPS = "student-gadget-pc-laptop-handphone"


def demo_assets_build(rng: random.Random) -> int:
    """Create the demo assets; returns how many."""
    _school_laptops(rng)
    deliveries = (
        Delivery.objects.filter(
            commitment__is_demo=True,
            commitment__donation_form__creates_assets=True,
            confirmed_at__isnull=False,
        )
        .exclude(assets__isnull=False)
        .select_related("commitment__area", "commitment__site", "commitment__program")
        .select_related("commitment__donation_form", "commitment__need")
        .order_by("pk")
    )
    created = 0
    for delivery in deliveries:
        created += len(_register(delivery, rng))
    return created


def _owner(commitment: Commitment, number: int, rng: random.Random) -> dict:
    allowed = commitment.program.asset_owners or [AssetOwner.CITY]
    site = commitment.site
    if AssetOwner.SCHOOL in allowed and site is not None and site.kind == Site.Kind.SCHOOL:
        if number % 3 == 0 or AssetOwner.PRIVATE not in allowed:
            return {"owner_kind": AssetOwner.SCHOOL, "owner_site": site}
    if AssetOwner.PRIVATE in allowed:
        return {"owner_kind": AssetOwner.PRIVATE, "owner_name": rng.choice(DEMO_NAMES)}
    if AssetOwner.RW in allowed and commitment.area.level == Area.Level.RW:
        return {"owner_kind": AssetOwner.RW, "owner_area": commitment.area}
    if AssetOwner.KELURAHAN in allowed and commitment.area.level == Area.Level.KELURAHAN:
        return {"owner_kind": AssetOwner.KELURAHAN, "owner_area": commitment.area}
    return {"owner_kind": AssetOwner.CITY}


def _register(delivery: Delivery, rng: random.Random) -> list[Asset]:
    commitment = delivery.commitment
    form = commitment.donation_form
    unit_value = (commitment.need.unit_value_idr if commitment.need else None) or (
        form.unit_value_idr
    )
    assets = Asset.objects.bulk_create(
        Asset(
            program=commitment.program,
            donation_form=form,
            delivery=delivery,
            kind=form.name_id,
            serial_number=f"DEMO-{delivery.pk}-{number:03d}" if form.asks_serials else "",
            area=commitment.area,
            condition=AssetCondition.NEW,
            value_idr=unit_value,
            acquired_on=delivery.delivered_on,
            registered_at=delivery.confirmed_at,
            **_owner(commitment, number, rng),
        )
        for number in range(1, delivery.quantity + 1)
    )
    events = [
        AssetEvent(
            asset=asset,
            kind=EventKind.REGISTERED,
            to_status=AssetStatus.IN_USE,
            actor_role="facilitator",
            at=delivery.confirmed_at,
        )
        for asset in assets
    ]
    AssetEvent.objects.bulk_create(events)
    return assets


def _school_laptops(rng: random.Random) -> None:
    """A school of Kali Anyar that received eight laptops a year ago: registered, one lost
    since, one repaired."""
    rw = Area.objects.filter(level=Area.Level.RW, path__contains=DEMO_KELURAHAN).first()
    laptops = DonationForm.objects.filter(program__slug="pendidikan", slug=LAPTOPS).first()
    donor = Collaborator.objects.filter(is_demo=True, verification_status="verified").first()
    if rw is None or laptops is None or donor is None or not laptops.creates_assets:
        return
    school = _demo_school(rw)
    received = timezone.now() - datetime.timedelta(days=380)
    need = Need.objects.create(
        area=school.area,
        site=school,
        program=laptops.program,
        donation_form=laptops,
        quantity_needed=8,
        quantity_claimed=8,
        quantity_delivered=8,
        unit_value_idr=Decimal(4_500_000),
        households=8,
        assessed_by_role="Kepala sekolah",
        assessed_at=received - datetime.timedelta(days=30),
        valid_until=(received + datetime.timedelta(days=60)).date(),
        status=Need.Status.CLOSED,
        is_demo=True,
    )
    commitment = Commitment.objects.create(
        collaborator=donor,
        need=need,
        area=school.area,
        site=school,
        program=laptops.program,
        donation_form=laptops,
        quantity=8,
        quantity_delivered=8,
        value_idr=Decimal(36_000_000),
        status=Status.COMPLETED,
        idempotency_key=uuid.UUID(int=rng.getrandbits(128)).hex,
        created_at=received - datetime.timedelta(days=10),
        status_changed_at=received,
        last_event_at=received,
        is_demo=True,
    )
    CommitmentEvent.objects.bulk_create(
        CommitmentEvent(commitment=commitment, actor_role=role, at=at, from_status=a, to_status=b)
        for role, at, a, b in [
            ("collaborator", received - datetime.timedelta(days=10), "", Status.PLEDGED),
            (
                "facilitator",
                received - datetime.timedelta(days=8),
                Status.PLEDGED,
                Status.COMMITTED,
            ),
            (
                "collaborator",
                received - datetime.timedelta(days=2),
                Status.COMMITTED,
                Status.DELIVERED,
            ),
            ("facilitator", received, Status.DELIVERED, Status.COMPLETED),
        ]
    )
    delivery = Delivery.objects.create(
        commitment=commitment,
        quantity=8,
        delivered_on=(received - datetime.timedelta(days=2)).date(),
        recipients_persons=8,
        recorded_at=received - datetime.timedelta(days=2),
        confirmed_at=received,
    )
    _demo_history(_register(delivery, rng), received, rng)


def _demo_school(rw: Area) -> Site:
    """A demo school of the RW's kelurahan (one is made if the demo has none there)."""
    return Site.objects.filter(kind=Site.Kind.SCHOOL, is_demo=True).filter(
        Q(area=rw) | Q(area__parent=rw.parent)
    ).first() or Site.objects.create(
        area=rw,
        kind=Site.Kind.SCHOOL,
        name=f"SD Swasta Harapan {rw.parent.name} (demo)",
        address=f"{rw.name}, {rw.parent.name}",
        lon=rw.centroid_lon or 106.79,
        lat=rw.centroid_lat or -6.16,
        is_demo=True,
    )


def _demo_history(assets: list[Asset], received: datetime.datetime, rng: random.Random) -> None:
    """Since their receipt, one laptop was lost and another repaired."""
    for asset, status, note in [
        (assets[1], AssetStatus.LOST, "Hilang saat banjir, sudah dilaporkan ke kelurahan."),
        (assets[4], AssetStatus.REPAIRED, "Layar diganti oleh penyedia."),
    ]:
        Asset.objects.filter(pk=asset.pk).update(status=status)
        AssetEvent.objects.create(
            asset=asset,
            kind=status,
            from_status=AssetStatus.IN_USE,
            to_status=status,
            note=note,
            actor_role="facilitator",
            at=received + datetime.timedelta(days=rng.randint(60, 300)),
        )
