"""Erasure (Law 27/2022): the record of processing classifies every text-like column of
every model; a person who did everything is erased by the job and no column of any model
holds their name, email, username or phone afterwards, while every total stays right."""

import datetime

import pytest
from django.apps import apps
from django.db.models import Count, Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from collaborators.models import Collaborator, Membership, WhatsAppNumber
from commitments.models import Commitment, Notification
from commitments.privacy.erasure import erasures_run
from commitments.privacy.models import ErasureRequest
from commitments.privacy.processing import HOLDERS, NOT_PERSONAL_MODELS, TEXT_LIKE

from .factories import UserFactory
from .privacy_world import EMAIL, PASSWORD, VALUES, columns_holding, person_who_does_everything
from .world import signed_in, summaries

pytestmark = pytest.mark.django_db


def test_every_text_like_field_of_every_model_is_classified():
    registered = {h.label: h for h in HOLDERS}
    unclassified = []
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.proxy or label in NOT_PERSONAL_MODELS:
            continue
        holder = registered.get(label)
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_LIKE):
                continue
            if holder is None or (
                field.name not in holder.personal and field.name not in holder.not_personal
            ):
                unclassified.append(f"{label}.{field.name}")
    assert unclassified == [], "classify these in commitments/privacy/processing.py"


def test_every_registered_field_exists():
    stale = []
    for holder in HOLDERS:
        model = apps.get_model(holder.label)
        names = {f.name for f in model._meta.concrete_fields}
        stale += [
            f"{holder.label}.{n}"
            for n in (*holder.personal, *holder.not_personal)
            if n not in names
        ]
    assert stale == []


def _totals(collaborator):
    collaborator.refresh_from_db()
    return (
        Commitment.objects.aggregate(n=Count("pk"), q=Sum("quantity"), v=Sum("value_idr")),
        collaborator.live_commitments,
        collaborator.live_value_idr,
        summaries(),
    )


def test_an_erased_person_leaves_no_value_anywhere_and_totals_stay(
    django_capture_on_commit_callbacks,
):
    user, collaborator, _lead, commitment = person_who_does_everything(
        django_capture_on_commit_callbacks
    )
    held = columns_holding(VALUES)
    # The world really put the person's values in many places before erasure.
    for column in (
        "auth.User.email",
        "collaborators.CollaboratorContact.phone",
        "commitments.Commitment.note",
        "commitments.Notification.body",
        "collaborators.WhatsAppNumber.number",
        "feedback.Report.contact_email",
        "collaborators.Collaborator.name",
        "api.ApiToken.name",
    ):
        assert column in held
    before = _totals(collaborator)

    client = signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("erasure-request"), {"password": PASSWORD})
    assert response.status_code == 200

    assert columns_holding(VALUES) == []
    request = ErasureRequest.objects.get(user=user)
    assert request.done_at and request.verified_at and request.problems == ""
    assert request.due_by - request.requested_at == datetime.timedelta(hours=72)
    user.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()
    assert not WhatsAppNumber.objects.filter(user=user).exists()
    assert not Notification.objects.filter(user=user).exists()
    assert user.consents.count() == 3  # kept as evidence
    commitment.refresh_from_db()
    assert commitment.collaborator_id == collaborator.pk and "[dihapus]" in commitment.note
    assert _totals(Collaborator.objects.get(pk=collaborator.pk)) == before
    # The person cannot sign in any more; a second run changes nothing.
    signing_in = Client().post(reverse("login"), {"username": EMAIL, "password": PASSWORD})
    assert signing_in.status_code == 200 and "_auth_user_id" not in signing_in.client.session
    assert erasures_run() == 0


def test_the_hourly_job_erases_and_proves_a_request_left_undone():
    user = UserFactory(first_name="Sutanto", last_name="Gemilang", email="sutanto.g@contoh.id")
    request = ErasureRequest.objects.create(user=user)
    assert erasures_run() == 1
    request.refresh_from_db()
    assert request.verified_at is not None
    assert columns_holding(["Sutanto Gemilang", "sutanto.g@contoh.id"]) == []


def test_a_late_erasure_alerts_the_administrators_once(monkeypatch):
    admin = UserFactory(is_staff=True)
    user = UserFactory()
    request = ErasureRequest.objects.create(
        user=user, due_by=timezone.now() - datetime.timedelta(minutes=1)
    )
    # The proof finds something left (as a bug would): the request stays unproven.
    monkeypatch.setattr(
        "commitments.privacy.erasure.erasure_proof", lambda **kwargs: ["auth.User.email"]
    )
    erasures_run()
    erasures_run()
    request.refresh_from_db()
    assert request.verified_at is None and request.late_alerted_at is not None
    alerts = Notification.objects.filter(user=admin, subject__contains=f"#{request.pk}")
    assert alerts.count() == 1


def test_erasure_needs_the_password(django_capture_on_commit_callbacks):
    user = UserFactory()
    client = signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("erasure-request"), {"password": "wrong"})
    assert response.status_code == 400
    assert not ErasureRequest.objects.exists()
    user.refresh_from_db()
    assert user.is_active
