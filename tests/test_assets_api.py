"""API v1: confirming receipt of an asset-creating delivery with its assets in the body,
registered exactly as the page registers them (the same function, the same refusals, as
problem bodies), and the endpoint's other answers kept."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from commitments.assets.models import Asset
from commitments.lifecycle.transitions import delivery_record
from locations.models import Area, Site

from .asset_world import (  # noqa: F401  (private_files: a fixture)
    OTHER_RW,
    RW,
    laptop_world,
    nothing_written,
    private_files,
    register_url,
)
from .factories import CollaboratorFactory, NeedFactory, commitment_in, facilitator_of, member_of
from .world import PROOF, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]

PROBLEM = "application/problem+json"


def confirm_url(world) -> str:
    return f"/api/v1/commitments/{world.commitment.pk}/deliveries/{world.delivery.pk}/confirm/"


def post(user, world, body):
    return signed_in(user, APIClient).post(confirm_url(world), body, format="json")


def laptops(world, tag: str, owners=("school", "school", "private", "private", "private")):
    return [
        {
            "owner_kind": kind,
            "owner_site": world.school.pk if kind == "school" else None,
            "owner_name": f"Murid {n}" if kind == "private" else "",
            "serial_number": f"API-{tag}-{n}",
            "condition": "good",
        }
        for n, kind in enumerate(owners, start=1)
    ]


def refused(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    text = str(body.get("detail", "")) + str(body.get("errors", ""))
    for word in words:
        assert word in text, text
    return text


def test_the_facilitator_confirms_five_laptops_through_the_api():
    world = laptop_world(quantity=5)
    response = post(world.facilitator, world, {"assets": laptops(world, "ok")})
    assert response.status_code == 200, response.content
    assert response.json()["confirmed_at"]
    assets = Asset.objects.filter(delivery=world.delivery).order_by("serial_number")
    assert [(a.owner_kind, a.serial_number, a.condition) for a in assets][:3] == [
        ("school", "API-ok-1", "good"),
        ("school", "API-ok-2", "good"),
        ("private", "API-ok-3", "good"),
    ]
    assert assets[2].owner_name == "Murid 3" and assets[0].owner_site == world.school
    world.commitment.refresh_from_db()
    assert world.commitment.status == "completed"
    # Sent again (a retry): the delivery is already confirmed, as before; nothing doubles.
    refused(post(world.facilitator, world, {"assets": laptops(world, "ok")}), 422)
    assert Asset.objects.filter(delivery=world.delivery).count() == 5


def test_the_registrys_refusals_are_conflicts_that_write_nothing():
    world = laptop_world(quantity=3)
    other_school = Site.objects.create(
        area=Area.objects.get(code=OTHER_RW), kind="school", name="SD Lain", lon=1, lat=1
    )
    three = laptops(world, "r", owners=("school", "private", "private"))
    cases = [
        ({"assets": three[:2]}, "3"),  # fewer than delivered
        ({"assets": [three[0], three[1], {**three[2], "owner_name": ""}]}, "Aset 3"),
        ({"assets": [{**three[0], "owner_kind": "city"}, *three[1:]]}, "Aset 1"),
        ({"assets": [{**three[0], "owner_site": other_school.pk}, *three[1:]]}, "Aset 1"),
        ({"assets": [three[0], three[1], {**three[2], "serial_number": ""}]}, "Aset 3"),
        ({"assets": [three[0], three[1], {**three[2], "serial_number": "API-r-1"}]}, "API-r-1"),
    ]
    for body, word in cases:
        refused(post(world.facilitator, world, body), 409, word)
        assert nothing_written(world)
    # Without assets: a 409 that says how, and names the page.
    text = refused(post(world.facilitator, world, {}), 409, "assets")
    assert register_url(world) in text
    # A serial number another delivery registered.
    assert post(world.facilitator, world, {"assets": three}).status_code == 200
    other = laptop_world(quantity=1, facilitator=world.facilitator)
    body = {"assets": [{**laptops(other, "x", owners=("school",))[0], "serial_number": "API-r-2"}]}
    refused(post(world.facilitator, other, body), 409, "API-r-2")
    assert nothing_written(other)


def test_malformed_assets_are_400s_and_others_still_403_or_404():
    world = laptop_world(quantity=2)
    two = laptops(world, "m", owners=("school", "school"))
    for body in (
        {"assets": [{**two[0], "serial_number": "A\x00"}, two[1]]},
        {"assets": [{**two[0], "serial_number": "x" * 101}, two[1]]},
        {"assets": [{**two[0], "owner_kind": "martian"}, two[1]]},
        {"assets": [{**two[0], "owner_site": 2**70}, two[1]]},
        {"assets": [{**two[0], "condition": "shiny"}, two[1]]},
        {"assets": "two laptops"},
        {"assets": [two[0]] * 5001},
    ):
        refused(post(world.facilitator, world, body), 400)
        assert nothing_written(world)
    refused(post(world.donor, world, {"assets": two}), 403)
    refused(post(facilitator_of(OTHER_RW), world, {"assets": two}), 404)
    assert nothing_written(world)


def test_a_delivery_that_creates_no_assets_takes_none():
    need = NeedFactory(area=Area.objects.get(code=RW))
    collaborator = CollaboratorFactory()
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=1)
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=member_of(collaborator),
        quantity=1,
        delivered_on=timezone.localdate(),
        recipients_households=1,
        recipients_persons=1,
        proofs=[PROOF],
    )
    api = signed_in(facilitator_of(RW), APIClient)
    url = f"/api/v1/commitments/{commitment.pk}/deliveries/{delivery.pk}/confirm/"
    body = {"assets": [{"owner_kind": "city"}]}
    response = api.post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert api.post(url).status_code == 200
