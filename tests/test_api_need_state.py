"""GET /api/v1/need-state/<level>/ serves the needs map's state: the same data as the map's
own JSON view, with its ETag, and a 400 problem body for a bad filter (the map view ignores
unreadable filters instead)."""

import gzip
import json

import pytest
from django.urls import reverse

from .factories import NeedFactory, program

pytestmark = pytest.mark.django_db


def test_the_api_serves_the_same_state_as_the_map(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        NeedFactory(quantity_needed=30, priority=1)
        NeedFactory(quantity_needed=7, priority=3)
    pangan = program("pangan").pk
    for level, query in [("rw", ""), ("kelurahan", f"?program={pangan}"), ("kecamatan", "")]:
        api = client.get(f"/api/v1/need-state/{level}/{query}", HTTP_ACCEPT_ENCODING="gzip")
        view = client.get(
            reverse("map-need-state", args=[level]) + query, HTTP_ACCEPT_ENCODING="gzip"
        )
        assert api.status_code == view.status_code == 200
        assert api.content == view.content
        assert api["ETag"] == view["ETag"]
        state = json.loads(gzip.decompress(api.content))
        assert state["areas"], level
    url = f"/api/v1/need-state/{level}/"
    assert client.get(url, HTTP_IF_NONE_MATCH=api["ETag"]).status_code == 304
    plain = client.get(url)  # a client that takes no gzip
    assert plain.json() == json.loads(gzip.decompress(api.content))


@pytest.mark.parametrize(
    "query, field",
    [
        ("program=abc", "program"),
        ("program=99999999999999999999", "program"),
        ("priority=9", "priority"),
        ("fresh=0", "fresh"),
        ("open=maybe", "open"),
        ("form=%00", "form"),
    ],
)
def test_a_bad_filter_is_a_problem_not_ignored(client, query, field):
    response = client.get(f"/api/v1/need-state/rw/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert field in body.get("errors", {}) or "detail" in body


def test_an_unknown_level_is_not_found(client):
    response = client.get("/api/v1/need-state/kota/")
    assert response.status_code == 404
    assert response.json()["status"] == 404
