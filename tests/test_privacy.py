"""Personal data under Law 27/2022: consent (recorded, withdrawn at once, given again),
the download of a person's own data, who viewed it, the staff-only record of processing,
and the permission matrix of these pages, walked from the URL resolver."""

import json

import pytest
from django.core import mail
from django.urls import get_resolver, reverse
from django.utils import translation

from collaborators.models import Collaborator, Consent, Membership, PersonalDataView
from collaborators.privacy import CONSENT_WORDING_VERSION, consent_given
from commitments.models import Notification
from commitments.notify.notifications import notifications_send, notifications_write
from commitments.privacy.mydata import my_data

from .factories import CollaboratorFactory, CommitmentFactory, UserFactory, lead_of, member_of
from .privacy_world import EMAIL, NAME, person_who_does_everything
from .world import signed_in

pytestmark = pytest.mark.django_db


def _choose(client, purpose, given):
    return client.post(reverse("privacy"), {"purpose": purpose, "given": "1" if given else "0"})


def test_sign_up_records_consent_with_its_wording_and_time(client):
    client.post(reverse("signup"), {"name": "Ani", "email": "ani@contoh.id", "consent": "on"})
    rows = {c.purpose: c for c in Consent.objects.filter(user__email="ani@contoh.id")}
    assert rows["account"].given and not rows["notifications"].given
    assert not rows["public_name"].given  # unticked by default
    assert {r.wording_version for r in rows.values()} == {CONSENT_WORDING_VERSION}
    assert all(r.at for r in rows.values())


def test_withdrawing_notifications_stops_queued_and_new_ones_and_giving_again_resumes():
    user = UserFactory()
    client = signed_in(user)
    queued = notifications_write([user], subject="antre", body="b", url="/")
    mail.outbox.clear()
    assert _choose(client, "notifications", False).status_code == 302
    latest = Consent.objects.filter(user=user).latest("at")
    assert not latest.given and latest.wording_version == CONSENT_WORDING_VERSION
    notifications_write([user], subject="baru", body="b", url="/")
    notifications_send()
    assert mail.outbox == []
    # Still in the portal's inbox, handled: not sent late when consent is given again.
    assert Notification.objects.filter(pk__in=queued, emailed_at__isnull=False).exists()
    assert signed_in(user).get(reverse("notifications")).status_code == 200
    _choose(client, "notifications", True)
    notifications_write([user], subject="lanjut", body="b", url="/")
    notifications_send()
    assert [m.subject for m in mail.outbox] == ["lanjut"]


def test_an_individual_is_anonymous_in_public_until_their_person_gives_the_public_name(client):
    person_collaborator = CollaboratorFactory(kind=Collaborator.Kind.INDIVIDUAL, name="Ibu Sari")
    person = member_of(person_collaborator)
    commitment = CommitmentFactory(collaborator=person_collaborator)
    company = CollaboratorFactory(name="PT Maju Jaya")
    area_url = reverse("area-detail", args=[commitment.area.code])

    def shown():
        pages = [
            client.get(reverse("collaborator-gallery")).content.decode(),
            client.get(area_url).content.decode(),
            client.get("/api/v1/collaborators/").content.decode(),
        ]
        detail = client.get(reverse("collaborator-detail", args=[person_collaborator.slug]))
        return any("Ibu Sari" in page for page in pages), detail.status_code

    assert company.public_name == "PT Maju Jaya"
    assert shown() == (False, 404)  # never given
    assert commitment.public_name != "Ibu Sari"
    _choose(signed_in(person), "public_name", True)
    assert shown() == (True, 200)
    _choose(signed_in(person), "public_name", False)
    assert shown() == (False, 404)
    assert Collaborator.objects.publicly_named().filter(pk=company.pk).exists()


def test_withdrawing_the_account_leads_to_erasure():
    response = _choose(signed_in(UserFactory()), "account", False)
    assert response.url == reverse("erasure-request")


def test_download_holds_every_registered_field_of_the_person_and_nobody_else(
    django_capture_on_commit_callbacks,
):
    other = member_of(CollaboratorFactory(), email="lain.orang@contoh.id", first_name="Lain")
    user, collaborator, lead, _commitment = person_who_does_everything(
        django_capture_on_commit_callbacks
    )
    Membership.objects.create(user=other, collaborator=collaborator)
    response = signed_in(user).get(reverse("my-data-json"))
    assert response["Content-Disposition"].startswith("attachment")
    text = response.content.decode()
    data = json.loads(text)
    models = {s["model"] for s in data["sections"]}
    for label in (
        "auth.User",
        "collaborators.Consent",
        "collaborators.Membership",
        "collaborators.WhatsAppNumber",
        "collaborators.CollaboratorContact",
        "commitments.Notification",
        "commitments.Commitment",
        "feedback.Report",
        "api.ApiToken",
        "collaborators.PersonalDataView",
        "commitments.CommitmentEvent",
    ):
        assert label in models
    for value in (NAME, EMAIL, "+6281299887766", "Skrip"):
        assert value in text
    assert "lain.orang@contoh.id" not in text and "Lain" not in text
    assert user.api_tokens.get().digest not in text and "pbkdf2" not in text
    with translation.override("id"):
        assert data["viewed_by"][0]["role"] == translation.gettext("program lead")
    page = signed_in(user).get(reverse("my-data")).content.decode()
    assert NAME in page and "lain.orang" not in page
    assert my_data(other)["sections"]  # the other person's own download is theirs


def test_who_looked_lists_a_leads_view_of_a_contact(django_capture_on_commit_callbacks):
    user, _collaborator, lead, _c = person_who_does_everything(django_capture_on_commit_callbacks)
    view = PersonalDataView.objects.get(subject=user, viewer=lead)
    assert view.what == "contact"
    page = signed_in(user).get(reverse("privacy")).content.decode()
    with translation.override("id"):
        assert translation.gettext("program lead") in page


def test_owner_seeing_member_emails_on_the_team_page_is_logged():
    collaborator = CollaboratorFactory()
    owner, member = member_of(collaborator), UserFactory()
    Membership.objects.create(user=member, collaborator=collaborator)
    signed_in(owner).get(reverse("team", args=[collaborator.slug]))
    assert PersonalDataView.objects.filter(subject=member, viewer=owner).count() == 1
    assert not PersonalDataView.objects.filter(subject=owner).exists()


# --- the permission matrix ------------------------------------------------------------------

OWN = {"anonymous": 302, "person": 200, "lead": 200, "staff": 200}
MATRIX = {
    "privacy": OWN,
    "my-data": OWN,
    "my-data-json": OWN,
    "erasure-request": OWN,
    "processing-record": {"anonymous": 302, "person": 403, "lead": 403, "staff": 200},
}


def _privacy_url_names(patterns=None):
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if hasattr(pattern, "url_patterns"):
            names |= _privacy_url_names(pattern.url_patterns)
        elif pattern.callback.__module__ == "commitments.web.privacy_views":
            names.add(pattern.name)
    return names


def test_every_privacy_url_is_in_the_matrix_and_answers_as_it_says(client):
    assert _privacy_url_names() == set(MATRIX)
    users = {
        "person": UserFactory(),
        "lead": lead_of("pangan"),
        "staff": UserFactory(is_staff=True),
    }
    for name, expected in MATRIX.items():
        url = reverse(name)
        response = client.get(url)
        assert response.status_code == expected["anonymous"], name
        assert response.url.startswith(reverse("login"))
        for role, user in users.items():
            assert signed_in(user).get(url).status_code == expected[role], (name, role)


def test_a_person_only_ever_sees_their_own_data():
    one, two = UserFactory(first_name="Satu"), UserFactory(first_name="Duadua")
    for name in ("privacy", "my-data", "my-data-json"):
        page = signed_in(one).get(reverse(name)).content.decode()
        assert two.email not in page and "Duadua" not in page
    # No page here takes another person's id: a query string changes nothing.
    page = signed_in(one).get(reverse("my-data-json") + f"?user={two.pk}").content.decode()
    assert two.email not in page


def test_the_record_of_processing_and_the_breach_procedure_are_shown_to_staff():
    page = signed_in(UserFactory(is_staff=True)).get(reverse("processing-record"))
    text = page.content.decode()
    assert "auth.User.email" in text and "feedback.Report.contact_phone" in text
    assert 'data-testid="breach-procedure"' in text and "3 x 24" in text
    assert consent_given(UserFactory(), "notifications")
