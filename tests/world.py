"""The worlds the tests build and how they act in them.

small_world: a need in areas and a program of its own, for tests that commit for real
(threads, transactional tests): it does not depend on the Jakarta data, which a
transactional test's flush removes. run_in_threads starts jobs at the same moment, each on
its own database connection; form_pledge_job makes such a job.

LifecycleWorld: two needs, a collaborator and its member, a program lead and an
administrator, and the lifecycle actions (LIFECYCLE_ACTIONS) any sequence of which the
summary tests run through the real services; direct_group_by and summaries give what the
summary tables should hold and what they hold.

Pledging, as the tests do it: through the web form (pledge_by_form) or the service
(pledge_directly). Through the API: api_world.pledge_by_api."""

import datetime
import itertools
import threading
import uuid
from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commitments.figures.summaries import month_of
from commitments.lifecycle.offline import commitment_record_offline
from commitments.lifecycle.pledges import PledgeRefused, commitment_pledge
from commitments.lifecycle.transitions import (
    commitment_transition,
    commitments_expire,
    delivery_confirm,
    delivery_record,
)
from commitments.lifecycle.uploads import CleanUpload
from commitments.models import Commitment, CommitmentRollup, CommitmentSummary, Delivery, Status
from commitments.workflow import TransitionRefused
from locations.models import Area, Need
from programs.models import DonationForm, Program

from .factories import NeedFactory, UserFactory, collaborator_and_member, lead_of

_counter = itertools.count(1)


def small_world(quantity_needed: int = 10) -> Need:
    n = next(_counter)
    root = f"9{n % 10}"
    chain = [
        ("province", f"{root}"),
        ("kota", f"{root}.01"),
        ("kecamatan", f"{root}.01.01"),
        ("kelurahan", f"{root}.01.01.1001"),
        ("rw", f"{root}.01.01.1001.001"),
    ]
    parent = None
    for level, code in chain:
        area, _ = Area.objects.get_or_create(
            code=code,
            defaults={
                "level": level,
                "name": f"Uji {level} {n}",
                "parent": parent,
                "path": (parent.path + "/" if parent else "") + code,
            },
        )
        parent = area
    program, _ = Program.objects.get_or_create(
        slug=f"uji-{n}",
        defaults={
            "name_id": f"Program uji {n}",
            "name_en": f"Test {n}",
            "lead_agency": "Dinas Uji",
        },
    )
    form = DonationForm.objects.create(
        program=program,
        slug="paket",
        name_id="Paket",
        name_en="Package",
        unit="package",
        unit_value_idr=100_000,
    )
    return Need.objects.create(
        area=parent,
        program=program,
        donation_form=form,
        quantity_needed=quantity_needed,
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        assessed_by_role="Ketua RW 01",
    )


def run_in_threads(jobs):
    """Start every job at the same moment; each thread has its own database connection."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def in_days(days: int) -> str:
    """A date `days` from today, as a form takes it."""
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def signed_in(user, client_class=Client, **defaults):
    """A test client (Django's, or DRF's APIClient) with a session of `user`'s own."""
    client = client_class(**defaults)
    client.force_login(user)
    return client


# --- pledging -----------------------------------------------------------------------------


def pledge_by_form(client, need, collaborator=None, quantity=1, key=None, date=None, **fields):
    """POST the pledge form for `need` as `client`'s user; `collaborator` is a collaborator
    or its pk (none: the form's choice left empty), `date` the planned delivery (in a week
    unless told), and `fields` any other field of the form."""
    data = {
        "key": key or uuid.uuid4().hex,
        "collaborator": getattr(collaborator, "pk", collaborator) or "",
        "quantity": quantity,
        "planned_delivery_on": date or in_days(7),
        **fields,
    }
    return client.post(reverse("pledge-create", args=[need.pk]), data)


def form_pledge_job(client, collaborator, need, key=None, quantity=1):
    """A pledge through the form, to send later from a thread (see run_in_threads)."""
    key, date = key or uuid.uuid4().hex, in_days(5)
    return lambda: pledge_by_form(client, need, collaborator, quantity, key, date)


def pledge_directly(need, collaborator, member, quantity=1):
    """A pledge through the service, as the web form and the API make it."""
    return commitment_pledge(
        user=member,
        collaborator=collaborator,
        need=need,
        quantity=quantity,
        idempotency_key=uuid.uuid4().hex,
    )


# --- a world of commitments going through their lifecycle -----------------------------------

PROOF = CleanUpload(
    name="bukti.pdf", content=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf", kind="document"
)

LIFECYCLE_ACTIONS = [
    "pledge",
    "offline",
    "confirm",
    "cancel",
    "cancel_committed",
    "reject",
    "deliver",
    "confirm_delivery",
    "expire",
]


def _jakarta_needs() -> list[Need]:
    """An RW's need of food packages and a kelurahan's need of SIM cards (education)."""
    rw = Area.objects.get(code="31.73.04.1002.001")
    kelurahan = Area.objects.get(code="31.73.04.1002")
    sim_card = DonationForm.objects.get(program__slug="pendidikan", slug="sim-card")
    return [
        NeedFactory(area=rw, quantity_needed=40),
        NeedFactory(
            area=kelurahan,
            donation_form=sim_card,
            program=sim_card.program,
            quantity_needed=40,
            unit_value_idr=50_000,
        ),
    ]


def _needs_of_their_own() -> list[Need]:
    """The same two needs, on areas and programs of their own (see small_world)."""
    rw_need = small_world(quantity_needed=40)
    other = small_world(quantity_needed=40)  # another program
    return [
        rw_need,
        NeedFactory(
            area=rw_need.area.parent,  # the RW's kelurahan
            program=other.program,
            donation_form=other.donation_form,
            quantity_needed=40,
            unit_value_idr=50_000,
        ),
    ]


class LifecycleWorld:
    """Two needs (an RW and a kelurahan, two programs), a collaborator and its member, a
    lead of the first need's program and an administrator; on the Jakarta data, or with
    `own_areas` on areas and programs of its own (after a transactional test's flush removed
    Jakarta's, loading them again takes most of a minute)."""

    def __init__(self, own_areas: bool = False):
        self.needs = _needs_of_their_own() if own_areas else _jakarta_needs()
        self.collaborator, self.member = collaborator_and_member()
        self.lead = lead_of(self.needs[0].program.slug)
        self.admin = UserFactory(is_staff=True, is_superuser=True)

    def pledge(self, n: int) -> bool:
        try:
            pledge_directly(self.needs[n % 2], self.collaborator, self.member, 1 + n % 3)
        except PledgeRefused:
            return False
        return True

    def offline(self, n: int) -> bool:
        need = self.needs[0]
        commitment_record_offline(
            actor=self.lead,
            collaborator=self.collaborator,
            area=need.area,
            donation_form=need.donation_form,
            quantity=1 + n % 4,
            value_idr=None if n % 2 else 1000 * n,
            # Spread over months, so that several keys are touched.
            made_on=timezone.localdate() - datetime.timedelta(days=17 * n),
            idempotency_key=uuid.uuid4().hex,
        )
        return True

    def _nth(self, n: int, **filters):
        rows = list(Commitment.objects.filter(**filters).order_by("pk"))
        return rows[n % len(rows)] if rows else None

    def transition(self, n: int, target: str, source: str, actor) -> bool:
        commitment = self._nth(n, status=source)
        if commitment is None:
            return False
        commitment_transition(
            commitment_id=commitment.pk, target=target, actor=actor, reason="alasan"
        )
        return True

    def deliver(self, n: int) -> bool:
        commitment = self._nth(n, status__in=[Status.COMMITTED, Status.DELIVERED])
        if commitment is None or commitment.quantity_left == 0:
            return False
        delivery_record(
            commitment_id=commitment.pk,
            actor=self.admin,
            quantity=1 + n % commitment.quantity_left,
            delivered_on=timezone.localdate(),
            recipients_households=n % 5 or None,
            recipients_persons=3 * n,
            proofs=[PROOF],
        )
        return True

    def confirm_delivery(self, n: int) -> bool:
        deliveries = list(Delivery.objects.filter(confirmed_at__isnull=True).order_by("pk"))
        if not deliveries:
            return False
        delivery_confirm(delivery_id=deliveries[n % len(deliveries)].pk, actor=self.admin)
        return True

    def act(self, action: str, n: int) -> bool:
        """Take one step; whether it changed anything (False: nothing to act on, or the
        rules refused it)."""
        steps = {
            "pledge": lambda: self.pledge(n),
            "offline": lambda: self.offline(n),
            "confirm": lambda: self.transition(n, "committed", "pledged", self.admin),
            "cancel": lambda: self.transition(n, "cancelled", "pledged", self.member),
            "cancel_committed": lambda: self.transition(n, "cancelled", "committed", self.member),
            "reject": lambda: self.transition(n, "rejected", "pledged", self.admin),
            "deliver": lambda: self.deliver(n),
            "confirm_delivery": lambda: self.confirm_delivery(n),
            "expire": lambda: (
                commitments_expire(now=timezone.now() + datetime.timedelta(days=400)) > 0
            ),
        }
        try:
            return steps[action]()
        except TransitionRefused:
            return False


# --- what the summary tables should hold, and what they hold -------------------------------


def direct_group_by() -> dict:
    """The summaries computed the plain way, in Python, from every commitment."""
    rows = defaultdict(lambda: [0, 0, Decimal(0), 0, 0])
    commitments = Commitment.objects.select_related("area__parent__parent").prefetch_related(
        "deliveries"
    )
    for c in commitments:
        area = c.area
        kelurahan = area.parent if area.level == "rw" else area
        key = (
            c.program_id,
            c.donation_form_id,
            c.area_id,
            month_of(c.created_at),
            c.channel,
            c.status,
            kelurahan.pk,
            kelurahan.parent_id,
            kelurahan.parent.parent_id,
        )
        row = rows[key]
        row[0] += 1
        row[1] += c.quantity
        row[2] += c.value_idr or 0
        for d in c.deliveries.all():
            if d.confirmed_at is not None:
                row[3] += d.recipients_households or 0
                row[4] += d.recipients_persons or 0
    return {key: tuple(row) for key, row in rows.items()}


def summaries() -> dict:
    """The summary rows; and, wherever they are compared, the kecamatan roll-up must be
    exactly their GROUP BY (checked here, so every summary test checks it too)."""
    rows = summary_rows()
    rolled_up = defaultdict(lambda: [0, 0, Decimal(0), 0, 0])
    for (program, form, _area, month, channel, status, _kel, kecamatan, kota), sums in rows.items():
        row = rolled_up[(program, form, kecamatan, kota, month, channel, status)]
        for i, value in enumerate(sums):
            row[i] += value
    assert {
        (
            r.program_id,
            r.donation_form_id,
            r.kecamatan_id,
            r.kota_id,
            r.month,
            r.channel,
            r.status,
        ): (
            r.count,
            r.quantity,
            r.value_idr,
            r.households,
            r.persons,
        )
        for r in CommitmentRollup.objects.all()
    } == {key: tuple(sums) for key, sums in rolled_up.items()}
    return rows


def summary_rows() -> dict:
    """The summary rows alone, without checking the roll-up."""
    return {
        (
            s.program_id,
            s.donation_form_id,
            s.area_id,
            s.month,
            s.channel,
            s.status,
            s.kelurahan_id,
            s.kecamatan_id,
            s.kota_id,
        ): (s.count, s.quantity, s.value_idr, s.households, s.persons)
        for s in CommitmentSummary.objects.all()
    }
