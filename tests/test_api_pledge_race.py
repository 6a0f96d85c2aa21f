"""The API's pledge path under the same race as the web's (test_pledge_concurrency): real
threads, each with its own database connection, on PostgreSQL. A need of 10, fifty
pledges of 1: exactly ten accepted, forty refused with a problem body, no server error;
one Idempotency-Key sent by many clients at once: one commitment, the same answer for all."""

import uuid

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from commitments.models import Commitment

from .api_world import api_pledge_job
from .factories import collaborator_and_member
from .world import run_in_threads, signed_in, small_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the race is run on PostgreSQL (DATABASE_URL)",
    ),
]


def test_fifty_concurrent_api_pledges_for_a_need_of_ten():
    need = small_world(quantity_needed=10)
    jobs = []
    for _ in range(50):
        collaborator, user = collaborator_and_member()
        client = signed_in(user, APIClient)
        jobs.append(api_pledge_job(client, collaborator, need, key=str(uuid.uuid4())))
    results = run_in_threads(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    codes = [r.status_code for r in results]
    assert codes.count(201) == 10
    assert codes.count(422) == 40
    assert all(code < 500 for code in codes)
    for refused in (r for r in results if r.status_code == 422):
        assert refused["Content-Type"].startswith("application/problem+json")
        body = refused.json()
        assert body["status"] == 422 and body["detail"]
    need.refresh_from_db()
    assert need.quantity_claimed == 10 and need.quantity_remaining == 0
    assert Commitment.objects.filter(need=need).count() == 10


def test_concurrent_retries_with_one_key_create_one_commitment():
    need = small_world(quantity_needed=10)
    collaborator, user = collaborator_and_member()
    key = str(uuid.uuid4())
    # Twelve clients (the same user, each its own session) send the same request at once.
    jobs = [
        api_pledge_job(signed_in(user, APIClient), collaborator, need, key=key, quantity=3)
        for _ in range(12)
    ]
    results = run_in_threads(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert {r.status_code for r in results} == {201}
    assert len({r.content for r in results}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in results) == 11
    assert Commitment.objects.filter(need=need).count() == 1
    need.refresh_from_db()
    assert need.quantity_claimed == 3
