"""The needs map in real headless Chromium (Debian's), against a live portal."""

import pytest

from locations.models import Area

from .browser import axe, phone_context, point_on_map, screenshot, wait_for_map
from .colour import composite, contrast

pytestmark = pytest.mark.browser


# The map's next flight (flyTo, flyToBounds) ends with zoomend: then window.landed is true.
WATCH_FOR_LANDING = """() => {
  window.landed = false;
  ksbbMap.map.once("zoomend", () => { window.landed = true; });
}"""


def open_map(page, live_portal, query=""):
    page.goto(f"{live_portal}/peta/{query}")
    wait_for_map(page)
    return page.locator("#needs-map")


def test_map_draws_every_rw_and_filters_reshade_it(page, live_portal):
    needs_map = open_map(page, live_portal)
    assert needs_map.get_attribute("data-drawn") == "2698"
    shaded_all = int(needs_map.get_attribute("data-shaded"))
    assert shaded_all > 300
    assert page.locator("#map-legend li").count() >= 3
    screenshot(page, "needs-map")
    geometry_requests = []
    page.on("request", lambda r: geometry_requests.append(r.url) if "geometri-" in r.url else None)
    before = page.screenshot()

    page.select_option("#f-program", label="KSBB Pendidikan")
    page.wait_for_function(
        f"() => document.getElementById('needs-map').dataset.shaded !== '{shaded_all}'"
        " && !document.getElementById('needs-map').dataset.loading"
    )
    shaded_education = int(needs_map.get_attribute("data-shaded"))
    assert 0 < shaded_education < shaded_all
    assert page.screenshot() != before  # the shading on screen changed
    assert geometry_requests == []  # re-shaded without reloading any geometry
    assert "program=" in needs_map.get_attribute("data-state-url")


def test_clicking_an_area_opens_its_panel(page, live_portal):
    open_map(page, live_portal)
    page.mouse.click(*point_on_map(page, "31.73.04.1002.001"))
    panel = page.locator("#area-panel")
    panel.get_by_role("heading", name="RW 01, Kali Anyar").wait_for()
    assert panel.is_visible()
    text = panel.inner_text()
    assert "Kebutuhan terbuka" in text or "Tidak ada kebutuhan terbuka" in text
    assert "Komitmen terbaru" in text
    screenshot(page, "area-panel")
    page.keyboard.press("Escape")
    assert not panel.is_visible()


def test_search_kali_anyar_and_land_on_it(page, live_portal):
    open_map(page, live_portal)
    page.evaluate(WATCH_FOR_LANDING)
    page.fill("#area-search", "Kali Anyar")
    page.locator("#search-results button").first.wait_for()
    page.keyboard.press("Enter")
    page.locator("#area-panel").get_by_role("heading", name="Kali Anyar").wait_for()
    page.wait_for_function("() => window.landed")  # the fly-to animation is over
    kali_anyar = Area.objects.get(code="31.73.04.1002")
    in_view = page.evaluate(
        f"() => ksbbMap.map.getBounds().contains([{kali_anyar.centroid_lat},"
        f" {kali_anyar.centroid_lon}]) && ksbbMap.map.getZoom() >= 14"
    )
    assert in_view
    assert page.locator("#needs-map").get_attribute("data-level") == "kelurahan"
    assert page.locator("input[name=level][value=kelurahan]").is_checked()


def test_filters_work_from_the_keyboard(page, live_portal):
    needs_map = open_map(page, live_portal)
    page.focus("#area-search")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "f-program":
            break
    assert page.evaluate("() => document.activeElement.id") == "f-program"
    page.keyboard.press("ArrowDown")  # the first program
    # The map reloads its need state for that program (whether or not the shaded count
    # happens to differ from all programs' in today's data).
    page.wait_for_function(
        "() => { const m = document.getElementById('needs-map');"
        " return (m.dataset.stateUrl || '').includes('program=') && !m.dataset.loading; }"
    )
    assert page.locator("#f-program").input_value() != ""
    assert needs_map.get_attribute("data-shaded") is not None  # and re-shaded


def test_switching_language(page, live_portal):
    open_map(page, live_portal)
    assert page.locator("h1").inner_text() == "Di mana bantuan dibutuhkan"
    page.select_option("#language-select", "en")
    page.click(".language-switcher button")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Where help is needed"
    assert page.locator("html").get_attribute("lang") == "en"
    page.select_option("#language-select", "id")
    page.click(".language-switcher button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "id"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/peta/",
        "/wilayah/31.73.04.1002/",
        "/wilayah/31.73.04.1002.001/",
        "/wilayah/31.73/",
        "/program/pangan/",
        "/kolaborator/",
        "/akun/masuk/",
        "/akun/daftar/",
    ],
)
def test_pages_have_no_errors_and_pass_basic_accessibility_checks(page, live_portal, path):
    page.goto(live_portal + path)
    page.wait_for_load_state("networkidle")
    assert axe(page) == []


def test_map_on_a_phone(chromium, live_portal):
    context = phone_context(chromium)
    page = context.new_page()
    open_map(page, live_portal)
    assert page.locator("#needs-map").get_attribute("data-drawn") == "2698"
    page.fill("#area-search", "31.73.04.1002.001")
    page.locator("#search-results button").first.click()
    page.locator("#area-panel").get_by_role("heading", name="RW 01, Kali Anyar").wait_for()
    screenshot(page, "area-panel-phone")
    context.close()


def test_hovering_an_area_names_it_and_its_headline_need(page, live_portal):
    open_map(page, live_portal)
    page.mouse.move(*point_on_map(page, "31.73.04.1002.001"))
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    text = tooltip.inner_text()
    assert "RW 01, Kali Anyar" in text
    assert "tersisa" in text or "Tidak ada kebutuhan terbuka" in text


def test_institutions_cluster_when_dense(page, live_portal):
    open_map(page, live_portal)
    page.check("#show-sites")
    page.wait_for_function("() => document.getElementById('needs-map').dataset.siteClusters")
    clusters = page.locator(".site-cluster")
    assert clusters.count() > 0
    zoom = page.evaluate("() => ksbbMap.map.getZoom()")
    clusters.first.click()
    page.wait_for_function(f"() => ksbbMap.map.getZoom() > {zoom}")
    page.uncheck("#show-sites")
    assert page.locator(".site-cluster").count() == 0


# --- Issue 25: a legend everyone can read, controls in the page's language, a first view
# that fills the phone.

# The fills the needs map has drawn (distinct colours), their opacity and the map box's
# background: what lies under the fills where no tile has loaded (never, in tests).
DRAWN_FILLS = """() => {
  const fills = new Set(), opacities = new Set();
  ksbbMap.state.layer.eachLayer((l) => {
    fills.add(l.options.fillColor);
    opacities.add(l.options.fillOpacity);
  });
  return { fills: [...fills], opacities: [...opacities],
    under: getComputedStyle(document.getElementById("needs-map")).backgroundColor,
    palette: JSON.parse(document.getElementById("map-config").textContent).palette };
}"""

# The drawn RW layer's bounds in the map box's pixels, and the box's size.
LAYER_IN_BOX = """() => {
  const b = ksbbMap.state.layer.getBounds(), m = ksbbMap.map;
  const nw = m.latLngToContainerPoint(b.getNorthWest());
  const se = m.latLngToContainerPoint(b.getSouthEast());
  const size = m.getSize();
  return { width: se.x - nw.x, height: se.y - nw.y, boxWidth: size.x, boxHeight: size.y,
    left: nw.x, top: nw.y, right: se.x, bottom: se.y };
}"""


def test_the_drawn_classes_are_3_to_1_apart(page, live_portal):
    open_map(page, live_portal)
    drawn = page.evaluate(DRAWN_FILLS)
    palette = drawn["palette"]
    assert drawn["opacities"] == [palette["fillOpacity"]]
    shown = [c for c in palette["needClasses"] if c in drawn["fills"]]
    assert len(shown) >= 2, drawn  # the map shows more than one class today
    assert set(drawn["fills"]) <= {
        *palette["needClasses"],
        palette["noNeed"],
        palette["noResidents"],
    }
    opacity, under = palette["fillOpacity"], drawn["under"]
    no_need = composite(palette["noNeed"], under, opacity)
    classes = [composite(c, under, opacity) for c in palette["needClasses"]]
    for k, colour in enumerate(classes):
        assert contrast(colour, no_need) >= 3
        if k:
            assert contrast(colour, classes[k - 1]) >= 3
    # The legend shows the same colours, one row per class.
    swatches = page.locator("#map-legend .swatch").evaluate_all(
        "(els) => els.map((el) => el.dataset.color)"
    )
    assert swatches[: len(palette["needClasses"])] == palette["needClasses"]


def test_zoom_buttons_speak_the_pages_language(chromium, live_portal):
    context = phone_context(chromium)
    page = context.new_page()
    open_map(page, live_portal)
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Perbesar"
    assert page.locator(".leaflet-control-zoom-out").get_attribute("title") == "Perkecil"
    prefix = page.locator(".leaflet-control-attribution a[href='https://leafletjs.com']")
    assert prefix.get_attribute("title") == "Pustaka JavaScript untuk peta interaktif"
    context.close()


def test_first_view_fills_the_phones_map_box(chromium, live_portal):
    context = phone_context(chromium)
    page = context.new_page()
    open_map(page, live_portal)
    fit = page.evaluate(LAYER_IN_BOX)
    assert fit["width"] >= 0.8 * fit["boxWidth"] or fit["height"] >= 0.8 * fit["boxHeight"], fit
    # and the whole city is in view
    assert fit["left"] >= -1 and fit["top"] >= -1, fit
    assert fit["right"] <= fit["boxWidth"] + 1 and fit["bottom"] <= fit["boxHeight"] + 1, fit
    screenshot(page, "needs-map-first-view-phone")
    context.close()


def test_indonesian_names_are_marked_on_english_pages(chromium, live_portal):
    context = phone_context(chromium)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_portal}])
    page = context.new_page()
    page.goto(f"{live_portal}/wilayah/31.73/")
    assert page.locator("html").get_attribute("lang") == "en"
    cells = page.locator("td", has_text="Masih bersekolah")
    assert cells.count() > 0
    assert set(cells.evaluate_all("(els) => els.map((el) => el.lang)")) == {"id"}
    context.close()
    # A program lead on an Indonesian page: in Indonesian.
    context = phone_context(chromium)
    page = context.new_page()
    page.goto(f"{live_portal}/program/pendidikan/")
    assert page.get_by_text("Dinas Pendidikan", exact=True).is_visible()
    assert page.get_by_text("Department for Education").count() == 0
    context.close()
