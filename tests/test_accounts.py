"""Sign-up with email verification, sign-in by email, registering or joining a collaborator,
and the holes an outside attack found in them: pre-account takeover, reset links that sign
in, brute force, telling which emails have accounts."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from collaborators.models import Collaborator, Membership

from .factories import CollaboratorFactory, NeedFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

PASSWORD = "kolaborasi-jakarta-2026"
User = get_user_model()


def sign_up(client, email="siti@example.org", **extra):
    return client.post(
        reverse("signup"), {"name": "Siti Rahma", "email": email, "consent": "on", **extra}
    )


def link_in_last_mail(path: str = "/akun/verifikasi/") -> str:
    return re.search(rf"https?://[^/\s]+({path}\S+/)", mail.outbox[-1].body).group(1)


def choose_password(client, link: str, password: str = PASSWORD, name: str = "Siti Rahma"):
    return client.post(link, {"name": name, "new_password1": password, "new_password2": password})


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def test_sign_up_verify_and_register_a_collaborator(client):
    response = sign_up(client)
    assert response.status_code == 200
    assert "siti@example.org" in response.content.decode()
    user = User.objects.get(email="siti@example.org")
    assert not user.is_active and not user.has_usable_password()
    assert mail.outbox[-1].to == ["siti@example.org"]

    link = link_in_last_mail()
    page = client.get(link)
    assert page.status_code == 200 and "siti@example.org" in page.content.decode()
    assert signed_in_as(client) is None  # opening the link alone signs nobody in
    response = choose_password(client, link)
    assert response.status_code == 302 and response["Location"] == reverse("onboarding")
    user.refresh_from_db()
    assert user.is_active and user.check_password(PASSWORD)
    assert signed_in_as(client) == str(user.pk)

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
    assert sign_in(client, "SITI@example.org").status_code == 302


def test_bad_sign_ups_are_refused_with_reasons(client):
    no_consent = sign_up(client, email="c@example.org", consent="")
    assert no_consent.status_code == 400 and "consent" in no_consent.context["form"].errors
    # A valid address longer than the account column holds (204 characters).
    long_email = "a" * 190 + "@example.org.id"
    too_long = sign_up(client, email=long_email)
    assert too_long.status_code == 400 and "email" in too_long.context["form"].errors
    assert not User.objects.exists() and not mail.outbox

    link_response = sign_up(client)
    link = link_in_last_mail()
    weak = choose_password(client, link, password="123")
    assert weak.status_code == 400 and "new_password2" in weak.context["form"].errors
    differ = client.post(
        link, {"name": "Siti", "new_password1": PASSWORD, "new_password2": PASSWORD + "x"}
    )
    assert differ.status_code == 400 and "new_password2" in differ.context["form"].errors
    assert link_response.status_code == 200
    assert not User.objects.get().is_active


def test_pre_account_takeover_fails(client):
    """Someone signs up with another person's email and a password of their choosing (the
    old form took one; today's ignores it). The owner verifies through "send the link
    again" and registers an organisation: only the owner's password signs in."""
    attacker_password = "penyusup-rahasia-99"
    sign_up(
        client,
        email="owner@example.org",
        password1=attacker_password,
        password2=attacker_password,
    )
    # An unverified account from before this change, with a password someone else set.
    legacy = User.objects.create_user(
        "lama@example.org", "lama@example.org", attacker_password, is_active=False
    )
    for email, user in [
        ("owner@example.org", User.objects.get(email="owner@example.org")),
        ("lama@example.org", legacy),
    ]:
        assert sign_in(client, email, attacker_password).status_code == 200  # inactive

        owner = client.__class__()
        owner.post(reverse("resend-verification"), {"email": email})
        choose_password(owner, link_in_last_mail(), password=PASSWORD)
        owner.post(
            reverse("onboarding"),
            {"action": "create", "name": f"Yayasan {user.pk} Peduli", "kind": "foundation"},
        )
        assert Membership.objects.filter(user=user, role="owner").exists()

        response = sign_in(client, email, attacker_password)
        assert response.status_code == 200 and signed_in_as(client) is None
        assert sign_in(client, email, PASSWORD).status_code == 302
        client.logout()


def test_a_password_reset_link_is_no_verification_link(client):
    """A reset token for an active user used to sign the visitor in at the verification
    URL (login CSRF). Tokens of one purpose are refused by the other, and a link never
    signs in an account that is already active."""
    user = UserFactory(email="aktif@example.org")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    reset_token = default_token_generator.make_token(user)
    response = client.get(reverse("verify-email", args=[uid, reset_token]))
    assert signed_in_as(client) is None
    assert response.status_code == 200
    assert "sudah" in response.content.decode() or "already" in response.content.decode()

    # An inactive account: a reset token is not a verification token.
    pending = User.objects.create_user("baru@example.org", "baru@example.org", is_active=False)
    pending_uid = urlsafe_base64_encode(force_bytes(pending.pk))
    token = default_token_generator.make_token(pending)
    assert client.get(reverse("verify-email", args=[pending_uid, token])).status_code == 400
    assert (
        choose_password(client, reverse("verify-email", args=[pending_uid, token])).status_code
        == 400
    )
    pending.refresh_from_db()
    assert not pending.is_active

    # And a verification token is not a reset token.
    client.post(reverse("resend-verification"), {"email": "baru@example.org"})
    verify_token = link_in_last_mail().rstrip("/").rsplit("/", 1)[1]
    reset = client.get(
        reverse("password_reset_confirm", args=[pending_uid, verify_token]), follow=True
    )
    assert "form" not in reset.context or not reset.context.get("validlink")


def test_a_used_or_wrong_verification_link_is_refused(client):
    sign_up(client)
    link = link_in_last_mail()
    assert client.get(link.replace("/akun/verifikasi/", "/akun/verifikasi/x")).status_code == 400
    assert client.get("/akun/verifikasi/abc/def/").status_code == 400
    assert choose_password(client, link).status_code == 302
    client.logout()
    again = client.get(link)  # used: the account is active now
    assert again.status_code == 200 and signed_in_as(client) is None
    assert choose_password(client, link, password="another-password-2026").status_code == 200
    assert User.objects.get().check_password(PASSWORD)


def test_repeated_failures_lock_out_the_account_and_the_client(client, settings):
    user = UserFactory(email="korban@example.org")
    user.set_password(PASSWORD)
    user.save()
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        response = sign_in(client, "Korban@example.org", f"salah-{attempt}")
        assert response.status_code == 200
    assert sign_in(client, "korban@example.org", "salah-lagi").status_code == 429
    # The right password no longer signs in; the page says why and how to get back.
    locked = sign_in(client, "korban@example.org", PASSWORD)
    assert locked.status_code == 429 and signed_in_as(client) is None
    page = locked.content.decode()
    assert reverse("password_reset") in page

    # From another client, the account stays locked.
    other = client.__class__(REMOTE_ADDR="10.9.8.7")
    assert sign_in(other, "korban@example.org", PASSWORD).status_code == 429

    # The way back: a password chosen through the emailed reset link.
    other.post(reverse("password_reset"), {"email": "korban@example.org"})
    link = link_in_last_mail("/akun/sandi/atur/")
    form_page = other.get(link, follow=True)
    new_password = "kembali-masuk-2026"
    other.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert sign_in(other, "korban@example.org", new_password).status_code == 302

    # One client trying many accounts is locked out too, whatever account it tries next.
    spray = client.__class__(REMOTE_ADDR="10.1.1.1")
    for n in range(limit - 1):
        assert sign_in(spray, f"orang{n}@example.org", "tebak-tebakan").status_code == 200
    assert sign_in(spray, "orang-terakhir@example.org", "tebak").status_code == 429
    fresh = UserFactory(email="lain@example.org")
    fresh.set_password(PASSWORD)
    fresh.save()
    assert sign_in(spray, "lain@example.org", PASSWORD).status_code == 429


def test_sign_up_reset_and_resend_do_not_tell_who_has_an_account(client):
    UserFactory(email="ada@example.org", first_name="Ada")

    def visible(response, email):
        text = response.content.decode()
        # What differs between any two requests: the CSRF token and the time the page was made.
        for varying in (
            r'name="csrfmiddlewaretoken" value="[^"]+"',
            r'name="csrf-token" content="[^"]+"',
            r'data-rendered-at="[^"]+"',
        ):
            text = re.sub(varying, "", text)
        return response.status_code, response.templates[0].name, text.replace(email, "EMAIL")

    for url, data in [
        (reverse("signup"), {"name": "X", "consent": "on"}),
        (reverse("password_reset"), {}),
        (reverse("resend-verification"), {}),
    ]:
        known = client.post(url, {**data, "email": "ada@example.org"}, follow=True)
        unknown = client.post(url, {**data, "email": "tiada@example.org"}, follow=True)
        assert visible(known, "ada@example.org") == visible(unknown, "tiada@example.org"), url
    # Signing up again with a known address tells its owner, by email only.
    notes = [m for m in mail.outbox if m.to == ["ada@example.org"]]
    assert any(reverse("login") in m.body for m in notes)
    assert User.objects.filter(email__iexact="ada@example.org").count() == 1


def test_joining_an_organisation_waits_for_its_owner(client):
    organisation = CollaboratorFactory(name="Yayasan Cahaya")
    owner = member_of(organisation)
    need = NeedFactory()
    newcomer = User.objects.create_user("budi@example.org", "budi@example.org", PASSWORD)
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
