"""The public accountability pages on a phone (390x844, issue 23 part 1): the "what was
delivered" record of an area and a program, the monthly public report: nothing scrolls
sideways (wide tables scroll inside their box), no control too small for a thumb."""

import pytest
from django.utils import timezone

from commitments.models import Delivery

from .browser import assert_fits_a_thumb

pytestmark = pytest.mark.browser


def test_the_public_record_and_monthly_report_fit_a_phone(phone, live_portal):
    page = phone
    delivery = Delivery.objects.select_related("commitment__area").order_by("-pk").first()
    area = delivery.commitment.area.code if delivery else "31.73.04.1002.001"
    month = timezone.localdate().strftime("%Y-%m")
    for name, path in (
        ("area-record", f"/wilayah/{area}/"),
        ("area-deliveries", f"/wilayah/{area}/penyaluran/"),
        ("program-record", "/program/pangan/"),
        ("program-reports", "/program/pangan/laporan/"),
        ("program-month-report", f"/program/pangan/laporan/{month}/"),
    ):
        page.goto(f"{live_portal}{path}")
        page.locator("main h1").first.wait_for()
        assert_fits_a_thumb(page, name)
    assert "laporan publik" in page.locator("main h1").inner_text()
