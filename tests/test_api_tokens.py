"""API tokens: created and revoked on /akun/token-api/ by a signed-in user, used as
`Authorization: Bearer <key>`; a token bound to a collaborator acts only for it."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken, key_digest
from collaborators.models import Membership
from programs.models import ProgramLead

from .api_world import TOKEN_PAGE, ids, problem
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    member_of,
    program,
)

# Marked, not requested by a fixture: pytest-django orders tests by their marks, so that
# these run before the transactional tests whose flush removes the Jakarta data.
pytestmark = pytest.mark.django_db


def bearer(key: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def create_on_page(client, name: str, collaborator=None) -> str:
    data = {"name": name}
    if collaborator is not None:
        data["collaborator"] = collaborator.pk
    response = client.post(TOKEN_PAGE, data)
    assert response.status_code == 200, response.content[:300]
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )
    return re.search(rb'value="(ksbb_[^"]+)"', response.content).group(1).decode()


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(TOKEN_PAGE)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_create_use_and_revoke_a_token(client):
    user = member_of(CollaboratorFactory())
    client.force_login(user)
    assert client.get(TOKEN_PAGE).status_code == 200
    key = create_on_page(client, "Portal data terbuka")

    token = ApiToken.objects.get(user=user)
    assert token.digest == key_digest(key) and key not in (token.prefix, token.digest)
    assert key.startswith(token.prefix)
    listing = client.get(TOKEN_PAGE).content.decode()
    assert "Portal data terbuka" in listing and token.prefix in listing
    assert key not in listing  # shown once only

    assert bearer(key).get("/api/v1/notifications/").status_code == 200
    assert bearer(key, "Token").get("/api/v1/commitments/").status_code == 200

    response = client.post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    problem(bearer(key).get("/api/v1/notifications/"), 401)
    # Revoked tokens are refused on public endpoints too (a bad credential is never ignored).
    problem(bearer(key).get("/api/v1/programs/"), 401)


def test_bad_credentials_are_401_with_a_bearer_challenge():
    for header in ("Bearer nope", "Bearer", "Bearer a b", "Token " + "x" * 500, "Bearer é"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/commitments/")
        problem(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_one_cannot_revoke_or_see_another_users_token(client):
    owner = UserFactory()
    token, key = ApiToken.issue(user=owner, name="theirs")
    client.force_login(UserFactory())
    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    assert "theirs" not in client.get(TOKEN_PAGE).content.decode()
    assert bearer(key).get("/api/v1/notifications/").status_code == 200


def test_bad_form_input_is_refused_with_a_message(client):
    user = member_of(CollaboratorFactory())
    client.force_login(user)
    stranger = CollaboratorFactory()
    for data in ({"name": ""}, {"name": "x" * 101}, {"name": "ok", "collaborator": stranger.pk}):
        assert client.post(TOKEN_PAGE, data).status_code == 400
    assert client.post(TOKEN_PAGE, {"name": "a\x00b"}).status_code == 400
    assert not ApiToken.objects.exists()


def test_a_collaborator_token_acts_only_for_that_collaborator():
    a, b = CollaboratorFactory(), CollaboratorFactory()
    user = member_of(a)
    Membership.objects.create(user=user, collaborator=b, role=Membership.Role.MEMBER)
    ProgramLead.objects.create(user=user, program=program("pangan"))
    need = NeedFactory()
    stranger = CollaboratorFactory()
    of_a = commitment_in("pledged", need=need, collaborator=a, quantity=1)
    of_b = commitment_in("pledged", need=need, collaborator=b, quantity=1)
    of_stranger = commitment_in("pledged", need=need, collaborator=stranger, quantity=1)

    _, everything = ApiToken.issue(user=user, name="all")
    _, only_a = ApiToken.issue(user=user, name="a", collaborator=a)
    # Without a collaborator: the user's own roles, the lead's included.
    assert ids(bearer(everything).get("/api/v1/commitments/")) == {
        of_a.pk,
        of_b.pk,
        of_stranger.pk,
    }
    # Bound to A: A's commitments only; neither B's nor the program's as lead.
    assert ids(bearer(only_a).get("/api/v1/commitments/")) == {of_a.pk}
    problem(bearer(only_a).get(f"/api/v1/commitments/{of_b.pk}/"), 404)
    problem(bearer(only_a).get(f"/api/v1/commitments/{of_stranger.pk}/"), 404)


def test_a_collaborator_token_sees_only_that_collaborators_notifications():
    from commitments.models import Notification

    a, b = CollaboratorFactory(), CollaboratorFactory()
    user = member_of(a)
    Membership.objects.create(user=user, collaborator=b, role=Membership.Role.MEMBER)
    need = NeedFactory()
    about_a = Notification.objects.create(
        user=user,
        subject="A",
        body="a",
        commitment=commitment_in("pledged", need=need, collaborator=a, quantity=1),
    )
    about_b = Notification.objects.create(
        user=user,
        subject="B",
        body="b",
        commitment=commitment_in("pledged", need=need, collaborator=b, quantity=1),
    )
    general = Notification.objects.create(user=user, subject="G", body="g")
    _, only_a = ApiToken.issue(user=user, name="a", collaborator=a)
    _, everything = ApiToken.issue(user=user, name="all")
    assert ids(bearer(only_a).get("/api/v1/notifications/")) == {about_a.pk}
    assert ids(bearer(everything).get("/api/v1/notifications/")) == {
        about_a.pk,
        about_b.pk,
        general.pk,
    }


def test_membership_gone_or_user_inactive_is_401():
    a = CollaboratorFactory()
    user = member_of(a)
    _, key = ApiToken.issue(user=user, name="a", collaborator=a)
    assert bearer(key).get("/api/v1/commitments/").status_code == 200
    Membership.objects.filter(user=user).update(role=Membership.Role.PENDING)
    problem(bearer(key).get("/api/v1/commitments/"), 401)
    Membership.objects.filter(user=user).delete()
    problem(bearer(key).get("/api/v1/commitments/"), 401)

    other = UserFactory()
    _, plain = ApiToken.issue(user=other, name="plain")
    other.is_active = False
    other.save()
    problem(bearer(plain).get("/api/v1/notifications/"), 401)


def test_last_used_is_written_at_most_once_a_minute():
    user = UserFactory()
    token, key = ApiToken.issue(user=user, name="t")
    bearer(key).get("/api/v1/notifications/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    bearer(key).get("/api/v1/notifications/")
    token.refresh_from_db()
    assert token.last_used_at == first
    earlier = timezone.now() - datetime.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    bearer(key).get("/api/v1/notifications/")
    token.refresh_from_db()
    assert token.last_used_at == earlier
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - datetime.timedelta(minutes=2)
    )
    bearer(key).get("/api/v1/notifications/")
    token.refresh_from_db()
    assert token.last_used_at > earlier


def test_session_requests_keep_csrf_and_tokens_need_none():
    user = UserFactory()
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(user)
    body = problem(browser.post("/api/v1/notifications/", {}, format="json"), 403)
    assert "CSRF" in body["detail"]
    _, key = ApiToken.issue(user=user, name="t")
    integration = bearer(key)
    integration.handler.enforce_csrf_checks = True
    problem(integration.post("/api/v1/notifications/", {}, format="json"), 405)


def test_creating_tokens_is_throttled(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "signin": "2/min",
        },
    }
    client.force_login(UserFactory())
    create_on_page(client, "one")
    create_on_page(client, "two")
    response = client.post(TOKEN_PAGE, {"name": "three"})
    assert response.status_code == 429
    assert ApiToken.objects.count() == 2


def test_the_page_is_in_indonesian_by_default(client):
    client.force_login(UserFactory())
    page = client.get(TOKEN_PAGE, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Token API" in page and "Buat token" in page
