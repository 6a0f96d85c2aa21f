"""API v1 reads, through real HTTP requests: each endpoint's list, retrieve and filters;
problem details on errors; ETags; constant query counts; throttling; Redis down."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from collaborators.models import Collaborator, CollaboratorContact
from commitments.figures.summaries import summaries_rebuild
from commitments.models import Notification
from ksbb.settings import redis_cache
from locations.models import Area, Need, Site
from programs.models import DonationForm, Program

from .api_world import ids, problem, results
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
    program,
)

# Marked, not requested by a fixture: pytest-django orders tests by their marks, so that
# these run before the transactional tests whose flush removes the Jakarta data.
pytestmark = pytest.mark.django_db


RW_001 = "31.73.04.1002.001"  # an RW of Kali Anyar (kelurahan 31.73.04.1002)
KALI_ANYAR = "31.73.04.1002"
OTHER_KELURAHAN_RW = "31.71.01.1001.001"


@pytest.fixture
def api():
    return APIClient()


def other_rw() -> Area:
    return Area.objects.filter(level="rw").exclude(path__contains=KALI_ANYAR).first()


# --- programs, donation forms -----------------------------------------------------------


def test_programs_list_and_retrieve(api):
    body = api.get("/api/v1/programs/").json()
    assert body["count"] == Program.objects.count() == 6
    pangan = program("pangan")
    one = api.get(f"/api/v1/programs/{pangan.pk}/").json()
    assert one["slug"] == "pangan" and "live_commitments" in one and "computed_at" in one
    problem(api.get("/api/v1/programs/999999/"), 404)
    problem(api.get("/api/v1/programs/abc/"), 404)
    problem(api.get("/api/v1/programs/99999999999999999999999/"), 404)


def test_donation_forms_filter_by_program_id_or_slug(api):
    pangan = program("pangan")
    by_slug = ids(api.get("/api/v1/donation-forms/?program=pangan&page_size=200"))
    by_id = ids(api.get(f"/api/v1/donation-forms/?program={pangan.pk}&page_size=200"))
    expected = set(DonationForm.objects.filter(program=pangan).values_list("pk", flat=True))
    assert by_slug == by_id == expected
    # A well-formed reference to nothing matches nothing.
    assert results(api.get("/api/v1/donation-forms/?program=nope")) == []


# --- areas ------------------------------------------------------------------------------


def test_areas_filters(api):
    kelurahan = Area.objects.get(code=KALI_ANYAR)
    by_code = ids(api.get(f"/api/v1/areas/?parent={KALI_ANYAR}&page_size=200"))
    by_id = ids(api.get(f"/api/v1/areas/?parent={kelurahan.pk}&page_size=200"))
    assert (
        by_code == by_id == set(Area.objects.filter(parent=kelurahan).values_list("pk", flat=True))
    )
    assert by_code
    only = results(api.get(f"/api/v1/areas/?code={KALI_ANYAR}"))
    assert [a["code"] for a in only] == [KALI_ANYAR]
    assert only[0]["parent"]["code"] == kelurahan.parent.code
    assert only[0]["geometry"] is None  # geometry only on request
    kota = results(api.get("/api/v1/areas/?level=kota&page_size=200"))
    assert kota and {a["level"] for a in kota} == {"kota"}
    found = results(api.get("/api/v1/areas/?q=kali%20anyar&level=kelurahan"))
    assert KALI_ANYAR in {a["code"] for a in found}


def test_areas_bbox_filter(api):
    rw = Area.objects.get(code=RW_001)
    box = f"{rw.min_lon},{rw.min_lat},{rw.max_lon},{rw.max_lat}"
    inside = results(api.get(f"/api/v1/areas/?bbox={box}&level=rw&page_size=200"))
    assert RW_001 in {a["code"] for a in inside}
    far = results(api.get("/api/v1/areas/?bbox=100,-1,100.1,-0.9"))
    assert far == []


@pytest.mark.parametrize(
    "bbox",
    [
        "1,2,3",
        "a,b,c,d",
        "nan,0,1,1",
        "0,0,inf,1",
        "200,0,201,1",
        "2,0,1,1",
        "0,95,1,96",
        "1e999,0,1,1",
    ],
)
def test_areas_bad_bbox_is_400(api, bbox):
    body = problem(api.get("/api/v1/areas/", {"bbox": bbox}), 400)
    assert "bbox" in body["errors"]


def test_area_geometry_on_request_and_as_geojson(api):
    rw = Area.objects.get(code=RW_001)
    plain = api.get(f"/api/v1/areas/{rw.pk}/").json()
    assert plain["geometry"] is None
    full = api.get(f"/api/v1/areas/{rw.pk}/?geometry=1").json()
    assert full["geometry"]["type"] in ("Polygon", "MultiPolygon")
    simplified = api.get(f"/api/v1/areas/{rw.pk}/?geometry=simplified").json()
    assert simplified["geometry"]["type"] in ("Polygon", "MultiPolygon")
    problem(api.get(f"/api/v1/areas/{rw.pk}/?geometry=yes-please"), 400)

    collection = api.get(f"/api/v1/areas/?parent={KALI_ANYAR}", HTTP_ACCEPT="application/geo+json")
    assert collection["Content-Type"].startswith("application/geo+json")
    data = json.loads(collection.content)
    assert data["type"] == "FeatureCollection" and data["count"] >= 1
    feature = data["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"]
    assert "geometry" not in feature["properties"] and feature["properties"]["code"]
    one = json.loads(api.get(f"/api/v1/areas/{rw.pk}/", HTTP_ACCEPT="application/geo+json").content)
    assert one["type"] == "Feature" and one["properties"]["code"] == RW_001


# --- sites ------------------------------------------------------------------------------


def test_sites_filters(api):
    rw = Area.objects.get(code=RW_001)
    school = Site.objects.create(area=rw, kind="school", name="SD Uji", lon=106.79, lat=-6.15)
    far = Site.objects.create(
        area=other_rw(), kind="orphanage", name="Panti Uji", lon=106.9, lat=-6.3
    )
    assert ids(api.get(f"/api/v1/sites/?area={KALI_ANYAR}")) == {school.pk}
    assert ids(api.get("/api/v1/sites/?kind=orphanage")) >= {far.pk}
    assert school.pk not in ids(api.get("/api/v1/sites/?kind=orphanage"))
    assert ids(api.get("/api/v1/sites/?bbox=106.78,-6.16,106.80,-6.14")) == {school.pk}
    one = api.get(f"/api/v1/sites/{school.pk}/").json()
    assert one["area"]["code"] == RW_001 and one["kind"] == "school"
    assert results(api.get("/api/v1/sites/?area=99.99")) == []


# --- needs ------------------------------------------------------------------------------


def test_needs_filters(api):
    here = NeedFactory(priority=1, quantity_needed=100)
    elsewhere = NeedFactory(area=other_rw(), priority=3, quantity_needed=5)
    closed = NeedFactory(status=Need.Status.CLOSED)
    stale = NeedFactory(assessed_at=timezone.now() - datetime.timedelta(days=200))
    Need.objects.filter(pk=stale.pk).update(
        assessed_at=timezone.now() - datetime.timedelta(days=200)
    )
    commitment_in(
        "pledged", need=here, collaborator=CollaboratorFactory(), quantity=60
    )  # 40 remain

    def got(query: str) -> set[int]:
        return ids(api.get(f"/api/v1/needs/?page_size=200&{query}"))

    everything = {here.pk, elsewhere.pk, closed.pk, stale.pk}
    assert got("") >= everything
    assert got(f"area={KALI_ANYAR}") >= {here.pk, closed.pk, stale.pk}
    assert elsewhere.pk not in got(f"area={KALI_ANYAR}")
    kelurahan = Area.objects.get(code=KALI_ANYAR)
    assert got(f"area={kelurahan.pk}") == got(f"area={KALI_ANYAR}")
    assert got(f"area={RW_001}") >= {here.pk}
    assert elsewhere.pk in got("priority=3") and here.pk not in got("priority=3")
    assert closed.pk in got("status=closed") and here.pk not in got("status=closed")
    assert here.pk in got("open=true") and closed.pk not in got("open=true")
    assert closed.pk in got("open=false")
    assert stale.pk in got("stale=true") and here.pk not in got("stale=true")
    assert here.pk in got("stale=false")
    assert here.pk in got("remaining_min=40&remaining_max=40")
    assert here.pk not in got("remaining_min=41")
    assert elsewhere.pk in got("remaining_max=5")
    form = here.donation_form
    assert here.pk in got(f"donation_form={form.pk}&program=pangan")
    assert here.pk not in got("program=pendidikan")
    assert got("area=no-such-area") == set() and got("program=0") == set()

    one = api.get(f"/api/v1/needs/{here.pk}/").json()
    assert one["quantity_remaining"] == 40 and one["is_open"] and not one["is_stale"]
    assert one["area"]["code"] == RW_001
    assert "assessed_by" not in one  # the role is public, never the person
    assert api.get(f"/api/v1/needs/{stale.pk}/").json()["is_stale"] is True


def test_needs_cursor_pages_walk_everything_once(api):
    made = {NeedFactory().pk for _ in range(5)}
    seen: list[int] = []
    url = "/api/v1/needs/?page_size=2&area=" + RW_001
    while url:
        body = api.get(url).json()
        seen += [n["id"] for n in body["results"]]
        url = body["next"]
    assert set(seen) >= made and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "query, field",
    [
        ("donation_form=99999999999999999999999", "donation_form"),
        ("donation_form=-1", "donation_form"),
        ("donation_form=abc", "donation_form"),
        ("remaining_min=99999999999", "remaining_min"),
        ("priority=7", "priority"),
        ("status=gone", "status"),
        ("open=maybe", "open"),
        ("stale=null", "stale"),
        ("page_size=201", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=1e3", "page_size"),
        ("cursor=bz1hYmM=", "cursor"),  # o=abc
        ("cursor=cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ==", "cursor"),  # p=999...9 (too big)
        ("cursor=cD1hYmM=", "cursor"),  # p=abc
    ],
)
def test_needs_bad_parameters_are_400(api, query, field):
    body = problem(api.get(f"/api/v1/needs/?{query}"), 400)
    assert field in body["errors"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/programs/?page=abc",
        "/api/v1/programs/?page=99999999999999999999",
        "/api/v1/programs/?page_size=-5",
        "/api/v1/areas/?level=rw&q=a%00b",
        "/api/v1/needs/?area=31%00",
        "/api/v1/summaries/?group_by=program%00",
    ],
)
def test_bad_page_numbers_and_nul_bytes_are_400_problems(api, url):
    problem(api.get(url), 400)


def test_page_past_the_end_is_404(api):
    problem(api.get("/api/v1/programs/?page=99"), 404)


# --- collaborators ----------------------------------------------------------------------


def test_collaborators_are_the_gallery_public_fields_only(api):
    shown = CollaboratorFactory(name="Bank Uji")
    CollaboratorContact.objects.create(collaborator=shown, email="secret@example.org", phone="0812")
    hidden = CollaboratorFactory(verification_status=Collaborator.Verification.UNVERIFIED)
    rejected = CollaboratorFactory(verification_status=Collaborator.Verification.REJECTED)
    listed = ids(api.get("/api/v1/collaborators/?page_size=200"))
    assert shown.pk in listed and hidden.pk not in listed and rejected.pk not in listed
    problem(api.get(f"/api/v1/collaborators/{hidden.pk}/"), 404)
    raw = api.get(f"/api/v1/collaborators/{shown.pk}/").content.decode()
    assert "Bank Uji" in raw
    assert "secret@example.org" not in raw and "0812" not in raw
    body = json.loads(raw)
    assert set(body) == {
        "id",
        "slug",
        "name",
        "kind",
        "description",
        "website",
        "logo",
        "is_aggregator",
        "programs",
        "live_commitments",
        "live_value_idr",
    }
    problem(api.get("/api/v1/collaborators/?kind=martian"), 400)


def test_anonymous_gifts_never_name_their_giver(api):
    """No public endpoint lists single commitments; the summaries have no collaborator."""
    giver = CollaboratorFactory(name="Donatur Rahasia")
    need = NeedFactory()
    gift = commitment_in("committed", need=need, collaborator=giver, quantity=5)
    gift.is_anonymous = True
    gift.save()
    summaries_rebuild()
    for url in (
        "/api/v1/summaries/?group_by=program,donation_form,area,month,channel,status",
        f"/api/v1/needs/{need.pk}/",
        "/api/v1/needs/",
    ):
        assert "Donatur Rahasia" not in api.get(url).content.decode()
    problem(api.get("/api/v1/commitments/"), 401)


# --- summaries --------------------------------------------------------------------------


def test_summaries_group_and_filter(api):
    need = NeedFactory()
    elsewhere = NeedFactory(area=other_rw())
    a, b = CollaboratorFactory(), CollaboratorFactory()
    commitment_in("committed", need=need, collaborator=a, quantity=3)
    commitment_in("completed", need=need, collaborator=b, quantity=4)
    commitment_in("pledged", need=need, collaborator=b, quantity=5)
    commitment_in("committed", need=elsewhere, collaborator=a, quantity=7)
    summaries_rebuild()

    body = api.get(f"/api/v1/summaries/?group_by=status&area={KALI_ANYAR}").json()
    assert body["group_by"] == ["status"] and body["computed_at"]
    by_status = {r["status"]: (r["count"], r["quantity"]) for r in body["results"]}
    assert by_status == {"committed": (1, 3), "completed": (1, 4), "pledged": (1, 5)}
    confirmed = api.get(f"/api/v1/summaries/?group_by=area&status=confirmed&area={RW_001}")
    rows = confirmed.json()["results"]
    assert rows == [
        {
            "area": need.area_id,
            "count": 2,
            "quantity": 7,
            "value_idr": rows[0]["value_idr"],
            "households": 0,
            "persons": 0,
        }
    ]
    # The kecamatan roll-up answers the same as the summaries it is made from.
    kecamatan = Area.objects.get(code=KALI_ANYAR).parent
    rolled = api.get(
        f"/api/v1/summaries/?group_by=kecamatan,status&area={kecamatan.code}&program=pangan"
    ).json()["results"]
    assert {(r["kecamatan"], r["status"], r["quantity"]) for r in rolled} == {
        (kecamatan.pk, "committed", 3),
        (kecamatan.pk, "completed", 4),
        (kecamatan.pk, "pledged", 5),
    }
    paged = api.get(f"/api/v1/summaries/?group_by=status&area={KALI_ANYAR}&page_size=2").json()
    assert paged["count"] == 3 and len(paged["results"]) == 2 and paged["next"]
    assert len(api.get(paged["next"]).json()["results"]) == 1
    problem(api.get("/api/v1/summaries/?page_size=1001"), 400)
    assert api.get("/api/v1/summaries/?area=x").json()["results"] == []
    assert api.get("/api/v1/summaries/?program=0").json()["results"] == []
    month = timezone.localdate().strftime("%Y-%m")
    assert api.get(f"/api/v1/summaries/?month_from={month}&month_to={month}").json()["results"]
    for bad in (
        "group_by=collaborator",
        "month_from=2026-13",
        "status=lost",
        "donation_form=99999999999999999999",
        "month_to=2026-1-1x",
        "group_by=,",
    ):
        problem(api.get(f"/api/v1/summaries/?{bad}"), 400)


# --- own data ---------------------------------------------------------------------------


@pytest.fixture
def world():
    """Two collaborators' commitments in two kelurahan and two programs."""
    a, b = CollaboratorFactory(), CollaboratorFactory()
    need_here = NeedFactory()
    need_there = NeedFactory(area=other_rw())
    return {
        "a": a,
        "b": b,
        "a_here": commitment_in("pledged", need=need_here, collaborator=a, quantity=1),
        "b_here": commitment_in("committed", need=need_here, collaborator=b, quantity=2),
        "b_there": commitment_in("pledged", need=need_there, collaborator=b, quantity=3),
    }


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_my_commitments_by_role(world):
    a_member, b_member = member_of(world["a"]), member_of(world["b"])
    facilitator = facilitator_of(KALI_ANYAR)
    lead = lead_of("pendidikan")
    a_ids = ids(as_user(a_member).get("/api/v1/commitments/"))
    assert a_ids == {world["a_here"].pk}
    assert ids(as_user(b_member).get("/api/v1/commitments/")) == {
        world["b_here"].pk,
        world["b_there"].pk,
    }
    assert ids(as_user(facilitator).get("/api/v1/commitments/")) >= {
        world["a_here"].pk,
        world["b_here"].pk,
    }
    assert world["b_there"].pk not in ids(as_user(facilitator).get("/api/v1/commitments/"))
    assert ids(as_user(lead).get("/api/v1/commitments/")) == set()  # pangan needs only
    # B never reaches A's commitment, not even by id.
    problem(as_user(b_member).get(f"/api/v1/commitments/{world['a_here'].pk}/"), 404)
    one = as_user(a_member).get(f"/api/v1/commitments/{world['a_here'].pk}/").json()
    assert one["collaborator"]["id"] == world["a"].pk and one["status"] == "pledged"
    problem(APIClient().get("/api/v1/commitments/"), 401)
    problem(APIClient().get(f"/api/v1/commitments/{world['a_here'].pk}/"), 401)


def test_my_commitments_filters(world):
    both = member_of(world["a"])
    both.memberships.create(collaborator=world["b"], role="member")
    client = as_user(both)
    assert ids(client.get("/api/v1/commitments/?status=committed")) == {world["b_here"].pk}
    assert ids(client.get(f"/api/v1/commitments/?collaborator={world['a'].pk}")) == {
        world["a_here"].pk
    }
    assert len(ids(client.get("/api/v1/commitments/?program=pangan"))) == 3
    assert ids(client.get("/api/v1/commitments/?program=umkm")) == set()
    problem(client.get("/api/v1/commitments/?status=lost"), 400)
    problem(client.get("/api/v1/commitments/?collaborator=99999999999999999999"), 400)


def test_notifications_are_the_users_own(world):
    mine, theirs = member_of(world["a"]), member_of(world["b"])
    note = Notification.objects.create(user=mine, subject="Hello", body="Body")
    other = Notification.objects.create(user=theirs, subject="Other", body="Body")
    client = as_user(mine)
    assert ids(client.get("/api/v1/notifications/")) == {note.pk}
    assert client.get(f"/api/v1/notifications/{note.pk}/").json()["is_read"] is False
    problem(client.get(f"/api/v1/notifications/{other.pk}/"), 404)
    assert ids(client.get("/api/v1/notifications/?unread=true")) == {note.pk}
    problem(client.get("/api/v1/notifications/?unread=null"), 400)
    problem(APIClient().get("/api/v1/notifications/"), 401)


# --- ETags ------------------------------------------------------------------------------


def test_reads_carry_an_etag_and_answer_304(api):
    first = api.get("/api/v1/programs/")
    etag = first["ETag"]
    assert etag and "Accept" in first["Vary"]
    again = api.get("/api/v1/programs/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    head = api.head("/api/v1/programs/")
    assert head.status_code == 200 and head["ETag"] == etag
    assert api.head("/api/v1/programs/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    Program.objects.filter(slug="pangan").update(lead_agency="Dinas Baru")
    changed = api.get("/api/v1/programs/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


# --- query counts -----------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_query_counts_do_not_grow_with_rows(api):
    rw = Area.objects.get(code=RW_001)
    member = member_of(CollaboratorFactory())
    collaborator = member.memberships.get().collaborator
    client = as_user(member)
    urls = [
        "/api/v1/needs/?page_size=200",
        "/api/v1/collaborators/?page_size=200",
        "/api/v1/sites/?page_size=200",
        "/api/v1/areas/?page_size=200&geometry=simplified&level=rw",
        "/api/v1/commitments/?page_size=200",
        "/api/v1/notifications/?page_size=200",
        "/api/v1/donation-forms/?page_size=200",
        "/api/v1/summaries/?group_by=area,status",
    ]

    def grow(n):
        for i in range(n):
            need = NeedFactory()
            Site.objects.create(area=rw, kind="school", name=f"S{i}", lon=106.79, lat=-6.15)
            commitment_in("committed", need=need, collaborator=collaborator, quantity=1)
            Notification.objects.create(user=member, subject=f"n{i}", body="b")
            other = CollaboratorFactory()
            other.programs.add(program("pangan"), program("umkm"))

    grow(2)
    summaries_rebuild()
    small = {url: _queries(client, url) for url in urls}
    grow(25)
    summaries_rebuild()
    large = {url: _queries(client, url) for url in urls}
    assert small == large


# --- throttling, Redis down -------------------------------------------------------------


def test_throttled_requests_get_429_with_retry_after(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "2/min",
        },
    }
    assert api.get("/api/v1/programs/").status_code == 200
    assert api.get("/api/v1/areas/?level=kota").status_code == 200
    throttled = api.get("/api/v1/programs/")
    body = problem(throttled, 429)
    assert int(throttled["Retry-After"]) > 0 and body["retry_after"] > 0
    # A signed-in user is counted apart, at the user rate.
    assert as_user(member_of(CollaboratorFactory())).get("/api/v1/programs/").status_code == 200


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0"])
def test_with_redis_down_the_api_still_answers(api, settings, url):
    settings.CACHES = {"default": redis_cache(url, key_prefix="test-down")}
    need = NeedFactory()
    assert api.get("/api/v1/programs/").status_code == 200
    assert api.get(f"/api/v1/needs/{need.pk}/").status_code == 200
    member = member_of(CollaboratorFactory())
    assert as_user(member).get("/api/v1/commitments/").status_code == 200


# --- schema and docs --------------------------------------------------------------------


def test_schema_and_docs_render_under_the_csp(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/needs/" in paths and "/api/v1/summaries/" in paths
    redoc = api.get("/api/docs/")
    assert redoc.status_code == 200
    csp = redoc["Content-Security-Policy"]
    assert "blob:" in csp and "cdn" not in redoc.content.decode()
    assert "<script>" not in redoc.content.decode()  # no inline script: script-src 'self'
    options = api.options("/api/docs/")  # OPTIONS: the methods, not a page
    assert (options.status_code, options["Allow"]) == (200, "GET, HEAD, OPTIONS")


def test_api_url_names_leave_the_portals_own_alone():
    from django.urls import reverse

    from api.urls import router

    assert all(url.name.startswith("api-") for url in router.urls if url.name)
    kali_anyar = Area.objects.get(code=KALI_ANYAR)
    assert kali_anyar.get_absolute_url() == f"/wilayah/{KALI_ANYAR}/"
    assert reverse("program-detail", args=["pangan"]) == "/program/pangan/"


def test_problem_types_are_documented_where_their_type_points(client, api):
    body = problem(api.get("/api/v1/programs/?page_size=0"), 400)
    anchor = body["type"].rsplit("#", 1)[1]
    page = client.get("/api/problems/")
    assert page.status_code == 200 and f'id="{anchor}"' in page.content.decode()
    assert problem(api.get("/api/v1/no-such-thing/"), 404)["type"].endswith("#not-found")
    assert api.get("/api/v1/programs").status_code == 301  # the slash is added, as elsewhere
