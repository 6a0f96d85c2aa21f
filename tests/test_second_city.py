"""A second city, Kota Yogyakarta, loaded top-down from its shipped public boundary files
(locations/data/cities/yogyakarta) by `load_city`, and the portal run under its own name.
The session database holds Jakarta too; each test's load is rolled back."""

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from commitments.models import Commitment
from locations.city import CITIES_DIR
from locations.models import Area, Need
from locations.search import search_areas
from programs.models import Program

pytestmark = pytest.mark.django_db

YOGYAKARTA = CITIES_DIR / "yogyakarta"
KOTABARU = "34.71.03.1002"


@pytest.fixture
def yogyakarta(db):
    out = io.StringIO()
    call_command("load_city", "yogyakarta", stdout=out)
    return out.getvalue()


@pytest.fixture
def runs_for_yogyakarta(settings):
    settings.CITY = "yogyakarta"
    settings.CITY_NAME = "Yogyakarta"


def _city_areas(level):
    return Area.objects.filter(level=level, code__regex=r"^34(\.|$)")


def test_loads_top_down_with_every_area_under_its_parent(yogyakarta):
    counts = {level: _city_areas(level).count() for level in Area.LEVEL_ORDER}
    assert counts == {"province": 1, "kota": 1, "kecamatan": 14, "kelurahan": 45, "rw": 0}
    assert Area.objects.get(code="34.71").parent.code == "34"
    for kecamatan in _city_areas("kecamatan").select_related("parent"):
        assert kecamatan.parent.code == "34.71"
    for kelurahan in _city_areas("kelurahan").select_related("parent"):
        assert kelurahan.parent.level == "kecamatan"
        assert kelurahan.code.startswith(kelurahan.parent.code + ".")
    kotabaru = Area.objects.get(code=KOTABARU)
    assert (kotabaru.name, kotabaru.parent.name) == ("Kotabaru", "Gondokusuman")
    assert "45 created" in yogyakarta and "0 skipped" in yogyakarta


def test_shipped_files_are_lon_lat_with_their_licence():
    kelurahan = json.loads((YOGYAKARTA / "kelurahan.geojson").read_text(encoding="utf-8"))
    assert len(kelurahan["features"]) == 45
    lon, lat = kelurahan["features"][0]["geometry"]["coordinates"][0][0]
    assert 110.3 < lon < 110.5 and -7.9 < lat < -7.7  # [lon, lat], not the source's [lat, lng]
    licence = (YOGYAKARTA / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "copyright (c) 2024 by cahya dsn" in licence
    assert "cahyadsn/wilayah_boundaries" in (YOGYAKARTA / "README.md").read_text()


def test_programs_and_demo_sit_on_the_city_own_areas(yogyakarta):
    pangan = Program.objects.get(slug="pangan")
    assert pangan.reported_value_idr is None and pangan.reported_as_of is None
    needs = Need.objects.filter(is_demo=True).select_related("area")
    assert needs.count() > 10
    assert all(need.area.code.startswith("34.71.") for need in needs)
    assert Commitment.objects.filter(is_demo=True, area__code__startswith="34.71.").exists()
    again = io.StringIO()
    call_command("load_city", "yogyakarta", stdout=again)
    assert "45 unchanged" in again.getvalue() and "nothing changed" in again.getvalue()


def test_a_bad_city_folder_is_refused(tmp_path):
    with pytest.raises(CommandError, match="city.json"):
        call_command("load_city", str(tmp_path), stdout=io.StringIO())
    (tmp_path / "city.json").write_text('{"name": "X", "code": "99", "levels": []}')
    with pytest.raises(CommandError, match="required"):
        call_command("load_city", str(tmp_path), stdout=io.StringIO())


def test_pages_run_under_the_city_name_and_credits(client, yogyakarta, runs_for_yogyakarta):
    home = client.get(reverse("home")).content.decode()
    assert (
        "Where help is needed in Yogyakarta" in home or "bantuan dibutuhkan di Yogyakarta" in home
    )
    assert "Yogyakarta" in home.split('class="lead"')[1].split("</p>")[0]
    footer = home.split('class="site-footer"')[1]
    assert "cahyadsn/wilayah_boundaries" in footer
    assert "PetaJakarta" not in footer and "Satu Data Jakarta" not in footer
    assert "Jakarta" not in client.get(reverse("manifest")).json()["description"]


def test_area_pages_map_and_search_work_without_rw(client, yogyakarta, runs_for_yogyakarta):
    for code in ("34.71", "34.71.03", KOTABARU):
        response = client.get(reverse("area-detail", kwargs={"code": code}))
        assert response.status_code == 200
        assert "Yogyakarta" in response.content.decode()
    assert (
        "Kotabaru" in client.get(reverse("area-detail", kwargs={"code": KOTABARU})).content.decode()
    )
    needs_map = client.get(reverse("needs-map")).content.decode()
    placeholder = re.search(r'id="area-search"[^>]*placeholder="([^"]*)"', needs_map).group(1)
    example = Area.objects.get(code=placeholder.split(" ")[-1])
    assert example.code.startswith("34.71.") and example.name in placeholder
    assert search_areas("Kotabaru")[0]["code"] == KOTABARU


def test_jakarta_stays_the_default(client):
    home = client.get(reverse("home")).content.decode()
    assert "PetaJakarta" in home.split('class="site-footer"')[1]
    needs_map = client.get(reverse("needs-map")).content.decode()
    assert "Kali Anyar" in needs_map.split('id="area-search"')[1].split(">")[0]
