"""Registering a delivery's assets in groups (owner kind, school, condition, photo, and a
count or one line an asset): a delivery of hundreds is confirmed from one page, a bad line
refuses everything and names its group and line, a group's photo is stored once, and the
page adds a group without JavaScript."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.assets.models import Asset, AssetEvent
from commitments.web.asset_views import MAX_GROUPS
from programs.models import DonationForm

from .asset_world import (  # noqa: F401  (private_files: a fixture)
    GADGET,
    groups,
    laptop_world,
    nothing_written,
    private_files,
    register_url,
)
from .factories import jpeg_with_location
from .world import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]


def test_four_hundred_laptops_are_registered_from_one_page():
    world = laptop_world(quantity=400)
    school = [f"SCH-{n:03}" for n in range(150)]
    pupils = [f"PUP-{n:03}; Murid {n}" for n in range(250)]
    client = signed_in(world.facilitator)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            register_url(world),
            groups(
                {"owner_kind": "school", "owner_site": world.school, "lines": school},
                {"owner_kind": "private", "lines": pupils, "condition": "good"},
            ),
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert len(captured) < 100  # not a query an asset
    world.delivery.refresh_from_db()
    assert world.delivery.confirmed_at is not None
    assets = Asset.objects.filter(delivery=world.delivery)
    assert assets.count() == 400
    assert (
        assets.filter(owner_kind="school", owner_site=world.school, condition="new").count() == 150
    )
    pupil = assets.get(serial_number="PUP-007")
    assert (pupil.owner_kind, pupil.owner_name, pupil.condition) == ("private", "Murid 7", "good")
    assert AssetEvent.objects.filter(asset__delivery=world.delivery).count() == 400
    world.commitment.refresh_from_db()
    assert world.commitment.status == "completed"


def test_a_bad_line_in_group_two_refuses_everything_and_names_it():
    world = laptop_world(quantity=5)
    data = groups(
        {"owner_kind": "school", "owner_site": world.school, "lines": ["G1-A", "G1-B"]},
        {"owner_kind": "private", "lines": ["G2-A; Siti", "G2-B; Budi", "G2-C"]},  # no name
    )
    response = signed_in(world.facilitator).post(register_url(world), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Grup 2, baris 3" in page and "nama pemilik" in page.lower()
    assert "Grup 1," not in page and "Grup 1:" not in page
    assert nothing_written(world)
    # The groups keep what was typed.
    assert "G2-B; Budi" in page and "G1-A" in page


def test_lines_are_bounded_and_nul_bytes_refused_naming_the_line():
    world = laptop_world(quantity=3)
    client = signed_in(world.facilitator)
    for bad in ("x" * 400, "y" * 101):  # a line too long, a serial number too long
        data = groups(
            {"owner_kind": "school", "owner_site": world.school, "lines": ["OK-1", bad, "OK-3"]}
        )
        response = client.post(register_url(world), data)
        assert response.status_code == 400
        assert "Grup 1, baris 2" in response.content.decode()
        assert nothing_written(world)
    # A NUL byte: the portal refuses the request before the form sees it (ksbb.middleware).
    data = groups({"owner_kind": "school", "owner_site": world.school, "lines": ["N-\x00"] * 3})
    assert client.post(register_url(world), data).status_code == 400
    assert nothing_written(world)
    # A serial number given twice names both places; a school's line takes no name.
    data = groups(
        {"owner_kind": "school", "owner_site": world.school, "lines": ["T-1", "T-2"]},
        {"owner_kind": "private", "lines": ["T-1; Ani"]},
    )
    page = client.post(register_url(world), data).content.decode()
    assert "Grup 2, baris 1" in page and "grup 1, baris 1" in page.lower()
    data = groups(
        {"owner_kind": "school", "owner_site": world.school, "lines": ["S-1; Ani", "S-2", "S-3"]}
    )
    assert "Grup 1, baris 1" in client.post(register_url(world), data).content.decode()
    # More than a delivery holds, or a school of elsewhere: nothing written either.
    data = groups({"owner_kind": "school", "owner_site": 999999, "lines": ["Z-1", "Z-2", "Z-3"]})
    assert client.post(register_url(world), data).status_code == 400
    assert nothing_written(world)


def test_forms_without_serials_take_a_count_and_private_names():
    world = laptop_world(quantity=6)
    DonationForm.objects.filter(slug=GADGET).update(asks_serials=False)
    client = signed_in(world.facilitator)
    page = client.get(register_url(world)).content.decode()
    assert 'name="g1-count"' in page
    data = groups(
        {"owner_kind": "school", "owner_site": world.school, "count": 0},
        {"owner_kind": "private", "lines": ["Siti", "Budi"]},
    )
    response = client.post(register_url(world), data)
    assert response.status_code == 400 and "Grup 1: Berapa banyak:" in response.content.decode()
    data = groups(
        {"owner_kind": "school", "owner_site": world.school, "count": 4, "lines": ["SN-x"]},
        {"owner_kind": "private", "lines": ["Siti", "Budi"]},
    )
    assert "Grup 1: " in client.post(register_url(world), data).content.decode()
    assert nothing_written(world)
    data = groups(
        {"owner_kind": "school", "owner_site": world.school, "count": 4},
        {"owner_kind": "private", "lines": ["Siti", "Budi"]},
    )
    response = client.post(register_url(world), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assets = Asset.objects.filter(delivery=world.delivery)
    assert assets.filter(owner_kind="school", serial_number="").count() == 4
    assert sorted(assets.filter(owner_kind="private").values_list("owner_name", flat=True)) == [
        "Budi",
        "Siti",
    ]


def test_a_groups_photo_is_stored_once_for_all_its_assets(private_files):  # noqa: F811
    world = laptop_world(quantity=3)
    data = groups({"owner_kind": "school", "owner_site": world.school, "lines": ["P1", "P2", "P3"]})
    data["g1-photo"] = SimpleUploadedFile("rak.jpg", jpeg_with_location(), "image/jpeg")
    assert signed_in(world.facilitator).post(register_url(world), data).status_code == 302
    names = set(Asset.objects.filter(delivery=world.delivery).values_list("photo", flat=True))
    assert len(names) == 1 and names != {""}
    assert len([p for p in private_files.rglob("*") if p.is_file()]) == 2  # and the proof


def test_adding_a_group_without_javascript_keeps_what_was_typed():
    world = laptop_world(quantity=5)
    client = signed_in(world.facilitator)
    data = groups({"owner_kind": "school", "owner_site": world.school, "lines": ["K-1", "K-2"]})
    data["add_group"] = "1"
    response = client.post(register_url(world), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="group-2"' in page and 'name="groups" value="2"' in page and "K-2" in page
    assert nothing_written(world)
    # However many groups are claimed, the page shows at most MAX_GROUPS.
    page = client.post(register_url(world), {"groups": "99999", "add_group": "1"}).content
    assert page.decode().count('class="asset-group"') == MAX_GROUPS + 1  # and the template
    assert client.post(register_url(world), {"groups": "junk"}).status_code == 400
    assert nothing_written(world)
