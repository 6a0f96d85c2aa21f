"""On a phone (390x844), a kelurahan head records a commitment made outside the portal:
from the workspace, to the form, picking an RW of their kelurahan, to the commitment page."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from collaborators.models import Collaborator
from commitments.models import Commitment
from locations.models import Area, Facilitator
from programs.models import DonationForm

from .browser import PASSWORD, WIDTH, axe, phone_context, screenshot, sign_in, watch_errors

pytestmark = pytest.mark.browser


def test_a_facilitator_records_an_offline_commitment_on_a_phone(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        rw = Area.objects.filter(level="rw", is_residential=True).select_related("parent")[0]
        email = f"lurah-luring-{uuid.uuid4().hex[:6]}@example.org"
        user = get_user_model().objects.create_user(email, email, PASSWORD)
        Facilitator.objects.create(user=user, area=rw.parent, title=f"Lurah {rw.parent.name}")
        name = f"Majelis Taklim {uuid.uuid4().hex[:4]}"
        collaborator = Collaborator.objects.create(
            name=name,
            slug=f"mt-{uuid.uuid4().hex[:8]}",
            kind="community",
            verification_status="verified",
        )
        groceries = DonationForm.objects.get(program__slug="pangan", slug="groceries")

    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = watch_errors(page)
    sign_in(page, live_portal, email)

    page.goto(f"{live_portal}/ruang-kerja/")
    page.click("text=Catat komitmen luring")
    page.wait_for_selector("form.offline-form")
    # Their own RW are suggested as they type; nothing is wider than the phone.
    assert page.locator(f"#offline-areas option[value='{rw.code}']").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    assert axe(page) == []
    page.select_option("#id_collaborator", str(collaborator.pk))
    page.fill("#id_area", rw.code)
    page.select_option("#id_donation_form", str(groceries.pk))
    page.fill("#id_quantity", "12")
    page.fill("#id_note", "Diserahkan saat rapat RW")
    screenshot(page, "offline-commitment-form-phone")
    page.click("form.offline-form button[type=submit].primary")
    page.wait_for_url("**/komitmen/*/")

    body = page.inner_text("main")
    assert name in body and "luring" in body
    screenshot(page, "offline-commitment-recorded-phone")
    with django_db_blocker.unblock():
        commitment = Commitment.objects.get(collaborator=collaborator)
        assert (commitment.channel, commitment.status, commitment.area) == (
            "offline",
            "committed",
            rw,
        )
    context.close()
    assert errors == []
