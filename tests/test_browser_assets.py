"""On a phone (390x844), an RW facilitator confirms a delivery of five laptops by registering
them in two groups (the school's two, one serial number a line; three pupils', "serial; name"
a line, in a group added on the page), and later marks one of the pupils' laptops lost."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from collaborators.models import Collaborator, Membership
from commitments.assets.models import Asset
from commitments.lifecycle.transitions import delivery_record
from commitments.models import Commitment
from locations.models import Area, Facilitator, Need, Site
from programs.models import DonationForm

from .browser import PASSWORD, WIDTH, axe, phone_context, screenshot, sign_in, watch_errors
from .world import PROOF

pytestmark = pytest.mark.browser

OWNERS = [
    ("school", ""),
    ("school", ""),
    ("private", "Siti"),
    ("private", "Budi"),
    ("private", "Ani"),
]


def laptop_delivery(tag: str):
    """A school in an RW, its facilitator, and a recorded delivery of five laptops for it."""
    rw = Area.objects.filter(level="rw", is_residential=True).order_by("code")[3]
    school = Site.objects.create(
        area=rw, kind="school", name=f"SD Swasta Uji {tag}", lon=106.8, lat=-6.15
    )
    email = f"rw-aset-{tag}@example.org"
    facilitator = get_user_model().objects.create_user(email, email, PASSWORD)
    Facilitator.objects.create(user=facilitator, area=rw, title="Ketua RW")
    laptops = DonationForm.objects.get(
        program__slug="pendidikan", slug="student-gadget-pc-laptop-handphone"
    )
    need = Need.objects.create(
        area=rw,
        site=school,
        program=laptops.program,
        donation_form=laptops,
        quantity_needed=5,
        quantity_claimed=5,
        unit_value_idr=4_500_000,
        valid_until=timezone.localdate() + timezone.timedelta(days=30),
        assessed_by_role="Kepala sekolah",
    )
    collaborator = Collaborator.objects.create(
        name=f"PT Gawai {tag}", slug=f"gawai-{tag}", kind="company", verification_status="verified"
    )
    donor = get_user_model().objects.create_user(f"d-{email}", f"d-{email}", PASSWORD)
    Membership.objects.create(user=donor, collaborator=collaborator, role="owner")
    commitment = Commitment.objects.create(
        collaborator=collaborator,
        need=need,
        area=rw,
        site=school,
        program=laptops.program,
        donation_form=laptops,
        quantity=5,
        status="committed",
        idempotency_key=uuid.uuid4().hex,
    )
    delivery_record(
        commitment_id=commitment.pk,
        actor=donor,
        quantity=5,
        delivered_on=timezone.localdate(),
        recipients_households=None,
        recipients_persons=5,
        proofs=[PROOF],
    )
    return commitment, school, email


def test_a_facilitator_registers_five_laptops_then_marks_one_lost_on_a_phone(
    chromium, live_portal, django_db_blocker
):
    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        commitment, school, email = laptop_delivery(tag)

    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = watch_errors(page)
    sign_in(page, live_portal, email)

    page.goto(f"{live_portal}/komitmen/{commitment.pk}/")
    page.click("text=Daftarkan aset dan konfirmasi penerimaan")
    page.wait_for_selector("form.asset-register-form")
    assert page.locator(".asset-groups fieldset.asset-group").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    assert axe(page) == []
    # Group 1: the school's two, one serial number a line.
    page.select_option("#id_g1-owner_kind", "school")
    page.select_option("#id_g1-owner_site", str(school.pk))
    page.fill("#id_g1-lines", f"LPT-{tag}-1\nLPT-{tag}-2")
    # Group 2, added on the page: three pupils, "serial; name" a line.
    page.click("button.asset-add-group")
    page.wait_for_selector("#id_g2-lines")
    assert page.input_value("input[name=groups]") == "2"
    page.select_option("#id_g2-owner_kind", "private")
    pupils = [
        f"LPT-{tag}-{number}; {name} {tag}"
        for number, (kind, name) in enumerate(OWNERS, start=1)
        if kind == "private"
    ]
    page.fill("#id_g2-lines", "\n".join(pupils))
    assert "5" in page.inner_text(".asset-total")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    assert axe(page) == []
    screenshot(page, "asset-register-phone")
    page.click("form.asset-register-form button[type=submit].primary")
    page.wait_for_url(f"**/komitmen/{commitment.pk}/")
    assert "Selesai" in page.inner_text("main")  # the commitment is completed

    # Later: the register of the RW, a pupil's laptop, marked lost.
    page.goto(f"{live_portal}/aset/wilayah/{commitment.area.code}/")
    assert f"Siti {tag}" in page.inner_text("main")  # their facilitator sees the names
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    page.click(f"text=LPT-{tag}-4")
    page.wait_for_selector("form.asset-event-form")
    page.select_option("#id_kind", "lost")
    page.fill("#id_note", "Hilang di angkot")
    screenshot(page, "asset-event-phone")
    page.click("form.asset-event-form button[type=submit].primary")
    page.wait_for_selector(".asset-history li:nth-child(2)")
    history = page.inner_text(".asset-history")
    assert "hilang" in history and "Hilang di angkot" in history
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    context.close()

    with django_db_blocker.unblock():
        assets = Asset.objects.filter(delivery__commitment=commitment).order_by("serial_number")
        assert [(a.owner_kind, a.status) for a in assets] == [
            ("school", "in_use"),
            ("school", "in_use"),
            ("private", "in_use"),
            ("private", "lost"),
            ("private", "in_use"),
        ]
        commitment.refresh_from_db()
        assert commitment.status == "completed"
    assert errors == []
