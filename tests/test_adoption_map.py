"""The needs map shows adopted areas and by whom (issue 21, part 1): a small public JSON of
the areas held by active adoptions (cached, forgotten when an adoption changes status),
and in Chromium at phone size a dashed outline on each adopted area, its adopter in the
area's tooltip and an "adopted area" legend entry."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.adoption.expiry import adoptions_end_expired
from commitments.adoption.models import Adoption
from commitments.adoption.rules import adoption_end

from .adoption_world import KELURAHAN, PROGRAM, RW1, RW2, RW3, make_adoption
from .factories import CollaboratorFactory, lead_of

URL = reverse("map-adopted")


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_the_map_data_lists_active_adoptions_only_by_area_code(client):
    active = make_adoption(CollaboratorFactory(name="YPO Peta"), codes=(RW1, RW2), name="Uji")
    make_adoption(CollaboratorFactory(), status="proposed", codes=(RW3,))
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    areas = response.json()["areas"]
    program_id = active.program_id
    expected = ["YPO Peta", active.get_absolute_url(), program_id, "Uji"]
    assert areas == {RW1: [expected], RW2: [expected]}
    assert KELURAHAN not in areas  # two of its RW are adopted, not the kelurahan


@pytest.mark.django_db
def test_the_map_data_is_cached_and_forgotten_when_an_adoption_ends(
    client, django_capture_on_commit_callbacks
):
    adoption = make_adoption(CollaboratorFactory(), codes=(RW1,))
    assert RW1 in client.get(URL).json()["areas"]
    with CaptureQueriesContext(connection) as cached:
        client.get(URL)
    assert not [q for q in cached.captured_queries if "adoption" in q["sql"]]
    with django_capture_on_commit_callbacks(execute=True) as forgotten:
        adoption_end(user=lead_of(PROGRAM), adoption_id=adoption.pk)
    assert forgotten  # the cache is cleared once the end is committed, not before
    assert client.get(URL).json()["areas"] == {}

    other = make_adoption(CollaboratorFactory(), codes=(RW2,), name="Lain")
    cache.clear()
    assert RW2 in client.get(URL).json()["areas"]
    Adoption.objects.filter(pk=other.pk).update(
        starts_on="2020-01-01", ends_on="2020-12-31", agreed_at="2020-01-01T00:00Z"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert adoptions_end_expired() == 1
    assert client.get(URL).json()["areas"] == {}


@pytest.mark.browser
def test_adopted_areas_are_outlined_and_named_on_a_phone(chromium, live_portal):
    from commitments.adoption.demo import TANAH_MERAH_RW
    from locations.models import Area

    from .browser import phone_context, screenshot

    adopter = Adoption.objects.get(status="active", claims__area__code=TANAH_MERAH_RW[0])
    context = phone_context(chromium)
    page = context.new_page()
    page.goto(f"{live_portal}/peta/")
    # Shaded first, then the outlines: no fixed waits, the map says when each is done.
    page.wait_for_function("() => document.getElementById('needs-map').dataset.interactiveAt")
    page.wait_for_function("() => Number(document.getElementById('needs-map').dataset.adopted) > 0")
    legend = page.locator("#map-legend .legend-adopted")
    assert legend.inner_text().strip() == "wilayah adopsi"  # "adopted area", in Indonesian
    swatch_border = legend.locator(".swatch").evaluate("s => getComputedStyle(s).borderTopStyle")
    assert swatch_border == "dashed"
    # The outline pane never takes the areas' taps.
    assert page.evaluate("() => ksbbMap.map.getPane('adopted').style.pointerEvents") == "none"
    area = Area.objects.get(code=TANAH_MERAH_RW[0])
    page.evaluate(
        """([lat, lon]) => new Promise(done => {
             ksbbMap.map.once("moveend", () => requestAnimationFrame(done));
             ksbbMap.map.setView([lat, lon], 17, { animate: false });
           })""",
        [area.centroid_lat, area.centroid_lon],
    )
    point = page.evaluate(
        f"() => ksbbMap.map.latLngToContainerPoint([{area.centroid_lat}, {area.centroid_lon}])"
    )
    box = page.locator("#needs-map").bounding_box()
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert adopter.collaborator.name in tooltip.inner_text()
    screenshot(page, "needs-map-adopted-phone")
    context.close()
