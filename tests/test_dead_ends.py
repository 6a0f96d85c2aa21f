"""Dead ends a newcomer hit (issue 8, item 6): the map link of an area page, the home
page's collaborator total, plurals, demo dates in the future, log lines printed twice."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from commitments.figures.totals import totals_refresh
from programs.models import DonationForm
from programs.units import quantity_with_unit

from .factories import CollaboratorFactory, CommitmentFactory, NeedFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def map_config(client, query: str = "") -> dict:
    html = client.get("/peta/" + query).content.decode()
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


def test_sign_in_page_offers_sign_up_and_promises_no_missing_link(client):
    html = client.get("/akun/masuk/?next=/janji/1/").content.decode()
    assert 'href="/akun/daftar/' in html
    assert "tautan baru di bawah" not in html and "new link below" not in html


def test_see_it_on_the_map_opens_the_map_on_that_area(client, kali_anyar):
    html = client.get(kali_anyar.get_absolute_url()).content.decode()
    assert 'href="/peta/?wilayah=31.73.04.1002"' in html

    focus = map_config(client, "?wilayah=31.73.04.1002")["focus"]
    assert focus["code"] == "31.73.04.1002"
    assert focus["level"] == "kelurahan"
    assert focus["name"] == "Kali Anyar"
    min_lon, min_lat, max_lon, max_lat = focus["bbox"]
    assert min_lon < kali_anyar.centroid_lon < max_lon
    assert min_lat < kali_anyar.centroid_lat < max_lat


@pytest.mark.parametrize("code", ["99.99", "", "31.73.04.1002'--", "x" * 5000, "%ZZ"])
def test_an_unknown_area_code_is_ignored(client, code):
    response = client.get("/peta/", {"wilayah": code})
    assert response.status_code == 200
    assert map_config(client, "?wilayah=" + code[:100])["focus"] is None


def home_figure(html: str, label: str) -> str:
    return re.search(rf"<dt>{label}</dt><dd>([^<]*)</dd>", html).group(1)


def test_home_counts_each_collaborator_once_as_the_gallery_does(client):
    both = CollaboratorFactory(name="Gives Twice")
    food = NeedFactory()
    education = NeedFactory(
        donation_form=DonationForm.objects.filter(program__slug="pendidikan").first()
    )
    CommitmentFactory(need=food, collaborator=both, status="committed")
    CommitmentFactory(need=education, collaborator=both, status="committed")
    CommitmentFactory(need=food, status="committed")
    CollaboratorFactory(verification_status="unverified")
    totals_refresh()

    home = client.get("/").content.decode()
    gallery = client.get("/kolaborator/").content.decode()
    shown = home_figure(home, "Kolaborator")
    assert re.search(rf"\b{shown} kolaborator\b", gallery)
    assert shown == "2"  # the program cards add up to 3: "Gives Twice" is in two programs


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("en", "1 package", "31 packages"),
        ("id", "1 paket", "31 paket"),
    ],
)
def test_units_agree_with_their_number(client, settings, language, one, many):
    from django.utils import translation

    with translation.override(language):
        assert quantity_with_unit(1, "package") == one
        assert quantity_with_unit(31, "package") == many
        assert quantity_with_unit(None, "package") == "–"
        assert quantity_with_unit(5, "no-such-unit") == "5"


def test_area_page_writes_plurals_in_english_and_indonesian(client):
    NeedFactory(quantity_needed=1, households=1)
    NeedFactory(quantity_needed=31, households=31, priority=3)
    html = client.get("/wilayah/31.73.04.1002.001/").content.decode()
    assert "<b>1 paket</b>" in html and "<b>31 paket</b>" in html
    assert "1 KK penerima manfaat" in html and "31 KK penerima manfaat" in html

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/wilayah/31.73.04.1002.001/").content.decode()
    assert "<b>1 package</b>" in html and "<b>31 packages</b>" in html
    assert "1 household to benefit" in html and "31 households to benefit" in html
    assert not re.search(r"(?<![\d.,])1 households", html)
    assert "31 package<" not in html


def test_map_strings_come_in_singular_and_plural(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    strings = map_config(client)["strings"]
    assert strings["areasShaded"] == ["%(count)s area with needs", "%(count)s areas with needs"]
    assert strings["moreNeeds"] == ["and %(count)s more need", "and %(count)s more needs"]


def test_demo_history_never_lies_in_the_future():
    from commitments.housekeeping.demo import seed_demo
    from commitments.models import CommitmentEvent, Delivery

    seed_demo(force=True)
    now, today = timezone.now(), timezone.localdate()
    deliveries = Delivery.objects.filter(commitment__is_demo=True)
    assert deliveries.exists()
    assert not deliveries.filter(delivered_on__gt=today).exists()
    assert not deliveries.filter(recorded_at__gt=now).exists()
    assert not deliveries.filter(confirmed_at__gt=now).exists()
    assert not CommitmentEvent.objects.filter(at__gt=now).exists()


def test_a_log_line_is_printed_once_under_the_development_server_settings(tmp_path):
    """`make run` has DEBUG on, where Django's own console handler also printed every
    django.* line that the root handler printed."""
    script = (
        "import django, logging; django.setup();"
        " logging.getLogger('django.request').warning('marker-django');"
        " logging.getLogger('commitments').warning('marker-app')"
    )
    env = dict(
        os.environ,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="ksbb.settings",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    output = out.stdout + out.stderr
    assert output.count("marker-django") == 1, output
    assert output.count("marker-app") == 1, output
