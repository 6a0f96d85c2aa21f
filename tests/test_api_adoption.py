"""API v1 reads of area adoptions (/api/v1/adoptions/): public data of active and ended
adoptions for everyone; a proposal only for those the web pages show it to (its adopter's
members, the program's leads, its areas' facilitators, administrators); filters by program,
status, area and adopter; a page costs the same queries whatever its length. Real requests
through the API client, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.models import ApiToken
from locations.models import Area
from programs.models import Program

from .adoption_world import KELURAHAN, PROGRAM, RW1, RW2, RW3, UNIT_VALUE, make_adoption
from .api_world import problem
from .factories import (
    CollaboratorFactory,
    UserFactory,
    collaborator_and_member,
    facilitator_of,
    lead_of,
    member_of,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/adoptions/"


def detail(adoption) -> str:
    return f"{LIST}{adoption.pk}/"


def by_token(user, collaborator=None) -> APIClient:
    _token, key = ApiToken.issue(user=user, name="tests", collaborator=collaborator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def adoptions():
    ypo, ypo_owner = collaborator_and_member(name="Young Presidents Uji")
    rival, rival_owner = collaborator_and_member(name="PT Pesaing Uji")
    active = make_adoption(
        ypo,
        codes=(RW1, RW2),
        name="Kampung Tanah Uji",
        works=(("committed", 4), ("pledged", 2), ("delivered", 3), ("cancelled", 5)),
    )
    ended = make_adoption(rival, status="ended", codes=(RW3,), name="Selesai Uji")
    proposal = make_adoption(rival, status="proposed", codes=(RW3,), name="Usulan Uji")
    declined = make_adoption(ypo, status="declined", codes=(RW3,), name="Ditolak Uji")
    return {
        "ypo": ypo,
        "ypo_owner": ypo_owner,
        "rival": rival,
        "rival_owner": rival_owner,
        "active": active,
        "ended": ended,
        "proposal": proposal,
        "declined": declined,
    }


def test_anyone_reads_active_and_ended_adoptions_with_their_public_data(adoptions):
    client = APIClient()
    active = adoptions["active"]
    assert ids(client.get(LIST)) == {active.pk, adoptions["ended"].pk}
    body = client.get(detail(active)).json()
    assert body["name"] == "Kampung Tanah Uji"
    assert body["adopter"]["name"] == "Young Presidents Uji"
    assert body["program"] == Program.objects.get(slug=PROGRAM).pk
    assert [(a["code"], a["level"]) for a in body["areas"]] == [(RW1, "rw"), (RW2, "rw")]
    assert all(a["name"] for a in body["areas"])
    assert body["status"] == "active" and body["agreed_at"] and body["starts_on"]
    assert body["page"].endswith(active.get_absolute_url())
    # Live works count: pledged 2 + committed 4 + delivered 3 (the cancelled 5 does not).
    assert body["value_idr"] == str(9 * UNIT_VALUE)
    assert body["value_confirmed_idr"] == str(7 * UNIT_VALUE)
    assert body["works"] == 4
    [phase] = body["phases"]
    assert phase["title"] == "Saluran air" and phase["order"] == 1
    assert phase["value_idr"] == str(9 * UNIT_VALUE)
    [item] = phase["items"]
    assert item["planned_quantity"] == 10
    assert (item["pledged"], item["committed"], item["delivered"]) == (9, 7, 3)
    # Nothing between the adopter and the lead travels.
    assert "decision_note" not in body and "comments" not in body and "proposed_by" not in body


def test_proposals_are_seen_only_by_those_the_pages_show_them_to(adoptions):
    proposal, declined = adoptions["proposal"], adoptions["declined"]
    public = {adoptions["active"].pk, adoptions["ended"].pk}
    seers = {
        "rival's member": by_token(adoptions["rival_owner"]),
        "program lead": by_token(lead_of(PROGRAM)),
        "RW 3 facilitator": by_token(facilitator_of(RW3)),
        "administrator": by_token(UserFactory(is_staff=True)),
    }
    for who, client in seers.items():
        assert proposal.pk in ids(client.get(LIST)), who
        assert client.get(detail(proposal)).status_code == 200, who
    others = {
        "anonymous": APIClient(),
        "ypo's member": by_token(adoptions["ypo_owner"]),
        "another collaborator": by_token(member_of(CollaboratorFactory())),
        "lead of another program": by_token(lead_of("pangan")),
        "RW 1 facilitator": by_token(facilitator_of(RW1)),
    }
    for who, client in others.items():
        assert proposal.pk not in ids(client.get(LIST)), who
        problem(client.get(detail(proposal)), 404)
    # A token bound to another collaborator of the same person acts for that one only.
    second, _owner = collaborator_and_member()
    owner = adoptions["rival_owner"]
    owner.memberships.create(collaborator=second, role="owner")
    bound = by_token(owner, second)
    assert ids(bound.get(LIST)) == public
    problem(bound.get(detail(proposal)), 404)
    # The declined one: ypo's members see it, the public does not.
    assert declined.pk in ids(by_token(adoptions["ypo_owner"]).get(LIST))
    problem(APIClient().get(detail(declined)), 404)


def test_filters_by_program_status_area_and_adopter(adoptions):
    client = by_token(UserFactory(is_staff=True))
    active, ended = adoptions["active"], adoptions["ended"]
    program = Program.objects.get(slug=PROGRAM)
    everything = {
        a.pk for k, a in adoptions.items() if k in ("active", "ended", "proposal", "declined")
    }
    assert ids(client.get(LIST, {"program": PROGRAM})) == everything
    assert ids(client.get(LIST, {"program": program.pk})) == everything
    assert ids(client.get(LIST, {"program": "pangan"})) == set()
    assert ids(client.get(LIST, {"program": "no-such-program"})) == set()
    assert ids(client.get(LIST, {"status": "active"})) == {active.pk}
    assert ids(client.get(LIST, {"status": "ended"})) == {ended.pk}
    assert ids(client.get(LIST, {"area": RW2})) == {active.pk}
    rw3_ones = {ended.pk, adoptions["proposal"].pk, adoptions["declined"].pk}
    assert ids(client.get(LIST, {"area": RW3})) == rw3_ones
    assert ids(client.get(LIST, {"area": KELURAHAN})) == everything
    assert ids(client.get(LIST, {"area": "31.71"})) == set()
    assert ids(client.get(LIST, {"adopter": adoptions["ypo"].pk})) == {
        active.pk,
        adoptions["declined"].pk,
    }
    assert ids(client.get(LIST, {"area": RW1, "status": "active"})) == {active.pk}


@pytest.mark.parametrize(
    "query,field",
    [
        ("status=maybe", "status"),
        ("adopter=0", "adopter"),
        ("adopter=99999999999999999999", "adopter"),
        ("area=" + "x" * 61, "area"),
        ("page_size=0", "page_size"),
        ("page=abc", "page"),
    ],
)
def test_bad_parameters_are_400_problems(adoptions, query, field):
    body = problem(APIClient().get(f"{LIST}?{query}"), 400)
    assert field in str(body)


@pytest.mark.parametrize("pk", ["0", "abc", "99999999999999999999", "-1"])
def test_unknown_ids_are_404_problems(adoptions, pk):
    problem(APIClient().get(f"{LIST}{pk}/"), 404)


def test_pages_walk_every_public_adoption(adoptions):
    for i in range(3):
        make_adoption(CollaboratorFactory(), codes=(f"31.73.04.1002.00{4 + i}",), name=f"A{i}")
    client = APIClient()
    first = client.get(LIST, {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    seen = [row["id"] for row in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_query_count_does_not_grow_with_rows(adoptions):
    urls = [f"{LIST}?page_size=200", f"{LIST}?page_size=200&area={KELURAHAN}"]
    clients = {"anonymous": APIClient(), "lead": by_token(lead_of(PROGRAM))}
    for client in clients.values():  # a token's first use writes when it was used
        client.get(LIST)
    small = {(who, url): _queries(c, url) for who, c in clients.items() for url in urls}
    rws = Area.objects.filter(level="rw").exclude(code__in=(RW1, RW2, RW3)).order_by("code")
    codes = list(rws.values_list("code", flat=True)[:12])
    for i in range(6):
        make_adoption(
            CollaboratorFactory(),
            codes=(codes[i],),
            name=f"Tambahan {i}",
            works=(("committed", 1), ("pledged", 2)),
        )
        make_adoption(CollaboratorFactory(), status="proposed", codes=(codes[6 + i],))
    large = {(who, url): _queries(c, url) for who, c in clients.items() for url in urls}
    assert small == large
    assert len(APIClient().get(f"{LIST}?page_size=200").json()["results"]) == 8


def test_the_schema_documents_the_adoption_endpoints():
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    assert "/api/v1/adoptions/" in schema["paths"]
    assert "/api/v1/adoptions/{id}/" in schema["paths"]
    adoption = schema["components"]["schemas"]["Adoption"]["properties"]
    assert {"adopter", "areas", "phases", "value_idr", "agreed_at"} <= set(adoption)
