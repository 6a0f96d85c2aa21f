"""Pledging over HTTP: the form, limits, idempotency, verification, statement letters."""

import uuid

import pytest
from django.core import mail
from django.urls import reverse

from commitments.models import Commitment, CommitmentEvent, Notification
from locations.models import Need

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    collaborator_and_member,
    facilitator_of,
    lead_of,
    member_of,
)
from .world import pledge_by_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def need():
    return NeedFactory(quantity_needed=10, unit_value_idr=300_000)


@pytest.fixture
def signed_in_donor(client):
    """A collaborator whose owner the client is signed in as."""
    collaborator, member = collaborator_and_member(name="PT Dermawan")
    client.force_login(member)
    return collaborator


def test_the_form_shows_the_need_and_a_fresh_key(client, signed_in_donor, need):
    response = client.get(reverse("pledge-create", args=[need.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sembako" in html and "RW 01, Kali Anyar" in html
    assert 'max="10"' in html
    assert 'data-unit-value="300000"' in html
    key = response.context["form"].initial["key"]
    assert (
        key != client.get(reverse("pledge-create", args=[need.pk])).context["form"].initial["key"]
    )


def test_a_pledge_claims_the_need_and_tells_the_facilitator(
    client, signed_in_donor, need, django_capture_on_commit_callbacks
):
    facilitator = facilitator_of("31.73.04.1002", title="Lurah Kali Anyar")
    with django_capture_on_commit_callbacks(execute=True):
        response = pledge_by_form(
            client, need, quantity=4, collaborator=signed_in_donor.pk, is_anonymous="on"
        )
    commitment = Commitment.objects.get()
    assert response.status_code == 302 and response["Location"] == commitment.get_absolute_url()
    assert (commitment.status, commitment.quantity, commitment.value_idr) == (
        "pledged",
        4,
        1_200_000,
    )
    assert commitment.is_anonymous and commitment.collaborator == signed_in_donor
    need.refresh_from_db()
    assert (need.quantity_claimed, need.quantity_remaining) == (4, 6)
    event = CommitmentEvent.objects.get()
    assert (event.from_status, event.to_status, event.actor_role) == ("", "pledged", "collaborator")
    assert Notification.objects.filter(user=facilitator, commitment=commitment).exists()
    assert [m.to for m in mail.outbox] == [[facilitator.email]]
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "dijanjikan" in page


def test_more_than_remains_is_refused_with_a_clear_message(client, signed_in_donor, need):
    Need.objects.filter(pk=need.pk).update(quantity_claimed=8)
    response = pledge_by_form(client, need, quantity=3, collaborator=signed_in_donor.pk)
    assert response.status_code == 400
    assert (
        "Hanya 2 tersisa" in response.content.decode()
        or "Only 2 remain" in response.content.decode()
    )
    assert not Commitment.objects.exists()
    for bad in (0, -1, "abc", ""):
        assert (
            pledge_by_form(client, need, quantity=bad, collaborator=signed_in_donor.pk).status_code
            == 400
        )
    assert not Commitment.objects.exists()


def test_same_submission_twice_creates_one_commitment(client, signed_in_donor, need):
    key = uuid.uuid4().hex
    first = pledge_by_form(client, need, quantity=2, key=key, collaborator=signed_in_donor.pk)
    second = pledge_by_form(client, need, quantity=2, key=key, collaborator=signed_in_donor.pk)
    assert Commitment.objects.count() == 1
    assert first["Location"] == second["Location"]
    need.refresh_from_db()
    assert need.quantity_claimed == 2


def test_a_retry_of_the_last_units_still_finds_its_commitment(client, signed_in_donor, need):
    key = uuid.uuid4().hex
    pledge_by_form(client, need, quantity=10, key=key, collaborator=signed_in_donor.pk)
    again = pledge_by_form(client, need, quantity=10, key=key, collaborator=signed_in_donor.pk)
    assert again.status_code in (302, 409)
    assert Commitment.objects.count() == 1


def test_signed_out_visitors_sign_in_first(client, need):
    response = client.get(reverse("pledge-create", args=[need.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_users_without_a_collaborator_register_one_first(client, need):
    from .factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("pledge-create", args=[need.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("onboarding")


def test_pledging_for_someone_elses_collaborator_is_refused(client, signed_in_donor, need):
    other = CollaboratorFactory()
    response = pledge_by_form(client, need, collaborator=other.pk)
    assert response.status_code == 400  # not among the choices offered to this user
    assert not Commitment.objects.exists()


def test_closed_or_expired_needs_take_no_pledges(client, signed_in_donor, need):
    Need.objects.filter(pk=need.pk).update(status=Need.Status.CLOSED)
    assert client.get(reverse("pledge-create", args=[need.pk])).status_code == 409
    assert pledge_by_form(client, need, collaborator=signed_in_donor.pk).status_code == 409
    Need.objects.filter(pk=need.pk).update(status=Need.Status.OPEN, valid_until="2001-01-01")
    assert pledge_by_form(client, need, collaborator=signed_in_donor.pk).status_code == 409
    assert not Commitment.objects.exists()


def test_past_planned_dates_are_refused(client, signed_in_donor, need):
    response = pledge_by_form(client, need, collaborator=signed_in_donor.pk, date="2001-01-01")
    assert response.status_code == 400
    assert not Commitment.objects.exists()


def test_unverified_collaborators_pledge_but_wait_for_verification(client, need):
    newcomer = CollaboratorFactory(verification_status="unverified")
    client.force_login(member_of(newcomer))
    pledge_by_form(client, need, quantity=2, collaborator=newcomer.pk)
    commitment = Commitment.objects.get()
    facilitator = facilitator_of("31.73.04.1002.001")
    client.force_login(facilitator)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "belum terverifikasi" in page or "not verified" in page
    client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "committed"})
    commitment.refresh_from_db()
    assert commitment.status == "pledged"
    lead = lead_of("pangan")
    client.force_login(lead)
    queue = client.get(reverse("verification-queue")).content.decode()
    assert newcomer.name in queue
    client.post(reverse("verify-collaborator", args=[newcomer.slug]), {"decision": "verify"})
    client.force_login(facilitator)
    client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "committed"})
    commitment.refresh_from_db()
    assert commitment.status == "committed"


def test_a_lead_of_another_program_cannot_verify(client, need):
    newcomer = CollaboratorFactory(verification_status="unverified")
    client.force_login(member_of(newcomer))
    pledge_by_form(client, need, collaborator=newcomer.pk)
    client.force_login(lead_of("tenaga-kerja"))
    assert newcomer.name not in client.get(reverse("verification-queue")).content.decode()
    response = client.post(
        reverse("verify-collaborator", args=[newcomer.slug]), {"decision": "verify"}
    )
    assert response.status_code == 403
    newcomer.refresh_from_db()
    assert newcomer.verification_status == "unverified"


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_statement_letter_must_be_a_pdf(client, signed_in_donor, need, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("letter.pdf", b"\x89PNG\r\n\x1a\n not a pdf at all")
    response = pledge_by_form(client, need, collaborator=signed_in_donor.pk, statement_letter=fake)
    assert response.status_code == 400
    assert "bukan" in response.content.decode() or "is not" in response.content.decode()
    assert not Commitment.objects.exists() and not list(tmp_path.rglob("*.*"))
    good = SimpleUploadedFile("surat.pdf", PDF, content_type="application/pdf")
    response = pledge_by_form(client, need, collaborator=signed_in_donor.pk, statement_letter=good)
    commitment = Commitment.objects.get()
    assert commitment.statement_letter.name.endswith(".pdf")
    letter = client.get(reverse("statement-file", args=[commitment.pk]))
    assert letter.status_code == 200 and b"".join(letter.streaming_content) == PDF
    client.force_login(member_of(CollaboratorFactory()))
    assert client.get(reverse("statement-file", args=[commitment.pk])).status_code == 404
