"""bench/api_read.py runs end to end and prints its one line, with sane numbers (its ratios
are judged on full runs, not here); and the short paths whose speed it measures answer as
DRF's own would: the need state's anonymous path (same bytes and headers, same throttles),
the lists' rows (the serializer's), their filtering (the whole filter set's)."""

import datetime
import json
import math
import os
import re
import shutil
from unittest import mock

import pytest
from django.http import QueryDict
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from api import serializers as s
from api.filters import AreaFilter, NeedFilter, SiteFilter
from api.need_state import NeedStateView
from api.rows import RowsSerializer
from api.views import AREA_HEAVY, NeedReadViewSet
from collaborators.models import Collaborator
from locations.models import Area, Need, Site
from programs.models import DonationForm, Program

from .api_world import problem
from .benches import bench_line
from .factories import CollaboratorFactory, NeedFactory, program

# Marked, not requested by a fixture: pytest-django orders tests by their marks, so that
# these run before the transactional tests whose flush removes the Jakarta data.
pytestmark = pytest.mark.django_db

LINE = re.compile(r"^need_state_ratio=(\S+) needs_list_ratio=(\S+)$")
NEED_STATE = "/api/v1/need-state/rw/"
KALI_ANYAR = "31.73.04.1002"


@pytest.mark.xdist_group("bench")  # one bench at a time (make test runs two workers)
def test_the_api_read_benchmark_prints_its_line():
    # The bench builds its own throw-away database: it runs once (tests/benches.py).
    if not shutil.which("wrk") and not os.environ.get("CI"):  # CI installs it (.ci/run)
        pytest.skip("wrk is not installed (apt-get install wrk)")
    match, _stderr = bench_line(
        "api_read.py", "--seconds", "1", "--warmup", "1", line=LINE, timeout=300
    )
    last = match.string
    for ratio in map(float, match.groups()):
        assert math.isfinite(ratio) and ratio > 0, last


# --- the need state's short path ---------------------------------------------------------


def _spied_quick_path():
    """Patches NeedStateView.quick_response to record whether it answered."""
    answered = []
    original = NeedStateView.quick_response

    def spy(self, request, **kwargs):
        response = original(self, request, **kwargs)
        answered.append(response is not None)
        return response

    return answered, mock.patch.object(NeedStateView, "quick_response", spy)


def _vary(response) -> set[str]:
    return {part.strip() for part in response["Vary"].split(",")}


def test_the_need_states_short_path_answers_as_drf(client):
    NeedFactory()
    answered, spy = _spied_quick_path()
    with spy:
        for method in (client.get, client.head):
            quick = method(NEED_STATE, HTTP_ACCEPT_ENCODING="gzip")
            full = method(NEED_STATE, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT="application/json")
            assert quick.status_code == full.status_code == 200
            assert quick.content == full.content
            for header in ("Content-Type", "Content-Encoding", "Cache-Control", "ETag", "Allow"):
                assert quick[header] == full[header], header
            assert _vary(quick) == _vary(full)
        assert client.get(NEED_STATE, HTTP_IF_NONE_MATCH=quick["ETag"]).status_code == 304
        # Anything else takes DRF's path: a token, a filter it refuses, an unknown level.
        problem(client.get(NEED_STATE, HTTP_AUTHORIZATION="Bearer nope"), 401)
        problem(client.get(NEED_STATE + "?priority=9"), 400)
        problem(client.get("/api/v1/need-state/kota/"), 404)
    assert answered == [True, False, True, False, True, False, False, False]


def test_the_need_states_short_path_counts_in_the_same_throttles(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "3/min",
        },
    }
    assert client.get(NEED_STATE).status_code == 200  # the short path
    assert client.get(NEED_STATE, HTTP_ACCEPT="application/json").status_code == 200  # DRF's
    assert client.get("/api/v1/programs/").status_code == 200
    for accept in ("*/*", "application/json"):
        throttled = client.get(NEED_STATE, HTTP_ACCEPT=accept)
        body = problem(throttled, 429)
        assert int(throttled["Retry-After"]) > 0 and body["retry_after"] > 0


# --- lists: rows and filters --------------------------------------------------------------


def _needs_of_every_kind() -> list[Need]:
    rw = Area.objects.get(code=f"{KALI_ANYAR}.001")
    site = Site.objects.create(area=rw, kind="school", name="SD 01", lon=106.79, lat=-6.15)
    long_ago = timezone.now() - datetime.timedelta(days=400)
    made = [
        NeedFactory(),
        NeedFactory(site=site, unit_value_idr=None, households=None, persons=12, priority=1),
        NeedFactory(status=Need.Status.CLOSED, description="ditutup", assessed_at=long_ago),
        NeedFactory(valid_until=timezone.localdate() - datetime.timedelta(days=1)),
        NeedFactory(donation_form=DonationForm.objects.filter(unit=DonationForm.Unit.IDR)[0]),
    ]
    return list(NeedReadViewSet.queryset.filter(pk__in=[need.pk for need in made]))


def _as_drf_and_as_rows(serializer_class, items, context) -> tuple[str, str]:
    drf = serializer_class(items, many=True, context=context).data
    rows = RowsSerializer(items, child_class=serializer_class, context=context).data
    return json.dumps(drf, default=str), json.dumps(rows, default=str)


def test_list_rows_are_written_as_their_serializers_write_them():
    now = timezone.now()
    CollaboratorFactory().programs.add(program("pangan"), program("umkm"))
    cases = [
        (s.NeedSerializer, _needs_of_every_kind(), {"today": timezone.localdate(), "now": now}),
        (s.ProgramSerializer, list(Program.objects.all()), {}),
        (s.DonationFormSerializer, list(DonationForm.objects.all()), {}),
        (s.SiteSerializer, list(Site.objects.select_related("area").defer(*AREA_HEAVY)), {}),
        (
            s.CollaboratorSerializer,
            list(Collaborator.objects.verified().prefetch_related("programs")),
            {"request": None},
        ),
    ]
    kelurahan = Area.objects.filter(path__startswith=Area.objects.get(code=KALI_ANYAR).path)
    for geometry in (None, "display_geometry"):
        areas = list(kelurahan.with_geometry() if geometry else kelurahan.order_by("code"))
        cases.append((s.AreaSerializer, areas, {"geometry_field": geometry}))
    for serializer_class, items, context in cases:
        assert items, serializer_class
        drf, rows = _as_drf_and_as_rows(serializer_class, items, context)
        assert rows == drf, serializer_class  # the same values, keys in the same order
        # Again: the child (its fields) is reused, and still writes what DRF writes.
        assert _as_drf_and_as_rows(serializer_class, items, context)[1] == drf


@pytest.mark.parametrize(
    "filter_set, query",
    [
        (NeedFilter, ""),
        (NeedFilter, f"area={KALI_ANYAR}&page_size=50"),
        (NeedFilter, f"area={KALI_ANYAR}&open=true&priority=1&remaining_min=1"),
        (NeedFilter, "program=pangan&status=open&stale=false&expiring=0"),
        (NeedFilter, "open=maybe&priority=9"),
        (NeedFilter, "area=" + "x" * 61),
        (NeedFilter, "remaining_max=-1&cursor=abc"),
        (AreaFilter, f"parent={KALI_ANYAR}&level=rw"),
        (AreaFilter, "bbox=106.8,-6.2,106.85,-6.15&q=kali"),
        (AreaFilter, "bbox=1,2,3"),
        (SiteFilter, f"area={KALI_ANYAR}&kind=school"),
    ],
)
def test_filtering_with_the_filters_named_is_filtering_with_them_all(filter_set, query):
    data = QueryDict(query)
    queryset = (
        NeedReadViewSet.queryset if filter_set is NeedFilter else filter_set._meta.model.objects
    ).all()

    def outcome(**named_only):
        filters = filter_set(data, queryset=queryset, **named_only)
        if not filters.is_valid():
            return "invalid", filters.errors
        try:
            return "valid", str(filters.qs.query)
        except ValidationError as refused:  # a method filter's own check (bbox)
            return "refused", refused.detail

    with mock.patch("django.utils.timezone.now", return_value=timezone.now()):
        assert outcome(named_only=True) == outcome()
