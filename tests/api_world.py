"""A small world of API users and their objects, shared by the schemathesis and
permission-matrix tests: who is who, what each owns, and how each signs in.

    collaborator A  (member_a, by token; also member of A2)   commitments in RW X, program P
    collaborator B  (member_b, by token)                        commitments in RW Y, program Q
    facilitator of RW X (by session, with its CSRF token)
    lead of program P (pangan, by token)
    administrator (staff, by token)
    anonymous
    scoped_a: member_a through a token bound to A only

Every object an endpoint can address exists twice where it matters, on each side of a line
a role must not cross: needs of X/P and of Y/Q, commitments of A and of B (one pledged,
one delivered with an unconfirmed delivery), exports of the lead and of the administrator,
notifications of member_a and of member_b.

Also the helpers every API test uses: a problem-details body, the ids of a list, a pledge
through the API (now, or as a job for a thread), and the page where users manage tokens.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from collaborators.models import Collaborator, Membership
from commitments.models import Commitment, Delivery, Export, Notification, Status
from commitments.reporting.exports import export_enqueue, export_request
from locations.models import Area, Need, Site
from programs.models import DonationForm, Program

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
)

RW_X = "31.73.04.1002.001"
RW_Y = "31.73.04.1002.002"
PROGRAM_P = "pangan"
PROGRAM_Q = "umkm"

ANONYMOUS = "anonymous"
MEMBER_A = "member_a"
MEMBER_B = "member_b"
FACILITATOR_X = "facilitator_x"
LEAD_P = "lead_p"
ADMIN = "admin"
SCOPED_A = "scoped_a"
ROLES = (ANONYMOUS, MEMBER_A, MEMBER_B, FACILITATOR_X, LEAD_P, ADMIN)
SESSION_ROLES = {FACILITATOR_X}

TOKEN_PAGE = "/akun/token-api/"  # where a signed-in user creates and revokes API tokens


@dataclass
class Credentials:
    """How a role signs in: headers and cookies for any HTTP client."""

    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class ApiWorld:
    users: dict
    credentials: dict[str, Credentials]
    collaborator_a: Collaborator
    collaborator_a2: Collaborator
    collaborator_b: Collaborator
    need_xp: Need
    need_yq: Need
    pledged_a: Commitment
    pledged_a2: Commitment
    pledged_b: Commitment
    delivered_a: Commitment
    delivered_b: Commitment
    delivery_a: Delivery
    delivery_b: Delivery
    export_lead: Export
    export_admin: Export
    notification_a: Notification
    notification_b: Notification
    site_x: Site


def session_credentials(user) -> Credentials:
    """A real session cookie, and the CSRF cookie and header an unsafe request needs."""
    client = Client()
    client.force_login(user)
    csrf = _get_new_csrf_string()
    return Credentials(
        headers={"X-CSRFToken": csrf},
        cookies={
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            settings.CSRF_COOKIE_NAME: csrf,
        },
    )


def token_credentials(user, collaborator=None) -> Credentials:
    _token, key = ApiToken.issue(user=user, name="tests", collaborator=collaborator)
    return Credentials(headers={"Authorization": f"Bearer {key}"})


def _delivered(commitment: Commitment, *, quantity: int) -> Delivery:
    """A commitment delivered in part, its delivery waiting for confirmation."""
    Commitment.objects.filter(pk=commitment.pk).update(
        status=Status.DELIVERED, quantity_delivered=quantity
    )
    return Delivery.objects.create(
        commitment=commitment, quantity=quantity, delivered_on=timezone.localdate()
    )


def _finished_export(user) -> Export:
    export = export_request(user=user, data={}, format="csv")
    export_enqueue(export_id=export.pk)  # Celery runs eagerly in tests: built now
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    return export


def build_world() -> ApiWorld:
    program_q = Program.objects.get(slug=PROGRAM_Q)
    form_q = DonationForm.objects.filter(program=program_q).order_by("pk").first()
    collaborator_a, collaborator_a2, collaborator_b = (
        CollaboratorFactory(name=name) for name in ("Kolaborator A", "Kolaborator A2", "B")
    )
    for collaborator in (collaborator_a, collaborator_a2, collaborator_b):
        collaborator.programs.add(Program.objects.get(slug=PROGRAM_P), program_q)
    member_a = member_of(collaborator_a)
    Membership.objects.create(
        user=member_a, collaborator=collaborator_a2, role=Membership.Role.OWNER
    )
    member_b = member_of(collaborator_b)
    users = {
        MEMBER_A: member_a,
        MEMBER_B: member_b,
        FACILITATOR_X: facilitator_of(RW_X),
        LEAD_P: lead_of(PROGRAM_P),
        ADMIN: UserFactory(is_staff=True),
    }
    need_xp = NeedFactory(area=Area.objects.get(code=RW_X), quantity_needed=1000)
    need_yq = NeedFactory(
        area=Area.objects.get(code=RW_Y),
        donation_form=form_q,
        program=program_q,
        quantity_needed=1000,
    )
    delivered_a = commitment_in("committed", need=need_xp, collaborator=collaborator_a, quantity=9)
    delivered_b = commitment_in("committed", need=need_yq, collaborator=collaborator_b, quantity=9)
    credentials = {ANONYMOUS: Credentials()}
    for role, user in users.items():
        make = session_credentials if role in SESSION_ROLES else token_credentials
        credentials[role] = make(user)
    credentials[SCOPED_A] = token_credentials(member_a, collaborator_a)
    users[SCOPED_A] = member_a
    users[ANONYMOUS] = None
    pledged_a = commitment_in("pledged", need=need_xp, collaborator=collaborator_a, quantity=2)
    pledged_b = commitment_in("pledged", need=need_yq, collaborator=collaborator_b, quantity=2)
    notification_a = Notification.objects.create(
        user=member_a, commitment=pledged_a, subject="A", body="a"
    )
    notification_b = Notification.objects.create(
        user=member_b, commitment=pledged_b, subject="B", body="b"
    )
    export_lead = _finished_export(users[LEAD_P])
    export_admin = _finished_export(users[ADMIN])
    return ApiWorld(
        users=users,
        credentials=credentials,
        collaborator_a=collaborator_a,
        collaborator_a2=collaborator_a2,
        collaborator_b=collaborator_b,
        need_xp=need_xp,
        need_yq=need_yq,
        pledged_a=pledged_a,
        pledged_a2=commitment_in("pledged", need=need_xp, collaborator=collaborator_a2, quantity=2),
        pledged_b=pledged_b,
        delivered_a=delivered_a,
        delivered_b=delivered_b,
        delivery_a=_delivered(delivered_a, quantity=4),
        delivery_b=_delivered(delivered_b, quantity=4),
        export_lead=export_lead,
        export_admin=export_admin,
        notification_a=notification_a,
        notification_b=notification_b,
        site_x=Site.objects.create(
            area=need_xp.area, kind="school", name="SD Uji X", lon=106.79, lat=-6.15
        ),
    )


def new_key() -> str:
    return uuid.uuid4().hex


def today(days: int = 0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def problem(response, status: int) -> dict:
    """The problem-details body of an error response, checked."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("http")
    return body


def results(response) -> list:
    assert response.status_code == 200, response.content[:500]
    return response.json()["results"]


def ids(response) -> set[int]:
    return {item["id"] for item in results(response)}


def pledge_by_api(client, need, collaborator, /, key="key-1", fmt="json", **extra):
    """POST a pledge (2 of the need unless told) with an Idempotency-Key (none if None)."""
    body = {"need": need.pk, "collaborator": collaborator.pk, "quantity": 2, **extra}
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(reverse("api-commitment-list"), body, format=fmt, headers=headers)


def api_pledge_job(client, collaborator, need, *, key: str, quantity: int = 1):
    """A pledge through the API, to send later from a thread (see world.run_in_threads)."""
    return lambda: pledge_by_api(client, need, collaborator, key=key, quantity=quantity)
