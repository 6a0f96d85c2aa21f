"""Commitment summary tables: the incremental path (dirty keys drained by the
refresh_summaries job) and the full rebuild give the same rows as a direct GROUP BY over
commitments, after any sequence of changes made through the real services; with the broker
down changes still succeed and the catch-up run repairs the summaries; jobs run twice, or
rolled back half-way, leave them exact."""

import datetime
import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitments.figures.summaries import month_of, summaries_rebuild, summary_key_recompute
from commitments.lifecycle.offline import commitment_record_offline
from commitments.lifecycle.pledges import PledgeRefused, commitment_pledge
from commitments.lifecycle.transitions import (
    commitment_transition,
    commitments_expire,
    delivery_confirm,
    delivery_record,
)
from commitments.lifecycle.uploads import CleanUpload
from commitments.models import (
    Commitment,
    CommitmentRollup,
    CommitmentSummary,
    Delivery,
    Status,
    SummaryDirtyKey,
)
from commitments.tasks import rebuild_summaries, refresh_summaries
from commitments.workflow import TransitionRefused
from locations.models import Area
from programs.models import DonationForm

from .conftest import celery_broker
from .factories import CollaboratorFactory, NeedFactory, UserFactory, lead_of, member_of

pytestmark = pytest.mark.django_db

PROOF = CleanUpload(
    name="bukti.pdf", content=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf", kind="document"
)


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


class World:
    """Two needs (an RW and a kelurahan, two programs), a collaborator and its member, a
    program lead and an administrator."""

    def __init__(self):
        rw = Area.objects.get(code="31.73.04.1002.001")
        kelurahan = Area.objects.get(code="31.73.04.1002")
        sim_card = DonationForm.objects.get(program__slug="pendidikan", slug="sim-card")
        self.needs = [
            NeedFactory(area=rw, quantity_needed=40),
            NeedFactory(
                area=kelurahan,
                donation_form=sim_card,
                program=sim_card.program,
                quantity_needed=40,
                unit_value_idr=50_000,
            ),
        ]
        self.collaborator = CollaboratorFactory()
        self.member = member_of(self.collaborator)
        self.lead = lead_of("pangan")
        self.admin = UserFactory(is_staff=True, is_superuser=True)

    def pledge(self, n: int) -> None:
        try:
            commitment_pledge(
                user=self.member,
                collaborator=self.collaborator,
                need=self.needs[n % 2],
                quantity=1 + n % 3,
                idempotency_key=uuid.uuid4().hex,
            )
        except PledgeRefused:
            pass

    def offline(self, n: int) -> None:
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

    def _nth(self, n: int, **filters):
        rows = list(Commitment.objects.filter(**filters).order_by("pk"))
        return rows[n % len(rows)] if rows else None

    def transition(self, n: int, target: str, source: str, actor) -> None:
        commitment = self._nth(n, status=source)
        if commitment is not None:
            commitment_transition(
                commitment_id=commitment.pk, target=target, actor=actor, reason="alasan"
            )

    def deliver(self, n: int) -> None:
        commitment = self._nth(n, status__in=[Status.COMMITTED, Status.DELIVERED])
        if commitment is None or commitment.quantity_left == 0:
            return
        delivery_record(
            commitment_id=commitment.pk,
            actor=self.admin,
            quantity=1 + n % commitment.quantity_left,
            delivered_on=timezone.localdate(),
            recipients_households=n % 5 or None,
            recipients_persons=3 * n,
            proofs=[PROOF],
        )

    def confirm_delivery(self, n: int) -> None:
        deliveries = list(Delivery.objects.filter(confirmed_at__isnull=True).order_by("pk"))
        if deliveries:
            delivery_confirm(delivery_id=deliveries[n % len(deliveries)].pk, actor=self.admin)

    def act(self, action: str, n: int) -> None:
        steps = {
            "pledge": lambda: self.pledge(n),
            "offline": lambda: self.offline(n),
            "confirm": lambda: self.transition(n, "committed", "pledged", self.admin),
            "cancel": lambda: self.transition(n, "cancelled", "pledged", self.member),
            "cancel_committed": lambda: self.transition(n, "cancelled", "committed", self.member),
            "reject": lambda: self.transition(n, "rejected", "pledged", self.admin),
            "deliver": lambda: self.deliver(n),
            "confirm_delivery": lambda: self.confirm_delivery(n),
            "expire": lambda: commitments_expire(now=timezone.now() + datetime.timedelta(days=400)),
        }
        try:
            steps[action]()
        except TransitionRefused:
            pass


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
    rows = _summary_rows()
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


def _summary_rows() -> dict:
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


ACTIONS = [
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


class Rollback(Exception):
    pass


@settings(
    max_examples=25,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=30)),
        min_size=1,
        max_size=14,
    )
)
def test_incremental_summaries_equal_a_full_rebuild_and_a_direct_group_by(
    django_capture_on_commit_callbacks, steps
):
    # Each example starts from the same empty state: its writes are rolled back at the end.
    try:
        with transaction.atomic():
            world = World()
            for action, n in steps:
                # After each change, its after-commit work (the eager refresh) runs.
                with django_capture_on_commit_callbacks(execute=True):
                    world.act(action, n)
            assert not SummaryDirtyKey.objects.exists()
            incremental = summaries()
            assert incremental == direct_group_by()
            summaries_rebuild()
            assert summaries() == incremental
            raise Rollback
    except Rollback:
        pass


@pytest.fixture
def world():
    return World()


def test_with_the_broker_down_changes_succeed_and_the_catch_up_makes_summaries_exact(
    world, django_capture_on_commit_callbacks
):
    with celery_broker("redis://127.0.0.1:1/0", eager=False):
        with django_capture_on_commit_callbacks(execute=True):
            world.pledge(0)
            world.pledge(1)
            world.offline(3)
        with django_capture_on_commit_callbacks(execute=True):
            world.act("confirm", 0)
    assert Commitment.objects.count() == 3
    assert Commitment.objects.filter(status="committed").count() == 2
    # Nothing was recomputed: the touched keys are marked stale.
    assert CommitmentSummary.objects.count() == 0
    assert SummaryDirtyKey.objects.count() == 4
    # The broker is back (eager here): the periodic catch-up drains the stale keys.
    refresh_summaries.delay()
    assert not SummaryDirtyKey.objects.exists()
    assert summaries() == direct_group_by()
    assert {s.status for s in CommitmentSummary.objects.all()} == {"pledged", "committed"}


def test_running_refresh_or_rebuild_twice_changes_nothing(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            world.pledge(n)
            world.offline(n)
        world.act("confirm", 1)
    expected = direct_group_by()
    assert summaries() == expected
    refresh_summaries.delay()
    refresh_summaries.delay()
    assert summaries() == expected
    rebuild_summaries.delay()
    rebuild_summaries.delay()
    assert summaries() == expected
    call_command("rebuild_summaries", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert summaries() == expected


def test_a_recompute_rolled_back_half_way_leaves_old_rows_and_stale_marks(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        world.pledge(0)
    before = summaries()
    with celery_broker("redis://127.0.0.1:1/0", eager=False):
        with django_capture_on_commit_callbacks(execute=True):
            world.act("confirm", 0)
    marks = list(SummaryDirtyKey.objects.values_list("pk", flat=True))
    assert len(marks) == 1
    key = SummaryDirtyKey.objects.get().key
    try:
        with transaction.atomic():
            assert summary_key_recompute(key=key)
            raise Rollback  # the worker dies before the transaction commits
    except Rollback:
        pass
    assert summaries() == before
    assert list(SummaryDirtyKey.objects.values_list("pk", flat=True)) == marks
    refresh_summaries.delay()  # the job runs again
    assert summaries() == direct_group_by() != before
    assert not SummaryDirtyKey.objects.exists()


def test_a_key_already_recomputed_is_not_recomputed_again(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        world.pledge(0)
    key = (
        world.needs[0].program_id,
        world.needs[0].donation_form_id,
        world.needs[0].area_id,
        month_of(timezone.now()),
        "platform",
    )
    assert CommitmentSummary.objects.filter(program=world.needs[0].program).count() == 1
    assert summary_key_recompute(key=key) is False


def test_the_full_rebuild_repairs_wrong_missing_and_surplus_rows_and_their_roll_up(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            world.pledge(n)
            world.offline(n)
        world.act("confirm", 1)
    expected = direct_group_by()
    rows = list(CommitmentSummary.objects.order_by("pk"))
    assert len(rows) >= 3
    program = rows[0].program
    version = program.figures_version
    # Drift of every kind, written behind the services' back (a bug, a manual edit).
    CommitmentSummary.objects.filter(pk=rows[0].pk).update(count=99, value_idr=1)
    CommitmentSummary.objects.filter(pk=rows[1].pk).delete()
    surplus = rows[2]
    surplus.pk = None
    surplus.status = "rejected" if rows[2].status != "rejected" else "expired"
    surplus.save()
    CommitmentRollup.objects.all().update(persons=12345)
    CommitmentRollup.objects.filter(pk=CommitmentRollup.objects.order_by("pk")[0].pk).delete()
    assert _summary_rows() != expected

    # The whole roll-up compared too: the nightly run rolls up again only the kecamatan
    # whose summary rows it changed (test_summaries_rebuild).
    summaries_rebuild(whole_rollup=True)
    assert summaries() == expected  # also checks the roll-up equals the summaries' GROUP BY
    program.refresh_from_db()
    assert program.figures_version > version  # cached dashboards of the program recompute
    if connection.vendor == "postgresql":
        # Nothing left to repair: a second run writes no row (SQLite writes them all again).
        written = {r.pk: r.computed_at for r in CommitmentSummary.objects.all()}
        summaries_rebuild()
        assert {r.pk: r.computed_at for r in CommitmentSummary.objects.all()} == written
