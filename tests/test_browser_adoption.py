"""On a phone (390x844): a collaborator proposes to adopt an RW from its area page, the RW's
facilitator comments, the program lead agrees; then a need posted in that RW is offered to
the adopter first, and another collaborator who tries to pledge is told so."""

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from collaborators.models import Collaborator, Membership
from commitments.adoption.models import Adoption
from commitments.needs.upkeep import need_create
from locations.models import Area, Facilitator
from programs.models import DonationForm, Program, ProgramLead

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
PROGRAM = "penataan-pemukiman"


def _user(prefix: str):
    email = f"{prefix}-{uuid.uuid4().hex[:6]}@example.org"
    return get_user_model().objects.create_user(email, email, PASSWORD)


def _collaborator(name: str):
    collaborator = Collaborator.objects.create(
        name=name, slug=f"c-{uuid.uuid4().hex[:8]}", kind="company", verification_status="verified"
    )
    user = _user("anggota")
    Membership.objects.create(user=user, collaborator=collaborator, role="owner")
    return collaborator, user


def _world():
    rw = (
        Area.objects.filter(level="rw", is_residential=True)
        .exclude(adoption_claims__holds=True)
        .exclude(parent__facilitators__isnull=False)
        .select_related("parent")
        .order_by("-code")[0]
    )
    adopter, owner = _collaborator(f"YPO Uji {uuid.uuid4().hex[:4]}")
    other, other_owner = _collaborator(f"PT Lain {uuid.uuid4().hex[:4]}")
    facilitator = _user("ketua-rw")
    Facilitator.objects.create(user=facilitator, area=rw, title=f"Ketua {rw.name}")
    lead = _user("dinas")
    ProgramLead.objects.create(user=lead, program=Program.objects.get(slug=PROGRAM))
    return rw, adopter, owner, other, other_owner, facilitator, lead


def _fits(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    assert axe(page) == []


def test_an_adoption_proposed_agreed_and_a_need_offered_first_on_a_phone(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        rw, adopter, owner, other, other_owner, facilitator, lead = _world()
        works = DonationForm.objects.filter(program__slug=PROGRAM).order_by("sort_order")[0]
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = watch_errors(page)

    # 1. The adopter proposes from the RW's page.
    sign_in(page, live_portal, owner.email)
    page.goto(f"{live_portal}{rw.get_absolute_url()}")
    page.click("p.adopt-action a")
    page.select_option("#adopt-program", PROGRAM)
    page.click("main form button[type=submit]")
    page.wait_for_selector("form.adoption-form")
    _fits(page)
    page.fill("#id_name", "Kampung Uji Telepon")
    page.fill("#id_starts_on", timezone.localdate().isoformat())
    page.fill("#id_ends_on", (timezone.localdate() + datetime.timedelta(days=365)).isoformat())
    page.fill("#id_phase1_title", "Saluran air")
    page.fill(
        "#id_phase1_target_on", (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    )
    page.select_option("#id_phase1_item1_form", str(works.pk))
    page.fill("#id_phase1_item1_quantity", "4")
    screenshot(page, "adoption-proposal-phone")
    page.click("form.adoption-form button[type=submit]")
    page.wait_for_url("**/adopsi/*/")
    with django_db_blocker.unblock():
        adoption = Adoption.objects.get(collaborator=adopter)
    assert adoption.status == "proposed"
    url = f"{live_portal}{adoption.get_absolute_url()}"

    # 2. The RW's facilitator comments.
    sign_out(page, live_portal)
    sign_in(page, live_portal, facilitator.email)
    page.goto(url)
    page.fill("#id_text", "Warga sudah bermusyawarah dan setuju.")
    page.click("form[action$='/komentar/'] button[type=submit]")
    page.wait_for_selector("blockquote.facilitator-comment")

    # 3. The program lead agrees, from their list of proposals.
    sign_out(page, live_portal)
    sign_in(page, live_portal, lead.email)
    page.goto(f"{live_portal}/ruang-kerja/adopsi/")
    page.click(f"a[href='{adoption.get_absolute_url()}']")
    _fits(page)
    page.fill("#agree-note", "Disetujui.")
    page.click("form:has(input[value=agree]) button[type=submit]")
    page.wait_for_selector(".badge.adoption-active")
    screenshot(page, "adoption-agreed-phone")

    # 4. A need posted in the RW goes to the adopter first; another collaborator is told.
    with django_db_blocker.unblock():
        need = need_create(
            actor=facilitator,
            area=rw,
            site=None,
            program=works.program,
            donation_form=works,
            quantity_needed=10,
            priority=1,
            households=10,
            persons=40,
            valid_until=timezone.localdate() + datetime.timedelta(days=60),
        )
    sign_out(page, live_portal)
    sign_in(page, live_portal, other_owner.email)
    page.goto(f"{live_portal}{rw.get_absolute_url()}")
    assert adopter.name in page.inner_text("p.adopted-by")
    assert adopter.name in page.inner_text(".first-offer")
    page.goto(f"{live_portal}/janji/{need.pk}/")
    page.fill("#id_quantity", "2")
    page.click("main form button[type=submit].primary")
    page.wait_for_load_state()
    assert adopter.name in page.inner_text("main")
    screenshot(page, "adoption-first-offer-refused-phone")
    with django_db_blocker.unblock():
        assert not other.commitments.exists()
    context.close()
    # The refused pledge answers 409, which the browser reports; nothing else went wrong.
    assert [e for e in errors if "409 (Conflict)" not in e] == []
