"""Area, program and collaborator pages as a visitor sees them."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collaborators.models import Collaborator, CollaboratorContact
from commitments.models import Commitment
from locations.models import Area, Need

from .factories import CollaboratorFactory, CommitmentFactory, NeedFactory

pytestmark = pytest.mark.django_db

SECRET_EMAIL = "private.contact@secret-company.example"
SECRET_PHONE = "+62 812 9999 0000"


@pytest.fixture
def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def test_kali_anyar_page(client):
    kali_anyar = Area.objects.get(code="31.73.04.1002")
    need = NeedFactory(assessed_by_role="Ketua RW 01", quantity_needed=120)
    need.assessed_by = get_user_model().objects.create_user(
        "pak.rw@example.org", "pak.rw@example.org", "x"
    )
    need.save()
    CommitmentFactory(need=need, quantity=20, collaborator__name="PT Baik Hati", status="committed")
    Need.objects.filter(pk=need.pk).update(quantity_claimed=20)
    html = client.get(kali_anyar.get_absolute_url()).content.decode()
    for text in [
        "Kali Anyar",
        "Tambora",
        "Kota Administrasi Jakarta Barat",
        "31.73.04.1002",
        "RW 01",
        "Sembako",
        "PT Baik Hati",
        "Ketua RW 01",
    ]:
        assert text in html, text
    assert "pak.rw@example.org" not in html  # who assessed: the role, never the person
    assert 'href="/wilayah/31.73.04.1002.001/"' in html  # its RW are linked
    assert 'href="/wilayah/31.73.04/"' in html  # and its place in the hierarchy
    assert "120" in html and "100" in html  # needed and remaining


def test_anonymous_gifts_stay_anonymous(client):
    need = NeedFactory()
    CommitmentFactory(need=need, collaborator__name="Ibu Dermawan", is_anonymous=True)
    for url in [need.area.get_absolute_url(), reverse("area-panel", args=[need.area.code])]:
        html = client.get(url).content.decode()
        assert "Ibu Dermawan" not in html
        assert "anonim" in html


def test_unknown_area_is_a_404(client):
    assert client.get("/wilayah/99.99/").status_code == 404
    assert client.get("/wilayah/99.99/panel/").status_code == 404


def test_area_panel_shows_needs_freshness_and_commitments(client):
    need = NeedFactory(assessed_by_role="Lurah Kali Anyar")
    CommitmentFactory(need=need, collaborator__name="Yayasan Terang")
    html = client.get(reverse("area-panel", args=["31.73.04.1002.001"])).content.decode()
    assert "RW 01, Kali Anyar" in html
    assert "Lurah Kali Anyar" in html
    assert "Yayasan Terang" in html
    assert "Janjikan" in html or "Pledge" in html
    assert f"/janji/{need.pk}/" in html  # the pledge action (sign-in first when needed)


def test_non_residential_zone_page_says_so(client):
    html = client.get("/wilayah/31.75.10.1002.999/").content.decode()
    assert "TMII" in html


def test_program_page_in_both_languages(client, english):
    html = client.get("/program/pangan/").content.decode()
    assert "Food Security Assistance Program" in html
    assert "IDR 100 billion" in html  # the reported baseline
    assert "460,000" in html  # groceries reported
    assert "KSD Bureau &amp; Social Services Division" in html


def test_program_page_indonesian_numbers(client):
    html = client.get("/program/pangan/").content.decode()
    assert "Rp 100 miliar" in html
    assert "460.000" in html
    assert client.get("/program/umkm/").content.decode().count("Rp 1,6 miliar") == 1


def test_program_live_figures_follow_commitments(client):
    from commitments.figures.summaries import summaries_rebuild
    from commitments.figures.totals import totals_refresh

    need = NeedFactory(quantity_needed=50)
    CommitmentFactory(need=need, quantity=40, value_idr=12_000_000, status="committed")
    CommitmentFactory(need=need, quantity=5, value_idr=1_500_000, status="pledged")  # not yet
    # Written directly, not through the services: the summaries the figures read are rebuilt.
    summaries_rebuild()
    totals_refresh()
    html = client.get("/program/pangan/").content.decode()
    assert "Rp 12 juta" in html


def make_collaborators(n: int, **kwargs) -> list[Collaborator]:
    made = []
    for _ in range(n):
        collaborator = CollaboratorFactory(**kwargs)
        CollaboratorContact.objects.create(
            collaborator=collaborator, email=SECRET_EMAIL, phone=SECRET_PHONE
        )
        made.append(collaborator)
    return made


def test_gallery_shows_verified_collaborators_and_never_contacts(client):
    verified = make_collaborators(2, kind=Collaborator.Kind.UNIVERSITY)
    hidden = CollaboratorFactory(name="Belum Terverifikasi", verification_status="unverified")
    need = NeedFactory()
    CommitmentFactory(need=need, collaborator=verified[0], status="committed")
    from commitments.figures.totals import totals_refresh

    totals_refresh()
    html = client.get("/kolaborator/").content.decode()
    assert verified[0].name in html and verified[1].name in html
    assert hidden.name not in html
    assert "KSBB Pangan" in html  # the program it gives to
    filtered = client.get("/kolaborator/", {"kind": "company"}).content.decode()
    assert verified[0].name not in filtered
    by_program = client.get("/kolaborator/", {"program": "pangan"}).content.decode()
    assert verified[0].name in by_program and verified[1].name not in by_program
    assert client.get(f"/kolaborator/{hidden.slug}/").status_code == 404


def test_private_contact_fields_never_appear_anywhere(client):
    collaborator = make_collaborators(1)[0]
    need = NeedFactory()
    CommitmentFactory(need=need, collaborator=collaborator, status="committed")
    pages = [
        "/",
        "/peta/",
        "/kolaborator/",
        collaborator.get_absolute_url(),
        "/program/pangan/",
        need.area.get_absolute_url(),
        reverse("area-panel", args=[need.area.code]),
        need.area.parent.get_absolute_url(),
        reverse("map-sites"),
        reverse("map-need-state", args=["rw"]),
        reverse("area-search") + "?q=kali",
    ]
    for url in pages:
        content = client.get(url).content.decode("utf-8", "replace")
        assert SECRET_EMAIL not in content and SECRET_PHONE not in content, url


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_rows(client):
    area = Area.objects.get(code="31.73.04.1002")
    rw = list(area.children.order_by("code"))
    NeedFactory(area=rw[0])
    CommitmentFactory(need=Need.objects.first())
    make_collaborators(1)
    urls = [
        area.get_absolute_url(),
        reverse("area-panel", args=[area.code]),
        "/kolaborator/",
        "/program/pangan/",
        "/",
        "/peta/",
    ]
    few = {url: count_queries(client, url) for url in urls}
    for i in range(25):
        need = NeedFactory(area=rw[i % len(rw)])
        CommitmentFactory(need=need, is_anonymous=i % 2 == 0)
    make_collaborators(25)
    many = {url: count_queries(client, url) for url in urls}
    assert many == few


def test_need_state_query_count_is_constant(client):
    from django.core.cache import cache

    NeedFactory()
    cache.clear()
    few = count_queries(client, reverse("map-need-state", args=["kelurahan"]))
    for rw in Area.objects.filter(level="rw", is_residential=True)[:40]:
        NeedFactory(area=rw)
    cache.clear()
    assert count_queries(client, reverse("map-need-state", args=["kelurahan"])) == few
    assert Commitment.objects.count() == 0
