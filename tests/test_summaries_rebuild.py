"""The full summary rebuild as the nightly job runs it: on PostgreSQL in parts of the areas
and of the kecamatan, each compared on its own connection at once. Every part is repaired,
and pledges (with their eager recomputes) made while it runs are neither lost nor
deadlocked; SQLite takes its one-transaction path and must give the same rows."""

import threading
import uuid

import pytest
from django.db import connection

from commitments import summaries as summaries_module
from commitments.models import CommitmentRollup, CommitmentSummary, SummaryDirtyKey
from commitments.services import commitment_pledge
from commitments.summaries import _parts, summaries_rebuild, summaries_refresh

from .factories import CollaboratorFactory, member_of
from .test_summaries import _summary_rows, direct_group_by, summaries
from .world import run_in_threads, small_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def parts(settings, monkeypatch):
    """Two parts, and blocks of one id each, so that every test area can fall in either."""
    settings.SUMMARY_REBUILD_PARTITIONS = 2
    monkeypatch.setattr(summaries_module, "AREA_BLOCK", 1)
    monkeypatch.setattr(summaries_module, "KECAMATAN_BLOCK", 1)


def pledger():
    collaborator = CollaboratorFactory()
    return collaborator, member_of(collaborator)


def pledge(need, collaborator, member, quantity=1):
    return commitment_pledge(
        user=member,
        collaborator=collaborator,
        need=need,
        quantity=quantity,
        idempotency_key=uuid.uuid4().hex,
    )


def test_parts_are_contiguous_cover_every_block_and_balance_the_weight():
    weights = {0: 0, 1: 5, 2: 5, 3: 5, 4: 5, 7: 10, 9: 0}
    assert _parts(weights, 1) == [(0, 9)]
    two = _parts(weights, 2)
    assert two == [(0, 3), (4, 9)]
    assert _parts(weights, 3) == [(0, 2), (3, 4), (7, 9)]
    for count in range(1, 9):
        runs = _parts(weights, count)
        assert len(runs) <= count
        assert runs[0][0] == 0 and runs[-1][1] == 9
        assert all(a[1] < b[0] for a, b in zip(runs, runs[1:], strict=False))
    assert _parts({}, 2) == []


def test_a_rebuild_in_parts_repairs_every_part_and_the_roll_up(parts):
    needs = [small_world(quantity_needed=100) for _ in range(4)]
    collaborator, member = pledger()
    for n, need in enumerate(needs):
        for quantity in (1, 2 + n):
            pledge(need, collaborator, member, quantity)
    expected = direct_group_by()
    assert summaries() == expected
    area_parts = _parts(summaries_module._block_weights()[0], 2)
    assert len(area_parts) == 2  # the areas fall in both parts
    # Drift in every part: a wrong row, a missing row, a surplus row, a wrong roll-up.
    rows = {row.area_id: row for row in CommitmentSummary.objects.order_by("area_id")}
    first, *_, last = rows.values()
    CommitmentSummary.objects.filter(pk=first.pk).update(count=99, value_idr=1)
    CommitmentSummary.objects.filter(pk=last.pk).delete()
    surplus = list(rows.values())[1]
    surplus.pk, surplus.status = None, "expired"
    surplus.save()
    CommitmentRollup.objects.all().update(persons=12345)
    assert _summary_rows() != expected

    assert summaries_rebuild() == len(expected)

    assert summaries() == expected
    # Nothing left to repair: a second run writes no row (SQLite writes them all again).
    if connection.vendor == "postgresql":
        written = {r.pk: r.computed_at for r in CommitmentSummary.objects.all()}
        summaries_rebuild()
        assert {r.pk: r.computed_at for r in CommitmentSummary.objects.all()} == written


def test_pledges_while_a_rebuild_runs_are_kept_exact(parts):
    needs = [small_world(quantity_needed=1000) for _ in range(4)]
    collaborator, member = pledger()
    for need in needs:
        pledge(need, collaborator, member)
    summaries_rebuild()
    # Drift, so that the rebuild's parts have rows to write while the pledges recompute.
    CommitmentSummary.objects.update(persons=7)

    started = threading.Event()

    def rebuild():
        started.set()
        for _ in range(3):
            CommitmentSummary.objects.filter(persons=0).update(persons=7)
            summaries_rebuild()

    def pledges(need):
        def run():
            started.wait(5)
            for quantity in range(1, 7):
                pledge(need, collaborator, member, quantity)

        return run

    results = run_in_threads([rebuild, rebuild, *(pledges(need) for need in needs)])

    assert [r for r in results if isinstance(r, Exception)] == []
    # A mark committed after a part read its marks waits for the next refresh.
    summaries_refresh()
    assert not SummaryDirtyKey.objects.exists()
    assert summaries() == direct_group_by()
