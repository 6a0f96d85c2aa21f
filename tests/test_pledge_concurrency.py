"""Concurrent pledges through the real view stack, in real threads, on the real database
(PostgreSQL or a SQLite file): the need is never over-committed and nothing errors."""

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from collaborators.models import Collaborator, Membership
from commitments.models import Commitment

from .factories import UserFactory
from .world import run_in_threads, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def donor(n: int) -> tuple[Client, Collaborator]:
    collaborator = Collaborator.objects.create(
        name=f"Donor {n}",
        slug=f"donor-{n}-{uuid.uuid4().hex[:6]}",
        kind="company",
        verification_status="verified",
    )
    user = UserFactory()
    Membership.objects.create(user=user, collaborator=collaborator, role="owner")
    client = Client()
    client.force_login(user)
    return client, collaborator


def pledge_job(client, collaborator, need, key=None, quantity=1):
    url = reverse("pledge-create", args=[need.pk])
    data = {
        "key": key or uuid.uuid4().hex,
        "collaborator": collaborator.pk,
        "quantity": quantity,
        "planned_delivery_on": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
    }
    return lambda: client.post(url, data)


def test_fifty_concurrent_pledges_for_a_need_of_ten():
    need = small_world(quantity_needed=10)
    donors = [donor(n) for n in range(50)]
    results = run_in_threads([pledge_job(c, col, need) for c, col in donors])

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    codes = sorted(r.status_code for r in results)
    assert codes.count(302) == 10
    assert codes.count(409) == 40
    assert all(code in (302, 409) for code in codes)  # no 500s, no lock errors
    refused = [r.content.decode() for r in results if r.status_code == 409]
    assert all("tersisa" in body or "remain" in body for body in refused)
    need.refresh_from_db()
    assert need.quantity_claimed == 10 and need.quantity_remaining == 0
    assert Commitment.objects.filter(need=need).count() == 10
    assert sum(Commitment.objects.filter(need=need).values_list("quantity", flat=True)) == 10


def test_a_double_click_at_the_same_moment_creates_one_commitment():
    need = small_world(quantity_needed=10)
    client, collaborator = donor(1)
    key = uuid.uuid4().hex
    results = run_in_threads([pledge_job(client, collaborator, need, key=key, quantity=3)] * 8)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert {r.status_code for r in results} == {302}
    assert len({r["Location"] for r in results}) == 1
    assert Commitment.objects.filter(need=need).count() == 1
    need.refresh_from_db()
    assert need.quantity_claimed == 3
