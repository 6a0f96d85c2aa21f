"""Issue 11 end to end in Chromium: a donor asks the assistant where 500 food packages
(Sembako) should go from their kelurahan, sees the plan as a list with reasons and on the
small map (markers without any tiles), reads it on a 390x844 phone, pledges it in one
action, and the needs map shows those needs reduced by exactly the pledged quantities."""

import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from collaborators.models import Membership
from commitments.housekeeping.demo import DEMO_PASSWORD, DEMO_USERS
from commitments.models import Commitment
from locations.models import Area, Need

from .browser import (
    assert_fits_a_thumb,
    phone_context,
    screenshot,
    sign_in,
    sign_in_as_demo_user,
    watch_errors,
)
from .factories import NeedFactory, pangan_groceries

pytestmark = pytest.mark.browser

START = "31.75.03.1001"  # Kampung Melayu, Jatinegara
# A few real RW around it with fresh, high-priority needs for groceries: 600 packages.
NEED_RW = [
    "31.75.03.1001.001",
    "31.75.03.1001.002",
    "31.75.03.1002.001",
    "31.75.03.1002.002",
    "31.75.03.1003.001",
    "31.75.03.1003.002",
]

MAP_READY = (
    "() => { const m = document.getElementById('needs-map');"
    " return m.dataset.drawn && m.dataset.shaded && !m.dataset.loading"
    " && window.ksbbMap && ksbbMap.state.data; }"
)
REMAINING = """() => {
  const data = ksbbMap.state.data, i = data.fields.indexOf("qty"), out = {};
  Object.keys(data.areas).forEach((code) => { out[code] = data.areas[code][i]; });
  return {level: ksbbMap.state.level, remaining: out};
}"""


def remaining_on_the_map(page, live_portal, form_pk: int) -> dict[str, int]:
    """Remaining groceries per RW, as the needs map has them (its need-state JSON)."""
    page.goto(f"{live_portal}/peta/?form={form_pk}")
    page.wait_for_function(MAP_READY)
    state = page.evaluate(REMAINING)
    assert state["level"] == "rw"
    return state["remaining"]


def plan_lines(page) -> list[tuple[int, int, str]]:
    return page.eval_on_selector_all(
        ".plan-line",
        "items => items.map(li => [Number(li.dataset.need), Number(li.dataset.quantity),"
        " li.dataset.area])",
    )


def test_a_donor_plans_500_food_packages_pledges_them_and_the_map_shows_it(
    page, chromium, django_db_blocker, live_portal
):
    groceries = pangan_groceries()
    for code in NEED_RW:
        NeedFactory(
            area=Area.objects.get(code=code),
            quantity_needed=100,
            priority=Need.Priority.HIGH,
            assessed_at=timezone.now(),
            assessed_by_role="Ketua RW",
        )
    donor = get_user_model().objects.get(email=DEMO_USERS["donor"])
    collaborator = Membership.objects.filter(user=donor).first().collaborator
    before_commitments = set(
        Commitment.objects.filter(collaborator=collaborator).values_list("pk", flat=True)
    )

    sign_in_as_demo_user(page, live_portal, DEMO_USERS["donor"])
    before = remaining_on_the_map(page, live_portal, groceries.pk)

    # The donor asks, through the form as a person fills it in.
    page.goto(f"{live_portal}/asisten/")
    page.select_option("#id_form", label="Sembako")
    page.fill("#id_quantity", "500")
    page.select_option("#id_start", value=START)
    page.fill("#id_max_km", "2")
    page.get_by_role("button", name="Usulkan rencana").click()
    page.wait_for_function("() => document.getElementById('plan-map')?.dataset.ready")

    lines = plan_lines(page)
    assert lines and sum(quantity for _, quantity, _ in lines) == 500
    assert {code for *_, code in lines} >= set(NEED_RW[:2])  # the start's own RW are in it
    assert "500 paket" in page.locator(".plan-summary").inner_text()
    first = page.locator(".plan-line").first.inner_text()
    assert "terpenuhi" in first and "km jauhnya" in first and "prioritas" in first
    # On the map: a numbered marker per line and the starting point, without tiles.
    plan_map = page.locator("#plan-map")
    assert plan_map.get_attribute("data-markers") == str(len(lines))
    assert page.locator("#plan-map .plan-marker").count() == len(lines)
    assert page.locator("#plan-map .plan-start").count() == 1
    assert page.locator("#plan-map .leaflet-overlay-pane canvas, #plan-map svg").count() >= 1
    page.locator("#plan-map .plan-marker").first.click()
    page.wait_for_function("() => document.activeElement.id === 'plan-line-1'")
    screenshot(page, "assistant-plan-desktop")

    # The same plan, bookmarked, on a phone: the list, then the map; nothing too wide.
    on_the_phone = phone_context(chromium)
    phone = on_the_phone.new_page()
    phone.set_default_timeout(15_000)
    phone_errors = watch_errors(phone)
    # The password as it is: setting it again would end the other context's session (Django
    # ties sessions to the password hash).
    sign_in(phone, live_portal, DEMO_USERS["donor"], DEMO_PASSWORD)
    phone.goto(page.url)
    phone.wait_for_function("() => document.getElementById('plan-map')?.dataset.ready")
    assert plan_lines(phone) == lines
    list_box = phone.locator(".plan-lines").bounding_box()
    map_box = phone.locator("#plan-map").bounding_box()
    assert list_box["y"] + list_box["height"] <= map_box["y"]
    assert phone.locator("#plan-map .plan-marker").count() == len(lines)
    assert_fits_a_thumb(phone, "assistant-plan")
    phone.locator("#plan-map").scroll_into_view_if_needed()
    screenshot(phone, "phone-assistant-plan-map")
    # A tap on the map (away from the markers and the zoom buttons) starts from there.
    again = phone.get_by_role("button", name="Susun ulang rencana dari tempat yang Anda ketuk")
    assert not again.is_visible()
    box = phone.locator("#plan-map").bounding_box()
    phone.locator("#plan-map").tap(position={"x": box["width"] - 20, "y": 20})
    again.wait_for(state="visible")
    lon, lat = phone.eval_on_selector(
        "#assistant-form", "f => [f.elements.lon.value, f.elements.lat.value]"
    )
    assert 106.5 < float(lon) < 107.2 and -6.5 < float(lat) < -6.0
    with phone.expect_navigation():
        again.click()
    phone.wait_for_function("() => document.getElementById('plan-map')?.dataset.ready")
    assert f"lon={lon}" in phone.url and f"lat={lat}" in phone.url and "start=&" in phone.url
    assert phone.locator("#plan-map").get_attribute("data-start") == "1"
    assert phone.locator("#plan-map .plan-start").count() == 1
    on_the_phone.close()
    assert phone_errors == [], phone_errors

    # One action pledges the whole plan.
    page.get_by_role("button", name="Janjikan rencana ini").click()
    page.wait_for_url(re.compile(r"/ruang-kerja/komitmen/$"))
    assert f"{len(lines)} komitmen dibuat" in page.locator(".messages").inner_text()
    made = Commitment.objects.filter(collaborator=collaborator).exclude(pk__in=before_commitments)
    assert sorted(made.values_list("need_id", "quantity")) == sorted(
        (need, quantity) for need, quantity, _ in lines
    )
    screenshot(page, "assistant-pledged")

    # The needs map: each RW of the plan has exactly the pledged packages fewer to go.
    after = remaining_on_the_map(page, live_portal, groceries.pk)
    pledged = Counter()
    for _, quantity, code in lines:
        pledged[code] += quantity
    for code, quantity in pledged.items():
        assert after.get(code, 0) == before[code] - quantity, code
    screenshot(page, "assistant-needs-map-after")
