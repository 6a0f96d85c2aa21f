"""Verification decisions: a program lead decides for their own programs only and never
overrides an administrator; administrators decide for the whole portal."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from collaborators.models import Collaborator, ProgramVerification
from commitments.models import Commitment
from programs.models import ProgramLead

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    program,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def pangan_need():
    return NeedFactory(quantity_needed=100)


@pytest.fixture
def pendidikan_need():
    return NeedFactory(
        donation_form=program("pendidikan").donation_forms.first(), quantity_needed=100
    )


def pledged(collaborator, need) -> Commitment:
    return commitment_in("pledged", need=need, collaborator=collaborator, quantity=1)


def decide(client, collaborator, decision, program_id=None):
    data = {"decision": decision}
    if program_id is not None:
        data["program"] = program_id
    return client.post(reverse("verify-collaborator", args=[collaborator.slug]), data)


def public(client, collaborator) -> bool:
    gallery = client.get(reverse("collaborator-gallery")).content.decode()
    profile = client.get(collaborator.get_absolute_url()).status_code
    assert (collaborator.name in gallery) == (profile == 200)
    return profile == 200


def test_a_lead_cannot_reject_an_organisation_an_administrator_verified(client, pangan_need):
    admin = UserFactory(is_staff=True)
    verified = CollaboratorFactory(name="Yayasan Terpercaya", verified_by=admin)
    pledged(verified, pangan_need)
    client.force_login(lead_of("pangan"))
    assert "Yayasan Terpercaya" not in client.get(reverse("verification-queue")).content.decode()
    response = decide(client, verified, "reject", program("pangan").pk)
    assert response.status_code == 403
    assert "An administrator has already verified Yayasan Terpercaya" in (response.content.decode())
    verified.refresh_from_db()
    assert verified.verification_status == "verified"
    assert not ProgramVerification.objects.exists()
    client.logout()
    assert public(client, verified)


def test_a_lead_decision_applies_to_the_leads_program_only(client, pangan_need, pendidikan_need):
    newcomer = CollaboratorFactory(name="CV Baru", verification_status="unverified")
    in_pangan, in_pendidikan = pledged(newcomer, pangan_need), pledged(newcomer, pendidikan_need)
    lead = lead_of("pangan")
    client.force_login(lead)
    queue = client.get(reverse("verification-queue")).content.decode()
    assert "CV Baru" in queue and f"Verify for {program('pangan').name_en}" in queue
    response = decide(client, newcomer, "verify", program("pangan").pk)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert (
        f"CV Baru: verified for {program('pangan').name_en}." in page
        and "CV Baru" not in page.split("</h1>")[1]
    )
    newcomer.refresh_from_db()
    assert newcomer.verification_status == "unverified"  # the global status is untouched
    decision = ProgramVerification.objects.get()
    assert (decision.program.slug, decision.status, decision.decided_by) == (
        "pangan",
        "verified",
        lead,
    )
    # Its pledge in Pangan can be confirmed; the one in Pendidikan still waits.
    client.force_login(facilitator_of("31.73.04.1002.001"))
    for commitment in (in_pangan, in_pendidikan):
        client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "committed"})
    statuses = {c.program.slug: c.status for c in Commitment.objects.select_related("program")}
    assert statuses == {"pangan": "committed", "pendidikan": "pledged"}
    detail = client.get(in_pendidikan.get_absolute_url()).content.decode()
    assert "CV Baru is not verified yet" in detail
    # The lead of Pendidikan still decides for Pendidikan.
    client.force_login(lead_of("pendidikan"))
    assert "CV Baru" in client.get(reverse("verification-queue")).content.decode()


def test_a_lead_rejection_does_not_hide_a_collaborator_verified_in_another_program(
    client, pangan_need, pendidikan_need
):
    collaborator = CollaboratorFactory(name="CV Dua Program", verification_status="unverified")
    pledged(collaborator, pangan_need)
    pledged(collaborator, pendidikan_need)
    assert not public(client, collaborator)
    client.force_login(lead_of("pendidikan"))
    assert decide(client, collaborator, "verify").status_code == 302  # their only program
    client.force_login(lead_of("pangan"))
    assert decide(client, collaborator, "reject", program("pangan").pk).status_code == 302
    client.logout()
    assert public(client, collaborator)
    assert Collaborator.objects.get(pk=collaborator.pk).is_verified
    assert collaborator.standing_in(program("pangan").pk) == "rejected"
    assert collaborator.standing_in(program("pendidikan").pk) == "verified"


def test_a_lead_of_several_programs_says_which_program(client, pangan_need):
    newcomer = CollaboratorFactory(name="CV Baru", verification_status="unverified")
    pledged(newcomer, pangan_need)
    lead = lead_of("pangan")
    ProgramLead.objects.create(user=lead, program=program("pendidikan"))
    client.force_login(lead)
    queue = client.get(reverse("verification-queue")).content.decode()
    assert f"For {program('pangan').name_en}" in queue
    assert f"For {program('pendidikan').name_en}" in queue
    assert queue.count("CV Baru") == 1  # it pledged to Pangan only
    response = decide(client, newcomer, "verify")
    assert (
        "Choose the program this decision is for."
        in client.get(response["Location"]).content.decode()
    )
    # Not in Pendidikan: nothing to decide there; nor in a program the lead does not lead.
    assert decide(client, newcomer, "verify", program("pendidikan").pk).status_code == 403
    assert decide(client, newcomer, "verify", program("umkm").pk).status_code == 403
    assert decide(client, newcomer, "verify", "\x00").status_code in (302, 400)
    assert not ProgramVerification.objects.exists()
    assert decide(client, newcomer, "reject", program("pangan").pk).status_code == 302
    assert ProgramVerification.objects.get().status == "rejected"


def test_administrators_decide_for_the_whole_portal(client, pangan_need, pendidikan_need):
    collaborator = CollaboratorFactory(name="CV Baru", verification_status="unverified")
    pledged(collaborator, pangan_need)
    ProgramVerification.objects.create(
        collaborator=collaborator, program=program("pangan"), status="verified"
    )
    admin = UserFactory(is_staff=True)
    client.force_login(admin)
    queue = client.get(reverse("verification-queue")).content.decode()
    assert "For the whole portal" in queue and "CV Baru" in queue
    assert decide(client, collaborator, "reject").status_code == 302
    collaborator.refresh_from_db()
    assert (collaborator.verification_status, collaborator.verified_by) == ("rejected", admin)
    # The administrator's rejection overrides the lead's verification everywhere.
    assert collaborator.standing_in(program("pangan").pk) == "rejected"
    assert not collaborator.is_verified
    client.logout()
    assert not public(client, collaborator)


def test_lead_decisions_made_globally_before_move_to_their_programs(pangan_need):
    lead = lead_of("pangan")
    admin = UserFactory(is_staff=True)
    by_lead = CollaboratorFactory(verification_status="rejected", verified_by=lead)
    by_admin = CollaboratorFactory(verification_status="verified", verified_by=admin)
    seeded = CollaboratorFactory(verification_status="verified")
    for collaborator in (by_lead, by_admin, seeded):
        pledged(collaborator, pangan_need)
    migration = importlib.import_module("collaborators.migrations.0004_move_lead_decisions")
    migration.move_lead_decisions(apps, None)
    statuses = dict(Collaborator.objects.values_list("pk", "verification_status"))
    assert statuses == {by_lead.pk: "unverified", by_admin.pk: "verified", seeded.pk: "verified"}
    moved = ProgramVerification.objects.get()
    assert (moved.collaborator, moved.program.slug, moved.status, moved.decided_by) == (
        by_lead,
        "pangan",
        "rejected",
        lead,
    )


def test_the_admin_lists_program_decisions(client, pangan_need):
    collaborator = CollaboratorFactory(name="CV Baru", verification_status="unverified")
    ProgramVerification.objects.create(
        collaborator=collaborator, program=program("pangan"), status="verified"
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:collaborators_programverification_changelist"))
    assert listing.status_code == 200 and "CV Baru" in listing.content.decode()
    change = client.get(reverse("admin:collaborators_collaborator_change", args=[collaborator.pk]))
    assert change.status_code == 200 and "program_verifications" in change.content.decode()
