"""The API's permission matrix: every endpoint x method of api.urls (walked from the URL
patterns, so the router's viewsets, their @action routes and the plain paths all appear)
x every role of tests.api_world, against objects on both sides of each line a role must not
cross. A new endpoint or method without an entry in EXPECTATIONS fails ("no expectation").

Each entry: the objects to address (label -> URL kwargs), a valid body per role and object
(so a refusal is never a 400 hiding a permission failure), and a rule (role, label) -> OK,
403 or 404 (401 for anonymous wherever signing in is needed). The rules in words:

- public reads (programs, donation forms, areas, sites, needs, collaborators, summaries,
  need-state, the schema and docs): everyone, anonymous too.
- commitments: seen by their collaborator's members (a token bound to A: A's only), the
  facilitators of their area, the leads of their program, administrators; others 404.
  Cancel (collaborator) / reject (facilitator, lead, administrator) by those who see them.
  Deliveries recorded by the collaborator or an administrator (403 for other viewers);
  confirmed by facilitator, lead or administrator (403 for the collaborator).
  Pledges only for a collaborator one belongs to (403 otherwise, also for administrators
  and for a token bound to another of the user's collaborators); plans likewise.
- needs upkeep: facilitators of the area, leads of the program, administrators; 403 for
  others (needs are public, so not a 404). Re-confirming an area: any lead, administrators
  and the area's facilitators.
- offline commitments: facilitators, leads, administrators (403 for others), and only for
  needs of their areas / programs (404 otherwise).
- exports: asked for by leads (their programs) and administrators, 403 otherwise; seen and
  downloaded by their requester and administrators, 404 otherwise.
- notifications: one's own (a bound token: about its collaborator's commitments); 404
  otherwise.
- adoptions: active ones public; a proposal seen by its adopter's members, its areas'
  facilitators, its program's leads and administrators; others 404.

Every request runs in a savepoint rolled back afterwards, so each role meets the same world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, reverse
from rest_framework.test import APIClient

import api.urls

from .adoption_world import api_adoptions
from .api_world import (
    ADMIN,
    ANONYMOUS,
    FACILITATOR_X,
    LEAD_P,
    MEMBER_A,
    MEMBER_B,
    PROGRAM_P,
    PROGRAM_Q,
    ROLES,
    SCOPED_A,
    ApiWorld,
    build_world,
    new_key,
    today,
)
from .factories import png

OK = "2xx"
PUBLIC_ROLES = (*ROLES, SCOPED_A)
SKIPPED = {"api-not-found"}  # the catch-all problem body, tested in test_api_read


# --- the endpoints, from the URL patterns ---------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str

    @property
    def key(self) -> str:
        return f"{self.name} {self.method}"


def _view_methods(callback) -> list[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route: method -> action
        return sorted(m.upper() for m in actions)
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if cls is None:  # a plain function view answers GET
        return ["GET"]
    return sorted(
        m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m)
    )


def api_endpoints(patterns=None) -> list[Endpoint]:
    found = []
    for pattern in api.urls.urlpatterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found += api_endpoints(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name not in SKIPPED:
            found += [Endpoint(pattern.name, m) for m in _view_methods(pattern.callback)]
    return found


ENDPOINTS = api_endpoints()


# --- the rules --------------------------------------------------------------------------------

Rule = Callable[[str, str], object]


def public(role: str, label: str) -> object:
    return OK


def signed_in(role: str, label: str) -> object:
    return OK


# Who sees which commitment (Commitment.objects.visible_to): A's and A2's are in RW X,
# program P; B's in RW Y, program Q.
SEES_COMMITMENT = {
    "A": {MEMBER_A, SCOPED_A, FACILITATOR_X, LEAD_P, ADMIN},
    "A2": {MEMBER_A, FACILITATOR_X, LEAD_P, ADMIN},
    "B": {MEMBER_B, ADMIN},
}
MEMBERS = {"A": {MEMBER_A, SCOPED_A}, "A2": {MEMBER_A}, "B": {MEMBER_B}}
# Needs: X/P is kept by facilitator_x and lead_p, Y/Q by neither; administrators keep all.
KEEPS_NEED = {"XP": {FACILITATOR_X, LEAD_P, ADMIN}, "YQ": {ADMIN}}


def sees_commitment(role, label):
    return OK if role in SEES_COMMITMENT[label] else 404


def records_delivery(role, label):
    if role not in SEES_COMMITMENT[label]:
        return 404
    return OK if role in MEMBERS[label] | {ADMIN} else 403


def confirms_delivery(role, label):
    if role not in SEES_COMMITMENT[label]:
        return 404
    return 403 if role in MEMBERS[label] else OK


def pledges(role, label):
    return OK if role in MEMBERS[label] else 403


def keeps_need(role, label):
    return OK if role in KEEPS_NEED[label] else 403


def reconfirms(role, label):
    return OK if role in KEEPS_NEED[label] | {LEAD_P} else 403


def records_offline(role, label):
    if role not in (FACILITATOR_X, LEAD_P, ADMIN):
        return 403
    return OK if role in KEEPS_NEED[label] else 404


def asks_export(role, label):
    return OK if role == ADMIN or (role == LEAD_P and label == PROGRAM_P) else 403


def sees_export(role, label):
    return OK if role in (label, ADMIN) else 404


def sees_notification(role, label):
    return OK if role in MEMBERS[label] else 404


# --- objects and bodies -------------------------------------------------------------------


def none(world: ApiWorld) -> dict:
    return {"-": {}}


def commitments(kind: str):
    def targets(world: ApiWorld) -> dict:
        found = {"A": getattr(world, f"{kind}_a"), "B": getattr(world, f"{kind}_b")}
        if kind == "pledged":
            found["A2"] = world.pledged_a2
        return {label: {"pk": c.pk} for label, c in found.items()}

    return targets


def deliveries(world: ApiWorld) -> dict:
    return {
        label: {"pk": d.commitment_id, "delivery_id": d.pk}
        for label, d in (("A", world.delivery_a), ("B", world.delivery_b))
    }


def needs(world: ApiWorld) -> dict:
    return {"XP": {"pk": world.need_xp.pk}, "YQ": {"pk": world.need_yq.pk}}


def exports(world: ApiWorld) -> dict:
    return {LEAD_P: {"pk": world.export_lead.pk}, ADMIN: {"pk": world.export_admin.pk}}


def notifications(world: ApiWorld) -> dict:
    return {"A": {"pk": world.notification_a.pk}, "B": {"pk": world.notification_b.pk}}


def one(attribute: str):
    def targets(world: ApiWorld) -> dict:
        return {"-": {"pk": attrgetter(world, attribute).pk}}

    return targets


def attrgetter(obj, dotted: str):
    for name in dotted.split("."):
        obj = getattr(obj, name)
    return obj


def adoptions(world: ApiWorld) -> dict:
    """An active adoption of B's (program Q) and a proposal of A's (RW X, program P)."""
    return {label: {"pk": a.pk} for label, a in api_adoptions(world).items()}


def sees_adoption(role, label):
    # Adoption.objects.visible_to, as the web pages: public once active; a proposal for its
    # adopter's members, its area's facilitators, its program's leads, administrators.
    if label == "active":
        return OK
    return OK if role in (MEMBER_A, SCOPED_A, FACILITATOR_X, LEAD_P, ADMIN) else 404


def level(world: ApiWorld) -> dict:
    return {"-": {"level": "rw"}}


def pledge_body(world, role, label):
    collaborator = {"A": world.collaborator_a, "A2": world.collaborator_a2}.get(
        label, world.collaborator_b
    )
    need = world.need_yq if label == "B" else world.need_xp
    return {"need": need.pk, "collaborator": collaborator.pk, "quantity": 1}, {
        "Idempotency-Key": new_key()
    }


def plan_body(world, role, label):
    body, headers = pledge_body(world, role, label)
    line = {"need": body.pop("need"), "quantity": body.pop("quantity")}
    return {**body, "lines": [line]}, headers


def transition_body(world, role, label):
    if role in (MEMBER_A, MEMBER_B, SCOPED_A):
        return {"to_status": "cancelled"}, {}
    return {"to_status": "rejected", "reason": "Tidak sesuai"}, {}


def delivery_body(world, role, label):
    proof = SimpleUploadedFile("foto.png", png((20, 20)), content_type="image/png")
    return {"quantity": 1, "delivered_on": today(), "proofs": [proof]}, {}


def need_of(world, label):
    return world.need_xp if label == "XP" else world.need_yq


def need_create_body(world, role, label):
    need = need_of(world, label)
    return {
        "area": need.area.code,
        "program": need.program_id,
        "donation_form": need.donation_form_id,
        "quantity_needed": 5,
        "valid_until": today(30),
    }, {}


def need_update_body(world, role, label):
    return {"quantity_needed": 900, "version": need_of(world, label).version}, {}


def need_close_body(world, role, label):
    return {"reason": "Sudah terpenuhi", "version": need_of(world, label).version}, {}


def reconfirm_body(world, role, label):
    return {"area": need_of(world, label).area.code}, {}


def offline_body(world, role, label):
    return {
        "collaborator": world.collaborator_a.pk,
        "need": need_of(world, label).pk,
        "quantity": 1,
        "made_on": today(),
    }, {"Idempotency-Key": new_key()}


def export_body(world, role, label):
    return {"format": "csv", "program": label}, {}


@dataclass(frozen=True)
class Expect:
    rule: Rule
    targets: Callable[[ApiWorld], dict] = none
    body: Callable | None = None
    multipart: bool = False
    signed_in: bool = True


def public_read(targets=none) -> Expect:
    return Expect(public, targets, signed_in=False)


EXPECTATIONS: dict[str, Expect] = {
    # Public reads, and the schema and docs about them.
    "api-root GET": public_read(),
    "api-schema GET": public_read(),
    "api-docs GET": public_read(),
    "api-problems GET": public_read(),
    "api-need-state GET": public_read(level),
    "api-program-list GET": public_read(),
    "api-program-detail GET": public_read(one("need_xp.program")),
    "api-donation-form-list GET": public_read(),
    "api-donation-form-detail GET": public_read(one("need_xp.donation_form")),
    "api-area-list GET": public_read(),
    "api-area-detail GET": public_read(one("need_xp.area")),
    "api-site-list GET": public_read(),
    "api-site-detail GET": public_read(one("site_x")),
    "api-collaborator-list GET": public_read(),
    "api-collaborator-detail GET": public_read(one("collaborator_a")),
    "api-summary-list GET": public_read(),
    "api-adoption-list GET": public_read(),
    "api-adoption-detail GET": Expect(sees_adoption, adoptions, signed_in=False),
    "api-need-list GET": public_read(),
    "api-need-detail GET": public_read(needs),
    # Needs upkeep.
    "api-need-list POST": Expect(keeps_need, lambda w: {"XP": {}, "YQ": {}}, need_create_body),
    "api-need-detail PATCH": Expect(keeps_need, needs, need_update_body),
    "api-need-close POST": Expect(keeps_need, needs, need_close_body),
    "api-need-reconfirm POST": Expect(reconfirms, lambda w: {"XP": {}, "YQ": {}}, reconfirm_body),
    # Commitments.
    "api-commitment-list GET": Expect(signed_in),
    "api-commitment-list POST": Expect(
        pledges, lambda w: {"A": {}, "A2": {}, "B": {}}, pledge_body
    ),
    "api-plan-list POST": Expect(pledges, lambda w: {"A": {}, "A2": {}, "B": {}}, plan_body),
    "api-commitment-detail GET": Expect(sees_commitment, commitments("pledged")),
    "api-commitment-transitions GET": Expect(sees_commitment, commitments("pledged")),
    "api-commitment-transitions POST": Expect(
        sees_commitment, commitments("pledged"), transition_body
    ),
    "api-commitment-deliveries POST": Expect(
        records_delivery, commitments("delivered"), delivery_body, multipart=True
    ),
    "api-commitment-delivery-confirm POST": Expect(
        confirms_delivery, deliveries, lambda w, r, label: ({}, {})
    ),
    "api-offline-commitment-list POST": Expect(
        records_offline, lambda w: {"XP": {}, "YQ": {}}, offline_body
    ),
    # Exports.
    "api-export-list GET": Expect(signed_in),
    "api-export-list POST": Expect(
        asks_export, lambda w: {PROGRAM_P: {}, PROGRAM_Q: {}}, export_body
    ),
    "api-export-detail GET": Expect(sees_export, exports),
    "api-export-download GET": Expect(sees_export, exports),
    # Notifications.
    "api-notification-list GET": Expect(signed_in),
    "api-notification-detail GET": Expect(sees_notification, notifications),
}


# --- the test -----------------------------------------------------------------------------


@pytest.fixture
def world(db, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return build_world()


def client_for(world: ApiWorld, role: str) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    credentials = world.credentials[role]
    for name, value in credentials.cookies.items():
        client.cookies[name] = value
    return client


def request(world: ApiWorld, endpoint: Endpoint, expect: Expect, role: str, label: str, kwargs):
    client = client_for(world, role)
    headers = dict(world.credentials[role].headers)
    data = None
    if expect.body is not None:
        data, extra = expect.body(world, role, label)
        headers.update(extra)
    fmt = "multipart" if expect.multipart else "json"
    url = reverse(endpoint.name, kwargs=kwargs)
    call = getattr(client, endpoint.method.lower())
    cache.clear()  # no throttle carries over from one role to the next
    if data is None:
        return call(url, headers=headers)
    return call(url, data, format=fmt, headers=headers)


def outcome(status: int) -> object:
    return OK if 200 <= status < 300 else status


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_every_role_gets_the_answer_its_rights_give(endpoint, world):
    expect = EXPECTATIONS.get(endpoint.key)
    assert expect is not None, f"no expectation for {endpoint.key}: add one to EXPECTATIONS"
    wrong = []
    for label, kwargs in expect.targets(world).items():
        for role in PUBLIC_ROLES:
            wanted = expect.rule(role, label)
            if role == ANONYMOUS and expect.signed_in:
                wanted = 401
            with transaction.atomic():
                response = request(world, endpoint, expect, role, label, kwargs)
                transaction.set_rollback(True)
            got = outcome(response.status_code)
            if got != wanted:
                body = b"" if response.streaming else response.content[:300]
                wrong.append(f"{role} on {label}: {got}, expected {wanted} {body!r}")
            elif got != OK:
                assert response["Content-Type"].startswith("application/problem+json"), (
                    f"{role} on {label}: a refusal without a problem body"
                )
    assert not wrong, f"{endpoint.key}:\n" + "\n".join(wrong)


def test_every_expectation_names_a_live_endpoint():
    assert set(EXPECTATIONS) - {e.key for e in ENDPOINTS} == set()


def test_the_matrix_covers_the_router():
    """Every viewset route the router makes is among the walked endpoints."""
    names = {e.name for e in ENDPOINTS}
    for prefix, _viewset, basename in api.urls.router.registry:
        assert any(n.startswith(basename + "-") for n in names), prefix
