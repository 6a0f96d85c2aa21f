"""WhatsApp on a phone (390x844): the share buttons are thumb-sized links that fit the
screen, and the WhatsApp settings page needs no sideways scrolling."""

import pytest
from django.db.models import Exists, OuterRef

from commitments.housekeeping.demo import DEMO_USERS
from commitments.models import Commitment, Delivery
from locations.models import Need

from .browser import WIDTH, assert_fits_a_thumb, sign_in_as_demo_user

pytestmark = pytest.mark.browser


def assert_share_buttons_fit(page, name: str) -> None:
    buttons = page.locator("a.whatsapp-share")
    assert buttons.count() >= 1, name
    for index in range(min(buttons.count(), 5)):
        button = buttons.nth(index)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box["height"] >= 43.5 and box["width"] >= 43.5, name
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, name
        assert button.get_attribute("href").startswith("https://wa.me/"), name
    assert_fits_a_thumb(page, name)


def test_share_buttons_and_settings_fit_a_phone(phone, live_portal):
    need = Need.objects.open().filter(area__level="rw").order_by("pk").first()
    phone.goto(f"{live_portal}{need.area.get_absolute_url()}")
    phone.wait_for_selector("a.whatsapp-share")
    assert "Bagikan ke donatur" in phone.locator("a.whatsapp-share").first.inner_text()
    assert_share_buttons_fit(phone, "whatsapp-need-share")

    sign_in_as_demo_user(phone, live_portal, DEMO_USERS["donor"])
    waiting = Delivery.objects.filter(commitment=OuterRef("pk"), confirmed_at__isnull=True)
    commitment = (
        Commitment.objects.filter(collaborator__memberships__user__email=DEMO_USERS["donor"])
        .filter(Exists(waiting))
        .order_by("pk")
        .first()
    )
    if commitment is not None:
        phone.goto(f"{live_portal}{commitment.get_absolute_url()}")
        phone.wait_for_selector("a.whatsapp-share")
        assert_share_buttons_fit(phone, "whatsapp-receipt-request")

    phone.goto(f"{live_portal}/akun/whatsapp/")
    phone.wait_for_selector("input[name=number]")
    assert_fits_a_thumb(phone, "whatsapp-settings")
