"""Simultaneous pledges of one unverified collaborator, in real threads on the real
database: together they never exceed the program's limits, and nothing errors."""

import uuid

import pytest
from django.test import Client

from collaborators.models import Collaborator, Membership
from commitments.models import Commitment
from locations.models import Need

from .factories import UserFactory
from .world import form_pledge_job, run_in_threads, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def newcomer_clients(n: int) -> tuple[list[Client], Collaborator]:
    """One unverified collaborator, signed in from `n` browsers at once."""
    collaborator = Collaborator.objects.create(
        name="CV Pendatang Baru", slug=f"cv-baru-{uuid.uuid4().hex[:6]}", kind="company"
    )
    user = UserFactory()
    Membership.objects.create(user=user, collaborator=collaborator, role="owner")
    clients = []
    for _ in range(n):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        clients.append(client)
    return clients, collaborator


def limited(need: Need, **limits) -> Need:
    for name, value in limits.items():
        setattr(need.program, name, value)
    need.program.save()
    return need


def test_ten_simultaneous_pledges_against_an_hourly_limit_of_three_give_three():
    need = limited(small_world(quantity_needed=100), unverified_pledges_per_hour=3)
    clients, collaborator = newcomer_clients(10)
    results = run_in_threads([form_pledge_job(c, collaborator, need) for c in clients])

    assert [r for r in results if isinstance(r, Exception)] == []
    codes = [r.status_code for r in results]
    assert sorted(codes) == [302] * 3 + [409] * 7
    refused = [r.content.decode() for r in results if r.status_code == 409]
    assert all("3 pledges per hour" in body for body in refused)
    assert Commitment.objects.filter(collaborator=collaborator).count() == 3
    need.refresh_from_db()
    assert need.quantity_claimed == 3


def test_simultaneous_pledges_never_exceed_the_share_of_one_need():
    need = limited(
        small_world(quantity_needed=100),
        unverified_pledges_per_hour=50,
        unverified_max_share_percent=25,
    )
    clients, collaborator = newcomer_clients(10)
    results = run_in_threads([form_pledge_job(c, collaborator, need, quantity=5) for c in clients])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(r.status_code for r in results) == [302] * 5 + [409] * 5
    need.refresh_from_db()
    assert need.quantity_claimed == 25
    assert sum(Commitment.objects.filter(need=need).values_list("quantity", flat=True)) == 25
