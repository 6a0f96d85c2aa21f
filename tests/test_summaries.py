"""Commitment summary tables: the incremental path (dirty keys drained by the
refresh_summaries job) and the full rebuild give the same rows as a direct GROUP BY over
commitments, after any sequence of changes made through the real services; with the broker
down changes still succeed and the catch-up run repairs the summaries; jobs run twice, or
rolled back half-way, leave them exact."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitments.figures.summaries import month_of, summaries_rebuild, summary_key_recompute
from commitments.models import (
    Commitment,
    CommitmentEvent,
    CommitmentKecamatanRollup,
    CommitmentMonthRollup,
    CommitmentRollup,
    CommitmentSummary,
    SummaryDirtyKey,
)
from commitments.tasks import rebuild_summaries, refresh_summaries

from .conftest import celery_broker
from .rollup_levels import assert_levels_equal_rollup, levels_computed_at
from .world import LIFECYCLE_ACTIONS, LifecycleWorld, direct_group_by, summaries, summary_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


class Rollback(Exception):
    pass


EXAMPLES = 25


def test_incremental_summaries_equal_a_full_rebuild_and_a_direct_group_by(
    django_capture_on_commit_callbacks,
):
    taken = Counter()  # actions that changed something, over every example

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # no example database written into the working tree
        derandomize=True,  # the same examples on every run: a failure is reproducible
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        steps=st.lists(
            st.tuples(st.sampled_from(LIFECYCLE_ACTIONS), st.integers(min_value=0, max_value=30)),
            min_size=1,
            max_size=14,
        )
    )
    def examples(steps):
        # Each example starts from the same empty state: its writes are rolled back.
        try:
            with transaction.atomic():
                world = LifecycleWorld()
                for action, n in steps:
                    events = CommitmentEvent.objects.count()
                    # After each change, its after-commit work (the eager refresh) runs.
                    with django_capture_on_commit_callbacks(execute=True):
                        if world.act(action, n):
                            taken[action] += 1
                            if action != "confirm_delivery":  # a receipt is no status change
                                assert CommitmentEvent.objects.count() > events, action
                    # The month and kecamatan roll-ups follow the roll-up at every step.
                    assert_levels_equal_rollup()
                assert not SummaryDirtyKey.objects.exists()
                incremental = summaries()
                assert incremental == direct_group_by()
                summaries_rebuild()
                assert summaries() == incremental
                assert_levels_equal_rollup()
                raise Rollback
        except Rollback:
            pass

    examples()
    # The examples did things, not only asked for them: most kinds of action took effect.
    assert sum(taken.values()) >= EXAMPLES, taken
    assert len(taken) >= 5, taken


@pytest.fixture
def world():
    return LifecycleWorld()


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
    assert_levels_equal_rollup()


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
    assert_levels_equal_rollup()
    assert list(SummaryDirtyKey.objects.values_list("pk", flat=True)) == marks
    refresh_summaries.delay()  # the job runs again
    assert summaries() == direct_group_by() != before
    assert_levels_equal_rollup()
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
    CommitmentMonthRollup.objects.all().update(households=54321)
    CommitmentKecamatanRollup.objects.filter(
        pk=CommitmentKecamatanRollup.objects.order_by("pk")[0].pk
    ).delete()
    surplus_level = CommitmentMonthRollup.objects.order_by("pk")[0]
    surplus_level.pk, surplus_level.channel = None, "elsewhere"
    surplus_level.save()
    assert summary_rows() != expected

    # The whole roll-up compared too: the nightly run rolls up again only the kecamatan
    # whose summary rows it changed (test_summaries_rebuild).
    summaries_rebuild(whole_rollup=True)
    assert summaries() == expected  # also checks the roll-up equals the summaries' GROUP BY
    assert_levels_equal_rollup()  # and its levels the roll-up's
    program.refresh_from_db()
    assert program.figures_version > version  # cached dashboards of the program recompute
    if connection.vendor == "postgresql":
        # Nothing left to repair: a second run writes no row (SQLite writes them all again).
        written = {r.pk: r.computed_at for r in CommitmentSummary.objects.all()}
        levels = levels_computed_at()
        summaries_rebuild()
        summaries_rebuild(whole_rollup=True)
        assert {r.pk: r.computed_at for r in CommitmentSummary.objects.all()} == written
        assert levels_computed_at() == levels
