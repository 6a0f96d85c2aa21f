"""A facilitator keeps needs current from a phone (390x844, touch): signs in, adds a need to
one of their RW, edits another, re-confirms the rest, and the map and the area page show
the change. Screenshots are saved as artifacts."""

import re

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from commitments.housekeeping.demo import DEMO_PASSWORD
from locations.models import Area, Need
from programs.models import DonationForm

from .browser import demo_user, phone_context, remaining_on_map, screenshot, sign_in, watch_errors

pytestmark = pytest.mark.browser
FACILITATOR = "lurah.kalianyar.demo@example.org"
KALI_ANYAR = "31.73.04.1002"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def open_remaining(rw: Area) -> int:
    return (
        Need.objects.open()
        .filter(area=rw)
        .aggregate(left=Sum(F("quantity_needed") - F("quantity_claimed")))["left"]
        or 0
    )


def test_a_facilitator_keeps_the_needs_of_their_kelurahan_from_a_phone(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        today = timezone.localdate()
        rw = Area.objects.filter(parent__code=KALI_ANYAR, is_residential=True).order_by("code")[1]
        groceries = DonationForm.objects.get(program__slug="pangan", slug="groceries")
        to_edit = (
            Need.objects.filter(
                area__path__startswith=Area.objects.get(code=KALI_ANYAR).path + "/",
                status="open",
                valid_until__gte=today,
            )
            .order_by("pk")
            .first()
        )
        assert to_edit is not None, "the demo data has open needs in Kali Anyar"
        demo_user(FACILITATOR)
        started = timezone.now()

    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = watch_errors(page)

    # Sign in, and find the needs from the workspace.
    sign_in(page, live_portal, FACILITATOR, DEMO_PASSWORD)
    page.goto(f"{live_portal}/ruang-kerja/")
    page.click("a[href='/ruang-kerja/kebutuhan/']")
    page.wait_for_url(f"{live_portal}/ruang-kerja/kebutuhan/")
    assert no_horizontal_scroll(page)
    screenshot(page, "needs-phone-list")

    # 1. Add a need to one of their RW; the donation forms follow the program.
    page.locator(".keep-actions a[href='/ruang-kerja/kebutuhan/baru/']").tap()
    page.wait_for_url(f"{live_portal}/ruang-kerja/kebutuhan/baru/")
    page.select_option("#id_area", rw.code)
    page.select_option("#id_program", str(groceries.program_id))
    other_program_option = page.locator("#id_donation_form option").filter(
        has_not_text=re.compile("Sembako|Groceries")
    )
    assert page.locator(f"#id_donation_form option[value='{groceries.pk}']").is_enabled()
    assert other_program_option.count() > 0
    page.select_option("#id_donation_form", str(groceries.pk))
    page.fill("#id_quantity_needed", "37")
    page.select_option("#id_priority", "1")
    page.fill("#id_households", "37")
    page.fill("#id_valid_until", f"{today.year + 1}-01-31")
    page.fill("#id_description", "Lansia sebatang kara, dari ponsel")
    assert no_horizontal_scroll(page)
    button = page.locator("main form button[type=submit]")
    assert button.bounding_box()["height"] >= 44  # a thumb's target
    screenshot(page, "needs-phone-add")
    button.tap()
    page.wait_for_url(re.compile(r".*/ruang-kerja/kebutuhan/\d+/$"))
    assert "Lansia sebatang kara" in page.content()
    with django_db_blocker.unblock():
        added = Need.objects.get(description="Lansia sebatang kara, dari ponsel")
        assert (added.area, added.quantity_needed) == (rw, 37)

    # 2. Edit another need.
    page.goto(f"{live_portal}/ruang-kerja/kebutuhan/")
    page.locator(f"li[data-need='{to_edit.pk}'] a[href$='/ubah/']").tap()
    page.wait_for_url(f"{live_portal}/ruang-kerja/kebutuhan/{to_edit.pk}/ubah/")
    page.fill("#id_quantity_needed", str(to_edit.quantity_needed + 5))
    assert no_horizontal_scroll(page)
    screenshot(page, "needs-phone-edit")
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url(f"{live_portal}/ruang-kerja/kebutuhan/{to_edit.pk}/")
    history = page.locator(".need-history").inner_text()
    assert f"{to_edit.quantity_needed} → {to_edit.quantity_needed + 5}" in history

    # 3. Re-confirm the rest of the kelurahan in one action.
    page.goto(f"{live_portal}/ruang-kerja/kebutuhan/")
    page.locator(f"a[href='/ruang-kerja/kebutuhan/wilayah/{KALI_ANYAR}/konfirmasi/']").tap()
    page.wait_for_url(f"{live_portal}/ruang-kerja/kebutuhan/wilayah/{KALI_ANYAR}/konfirmasi/")
    assert no_horizontal_scroll(page)
    screenshot(page, "needs-phone-reconfirm")
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url(re.compile(rf".*/ruang-kerja/kebutuhan/\?area={re.escape(KALI_ANYAR)}$"))
    assert "dikonfirmasi ulang" in page.locator(".messages").inner_text()
    with django_db_blocker.unblock():
        kali_anyar = Need.objects.open().filter(area__path__contains=KALI_ANYAR)
        assert kali_anyar.exists()
        assert not kali_anyar.filter(assessed_at__lt=started).exists()
        expected = open_remaining(rw)

    # 4. The needs map and the area page show the change.
    page.goto(f"{live_portal}/peta/")
    assert remaining_on_map(page, rw.code) == expected
    screenshot(page, "needs-phone-map")
    page.goto(f"{live_portal}/wilayah/{rw.code}/")
    assert "Sembako" in page.locator("#needs-heading + .needs-grid").inner_text()
    assert page.locator(".freshness").inner_text().startswith("Kebutuhan diases pada")
    context.close()
    assert errors == [], errors
