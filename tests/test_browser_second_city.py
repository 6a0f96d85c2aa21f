"""Kota Yogyakarta, loaded by `load_city` beside Jakarta in the live portal, on a phone:
its kelurahan on the needs map, found by the search, and its area page under its name.
Its areas are removed again afterwards (the other browser tests count Jakarta's)."""

import dataclasses
import io

import pytest
from django.core.cache import cache

from locations.city import load_city_data, read_city_config
from locations.mapdata import map_layers_rebuild
from locations.models import Area
from locations.search import SEARCH_INDEX_KEY

from .browser import assert_fits_a_thumb, phone_context, screenshot, wait_for_map

pytestmark = pytest.mark.browser


@pytest.fixture
def yogyakarta_areas(live_portal, django_db_blocker, settings):
    """The city's areas only: its example programs would replace Jakarta's (same slugs)."""
    settings.CITY = "yogyakarta"
    settings.CITY_NAME = "Yogyakarta"
    config = dataclasses.replace(read_city_config("yogyakarta"), programs=None, indicators=[])
    with django_db_blocker.unblock():
        load_city_data(config, stdout=io.StringIO())
        try:
            yield
        finally:
            for level in reversed(Area.LEVEL_ORDER):
                Area.objects.filter(level=level, code__regex=r"^34(\.|$)").delete()
            map_layers_rebuild()
            cache.delete(SEARCH_INDEX_KEY)


def test_the_city_on_the_map_in_search_and_on_its_area_page(
    chromium, live_portal, yogyakarta_areas
):
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_portal}/peta/")
    wait_for_map(page)
    page.check('input[name="level"][value="kelurahan"]')
    page.wait_for_function(
        "() => document.getElementById('needs-map').dataset.level === 'kelurahan'"
        " && document.getElementById('needs-map').dataset.drawn === '312'"
    )  # Jakarta's 267 kelurahan and Yogyakarta's 45
    placeholder = page.locator("#area-search").get_attribute("placeholder")
    assert Area.objects.filter(code=placeholder.split(" ")[-1], code__startswith="34.71.").exists()

    page.fill("#area-search", "Kotabaru")
    result = page.locator("#search-results button").first
    assert "34.71.03.1002" in result.inner_text()
    result.click()
    panel = page.locator("#area-panel")
    panel.get_by_role("heading", name="Kotabaru").wait_for()
    screenshot(page, "second-city-panel-phone")

    page.goto(f"{live_portal}/wilayah/34.71.03.1002/")
    assert page.locator("h1").inner_text().startswith("Kotabaru")
    body = page.locator("main").inner_text()
    assert "Kota Yogyakarta" in body and "Gondokusuman" in body
    footer = page.locator(".site-footer").inner_text()
    assert "cahyadsn/wilayah_boundaries" in footer and "PetaJakarta" not in footer
    assert_fits_a_thumb(page, "second-city-area-phone")
    context.close()
