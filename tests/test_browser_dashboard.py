"""A program lead's dashboard in headless Chromium: sign in, open it, narrow it to a kota,
see the figures change, download them as XLSX, on a desktop and on a phone, with no
JavaScript or CSP errors."""

import io
import re
import uuid

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count

from commitments.figures.summaries import summaries_rebuild
from commitments.models import Commitment, Export
from locations.models import Area
from programs.models import Program, ProgramLead

from .browser import ARTIFACTS, PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.browser


def a_lead_of_pangan() -> str:
    email = f"lead-{uuid.uuid4().hex[:8]}@example.org"
    user = get_user_model().objects.create_user(email, email, PASSWORD)
    ProgramLead.objects.create(user=user, program=Program.objects.get(slug="pangan"))
    return email


def busiest_kota() -> Area:
    """The kota with the most pangan commitments: narrowing to it changes the totals."""
    kota_codes = [
        path.split("/")[1]
        for path in Commitment.objects.filter(program__slug="pangan").values_list(
            "area__path", flat=True
        )
    ]
    counts = {code: kota_codes.count(code) for code in set(kota_codes)}
    assert counts, "the demo data has pangan commitments"
    return Area.objects.get(code=max(counts, key=counts.get))


def total_shown(page) -> str:
    return page.inner_text('[data-figure="count"]')


def test_a_lead_narrows_the_dashboard_to_a_kota_and_downloads_it(
    page, live_portal, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    summaries_rebuild()  # the demo data was committed with the summaries' jobs eager anyway
    email = a_lead_of_pangan()
    kota = busiest_kota()
    pangan = Commitment.objects.filter(program__slug="pangan").aggregate(n=Count("pk"))["n"]

    sign_in(page, live_portal, email)
    page.goto(f"{live_portal}/ruang-kerja/")
    page.click("a[href='/ruang-kerja/dasbor/']")
    page.wait_for_url("**/ruang-kerja/dasbor/pangan/**")
    assert total_shown(page) == f"{pangan:,}".replace(",", ".")
    before = total_shown(page)
    # The coverage map draws its RWs from the needs map's geometry, without tiles.
    page.wait_for_function(
        "() => { const m = document.getElementById('coverage-map');"
        " return m && m.dataset.loading === ''; }"
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "dashboard-desktop")
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop-full.png"), full_page=True)

    page.select_option("#id_area", kota.code)
    page.click("#dashboard-filters button[type=submit]")
    page.wait_for_url(f"**area={kota.code}**")
    after = total_shown(page)
    assert after != before
    in_kota = Commitment.objects.filter(
        program__slug="pangan", area__path__startswith=kota.path + "/"
    ).count()
    assert after == f"{in_kota:,}".replace(",", ".")
    # Inside a kota the areas chart goes down to its kecamatan.
    assert "kecamatan" in page.inner_text("#areas-heading + figure figcaption").lower()

    # The XLSX of what the page shows: the kota filter goes with it.
    filtered = page.url
    page.click(".export-buttons form:has(input[value=xlsx]) button")
    page.wait_for_url(re.compile(r"/ruang-kerja/ekspor/\d+/$"))
    export = Export.objects.latest("pk")
    # The export page follows the job by itself; the link comes with the file.
    page.wait_for_selector(f"a[href$='/ruang-kerja/ekspor/{export.pk}/unduh/']")
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    assert export.filters.get("area") == kota.code
    with page.expect_download() as download:
        page.click(f"a[href$='/ruang-kerja/ekspor/{export.pk}/unduh/']")
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book["Commitments"].max_row == in_kota + 1  # the header, then one row each
    page.goto(filtered)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_function("() => document.getElementById('coverage-map').dataset.loading === ''")
    # Nothing wider than the phone: charts scale, tables scroll inside their wrapper.
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow
    screenshot(page, "dashboard-phone")
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone-full.png"), full_page=True)
