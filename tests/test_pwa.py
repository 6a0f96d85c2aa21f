"""The installable app (issue 22, part 1): the manifest, the service worker served from the
root with its shell of files that all answer, the offline page, the page attributes the
worker's scripts rely on, and the list of field pages a person keeps on the phone (theirs
only, bounded, in a fixed number of queries)."""

import datetime
import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from commitments.models import Delivery
from commitments.web.field_views import FIELD_PAGES_LIMIT, field_page_urls
from ksbb.pwa import NEVER_SAVED
from locations.models import Area, Facilitator

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    collaborator_and_member,
    commitment_in,
    facilitator_of,
)

KALI_ANYAR = "31.73.04.1002"
RW_01 = "31.73.04.1002.001"


def worker_config(client) -> dict:
    body = client.get("/serviceworker.js").content.decode()
    return json.loads(re.search(r"^self\.KSBB_SW = (.*);$", body, re.M).group(1))


@pytest.mark.django_db
def test_the_manifest_names_the_app_in_the_active_language_with_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["name"], manifest["short_name"], manifest["lang"]) == (
        "Portal KSBB",
        "KSBB",
        "id",
    )
    assert (manifest["scope"], manifest["start_url"], manifest["display"]) == (
        "/",
        "/ruang-kerja/",
        "standalone",
    )
    client.cookies["django_language"] = "en"
    english = client.get("/manifest.webmanifest").json()
    assert (english["name"], english["lang"]) == ("KSBB portal", "en")

    purposes = set()
    for icon in manifest["icons"]:
        found = client.get(icon["src"])
        assert found.status_code == 200, icon
        data = b"".join(found.streaming_content) if found.streaming else found.content
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
        purposes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes


def test_the_icons_are_the_projects_own_with_a_note_beside_them():
    readme = finders.find("img/icons/README.md")
    assert readme and "Pillow" in open(readme, encoding="utf-8").read()


@pytest.mark.django_db
def test_the_service_worker_is_served_from_the_root_never_cached_under_the_csp(client):
    response = client.get("/serviceworker.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]
    policy = response["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "script-src 'self'" in policy
    body = response.content.decode()
    assert 'importScripts("/static/js/sw.js")' in body
    if finders.find("js/outbox-sw.js"):
        # The outbox's worker script is imported first, and its failure cannot stop ours.
        assert re.search(r'try \{ importScripts\("/static/js/outbox-sw\.js"\); \} catch', body)
        assert body.index('importScripts("/static/js/outbox-sw.js")') < body.index(
            'importScripts("/static/js/sw.js")'
        )


@pytest.mark.django_db
def test_every_file_of_the_shell_answers(client):
    config = worker_config(client)
    assert config["offlinePage"] in config["shell"]
    assert "/static/css/site.css" in config["shell"]
    assert "/static/leaflet/leaflet.js" in config["shell"]
    assert re.fullmatch(r"[0-9a-f]{12}", config["version"])
    for url in config["shell"]:
        response = client.get(url)
        assert response.status_code == 200, url
    # Nothing the worker must never save is in the shell.
    never = [re.compile(pattern) for pattern in config["neverSaved"]]
    assert not [url for url in config["shell"] if any(p.search(url) for p in never)]
    assert config["neverSaved"] == NEVER_SAVED


@pytest.mark.django_db
def test_every_file_a_page_loads_from_the_base_template_is_in_the_shell(client):
    """Else a phone offline before its first visit to a page lacks the menu, say."""
    config = worker_config(client)
    page = client.get("/")
    loaded = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', page.content.decode())
    assert "/static/js/menu.js" in loaded
    assert [url for url in loaded if url not in config["shell"]] == []


@pytest.mark.django_db
def test_the_offline_page_names_no_one_and_speaks_both_languages(client):
    user = UserFactory(email="rahasia@example.org")
    client.force_login(user)
    response = client.get("/tanpa-sinyal/")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-offline-page="1"' in html
    assert "rahasia" not in html and "csrfmiddlewaretoken" not in html
    assert "Tanpa sinyal" in html and "No signal" in html
    assert "<script" not in html  # js/pwa.js would take the missing user id for a sign-out


@pytest.mark.django_db
def test_pages_carry_who_is_signed_in_when_they_were_made_and_the_csrf_token(client):
    html = client.get("/").content.decode()
    assert 'data-user-id=""' in html and "data-warm-url" not in html
    assert (
        '<link rel="manifest" href="/manifest.webmanifest" crossorigin="use-credentials">' in html
    )
    assert re.search(r'<meta name="csrf-token" content="\w{32,}">', html)
    rendered = re.search(r'data-rendered-at="([^"]+)"', html).group(1)
    made = datetime.datetime.fromisoformat(rendered)
    assert abs((timezone.now() - made).total_seconds()) < 60
    assert '<script src="/static/js/pwa.js" defer></script>' in html
    assert 'data-offline="Tanpa sinyal — tampilan tersimpan pukul"' in html

    user = UserFactory()
    client.force_login(user)
    html = client.get("/").content.decode()
    assert f'data-user-id="{user.pk}"' in html
    assert 'data-warm-url="/ruang-kerja/lapangan/halaman.json"' in html


@pytest.mark.django_db
def test_the_field_pages_need_a_signed_in_person(client):
    response = client.get("/ruang-kerja/lapangan/halaman.json")
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]
    assert client.post("/ruang-kerja/lapangan/halaman.json").status_code in (302, 405)


@pytest.mark.django_db
def test_a_facilitator_keeps_their_own_pages_only_and_each_answers(client):
    facilitator = facilitator_of(KALI_ANYAR, "Lurah Kali Anyar")
    mine = NeedFactory(area=Area.objects.get(code=RW_01))
    elsewhere = NeedFactory(area=Area.objects.get(code="31.71.01.1001.001"))
    collaborator, _ = collaborator_and_member()
    pledge = commitment_in("pledged", need=mine, collaborator=collaborator, quantity=3)
    committed = commitment_in("committed", need=mine, collaborator=collaborator, quantity=4)
    Delivery.objects.create(commitment=committed, quantity=4, delivered_on=timezone.localdate())
    foreign = commitment_in("pledged", need=elsewhere, collaborator=collaborator, quantity=1)

    client.force_login(facilitator)
    response = client.get("/ruang-kerja/lapangan/halaman.json")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    urls = response.json()["urls"]
    for expected in [
        "/ruang-kerja/",
        "/ruang-kerja/fasilitator/",
        "/ruang-kerja/kebutuhan/",
        "/ruang-kerja/luring/baru/",
        "/notifikasi/",
        "/peta/",
        f"/wilayah/{KALI_ANYAR}/",
        f"/wilayah/{RW_01}/",
        f"/ruang-kerja/kebutuhan/{mine.pk}/ubah/",
        f"/komitmen/{pledge.pk}/",
        f"/komitmen/{committed.pk}/",
    ]:
        assert expected in urls, expected
    assert any(url.startswith("/peta/data/rw/kebutuhan.json?open=1&v=") for url in urls)
    assert f"/ruang-kerja/kebutuhan/{elsewhere.pk}/ubah/" not in urls
    assert f"/komitmen/{foreign.pk}/" not in urls
    assert len(urls) == len(set(urls))
    # Every page on the list opens for this person (what the worker saves is never an
    # error page or a sign-in form).
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url


@pytest.mark.django_db
def test_a_collaborator_member_keeps_no_one_elses_work(client):
    _, member = collaborator_and_member()
    NeedFactory()
    client.force_login(member)
    urls = client.get("/ruang-kerja/lapangan/halaman.json").json()["urls"]
    assert "/ruang-kerja/komitmen/" in urls
    assert not [url for url in urls if url.startswith("/ruang-kerja/kebutuhan/")]
    assert "/ruang-kerja/fasilitator/" not in urls


def _busy(facilitator, needs: int, areas: int) -> None:
    kelurahan = Area.objects.filter(level="kelurahan").exclude(code=KALI_ANYAR).order_by("code")
    for area in kelurahan.exclude(facilitators__user=facilitator)[:areas]:
        Facilitator.objects.create(user=facilitator, area=area, title="Lurah")
    collaborator = CollaboratorFactory()
    rw = list(Area.objects.filter(parent__code=KALI_ANYAR).order_by("code")[:needs])
    for index in range(needs):
        need = NeedFactory(area=rw[index % len(rw)])
        commitment_in("pledged", need=need, collaborator=collaborator, quantity=1)
        done = commitment_in("committed", need=need, collaborator=collaborator, quantity=1)
        Delivery.objects.create(commitment=done, quantity=1, delivered_on=timezone.localdate())


def _queries(user) -> int:
    user = type(user).objects.get(pk=user.pk)  # no scopes kept from an earlier call
    with CaptureQueriesContext(connection) as queries:
        field_page_urls(user)
    return len(queries)


@pytest.mark.django_db
def test_the_field_pages_cost_the_same_queries_and_stay_bounded_however_busy():
    facilitator = facilitator_of(KALI_ANYAR, "Lurah Kali Anyar")
    _busy(facilitator, needs=2, areas=1)
    few = _queries(facilitator)
    _busy(facilitator, needs=60, areas=12)
    many = _queries(facilitator)
    assert many == few
    urls = field_page_urls(type(facilitator).objects.get(pk=facilitator.pk))
    assert len(urls) <= FIELD_PAGES_LIMIT
    # The person's own pages come first, whatever else is cut.
    assert urls[0] == "/ruang-kerja/" and "/ruang-kerja/fasilitator/" in urls[:10]
