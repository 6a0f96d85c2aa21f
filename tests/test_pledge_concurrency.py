"""Concurrent pledges through the real view stack, in real threads, on the real database
(PostgreSQL or a SQLite file): the need is never over-committed and nothing errors."""

import uuid

import pytest

from commitments.models import Commitment

from .factories import collaborator_and_member
from .world import form_pledge_job, run_in_threads, signed_in, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_concurrent_pledges_for_a_need_of_ten():
    need = small_world(quantity_needed=10)
    donors = [collaborator_and_member() for _ in range(50)]
    results = run_in_threads([form_pledge_job(signed_in(m), c, need) for c, m in donors])

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    codes = sorted(r.status_code for r in results)
    assert codes.count(302) == 10
    assert codes.count(409) == 40
    assert all(code in (302, 409) for code in codes)  # no 500s, no lock errors
    refused = [r.content.decode() for r in results if r.status_code == 409]
    # Each refusal says why: what remains, or (for a request that arrived after the last
    # unit was taken) that the need is no longer open.
    reasons = ("tersisa", "remain", "no longer open", "sudah tidak menerima")
    assert all(any(reason in body for reason in reasons) for body in refused)
    need.refresh_from_db()
    assert need.quantity_claimed == 10 and need.quantity_remaining == 0
    assert Commitment.objects.filter(need=need).count() == 10
    assert sum(Commitment.objects.filter(need=need).values_list("quantity", flat=True)) == 10


def test_a_double_click_at_the_same_moment_creates_one_commitment():
    need = small_world(quantity_needed=10)
    collaborator, member = collaborator_and_member()
    client = signed_in(member)
    key = uuid.uuid4().hex
    results = run_in_threads([form_pledge_job(client, collaborator, need, key, quantity=3)] * 8)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert {r.status_code for r in results} == {302}
    assert len({r["Location"] for r in results}) == 1
    assert Commitment.objects.filter(need=need).count() == 1
    need.refresh_from_db()
    assert need.quantity_claimed == 3
