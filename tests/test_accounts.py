"""Sign-up with email verification, sign-in by email, registering or joining a collaborator."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from collaborators.models import Collaborator, Membership

from .factories import CollaboratorFactory, NeedFactory, member_of

pytestmark = pytest.mark.django_db

PASSWORD = "kolaborasi-jakarta-2026"


def sign_up(client, email="siti@example.org", **extra):
    return client.post(
        reverse("signup"),
        {
            "name": "Siti Rahma",
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "consent": "on",
            **extra,
        },
    )


def verification_link() -> str:
    return re.search(r"https?://[^/]+(/akun/verifikasi/\S+/)", mail.outbox[-1].body).group(1)


def test_sign_up_verify_and_register_a_collaborator(client):
    response = sign_up(client)
    assert response.status_code == 200
    user = get_user_model().objects.get(email="siti@example.org")
    assert not user.is_active
    assert mail.outbox[-1].to == ["siti@example.org"]

    # Before verifying, signing in says what to do.
    login = client.post(reverse("login"), {"username": "siti@example.org", "password": PASSWORD})
    assert login.status_code == 200
    assert "errorlist" in login.content.decode() and "verif" in login.content.decode().lower()

    response = client.get(verification_link())
    assert response.status_code == 302 and response["Location"] == reverse("onboarding")
    user.refresh_from_db()
    assert user.is_active

    response = client.post(
        reverse("onboarding"),
        {
            "action": "create",
            "name": "Warung Berkah Bersama",
            "kind": "community",
            "description": "Kelompok arisan",
            "website": "warung.example.org",
            "phone": "+62 811 111",
            "address": "Jl. Contoh 1",
        },
    )
    assert response.status_code == 302
    collaborator = Collaborator.objects.get(name="Warung Berkah Bersama")
    assert collaborator.verification_status == "unverified"
    assert collaborator.website == "https://warung.example.org"
    assert collaborator.contact.phone == "+62 811 111"
    assert Membership.objects.get(user=user).role == "owner"

    # The email is the username; sign in again with it, in any letter case.
    client.logout()
    response = client.post(reverse("login"), {"username": "SITI@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_bad_sign_ups_are_refused_with_reasons(client):
    sign_up(client)
    again = sign_up(client)
    assert "sudah ada" in again.content.decode() or "already exists" in again.content.decode()
    weak = sign_up(client, email="b@example.org", password1="123", password2="123")
    assert weak.status_code == 200 and "password1" in weak.context["form"].errors
    no_consent = sign_up(client, email="c@example.org", consent="")
    assert "consent" in no_consent.context["form"].errors
    assert get_user_model().objects.count() == 1


def test_a_wrong_or_used_link_is_refused(client):
    sign_up(client)
    link = verification_link()
    assert client.get(link.replace("/akun/verifikasi/", "/akun/verifikasi/x")).status_code == 400
    assert client.get(link).status_code == 302
    client.logout()
    get_user_model().objects.update(last_login=None)  # as if the token were for an old state
    response = client.get("/akun/verifikasi/abc/def/")
    assert response.status_code == 400


def test_joining_an_organisation_waits_for_its_owner(client):
    organisation = CollaboratorFactory(name="Yayasan Cahaya")
    owner = member_of(organisation)
    need = NeedFactory()
    newcomer = get_user_model().objects.create_user(
        "budi@example.org", "budi@example.org", PASSWORD
    )
    client.force_login(newcomer)
    client.post(reverse("onboarding"), {"action": "join", "collaborator": organisation.pk})
    membership = Membership.objects.get(user=newcomer)
    assert membership.role == "pending"
    # Pending members cannot act for the organisation yet.
    assert client.get(reverse("pledge-create", args=[need.pk])).status_code == 302
    # The owner sees the request and approves it.
    client.force_login(owner)
    team = client.get(reverse("team", args=[organisation.slug])).content.decode()
    assert "budi@example.org" in team
    client.post(
        reverse("team", args=[organisation.slug]),
        {"membership": membership.pk, "action": "approve"},
    )
    membership.refresh_from_db()
    assert membership.role == "member"
    client.force_login(newcomer)
    assert client.get(reverse("pledge-create", args=[need.pk])).status_code == 200
    # Only owners manage the team.
    assert client.get(reverse("team", args=[organisation.slug])).status_code == 404
