"""On a phone (390x844, touch), the demo kelurahan head imports needs from a CSV file: the
preview shows its two bad rows, they fix the file, upload it again and apply it. A job
still running shows its progress and the page moves on by itself when it ends."""

from __future__ import annotations

import datetime

import pytest
import tablib
from django.utils import timezone

from commitments.housekeeping.demo import DEMO_PASSWORD
from commitments.models import NeedImport
from commitments.needs.import_files import COLUMNS
from locations.models import Area, Need, NeedChange
from programs.models import DonationForm

from .browser import axe, demo_user, phone_context, screenshot, sign_in, watch_errors

pytestmark = pytest.mark.browser
FACILITATOR = "lurah.kalianyar.demo@example.org"
KALI_ANYAR = "31.73.04.1002"


def csv_of(rows: list[dict]) -> bytes:
    data = tablib.Dataset(headers=[column.header_id for column in COLUMNS])
    for cells in rows:
        data.append([cells.get(column.key, "") for column in COLUMNS])
    return data.export("csv").encode("utf-8")


def free_places(count: int) -> list[tuple[str, str]]:
    """(RW code, pangan donation form) pairs of Kali Anyar without an open need yet."""
    taken = set(
        Need.objects.filter(status="open", area__parent__code=KALI_ANYAR, site=None).values_list(
            "area__code", "donation_form__slug"
        )
    )
    forms = DonationForm.objects.filter(program__slug="pangan", unit="package")
    codes = Area.objects.filter(
        parent__code=KALI_ANYAR, level="rw", is_residential=True
    ).values_list("code", flat=True)
    places = [
        (c, f.slug) for f in forms for c in codes.order_by("code") if (c, f.slug) not in taken
    ]
    assert len(places) >= count
    return places[:count]


def phone_page(chromium):
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def upload(page, name: str, content: bytes) -> None:
    page.set_input_files(
        "#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.click("form.form-card button[type=submit].primary")
    page.wait_for_url("**/kebutuhan/impor/*/")


def test_a_facilitator_fixes_two_bad_rows_and_imports_on_a_phone(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        places = free_places(3)
        user = demo_user(FACILITATOR)
        needs_before = Need.objects.count()
    valid_until = (timezone.localdate() + datetime.timedelta(days=45)).isoformat()
    good = [
        {"area_code": code, "program": "pangan", "donation_form": form, "quantity": 20 + n,
         "unit": "paket", "valid_until": valid_until, "note": f"Impor uji {n}"}
        for n, (code, form) in enumerate(places)
    ]  # fmt: skip
    bad = [dict(good[0]), dict(good[1], area_code="31.73.04.1002.999"), dict(good[2], quantity=-3)]

    context, page = phone_page(chromium)
    errors = watch_errors(page)
    sign_in(page, live_portal, FACILITATOR, DEMO_PASSWORD)
    page.goto(f"{live_portal}/ruang-kerja/")
    page.click("text=Impor kebutuhan dari berkas")
    page.wait_for_selector("#id_file")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert axe(page) == []

    upload(page, "kebutuhan-kali-anyar.csv", csv_of(bad))

    problems = page.locator("table.import-problems tbody tr")
    assert problems.count() == 2
    assert "Tidak ada wilayah dengan kode 31.73.04.1002.999." in problems.nth(0).inner_text()
    assert "-3: jumlah harus lebih dari nol." in problems.nth(1).inner_text()
    assert page.locator("text=Tambahkan kebutuhan ini").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "needs-import-problems-phone")
    with django_db_blocker.unblock():
        assert Need.objects.count() == needs_before

    page.click("text=Unggah berkas yang sudah diperbaiki")
    upload(page, "kebutuhan-kali-anyar-diperbaiki.csv", csv_of(good))

    assert "3 kebutuhan akan ditambahkan" in page.inner_text("main")
    assert axe(page) == []
    screenshot(page, "needs-import-preview-phone")
    page.click("text=Tambahkan kebutuhan ini")
    page.wait_for_selector(".messages .message-success")

    assert "3 kebutuhan ditambahkan" in page.inner_text(".messages")
    screenshot(page, "needs-import-applied-phone")
    with django_db_blocker.unblock():
        created = Need.objects.filter(description__startswith="Impor uji", assessed_by=user)
        assert sorted((n.area.code, n.donation_form.slug) for n in created) == sorted(places)
        assert NeedChange.objects.filter(need__in=created, action="imported").count() == 3
    context.close()
    assert errors == []


def test_a_running_job_shows_progress_and_the_page_moves_on_by_itself(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        user = demo_user(FACILITATOR)
        job = NeedImport.objects.create(
            uploaded_by=user,
            file_name="besar.csv",
            format="csv",
            status="checking",
            rows_total=10_000,
            rows_done=2_500,
        )

    context, page = phone_page(chromium)
    errors = watch_errors(page)
    sign_in(page, live_portal, FACILITATOR, DEMO_PASSWORD)
    page.goto(f"{live_portal}/ruang-kerja/kebutuhan/impor/{job.pk}/")
    assert page.locator("progress").get_attribute("value") == "2500"
    screenshot(page, "needs-import-progress-phone")
    with django_db_blocker.unblock():
        NeedImport.objects.filter(pk=job.pk).update(rows_done=7_500)
    page.wait_for_function("() => document.querySelector('progress').value === 7500")
    with django_db_blocker.unblock():
        NeedImport.objects.filter(pk=job.pk).update(
            status="checked", rows_done=10_000, problem_count=1, problems=[
                {"row": 2, "column": "quantity", "code": "not_positive", "params": {"value": "0"}}
            ]
        )  # fmt: skip
    page.wait_for_selector(".import-status[data-status=checked]")

    assert "0: jumlah harus lebih dari nol." in page.inner_text("table.import-problems")
    context.close()
    assert errors == []
