"""Plans pledged at the same moment (issue 11 part 3): 20 planners in real threads, each
with its own database connection, through the API, on the real database (PostgreSQL with
DATABASE_URL, else a SQLite file). Their plans overlap on a few needs and list the lines in
different orders. No need is over-committed, nobody deadlocks, nobody meets a server
error, every plan is created whole or not at all."""

from __future__ import annotations

import random
import uuid

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from collaborators.models import Collaborator
from commitments.models import ACTIVE_STATUSES, Commitment
from locations.models import Need

from .factories import collaborator_and_member
from .world import run_in_threads, signed_in, small_world

pytestmark = pytest.mark.django_db(transaction=True)

PLANS = "/api/v1/plans/"
PLANNERS = 20


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(("anon", "user", "pledge", "signin"), "100000/min"),
    }


def few_needs(*quantities: int) -> list[Need]:
    """Needs of one program and area, to compete for."""
    first = small_world(quantity_needed=quantities[0])
    others = [
        Need.objects.create(
            area=first.area,
            program=first.program,
            donation_form=first.donation_form,
            quantity_needed=quantity,
            valid_until=first.valid_until,
            assessed_by_role="Ketua RW 01",
        )
        for quantity in quantities[1:]
    ]
    return [first, *others]


def planner(n: int) -> tuple[APIClient, Collaborator]:
    collaborator, user = collaborator_and_member(name=f"Planner {n}")
    return signed_in(user, APIClient, HTTP_ACCEPT_LANGUAGE="en"), collaborator


def send(client, collaborator, lines, key):
    return client.post(
        PLANS,
        {
            "collaborator": collaborator.pk,
            "lines": [{"need": need, "quantity": quantity} for need, quantity in lines],
        },
        format="json",
        headers={"Idempotency-Key": key},
    )


def plan_job(client, collaborator, lines):
    """Send the plan; if it changed, accept the adjusted plan once (a new key), as a person
    would. Returns every (lines, response) sent."""

    def job():
        sent = [(lines, send(client, collaborator, lines, str(uuid.uuid4())))]
        first = sent[0][1]
        if first.status_code == 409 and first.json().get("adjusted_plan"):
            adjusted = [(line["need"], line["quantity"]) for line in first.json()["adjusted_plan"]]
            sent.append((adjusted, send(client, collaborator, adjusted, str(uuid.uuid4()))))
        return sent

    return job


def assert_no_need_over_committed(needs):
    for need in needs:
        need.refresh_from_db()
        active = Commitment.objects.filter(need=need, status__in=ACTIVE_STATUSES)
        total = active.aggregate(total=Sum("quantity"))["total"] or 0
        assert need.quantity_claimed <= need.quantity_needed, need
        assert need.quantity_claimed == total, need


def test_twenty_planners_competing_for_a_few_needs():
    needs = few_needs(10, 12, 8, 15)
    ids = [n.pk for n in needs]
    rng = random.Random(11)
    jobs, planners = [], []
    for n in range(PLANNERS):
        client, collaborator = planner(n)
        chosen = rng.sample(ids, rng.randint(2, 4))  # overlapping, in any order
        lines = [(need_id, rng.randint(1, 5)) for need_id in chosen]
        jobs.append(plan_job(client, collaborator, lines))
        planners.append(collaborator)
    results = run_in_threads(jobs)

    assert [r for r in results if r is None or isinstance(r, Exception)] == []  # no hang
    codes = [response.status_code for sent in results for _lines, response in sent]
    assert set(codes) <= {201, 409}, codes  # no server error, no lock error
    assert 201 in codes and 409 in codes  # they did compete
    for sent in results:
        for _lines, response in sent:
            if response.status_code == 409:
                body = response.json()
                assert body["lines"] and response["Content-Type"].startswith(
                    "application/problem+json"
                )
    assert_no_need_over_committed(needs)
    # Each planner holds exactly the plan that was answered 201, or nothing.
    for collaborator, sent in zip(planners, results, strict=True):
        held = sorted(
            Commitment.objects.filter(collaborator=collaborator).values_list("need_id", "quantity")
        )
        created = [sorted(lines) for lines, response in sent if response.status_code == 201]
        assert len(created) <= 1
        assert held == (created[0] if created else []), collaborator


def test_plans_listing_the_same_needs_in_opposite_orders_never_deadlock():
    """Enough for everyone: every plan must succeed, whatever order its lines are in."""
    needs = few_needs(25, 25, 25, 25)
    ids = [n.pk for n in needs]
    jobs = []
    for n in range(PLANNERS):
        client, collaborator = planner(n)
        order = ids if n % 2 else list(reversed(ids))
        jobs.append(plan_job(client, collaborator, [(need_id, 1) for need_id in order]))
    results = run_in_threads(jobs)

    assert [r for r in results if r is None or isinstance(r, Exception)] == []
    assert [[response.status_code for _l, response in sent] for sent in results] == [
        [201]
    ] * PLANNERS
    assert_no_need_over_committed(needs)
    assert [Need.objects.get(pk=i).quantity_claimed for i in ids] == [PLANNERS] * 4


def test_one_plan_sent_many_times_at_once_is_created_once():
    needs = few_needs(10, 10)
    _client, collaborator = planner(1)
    user = collaborator.memberships.get().user
    key = str(uuid.uuid4())
    lines = [(needs[1].pk, 10), (needs[0].pk, 4)]  # all of one need: late retries find it full
    # Eight clients (the same user, each its own session) send the same plan at once.
    clients = [signed_in(user, APIClient, HTTP_ACCEPT_LANGUAGE="en") for _ in range(8)]
    results = run_in_threads([lambda c=c: send(c, collaborator, lines, key) for c in clients])

    assert [r for r in results if r is None or isinstance(r, Exception)] == []
    assert {r.status_code for r in results} == {201}
    assert len({r.content for r in results}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in results) == 7
    assert Commitment.objects.filter(collaborator=collaborator).count() == 2
    assert [Need.objects.get(pk=n.pk).quantity_claimed for n in needs] == [4, 10]
