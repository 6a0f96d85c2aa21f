"""A facilitator's phone (390x844, one thumb): the needs map first with the area panel as
a bottom sheet, and every facilitator screen without sideways scrolling or small targets."""

import pytest
from django.utils import timezone

from commitments.housekeeping.demo import DEMO_USERS
from commitments.models import Delivery
from locations.models import Area, Need

from .browser import HEIGHT, WIDTH, assert_fits_a_thumb, screenshot, sign_in_as_demo_user
from .factories import CollaboratorFactory, NeedFactory, commitment_in

pytestmark = pytest.mark.browser


def open_map(page, live_portal, query=""):
    page.goto(f"{live_portal}/peta/{query}")
    page.wait_for_function(
        "() => { const m = document.getElementById('needs-map');"
        " return m.dataset.interactiveAt && !m.dataset.loading; }"
    )


def centre_on_screen(page, code: str) -> dict:
    """The area's centre in viewport pixels, as the map draws it now."""
    point = page.evaluate(
        "(code) => { const l = ksbbMap.state.byCode[code];"
        " return ksbbMap.map.latLngToContainerPoint(l.getBounds().getCenter()); }",
        code,
    )
    box = page.locator("#needs-map").bounding_box()
    return {"x": box["x"] + point["x"], "y": box["y"] + point["y"]}


def label_point_on_screen(page, area: Area) -> dict:
    """Where to tap the area: its label point, which lies inside the polygon (the centre of
    its bounds may fall outside a concave RW, or on a neighbour)."""
    point = page.evaluate(
        "([lat, lon]) => ksbbMap.map.latLngToContainerPoint([lat, lon])",
        [area.centroid_lat, area.centroid_lon],
    )
    box = page.locator("#needs-map").bounding_box()
    return {"x": box["x"] + point["x"], "y": box["y"] + point["y"]}


def inside(point: dict, box: dict) -> bool:
    return (
        box["x"] <= point["x"] <= box["x"] + box["width"]
        and box["y"] <= point["y"] <= box["y"] + box["height"]
    )


def assert_sheet_leaves_area_and_pledge_visible(page, code: str) -> None:
    sheet = page.locator("#area-panel").bounding_box()
    pledge = page.locator("#area-panel .need-line a.button").first.bounding_box()
    centre = centre_on_screen(page, code)
    screen = {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT}
    assert sheet["height"] <= 0.46 * HEIGHT
    assert sheet["y"] + sheet["height"] <= HEIGHT + 1
    # The Pledge button lies whole inside the screen and inside the sheet.
    assert pledge["y"] >= sheet["y"] and pledge["y"] + pledge["height"] <= HEIGHT
    assert pledge["x"] >= 0 and pledge["x"] + pledge["width"] <= WIDTH
    # The tapped area's centre is on screen, on the map, above the sheet.
    assert inside(centre, screen)
    assert inside(centre, page.locator("#needs-map").bounding_box())
    assert centre["y"] < sheet["y"]
    assert not inside(centre, pledge)


def an_rw_with_an_open_need() -> Area:
    need = (
        Need.objects.open()
        .filter(area__level="rw", area__code__startswith="31.73.04.1002")
        .select_related("area")
        .first()
    )
    return need.area


def test_the_map_comes_first_and_a_tapped_area_stays_visible_above_the_sheet(phone, live_portal):
    page = phone
    open_map(page, live_portal)
    box = page.locator("#needs-map").bounding_box()
    on_first_screen = min(box["y"] + box["height"], HEIGHT) - max(box["y"], 0)
    assert on_first_screen >= 0.6 * HEIGHT  # it was 189 px
    assert not page.locator("#more-filters").evaluate("(d) => d.open")  # filters fold away
    screenshot(page, "phone-map")

    area = an_rw_with_an_open_need()
    # The area in the lower part of the map, where the sheet will come up.
    page.evaluate(
        "([lat, lon]) => { ksbbMap.map.setView([lat, lon], 17, { animate: false });"
        " ksbbMap.map.panBy([0, -220], { animate: false }); }",
        [area.centroid_lat, area.centroid_lon],
    )
    # Wait until the layer on the map is projected at the new view: its pixel bounds hold
    # the label point (stale bounds from the old zoom would send the tap elsewhere).
    page.wait_for_function(
        "([code, lat, lon]) => { const l = ksbbMap.state.byCode[code];"
        " return l && ksbbMap.map.hasLayer(l) && l._pxBounds"
        " && l._pxBounds.contains(ksbbMap.map.latLngToLayerPoint([lat, lon])); }",
        arg=[area.code, area.centroid_lat, area.centroid_lon],
    )
    tap = label_point_on_screen(page, area)
    assert tap["y"] > HEIGHT * 0.6
    page.touchscreen.tap(tap["x"], tap["y"])
    page.locator("#area-panel").get_by_role("heading", name=area.display_name).wait_for()
    page.locator("#area-panel .need-line a.button").first.wait_for()
    assert page.evaluate("() => document.activeElement.id") == "area-panel"
    assert_sheet_leaves_area_and_pledge_visible(page, area.code)
    screenshot(page, "phone-map-sheet")

    page.keyboard.press("Escape")
    assert page.locator("#area-panel").is_hidden()
    reopen = page.locator("#panel-reopen")
    assert area.display_name in reopen.inner_text()
    reopen.tap()
    page.locator("#area-panel").get_by_role("heading", name=area.display_name).wait_for()
    page.locator("#area-panel [data-close-panel]").tap()
    assert page.locator("#area-panel").is_hidden()
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= WIDTH


def test_a_link_with_wilayah_opens_the_map_on_that_area(phone, live_portal):
    page = phone
    area = an_rw_with_an_open_need()
    open_map(page, live_portal, f"?wilayah={area.code}")
    page.locator("#area-panel").get_by_role("heading", name=area.display_name).wait_for()
    page.wait_for_function("() => ksbbMap.map.getZoom() >= 15 && ksbbMap.state.selected")
    assert page.locator("#needs-map").get_attribute("data-level") == "rw"
    assert_sheet_leaves_area_and_pledge_visible(page, area.code)
    screenshot(page, "phone-map-wilayah")

    # From the area page's own link, on a kelurahan.
    page.goto(f"{live_portal}/wilayah/31.73.04.1002/")
    page.get_by_role("link", name="Lihat di peta kebutuhan").click()
    page.locator("#area-panel").get_by_role("heading", name="Kali Anyar").wait_for()
    assert page.locator("input[name=level][value=kelurahan]").is_checked()

    open_map(page, live_portal, "?wilayah=99.99.99")  # no such area: the whole city
    assert page.locator("#area-panel").is_hidden()
    assert page.locator("#needs-map").get_attribute("data-drawn") == "2698"


@pytest.mark.parametrize(
    ("who", "screens"),
    [
        ("facilitator", ["workspace", "inbox", "notifications", "commitment", "map"]),
        ("lead", ["workspace", "inbox", "verification", "commitment"]),
    ],
)
def test_facilitator_screens_fit_one_thumb(phone, live_portal, who, screens):
    page = phone
    sign_in_as_demo_user(page, live_portal, DEMO_USERS[who])
    paths = {
        "workspace": "/ruang-kerja/",
        "inbox": "/ruang-kerja/fasilitator/",
        "notifications": "/notifikasi/",
        "verification": "/ruang-kerja/verifikasi/",
        "map": "/peta/",
    }
    for screen in screens:
        if screen == "commitment":
            # A commitment waiting for this user: its page with the actions to take.
            page.goto(f"{live_portal}/ruang-kerja/fasilitator/")
            page.locator("main table a").first.click()
            page.wait_for_load_state()
            assert page.locator(".actions button.primary").count() >= 1
        else:
            page.goto(live_portal + paths[screen])
            page.wait_for_load_state()
        assert_fits_a_thumb(page, f"{who}-{screen}")


def test_delivery_confirmation_fits_one_thumb(phone, live_portal):
    need = NeedFactory(area=Area.objects.get(code="31.73.04.1002.002"), quantity_needed=40)
    commitment = commitment_in(
        "delivered", need=need, collaborator=CollaboratorFactory(), quantity=20
    )
    Delivery.objects.create(
        commitment=commitment,
        quantity=20,
        delivered_on=timezone.localdate(),
        recipients_households=1,
        recipients_persons=31,
        recorded_at=timezone.now(),
    )
    page = phone
    sign_in_as_demo_user(page, live_portal, DEMO_USERS["facilitator"])
    page.goto(f"{live_portal}{commitment.get_absolute_url()}")
    assert "1 KK" in page.locator("main").inner_text()
    confirm = page.get_by_role("button", name="Konfirmasi penerimaan")
    assert confirm.bounding_box()["height"] >= 44
    assert_fits_a_thumb(page, "facilitator-delivery")
    confirm.tap()
    page.get_by_text("Penerimaan dikonfirmasi").first.wait_for()
