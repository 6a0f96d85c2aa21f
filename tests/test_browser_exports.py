"""On a phone (390x844, touch), the demo program lead exports the dashboard as XLSX: the
export page answers at once (the file is written in a thread without workers), follows the
progress by itself until the file is ready, and the downloaded workbook opens with the
commitments and the figure sheets."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from commitments.housekeeping.demo import DEMO_PASSWORD
from commitments.models import Export

from .browser import WIDTH, axe, demo_user, phone_context, screenshot, sign_in

pytestmark = pytest.mark.browser
LEAD = "dinsos.demo@example.org"


def test_a_lead_exports_the_dashboard_on_a_phone(chromium, live_portal, tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    lead = demo_user(LEAD)
    context = phone_context(chromium, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live_portal, LEAD, DEMO_PASSWORD)

    page.goto(f"{live_portal}/ruang-kerja/dasbor/")
    page.click(".export-buttons form:has(input[value=xlsx]) button")
    page.wait_for_url(re.compile(r"/ruang-kerja/ekspor/\d+/$"))
    export = Export.objects.filter(requested_by=lead).latest("pk")
    # The page reloads itself when the export moves on; the link comes with the file.
    page.wait_for_selector(f"a[href$='/ruang-kerja/ekspor/{export.pk}/unduh/']")
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    assert axe(page) == []
    screenshot(page, "export-ready-phone")

    with page.expect_download() as download:
        page.click(f"a[href$='/ruang-kerja/ekspor/{export.pk}/unduh/']")
    assert download.value.suggested_filename == export.file_name
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames[0] == "Commitments"
    assert book["Commitments"].max_row == export.rows_total + 1

    page.goto(f"{live_portal}/ruang-kerja/ekspor/")
    assert page.locator(f"a[href$='/ruang-kerja/ekspor/{export.pk}/']").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    screenshot(page, "export-list-phone")
    context.close()
