"""Demo data so that a fresh portal looks alive: collaborators, sites, needs across many RW
and commitments in every state. Everything it creates is marked `is_demo`.

Deterministic (a seeded random generator), so two fresh machines show the same portal.
The names are invented; no real organisation is shown pledging anything.
"""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from shapely.geometry import Point, shape

from collaborators.models import Collaborator, CollaboratorContact, Membership
from locations.models import Area, AreaIndicator, Facilitator, Need, Site
from programs.models import DonationForm, Program, ProgramLead

from ..adoption.demo import adoption_demo
from ..assets.demo import demo_assets_build
from ..figures.summaries import summaries_rebuild
from ..figures.totals import needs_recount, totals_refresh
from ..models import Commitment, CommitmentEvent, Delivery, Status
from ..pooling.demo import pooling_demo

SEED = 2021
# Demo sign-ins, so a newcomer can walk through pledging, confirming and delivering.
DEMO_PASSWORD = "demo-ksbb-2026"
DEMO_USERS = {
    "donor": "donatur.demo@example.org",
    "facilitator": "lurah.kalianyar.demo@example.org",
    "lead": "dinsos.demo@example.org",
}

# The statuses a demo commitment passed through after its pledge, at most STEP_DAYS_MAX
# days apart, with a receipt confirmed RECEIPT_DAYS after delivery.
STEPS_TO = {
    Status.PLEDGED: [],
    Status.COMMITTED: [Status.COMMITTED],
    Status.DELIVERED: [Status.COMMITTED, Status.DELIVERED],
    Status.COMPLETED: [Status.COMMITTED, Status.DELIVERED, Status.COMPLETED],
    Status.CANCELLED: [Status.CANCELLED],
    Status.REJECTED: [Status.REJECTED],
    Status.EXPIRED: [Status.EXPIRED],
}
STEP_DAYS_MAX = 7
RECEIPT_DAYS = 2

COLLABORATORS = [
    ("Yayasan Peduli Sesama (demo)", Collaborator.Kind.FOUNDATION, True, False),
    ("PT Sinar Nusantara Makmur (demo)", Collaborator.Kind.COMPANY, True, False),
    ("PT Bank Contoh Jaya Tbk (demo)", Collaborator.Kind.COMPANY, True, False),
    ("PT Pelabuhan Contoh (Persero) (demo)", Collaborator.Kind.STATE_ENTERPRISE, True, False),
    ("Perumda Pasar Contoh (demo)", Collaborator.Kind.STATE_ENTERPRISE, True, False),
    ("Aksi Kemanusiaan Bersama (demo)", Collaborator.Kind.HUMANITARIAN, True, True),
    ("Palang Kasih Relawan (demo)", Collaborator.Kind.HUMANITARIAN, True, True),
    ("Lembaga Amil Zakat Berkah (demo)", Collaborator.Kind.PHILANTHROPY, True, True),
    ("Rumah Ziswaf Ummat (demo)", Collaborator.Kind.PHILANTHROPY, True, False),
    ("Universitas Contoh Jakarta (demo)", Collaborator.Kind.UNIVERSITY, True, False),
    ("Politeknik Teknik Batavia (demo)", Collaborator.Kind.UNIVERSITY, True, False),
    ("Global Partners for Cities (demo)", Collaborator.Kind.INTERNATIONAL, True, False),
    ("Kelompok Arisan Melati RW 05 (demo)", Collaborator.Kind.COMMUNITY, True, False),
    ("Komunitas Berbagi Nasi (demo)", Collaborator.Kind.COMMUNITY, True, False),
    ("Suku Dinas Sosial Contoh (demo)", Collaborator.Kind.GOVERNMENT, True, False),
    ("Budi Santoso (demo)", Collaborator.Kind.INDIVIDUAL, True, False),
    ("Siti Rahmawati (demo)", Collaborator.Kind.INDIVIDUAL, True, False),
    ("PT Teknologi Gawai Andalan (demo)", Collaborator.Kind.COMPANY, True, False),
    ("PT Hijau Lestari Daur Ulang (demo)", Collaborator.Kind.COMPANY, True, False),
    ("Yayasan Pendidikan Cerdas (demo)", Collaborator.Kind.FOUNDATION, True, False),
    ("PT Kerja Maju Bersama (demo)", Collaborator.Kind.COMPANY, False, False),
    ("Komunitas Pemuda Peduli (demo)", Collaborator.Kind.COMMUNITY, False, False),
    ("Ahmad Fauzi (demo)", Collaborator.Kind.INDIVIDUAL, False, False),
    ("Yayasan Sentuh Hati (demo)", Collaborator.Kind.FOUNDATION, False, False),
]

# Estimated values per unit of need, in IDR, for the demo needs assessments.
UNIT_VALUES = {
    "groceries": 300_000,
    "instant-food": 50_000,
    "eid-food": 250_000,
    "student-gadget-pc-laptop-handphone": 3_500_000,
    "teacher-gadget": 6_000_000,
    "sim-card": 50_000,
    "sanitation-for-food-msmes": 15_000_000,
    "training": 5_000_000,
    "reforestation-vertical-garden-trees-trash-cans": 10_000_000,
    "sanitation-plumbing-and-sewage-disposal": 25_000_000,
    "infrastructure-portals-benches-gates": 20_000_000,
    "construction": 75_000_000,
    "utilities": 30_000_000,
    "mentoring-accompaniment": 8_000_000,
    "waste-processing": 45_000_000,
    "apprenticeship": 3_000_000,
    "labour-absorption-job-placement": 2_000_000,
}

SITE_KINDS_BY_PROGRAM = {
    "pendidikan": [Site.Kind.SCHOOL],
    "umkm": [Site.Kind.MSME_CLUSTER],
    "pengelolaan-sampah": [Site.Kind.WASTE_FACILITY],
    "tenaga-kerja": [Site.Kind.TRAINING_CENTER],
}
SITE_NAMES = {
    Site.Kind.SCHOOL: "SD Swasta {n} {area}",
    Site.Kind.PESANTREN: "Pondok Pesantren Al-Ikhlas {area}",
    Site.Kind.ORPHANAGE: "Panti Asuhan Kasih {area}",
    Site.Kind.NURSING_HOME: "Panti Werdha Sejahtera {area}",
    Site.Kind.DISABILITY_HOME: "Panti Disabilitas Harapan {area}",
    Site.Kind.MSME_CLUSTER: "Sentra UMKM Kuliner {area}",
    Site.Kind.WASTE_FACILITY: "TPS3R {area}",
    Site.Kind.TRAINING_CENTER: "Pusat Pelatihan Kerja {area}",
}


class DemoRefused(Exception):
    pass


@dataclass
class DemoResult:
    collaborators: int = 0
    sites: int = 0
    needs: int = 0
    commitments: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def non_demo_counts() -> dict[str, int]:
    counts = {
        "collaborators": Collaborator.objects.filter(is_demo=False).count(),
        "sites": Site.objects.filter(is_demo=False).count(),
        "needs": Need.objects.filter(is_demo=False).count(),
        "commitments": Commitment.objects.filter(is_demo=False).count(),
    }
    return {name: count for name, count in counts.items() if count}


def seed_demo(*, force: bool = False, today: datetime.date | None = None) -> DemoResult | None:
    """Create the demo data. Returns None when demo data is already there."""
    if not Area.objects.filter(level=Area.Level.RW).exists() or not Program.objects.exists():
        raise DemoRefused(
            "load the areas and programs first: manage.py load_jakarta, load_programs"
        )
    real = non_demo_counts()
    if real and not force:
        raise DemoRefused(
            "the database already holds non-demo data ("
            + ", ".join(f"{count} {name}" for name, count in real.items())
            + "); use --force to add demo data beside it"
        )
    if Collaborator.objects.filter(is_demo=True).exists():
        return None
    with transaction.atomic():
        result = _Builder(random.Random(SEED), today or timezone.localdate()).build()
        adoption_demo(today=today or timezone.localdate())  # YPO's Kampung Tanah Merah
        pooling_demo(today=today or timezone.localdate(), password=DEMO_PASSWORD)  # zakat
        # After the other demos: their confirmed deliveries of asset forms get their assets.
        demo_assets_build(random.Random(SEED))  # and a Kali Anyar school's laptops
        needs_recount()
        summaries_rebuild()  # demo rows are written directly, not through the services
        totals_refresh()  # reads the summaries for the program figures
    return result


class _Builder:
    def __init__(self, rng: random.Random, today: datetime.date) -> None:
        self.rng = rng
        self.today = today
        self.now = timezone.now()
        self.result = DemoResult()

    def build(self) -> DemoResult:
        self.programs = {p.slug: p for p in Program.objects.prefetch_related("donation_forms")}
        self.collaborators = self._collaborators()
        rw = list(
            Area.objects.filter(level=Area.Level.RW, is_residential=True)
            .select_related("parent")
            .order_by("code")
        )
        flooded = set(
            AreaIndicator.objects.filter(indicator="flood-state", value__gte=2).values_list(
                "area_id", flat=True
            )
        )
        chosen = self._choose_rw(rw, flooded)
        self.sites = self._sites(chosen)
        needs = self._needs(chosen, flooded)
        self._commitments(needs)
        self._users()
        return self.result

    def _users(self) -> None:
        User = get_user_model()
        donor = self.collaborators[0]
        for role, email in DEMO_USERS.items():
            user = User.objects.create_user(email, email, DEMO_PASSWORD, first_name=f"Demo {role}")
            if role == "donor":
                Membership.objects.create(user=user, collaborator=donor, role="owner")
            elif role == "facilitator":
                Facilitator.objects.create(
                    user=user,
                    area=Area.objects.get(code="31.73.04.1002"),
                    title="Lurah Kali Anyar",
                )
            else:
                ProgramLead.objects.create(user=user, program=self.programs["pangan"])

    def _collaborators(self) -> list[Collaborator]:
        made = []
        for name, kind, verified, aggregator in COLLABORATORS:
            collaborator = Collaborator.objects.create(
                name=name,
                slug=slugify(name)[:200],
                kind=kind,
                verification_status=(
                    Collaborator.Verification.VERIFIED
                    if verified
                    else Collaborator.Verification.UNVERIFIED
                ),
                verified_at=self.now if verified else None,
                description=f"Kolaborator contoh untuk demonstrasi portal KSBB ({kind}).",
                is_aggregator=aggregator,
                is_demo=True,
            )
            CollaboratorContact.objects.create(
                collaborator=collaborator,
                contact_name="Kontak Demo",
                email=f"{collaborator.slug[:40]}@example.org",
                phone="+62 21 0000 0000",
            )
            made.append(collaborator)
        self.result.collaborators = len(made)
        return made

    def _choose_rw(self, rw: list[Area], flooded: set[int]) -> list[Area]:
        """About a quarter of Jakarta's RW, every flooded RW and all of Kali Anyar."""
        chosen = [a for a in rw if a.pk in flooded or a.parent.code == "31.73.04.1002"]
        others = [a for a in rw if a not in chosen]
        chosen += self.rng.sample(others, k=min(len(others), 650 - len(chosen)))
        return sorted(chosen, key=lambda a: a.code)

    def _point_in(self, area: Area) -> tuple[float, float]:
        geometry = shape(Area.objects.with_geometry().get(pk=area.pk).geometry)
        for _ in range(20):
            lon = self.rng.uniform(area.min_lon, area.max_lon)
            lat = self.rng.uniform(area.min_lat, area.max_lat)
            if geometry.contains(Point(lon, lat)):
                return round(lon, 6), round(lat, 6)
        return area.centroid_lon, area.centroid_lat

    def _sites(self, chosen: list[Area]) -> dict[str, list[Site]]:
        sites: dict[str, list[Site]] = {}
        kinds = list(SITE_NAMES)
        for number, area in enumerate(self.rng.sample(chosen, k=min(len(chosen), 90)), start=1):
            kind = kinds[number % len(kinds)]
            lon, lat = self._point_in(area)
            site = Site.objects.create(
                area=area,
                kind=kind,
                name=SITE_NAMES[kind].format(n=number, area=area.parent.name),
                address=f"{area.name}, {area.parent.name}",
                lon=lon,
                lat=lat,
                is_demo=True,
            )
            sites.setdefault(kind, []).append(site)
        self.result.sites = sum(len(group) for group in sites.values())
        return sites

    def _needs(self, chosen: list[Area], flooded: set[int]) -> list[Need]:
        needs = []
        pangan = self.programs["pangan"]
        food_forms = [f for f in pangan.donation_forms.all() if f.unit != DonationForm.Unit.IDR]
        other_programs = [p for slug, p in self.programs.items() if slug != "pangan"]
        for area in chosen:
            households = self.rng.randint(120, 900)
            high = area.pk in flooded or area.parent.code == "31.73.04.1002"
            lines = [(pangan, self.rng.choice(food_forms))]
            if self.rng.random() < 0.35:
                program = self.rng.choice(other_programs)
                lines.append((program, self.rng.choice(list(program.donation_forms.all()))))
            for program, form in lines:
                needs.append(self._need(area, program, form, households, high))
        self.result.needs = len(needs)
        return needs

    def _need(self, area, program, form, households, high) -> Need:
        kinds = SITE_KINDS_BY_PROGRAM.get(program.slug)
        site = None
        if kinds:
            candidates = [s for kind in kinds for s in self.sites.get(kind, [])]
            site = self.rng.choice(candidates) if candidates else None
        target = site.area if site else area
        if form.unit == DonationForm.Unit.PACKAGE and program.slug == "pangan":
            quantity = max(20, int(households * self.rng.uniform(0.15, 0.6)))
        else:
            quantity = self.rng.randint(2, 40)
        assessed_at = self.now - datetime.timedelta(days=self.rng.randint(1, 150))
        valid_days = self.rng.choice([60, 90, 120, 180])
        role = (
            f"Kepala {site.get_kind_display()}"
            if site
            else self.rng.choice([f"Ketua {target.name}", f"Lurah {target.parent.name}"])
        )
        return Need.objects.create(
            area=target,
            site=site,
            program=program,
            donation_form=form,
            quantity_needed=quantity,
            unit_value_idr=(
                None if form.unit == DonationForm.Unit.IDR else UNIT_VALUES.get(form.slug)
            ),
            priority=Need.Priority.HIGH if high else self.rng.choice([2, 2, 3]),
            households=households if not site else None,
            persons=int(households * 3.6) if not site else self.rng.randint(20, 300),
            description="",
            assessed_by_role=role,
            assessed_at=assessed_at,
            valid_until=(assessed_at + datetime.timedelta(days=valid_days)).date(),
            is_demo=True,
        )

    def _commitments(self, needs: list[Need]) -> None:
        plan = (
            [Status.PLEDGED] * 40
            + [Status.COMMITTED] * 60
            + [Status.DELIVERED] * 35
            + [Status.COMPLETED] * 90
            + [Status.CANCELLED] * 12
            + [Status.REJECTED] * 10
            + [Status.EXPIRED] * 12
        )
        self.rng.shuffle(plan)
        aggregators = [c for c in self.collaborators if c.is_aggregator]
        remaining = {need.pk: need.quantity_needed for need in needs}
        targets = self.rng.sample(needs, k=min(len(needs), len(plan)))
        for status, need in zip(plan, targets, strict=False):
            collaborator = self.rng.choice(self.collaborators)
            if not collaborator.is_verified and status not in (Status.PLEDGED, Status.REJECTED):
                collaborator = self.rng.choice([c for c in self.collaborators if c.is_verified])
            share = self.rng.choice([0.25, 0.5, 0.75, 1.0])
            quantity = max(1, int(remaining[need.pk] * share))
            if status in (Status.PLEDGED, Status.COMMITTED, Status.DELIVERED, Status.COMPLETED):
                remaining[need.pk] -= quantity
            self._commitment(need, collaborator, quantity, status, aggregators)

    def _commitment(self, need, collaborator, quantity, status, aggregators) -> None:
        # Old enough for every step of its history (and a receipt) to lie in the past.
        youngest = STEP_DAYS_MAX * len(STEPS_TO[status]) + RECEIPT_DAYS
        created = self.now - datetime.timedelta(days=self.rng.randint(youngest, 120))
        value = need.estimate_value_idr(quantity)
        aggregator = None
        if aggregators and not collaborator.is_aggregator and self.rng.random() < 0.2:
            aggregator = self.rng.choice(aggregators)
        commitment = Commitment.objects.create(
            collaborator=collaborator,
            need=need,
            area=need.area,
            site=need.site,
            program=need.program,
            donation_form=need.donation_form,
            quantity=quantity,
            value_idr=Decimal(value) if value is not None else None,
            channel=(
                Commitment.Channel.OFFLINE
                if self.rng.random() < 0.1
                else Commitment.Channel.PLATFORM
            ),
            aggregator=aggregator,
            status=status,
            planned_delivery_on=(created + datetime.timedelta(days=14)).date(),
            is_anonymous=(
                collaborator.kind == Collaborator.Kind.INDIVIDUAL and self.rng.random() < 0.5
            ),
            idempotency_key=uuid.UUID(int=self.rng.getrandbits(128)).hex,
            created_at=created,
            status_changed_at=created,
            last_event_at=created,
            is_demo=True,
        )
        self._history(commitment, created)
        self.result.commitments += 1
        self.result.by_status[status] = self.result.by_status.get(status, 0) + 1

    def _history(self, commitment: Commitment, created: datetime.datetime) -> None:
        """Events (and deliveries) that lead to the commitment's status."""
        steps = STEPS_TO[commitment.status]
        roles = {
            Status.COMMITTED: ("facilitator", ""),
            Status.DELIVERED: ("collaborator", ""),
            Status.COMPLETED: ("facilitator", "Penerimaan dikonfirmasi oleh pengurus RW."),
            Status.CANCELLED: ("collaborator", "Anggaran dialihkan ke program lain."),
            Status.REJECTED: ("facilitator", "Kebutuhan sudah dipenuhi dari sumber lain."),
            Status.EXPIRED: ("system", "Tidak dikonfirmasi dalam batas waktu program."),
        }
        events = [
            CommitmentEvent(
                commitment=commitment,
                actor_role="collaborator",
                at=created,
                from_status="",
                to_status=Status.PLEDGED,
                reason="",
            )
        ]
        at, previous = created, Status.PLEDGED
        for step in steps:
            at = at + datetime.timedelta(days=self.rng.randint(1, STEP_DAYS_MAX))
            role, reason = roles[step]
            events.append(
                CommitmentEvent(
                    commitment=commitment,
                    actor_role=role,
                    at=at,
                    from_status=previous,
                    to_status=step,
                    reason=reason,
                )
            )
            if step == Status.DELIVERED:
                Delivery.objects.create(
                    commitment=commitment,
                    quantity=commitment.quantity,
                    delivered_on=at.date(),
                    recipients_households=commitment.need.households
                    and min(commitment.need.households, commitment.quantity),
                    recipients_persons=commitment.quantity * 3,
                    recorded_at=at,
                    confirmed_at=(
                        at + datetime.timedelta(days=RECEIPT_DAYS)
                        if commitment.status == Status.COMPLETED
                        else None
                    ),
                )
            previous = step
        CommitmentEvent.objects.bulk_create(events)
        Commitment.objects.filter(pk=commitment.pk).update(
            status_changed_at=at,
            last_event_at=at,
            quantity_delivered=commitment.quantity
            if previous in (Status.DELIVERED, Status.COMPLETED)
            else 0,
        )
