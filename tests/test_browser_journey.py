"""The whole journey in headless Chromium: a collaborator signs up, pledges from the map,
a program lead verifies them, the facilitator confirms, the collaborator records a
delivery with a photo, the facilitator confirms receipt, and the map shows less need."""

import datetime
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from locations.models import Area, Facilitator, Need
from programs.models import DonationForm, ProgramLead

from .browser import (
    PASSWORD,
    axe,
    phone_context,
    remaining_on_map,
    screenshot,
    sign_in,
    watch_errors,
)
from .factories import jpeg_with_location

pytestmark = pytest.mark.browser


def staff_user(email):
    return get_user_model().objects.create_user(email, email, PASSWORD)


def test_pledge_to_proven_delivery(chromium, live_portal, django_db_blocker, tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    with django_db_blocker.unblock():
        rw = (
            Area.objects.filter(level="rw", is_residential=True, needs__isnull=True)
            .select_related("parent")
            .order_by("code")
            .first()
        )
        form = DonationForm.objects.get(program__slug="pangan", slug="groceries")
        need = Need.objects.create(
            area=rw,
            program=form.program,
            donation_form=form,
            quantity_needed=40,
            unit_value_idr=300_000,
            households=120,
            assessed_by_role=f"Ketua {rw.name}",
            valid_until=timezone.localdate() + datetime.timedelta(days=60),
        )
        facilitator = staff_user(f"lurah-{uuid.uuid4().hex[:6]}@example.org")
        Facilitator.objects.create(
            user=facilitator, area=rw.parent, title=f"Lurah {rw.parent.name}"
        )
        lead = staff_user(f"dinsos-{uuid.uuid4().hex[:6]}@example.org")
        ProgramLead.objects.create(user=lead, program=form.program)
        mail.outbox.clear()

    # The journey is about the lifecycle, online: no service worker saving pages beside it
    # (offline work has its own tests; CI saw this map read 0 once with one running).
    donor = phone_context(chromium, service_workers="block")
    page = donor.new_page()
    page.set_default_timeout(20_000)
    errors = watch_errors(page)

    # 1. Sign up and verify the email address.
    email = f"donatur-{uuid.uuid4().hex[:6]}@example.org"
    page.goto(f"{live_portal}/akun/daftar/")
    page.fill("#id_name", "Dewi Lestari")
    page.fill("#id_email", email)
    page.check("#id_consent")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert email in page.content()
    link = re.search(r"https?://\S+/akun/verifikasi/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    # The password is chosen behind the link, by whoever owns the address.
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_portal}/akun/kolaborator/")

    # 2. Register the organisation.
    name = f"PT Berbagi {uuid.uuid4().hex[:5]}"
    page.fill("#id_name", name)
    page.select_option("#id_kind", "company")
    page.click("form:has(input[value=create]) button[type=submit]")
    page.wait_for_url(f"{live_portal}/ruang-kerja/")

    # 3. Find the RW on the map and pledge from its panel.
    page.goto(f"{live_portal}/peta/")
    assert remaining_on_map(page, rw.code) == 40
    page.fill("#area-search", rw.code)
    page.locator("#search-results button").first.click()
    panel = page.locator("#area-panel")
    panel.locator(f"a[href='/janji/{need.pk}/']").click()
    page.wait_for_url(f"{live_portal}/janji/{need.pk}/")
    page.fill("#id_quantity", "5")
    assert "1,5" in page.locator("#estimate").inner_text()  # Rp 1,5 juta, shown as you type
    screenshot(page, "journey-pledge-form")
    assert axe(page) == []
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/komitmen/\d+/$"))
    commitment_url = page.url
    assert page.locator("h1 .badge").inner_text() == "dijanjikan"

    # 4. The program lead verifies the new collaborator.
    lead_context = chromium.new_context(locale="id-ID")
    lead_page = lead_context.new_page()
    errors += watch_errors(lead_page)
    sign_in(lead_page, live_portal, lead.email)
    lead_page.goto(f"{live_portal}/ruang-kerja/verifikasi/")
    lead_page.locator(f"tr:has-text('{name}') button[value=verify]").click()
    lead_page.wait_for_load_state()
    assert name not in lead_page.locator("table").inner_text()

    # 5. The facilitator confirms the pledge from the inbox.
    office = chromium.new_context(locale="id-ID")
    facilitator_page = office.new_page()
    errors += watch_errors(facilitator_page)
    sign_in(facilitator_page, live_portal, facilitator.email)
    facilitator_page.goto(f"{live_portal}/ruang-kerja/fasilitator/")
    assert axe(facilitator_page) == []
    facilitator_page.locator(f"a[href='{commitment_url.removeprefix(live_portal)}']").first.click()
    # Forms that work offline first check that the server answers (js/outbox.js), then submit.
    with facilitator_page.expect_navigation():
        facilitator_page.locator("form:has(input[name=target][value=committed]) button").click()
    assert facilitator_page.locator("h1 .badge").inner_text() == "dikonfirmasi"

    # 6. The collaborator records the delivery with a photo (which carries a GPS position).
    photo = tmp_path / "penyaluran.jpg"
    photo.write_bytes(jpeg_with_location())
    page.goto(commitment_url)
    page.locator("a[href$='/penyaluran/']").click()
    page.fill("#id_recipients_households", "5")
    page.set_input_files("#id_proofs", str(photo))
    page.click("main form button[type=submit]")
    page.wait_for_url(commitment_url)
    assert page.locator("h1 .badge").inner_text() == "disalurkan"
    assert page.locator(".proofs img").count() == 1
    screenshot(page, "journey-delivered")
    assert axe(page) == []

    # 7. The facilitator confirms receipt: the commitment is completed.
    facilitator_page.goto(commitment_url)
    with facilitator_page.expect_navigation():  # after the form's reachability check
        facilitator_page.locator("form[action*='/terima/'] button").click()
    assert facilitator_page.locator("h1 .badge").inner_text() == "selesai"

    # 8. The map shows the need reduced.
    page.goto(f"{live_portal}/peta/")
    assert remaining_on_map(page, rw.code) == 35
    page.fill("#area-search", rw.code)
    page.locator("#search-results button").first.click()
    panel.locator(".need-numbers").first.wait_for()
    numbers = panel.locator(".need-numbers").first.inner_text()
    assert "35" in numbers and "5" in numbers
    screenshot(page, "journey-map-after")
    with django_db_blocker.unblock():
        need.refresh_from_db()
        assert (need.quantity_claimed, need.quantity_delivered) == (5, 5)
    for context in (donor, lead_context, office):
        context.close()
    assert errors == []
