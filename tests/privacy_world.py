"""A person who does everything the portal lets a person do, with values no other row
holds, for the tests of download and erasure; and the walk over every text-like column."""

from __future__ import annotations

import re
import uuid

from django.apps import apps
from django.core import mail
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from collaborators.models import Collaborator, WhatsAppNumber
from commitments.feedback.reports import report_submit
from commitments.models import Commitment
from commitments.notify.notifications import notifications_write
from commitments.privacy.processing import TEXT_LIKE

from .factories import NeedFactory, lead_of
from .world import pledge_directly, signed_in

NAME = "Zulaikha Wiryawan"
EMAIL = "zulaikha.wiryawan@contoh.id"
PHONE = "+6281299887766"
PASSWORD = "kuda-laut-berenang-98"
VALUES = (NAME, EMAIL, PHONE, "081299887766")


def text_columns():
    """(model, field) for every text-like column of every installed model."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_LIKE):
                yield model, field


def columns_holding(values) -> list[str]:
    """Every "app.Model.field" where any row holds one of `values` (case-insensitive)."""
    found = []
    for model, field in text_columns():
        text = Cast(field.name, TextField())
        rows = model.objects.annotate(_as_text=text)
        for value in values:
            if rows.filter(_as_text__icontains=value).exists():
                found.append(f"{model._meta.label}.{field.name}")
                break
    return found


def person_who_does_everything(django_capture_on_commit_callbacks):
    """Signs up (with the public name ticked), verifies, signs in, registers an individual
    collaborator, pledges, gets notifications, verifies WhatsApp, files a report, gets an
    API token and is looked at by a program lead. Returns (user, collaborator, lead)."""
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("signup"),
            {
                "name": NAME,
                "email": EMAIL,
                "consent": "on",
                "public_name": "on",
                "notifications": "on",
            },
        )
    link = re.search(r"http://testserver(/akun/verifikasi/\S+)", mail.outbox[-1].body).group(1)
    client.post(link, {"name": NAME, "new_password1": PASSWORD, "new_password2": PASSWORD})
    client = Client()
    client.post(reverse("login"), {"username": EMAIL, "password": PASSWORD})
    client.post(
        reverse("onboarding"),
        {
            "action": "create",
            "name": NAME,
            "kind": "individual",
            "phone": PHONE,
            "address": "Jl. Melati 7",
        },
    )
    collaborator = Collaborator.objects.get(memberships__user__email=EMAIL)
    user = collaborator.memberships.get().user
    need = NeedFactory()
    with django_capture_on_commit_callbacks(execute=True):
        commitment = pledge_directly(need, collaborator, user, quantity=3).commitment
        Commitment.objects.filter(pk=commitment.pk).update(
            note=f"Diantar sendiri oleh {NAME}, telepon {PHONE}"
        )
        notifications_write([user], subject=f"Halo {NAME}", body=f"Untuk {EMAIL}", url="/")
        report_submit(
            fields={
                "category": "thanks",
                "text": f"Terima kasih dari {NAME}",
                "area": need.area,
                "contact_phone": "081299887766",
                "contact_email": EMAIL,
            },
            reporter=user,
        )
    WhatsAppNumber.objects.create(
        user=user, number=PHONE, verified_at=timezone.now(), channel="whatsapp"
    )
    ApiToken.objects.create(
        user=user, name=f"Skrip {NAME}", prefix="ksbb_abcdefgh", digest=uuid.uuid4().hex * 2
    )
    lead = lead_of("pangan")
    assert signed_in(lead).get(reverse("verification-queue")).status_code == 200
    return user, collaborator, lead, commitment
