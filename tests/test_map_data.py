"""The needs map's data endpoints: versioned geometry, need state with ETag, search, sites."""

import gzip
import json

import pytest
from django.urls import reverse

from locations.mapdata import map_layer_rebuild
from locations.models import Area, MapLayer, Need, Site
from locations.topology import decode_topojson

from .factories import NeedFactory, program

pytestmark = pytest.mark.django_db


def geometry_url(level="rw"):
    layer = MapLayer.objects.get(level=level)
    return reverse("map-geometry", kwargs={"level": level, "version": layer.version})


def test_rw_geometry_is_versioned_immutable_and_gzipped(client):
    response = client.get(geometry_url(), HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in response["Vary"]
    assert len(response.content) <= 250_000  # the wire budget for all of Jakarta's RW
    topology = json.loads(gzip.decompress(response.content))
    shapes = decode_topojson(topology)
    assert len(shapes) == 2698
    names = {g["id"]: g["properties"]["n"] for g in topology["objects"]["areas"]["geometries"]}
    assert names["31.73.04.1002.001"] == "RW 01, Kali Anyar"
    assert topology["objects"]["areas"]["geometries"][0]["type"] in {"Polygon", "MultiPolygon"}
    # Zones without residents are marked so the map never shades them as in need.
    zones = [g for g in topology["objects"]["areas"]["geometries"] if g["properties"].get("z")]
    assert len(zones) == 11


def test_geometry_without_gzip_and_conditional_requests(client):
    url = geometry_url("kelurahan")
    plain = client.get(url)
    assert "Content-Encoding" not in plain
    assert len(json.loads(plain.content)["objects"]["areas"]["geometries"]) == 267
    again = client.get(url, HTTP_IF_NONE_MATCH=plain["ETag"])
    assert again.status_code == 304


def test_an_old_geometry_version_redirects_to_the_current_one(client):
    response = client.get(reverse("map-geometry", kwargs={"level": "rw", "version": "0ld"}))
    assert response.status_code == 302
    assert response["Location"] == geometry_url()
    assert client.get("/peta/data/province/geometri-x.json").status_code == 404
    assert client.get("/peta/data/nowhere/kebutuhan.json").status_code == 404


def test_rebuilding_an_unchanged_layer_keeps_its_version():
    before = MapLayer.objects.get(level="rw")
    after = map_layer_rebuild("rw")
    assert (after.version, after.built_at) == (before.version, before.built_at)


def state(client, level="rw", **params):
    response = client.get(
        reverse("map-need-state", kwargs={"level": level}), params, HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response.status_code == 200
    return response, json.loads(gzip.decompress(response.content))


def test_need_state_is_keyed_by_area_and_rolls_up(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        NeedFactory(quantity_needed=100, unit_value_idr=300_000, households=250)
        NeedFactory(
            area=Area.objects.get(code="31.73.04.1002.002"),
            quantity_needed=10,
            unit_value_idr=None,
            households=40,
            priority=Need.Priority.HIGH,
        )
    response, data = state(client)
    assert response["Cache-Control"].startswith("public, max-age=30")
    fields = data["fields"]
    rw1 = dict(zip(fields, data["areas"]["31.73.04.1002.001"], strict=True))
    assert rw1["value"] == 100 * 300_000
    assert rw1["qty"] == 100 and rw1["hh"] == 250 and rw1["needs"] == 1
    assert data["forms"][rw1["form"]][:2] == ["Sembako", "Groceries"]
    # The kelurahan sums its RW; its headline is the high-priority need.
    _, data = state(client, level="kelurahan")
    kelurahan = dict(zip(fields, data["areas"]["31.73.04.1002"], strict=True))
    assert (kelurahan["qty"], kelurahan["hh"], kelurahan["needs"]) == (110, 290, 2)
    assert kelurahan["form_qty"] == 10
    _, data = state(client, level="kecamatan")
    assert data["areas"]["31.73.04"][1] == 110


def test_need_state_etag_304_and_change(client, django_capture_on_commit_callbacks):
    first, _ = state(client)
    etag = first["ETag"]
    again = client.get(reverse("map-need-state", kwargs={"level": "rw"}), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        NeedFactory()
    changed, _ = state(client)
    assert changed["ETag"] != etag


def test_filters_change_the_state_and_bad_values_are_ignored(client):
    NeedFactory(quantity_needed=5)  # Pangan, groceries
    gadgets = program("pendidikan").donation_forms.get(slug="student-gadget-pc-laptop-handphone")
    NeedFactory(
        area=Area.objects.get(code="31.73.04.1002.003"),
        donation_form=gadgets,
        program=gadgets.program,
        quantity_needed=7,
    )
    _, everything = state(client)
    assert {"31.73.04.1002.001", "31.73.04.1002.003"} <= set(everything["areas"])
    _, education = state(client, program=program("pendidikan").pk)
    assert set(education["areas"]) == {"31.73.04.1002.003"}
    _, by_form = state(client, form=gadgets.pk)
    assert set(by_form["areas"]) == {"31.73.04.1002.003"}
    _, high = state(client, priority=1)
    assert high["areas"] == {}
    for junk in ({"program": "abc"}, {"priority": "99"}, {"fresh": "-3"}, {"form": "1e9"}):
        _, data = state(client, **junk)
        assert data["areas"] == everything["areas"]


def test_only_open_needs_by_default(client):
    closed = NeedFactory(status=Need.Status.CLOSED)
    _, data = state(client)
    assert closed.area.code not in data["areas"]
    _, data = state(client, open="0")
    assert closed.area.code in data["areas"]


def test_need_state_for_every_rw_stays_small(client):
    form = program("pangan").donation_forms.get(slug="groceries")
    rw = Area.objects.filter(level="rw", is_residential=True)
    Need.objects.bulk_create(
        Need(
            area=a,
            program=form.program,
            donation_form=form,
            quantity_needed=100 + i,
            unit_value_idr=300_000,
            households=200 + i,
            valid_until="2099-01-01",
        )
        for i, a in enumerate(rw)
    )
    response, data = state(client)
    assert len(data["areas"]) == 2687
    assert len(response.content) <= 40_000


@pytest.mark.parametrize(
    "query, first",
    [
        ("Kali Anyar", "31.73.04.1002"),
        ("kalianyar", "31.73.04.1002"),
        ("31.73.04.1002", "31.73.04.1002"),
        ("RW 1 Kali Anyar", "31.73.04.1002.001"),
        ("kali anyar rw 05", "31.73.04.1002.005"),
        ("Tambora", "31.73.04.1001"),  # the kelurahan first, then its kecamatan
    ],
)
def test_area_search(client, query, first):
    results = client.get(reverse("area-search"), {"q": query}).json()["results"]
    assert results[0]["code"] == first
    assert len(results[0]["bbox"]) == 4


def test_same_name_at_two_levels(client):
    results = client.get(reverse("area-search"), {"q": "tambora"}).json()["results"]
    assert [(r["code"], r["level"]) for r in results[:2]] == [
        ("31.73.04.1001", "kelurahan"),
        ("31.73.04", "kecamatan"),
    ]


def test_area_search_without_matches(client):
    assert client.get(reverse("area-search"), {"q": "zzzz"}).json()["results"] == []
    assert client.get(reverse("area-search"), {"q": "k"}).json()["results"] == []
    assert client.get(reverse("area-search")).json()["results"] == []


def test_sites_for_the_markers(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Site.objects.create(
            area=Area.objects.get(code="31.73.04.1002.001"),
            kind=Site.Kind.PESANTREN,
            name="Pesantren Uji",
            lon=106.799,
            lat=-6.157,
        )
    data = client.get(reverse("map-sites")).json()
    assert {"k": "pesantren", "n": "Pesantren Uji", "a": "31.73.04.1002.001"}.items() <= (
        data["sites"][-1].items()
    )
    assert data["kinds"]["pesantren"]
