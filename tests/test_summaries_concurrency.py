"""Concurrent pledges, each followed by its own refresh of the summaries, in real threads
on the real database: no recompute loses another's change, and no stale mark is left."""

import pytest

from commitments.models import Commitment, CommitmentSummary, SummaryDirtyKey

from .test_pledge_concurrency import donor, pledge_job
from .test_summaries import direct_group_by, summaries
from .world import run_in_threads, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_pledges_and_refreshes_of_one_key_lose_no_update():
    need = small_world(quantity_needed=100)
    donors = [donor(n) for n in range(12)]
    results = run_in_threads([pledge_job(c, col, need, quantity=2) for c, col in donors])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(r.status_code == 302 for r in results)
    assert not SummaryDirtyKey.objects.exists()
    assert summaries() == direct_group_by()
    row = CommitmentSummary.objects.get(program=need.program)
    assert (row.count, row.quantity) == (12, 24)
    assert Commitment.objects.filter(need=need).count() == 12
