"""Concurrent pledges, each followed by its own refresh of the summaries, in real threads
on the real database: no recompute loses another's change, and no stale mark is left."""

import pytest

from commitments.models import Commitment, CommitmentSummary, SummaryDirtyKey

from .factories import collaborator_and_member
from .world import (
    direct_group_by,
    form_pledge_job,
    run_in_threads,
    signed_in,
    small_world,
    summaries,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_pledges_and_refreshes_of_one_key_lose_no_update():
    need = small_world(quantity_needed=100)
    donors = [collaborator_and_member() for _ in range(12)]
    jobs = [form_pledge_job(signed_in(m), c, need, quantity=2) for c, m in donors]
    results = run_in_threads(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(r.status_code == 302 for r in results)
    assert not SummaryDirtyKey.objects.exists()
    assert summaries() == direct_group_by()
    row = CommitmentSummary.objects.get(program=need.program)
    assert (row.count, row.quantity) == (12, 24)
    assert Commitment.objects.filter(need=need).count() == 12
