"""On a phone (390x844): a recipient with no account reports "less than stated" for a
delivery and gets a tracking code; the program lead signs in and answers (resolved, with
what was done); the recipient, signed out, enters the code and reads the answer."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from collaborators.models import Collaborator
from commitments.models import Commitment, Delivery
from locations.models import Area, Need
from programs.models import DonationForm, ProgramLead

from .browser import (
    PASSWORD,
    WIDTH,
    axe,
    phone_context,
    screenshot,
    sign_in,
    sign_out,
    watch_errors,
)

pytestmark = pytest.mark.browser

ANSWER = "Kekurangan 4 paket sudah dikirim ulang oleh kolaborator."


def delivery_and_lead(tag: str):
    rw = Area.objects.filter(level="rw", is_residential=True).order_by("code")[5]
    form = DonationForm.objects.filter(program__slug="pangan").order_by("pk").first()
    need = Need.objects.create(
        area=rw,
        program=form.program,
        donation_form=form,
        quantity_needed=10,
        quantity_claimed=10,
        valid_until=timezone.localdate() + timezone.timedelta(days=30),
        assessed_by_role="Ketua RW",
    )
    collaborator = Collaborator.objects.create(
        name=f"PT Pangan {tag}",
        slug=f"pangan-{tag}",
        kind="company",
        verification_status="verified",
    )
    commitment = Commitment.objects.create(
        collaborator=collaborator,
        need=need,
        area=rw,
        program=form.program,
        donation_form=form,
        quantity=10,
        status="delivered",
        idempotency_key=uuid.uuid4().hex,
    )
    delivery = Delivery.objects.create(
        commitment=commitment, quantity=10, delivered_on=timezone.localdate()
    )
    email = f"lead-lapor-{tag}@example.org"
    lead = get_user_model().objects.create_user(email, email, PASSWORD)
    ProgramLead.objects.create(user=lead, program=form.program)
    return delivery, email


def fits(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH


def test_a_recipient_reports_the_lead_answers_the_recipient_reads_it_on_a_phone(
    chromium, live_portal, django_db_blocker, settings
):
    settings.FEEDBACK_MIN_FILL_SECONDS = 0  # a robot's speed is what this test types at
    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        delivery, lead_email = delivery_and_lead(tag)
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = watch_errors(page)

    # The recipient, with no account, from the delivery's link.
    page.goto(f"{live_portal}/lapor/?delivery={delivery.pk}")
    page.check("input[name=category][value=less]")
    page.fill("#id_text", "Yang sampai hanya 6 paket, tertulis 10.")
    page.fill("#id_contact_phone", "0812 3456 7890")
    fits(page)
    assert axe(page) == []
    screenshot(page, "feedback-form-phone")
    with page.expect_navigation():
        page.click("form.feedback-form button[type=submit]")
    code = page.get_attribute(".tracking-code", "data-code")
    assert code and len(code) == 10
    fits(page)
    screenshot(page, "feedback-sent-phone")

    # The lead answers.
    sign_in(page, live_portal, lead_email)
    page.goto(f"{live_portal}/ruang-kerja/laporan/?status=open")
    fits(page)
    with page.expect_navigation():
        page.click(f"tr[data-code='{code}'] a")
    assert "0812" in page.inner_text("main") or "+62812" in page.inner_text("main")
    page.select_option("#id_status", "resolved")
    page.fill("#id_answer", ANSWER)
    fits(page)
    with page.expect_navigation():
        page.click("form.report-status-form button[type=submit]")
    assert ANSWER in page.inner_text(".report-answer")
    sign_out(page, live_portal)

    # The recipient, signed out, with the code.
    page.goto(f"{live_portal}/lapor/lacak/")
    page.fill("#id_code", f"{code[:5]}-{code[5:]}".lower())
    with page.expect_navigation():
        page.click("form.track-form button[type=submit]")
    main = page.inner_text("main")
    assert ANSWER in main and "0812" not in main
    fits(page)
    assert axe(page) == []
    screenshot(page, "feedback-answer-phone")
    context.close()
    assert errors == [], errors
