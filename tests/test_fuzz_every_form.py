"""Every URL pattern of the project, as every role, with junk query strings and fuzzed
values in every field of every form the page shows: no answer is a server error, and the
rows that a form could write are unchanged afterwards.

The URLs come from Django's resolver (the admin's and i18n's included), so a page is covered
the day it is added; a pattern whose arguments this file cannot fill fails the test by name
rather than being skipped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from axes.models import AccessFailureLog
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.regex_helper import normalize

from api.models import ApiToken
from collaborators.models import Collaborator, Membership, ProgramVerification
from commitments.adoption.models import NeedFirstOffer
from commitments.feedback.models import Report
from commitments.figures.summaries import summaries_rebuild
from commitments.lifecycle.transitions import delivery_record
from commitments.lifecycle.uploads import CleanUpload
from commitments.models import Commitment, Delivery, DeliveryProof, NeedImport, Notification
from commitments.needs.bulk_import import need_import_check, need_import_create
from commitments.privacy.models import ErasureRequest
from locations.indicator_import import IndicatorSpec, indicator_import_create
from locations.models import Area, MapLayer, Need, NeedChange, Site

from .adoption_world import make_adoption
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
)
from .feedback_world import submit as submit_report
from .pooling_world import make_pooled_chain

pytestmark = pytest.mark.django_db

RW_CODE = "31.73.04.1002.001"

# Sampled per field: each form is posted once per value, with the values rotated across its
# fields, so every field sees every value without trying every combination.
FUZZ = [
    "ü漢字🙂" * 2500,  # 10,000 characters, astral plane included
    "x" * 1_000_000,
    "2147483648",
    "-99999999999999999999",
    "9" * 5000,  # more digits than int() accepts by default
    "31/02/2026",
    "0000-00-00",
    "a" * 190 + "@example.org",  # a valid but very long email
    "",
]
NUL = "nul\x00byte"
JUNK_QUERY = {
    "q": "ü漢字🙂" * 2500,
    "page": "-7",
    "program": "9" * 40,
    "form": "-1",
    "priority": "2147483648",
    "fresh": "800000",
    "open": "maybe",
    "kind": "<script>",
    "status": "lost",
    "o": "99.-5",
    "p": "x",
    "all": "",
    "e": "1",
    "next": "//evil.example/",
    "_changelist_filters": "a=b&c",
    "date__gte": "0000-00-00",
}
# Sent to every URL besides GET: HEAD, OPTIONS, a bare POST, and these with a JSON body.
BODY_METHODS = ("put", "patch", "delete")
JUNK_POST = {
    "decision": "perhaps",
    "action": "teleport",
    "target": "teleported",
    "reason": "x" * 5000,
    "membership": "9" * 30,
    "email": "not-an-email",
    "language": "xx",
}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> input type


class FormParser(HTMLParser):
    """The forms of a page and their field names; fields outside any form are kept in a
    form of their own, posted to the page itself."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.loose = Form(action="", method="post")
        self.current: Form | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = Form(attrs.get("action") or "", (attrs.get("method") or "get").lower())
            self.forms.append(self.current)
        elif tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            form = self.current or self.loose
            form.fields[attrs["name"]] = attrs.get("type", tag).lower()

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def forms_in(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms + ([parser.loose] if parser.loose.fields else [])


# --- the world --------------------------------------------------------------------------


@dataclass
class World:
    need: Need
    collaborator: Collaborator
    unverified: Collaborator
    commitment: Commitment
    delivery: Delivery
    proof: DeliveryProof
    users: dict[str, object]
    admin_objects: dict[type, object]
    need_import: NeedImport | None = None

    def key_rows(self) -> dict:
        """What a fuzzed form must never have written."""
        need = Need.objects.get(pk=self.need.pk)
        commitment = Commitment.objects.get(pk=self.commitment.pk)
        return {
            "counts": [
                model.objects.count()
                for model in (Area, Need, Collaborator, Membership, Commitment, Delivery)
            ]
            + [DeliveryProof.objects.count()],
            "need": (need.quantity_needed, need.quantity_claimed, need.description),
            "commitment": (commitment.quantity, commitment.quantity_delivered, commitment.note),
            "collaborators": list(
                Collaborator.objects.filter(
                    pk__in=[self.collaborator.pk, self.unverified.pk]
                ).values_list("name", "slug", "verification_status")
            ),
            "memberships": list(
                Membership.objects.order_by("pk").values_list("user_id", "collaborator_id", "role")
            ),
            "emails": list(
                type(self.users["owner"])
                .objects.filter(pk__in=[u.pk for u in self.users.values() if u])
                .order_by("pk")
                .values_list("email", "is_staff", "is_superuser")
            ),
        }


def build_world(tmp_path, settings) -> World:
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    need = NeedFactory(area=Area.objects.get(code=RW_CODE), quantity_needed=100)
    collaborator = CollaboratorFactory()
    owner = member_of(collaborator)
    member = UserFactory()
    Membership.objects.create(user=member, collaborator=collaborator, role=Membership.Role.MEMBER)
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=10)
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=owner,
        quantity=2,
        delivered_on=timezone.localdate(),
        recipients_households=3,
        recipients_persons=9,
        proofs=[CleanUpload("bukti.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf", "document")],
    )
    unverified = CollaboratorFactory(verification_status=Collaborator.Verification.UNVERIFIED)
    commitment_in("pledged", need=need, collaborator=unverified, quantity=1)
    staff = UserFactory(is_staff=True, is_superuser=True)
    Notification.objects.create(user=owner, commitment=commitment, subject="Uji", body="Uji")
    Group.objects.create(name="Uji")
    Site.objects.create(area=need.area, kind="school", name="SD Uji", lon=106.79, lat=-6.15)
    ProgramVerification.objects.create(
        collaborator=CollaboratorFactory(), program=need.program, status="verified"
    )
    # A successful and a failed sign-in: the lock-out records the admin shows.
    sign_in = Client()
    sign_in.post(reverse("login"), {"username": owner.email, "password": "correct horse battery"})
    sign_in.post(reverse("login"), {"username": owner.email, "password": "wrong"})
    AccessFailureLog.objects.create(  # written only when that log is switched on
        username=owner.email, ip_address="127.0.0.1", user_agent="", http_accept="", path_info="/"
    )
    users = {
        "anonymous": None,
        "member": member,
        "owner": owner,
        "facilitator": facilitator_of(RW_CODE),
        "lead": lead_of("pangan"),
        "admin": staff,
    }
    # Records only the admin lists: a token of the member, an indicator upload of the lead.
    ApiToken.issue(user=member, name="ERP", collaborator=collaborator)
    indicator_import_create(
        uploader=users["lead"],
        upload=SimpleUploadedFile("uji.csv", f"area_code,nilai\n{RW_CODE},1\n".encode()),
        spec=IndicatorSpec(
            indicator="uji", label="Uji", unit="%", source="uji", value_column="nilai", year=2024
        ),
    )
    # And what only the services and jobs write, shown in the admin for inspection.
    NeedChange.objects.create(need=need, action=NeedChange.Action.UPDATED, reason="Uji")
    # An adoption and a first offer (run out), which the admin shows read-only: each model
    # the admin registers needs a row here, or its change and history URLs cannot be filled.
    adoption = make_adoption(collaborator, codes=(RW_CODE,))
    NeedFirstOffer.objects.create(need=need, adoption=adoption, until=timezone.now())
    # A gift pooled by an aggregator, its share, a delivery and a distribution (admin pages).
    make_pooled_chain(
        source=collaborator, source_member=owner, need=need, facilitator=users["facilitator"]
    )
    submit_report(delivery)  # a recipient's report: its pages and the admin's
    ErasureRequest.objects.create(user=UserFactory())  # a person's erasure (admin pages)
    summaries_rebuild()
    admin_objects = {
        Need: need,
        Area: need.area,
        Collaborator: collaborator,
        Commitment: commitment,
        Delivery: delivery,
        type(owner): member,
    }
    return World(
        need=need,
        collaborator=collaborator,
        unverified=unverified,
        commitment=commitment,
        delivery=delivery,
        proof=delivery.proofs.get(),
        users=users,
        admin_objects=admin_objects,
        need_import=_need_import(users["facilitator"]),
    )


def _need_import(facilitator) -> NeedImport:
    """An import with a problem in its preview, so that no fuzzed form can apply it."""
    rows = f"kode_wilayah,program,bentuk_donasi,jumlah,berlaku_sampai\n{RW_CODE},pangan,x,1,\n"
    job = need_import_create(
        uploader=facilitator, upload=SimpleUploadedFile("kebutuhan.csv", rows.encode())
    )
    need_import_check(import_id=job.pk)
    return job


# --- URLs from the resolver ---------------------------------------------------------------

# Routes not walked, each with the reason. Keep it short: a route missing from the world
# below fails the test instead.
NOT_WALKED: dict[str, str] = {}


def every_pattern(patterns=None, prefix: tuple = ()):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from every_pattern(entry.url_patterns, (*prefix, entry))
        else:
            assert isinstance(entry, URLPattern)
            yield (*prefix, entry)


def route_of(chain) -> str:
    return "".join(str(part.pattern) for part in chain)


def admin_object(world: World, route: str):
    """The object an admin URL names, from the model in its route (admin/<app>/<model>/...)."""
    match = re.match(r"\^?admin/(\w+)/(\w+)/", route)
    model = apps.get_model(match[1], match[2]) if match else None
    if model is None or model not in admin.site._registry:
        return None
    return world.admin_objects.get(model) or model.objects.order_by("pk").first()


def fill(chain, world: World) -> str | None:
    """A URL for the pattern with its arguments taken from the world; None if one cannot be."""
    route = route_of(chain)
    name = chain[-1].name
    regex = "".join(part.pattern.regex.pattern.lstrip("^") for part in chain)
    (template, params), *_ = normalize(regex)
    member = world.users["member"]
    values = {
        "slug": (
            "pangan"
            if name
            in (
                "program-detail",
                "program-dashboard",
                "assistant-weights",
                "program-deliveries",
                "program-deliveries-feed",
                "program-reports",
                "program-month-report",
            )
            else world.collaborator.slug
        ),
        "pk": world.commitment.pk,
        "need_id": world.need.pk,
        "delivery_id": world.delivery.pk,
        "proof_id": world.proof.pk,
        "import_id": world.need_import.pk,
        "code": RW_CODE,
        "level": "rw",
        "indicator": "flood-state",  # an indicator the shipped data has per RW
        "version": MapLayer.objects.filter(level="rw").values_list("version", flat=True).first(),
        "uidb64": urlsafe_base64_encode(force_bytes(member.pk)),
        "token": default_token_generator.make_token(member),
        "app_label": "commitments",
        "content_type_id": ContentType.objects.get_for_model(Need).pk,
        "id": member.pk,
        "url": "nope/",  # the admin's catch-all for unknown paths
        "path": "nope.jpg",  # media files, routed only with DEBUG on
        "report_id": Report.objects.values_list("pk", flat=True).first(),
        "tracking_code": Report.objects.values_list("code", flat=True).first(),
        "month": timezone.localdate().strftime("%Y-%m"),  # a monthly public report
    }
    if name == "verify-collaborator":
        values["slug"] = world.unverified.slug
    if name in ("need-detail", "need-edit", "need-close"):  # <pk> is a need here
        values["pk"] = world.need.pk
    if "object_id" in params:
        target = world.need if name == "view_on_site" else admin_object(world, route)
        values["object_id"] = target.pk if target else None
    if any(values.get(param) is None for param in params):
        return None
    url = "/" + template % {param: values[param] for param in params}
    try:
        if resolve(url).func != chain[-1].callback:
            return None
    except Resolver404:
        return None
    return url


def fuzzed(fields: dict[str, str], turn: int) -> dict:
    data = {}
    for index, (name, kind) in enumerate(sorted(fields.items())):
        value = FUZZ[(turn + index) % len(FUZZ)]
        if kind == "file" and turn % 2:
            value = SimpleUploadedFile("junk.png", b"\x89PNG\r\n\x1a\n" + value.encode()[:5000])
        data[name] = value
    return data


# --- the walk -----------------------------------------------------------------------------


class Walk:
    def __init__(self, client: Client, world: World) -> None:
        self.client, self.world = client, world
        self.errors: list[str] = []
        self.requests = 0
        self.posted: set[tuple] = set()

    def sign_in(self, user) -> None:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        self.signed_in_as = self.session_cookie()

    def request(self, role: str, method: str, url: str, data: dict, *, keep: bool = True, **extra):
        """One request in a savepoint, so that a database error in one view leaves the
        test's transaction usable; `keep=False` rolls back what the request wrote."""
        self.requests += 1
        try:
            with transaction.atomic():
                response = getattr(self.client, method)(url, data, **extra)
                if not keep:
                    transaction.set_rollback(True)
        except Exception as exc:  # a server error: the test client re-raises the view's
            self.errors.append(f"{role} {method.upper()} {url} {describe(data)}: {exc!r}")
            return None
        if response.status_code >= 500:
            self.errors.append(
                f"{role} {method.upper()} {url} {describe(data)}: {response.status_code}"
            )
        return response

    def other_methods(self, role: str, user, url: str) -> None:
        """Every other HTTP method to the URL itself, without a body (PUT, PATCH and DELETE
        with an empty JSON object); what they write is rolled back."""
        for method in ("head", "options", "post", "put", "patch", "delete"):
            body = {"content_type": "application/json"} if method in BODY_METHODS else {}
            self.request(role, method, url, {}, keep=False, **body)
            if self.session_cookie() != self.signed_in_as:  # signed out, or a new session
                self.sign_in(user)

    def session_cookie(self) -> str | None:
        return getattr(self.client.cookies.get(django_settings.SESSION_COOKIE_NAME), "value", None)

    def visit(self, role: str, user, url: str, *, is_admin: bool) -> None:
        self.sign_in(user)
        self.other_methods(role, user, url)
        page = self.request(role, "get", url, {})
        self.request(role, "get", url, JUNK_QUERY)
        forms = []
        if page is not None and "html" in page.get("Content-Type", ""):
            forms = forms_in(page.content.decode(errors="replace"))
        if not forms:
            self.sign_in(user)
            self.request(role, "post", url, {**JUNK_QUERY, **JUNK_POST}, keep=not is_admin)
            return
        for form in forms:
            action = urlsplit(urljoin(url, form.action)).path
            seen = (role, form.method, action, tuple(sorted(form.fields)))
            if seen in self.posted:
                continue
            self.posted.add(seen)
            method = "post" if form.method == "post" else "get"
            # Deleting in the admin is what its form is for: roll it back for the next URLs.
            keep = not action.endswith("/delete/")
            turns = range(2) if is_admin else range(len(FUZZ))
            self.sign_in(user)
            for turn in turns:
                self.request(role, method, action, fuzzed(form.fields, turn), keep=keep)
            self.request(role, method, action, dict.fromkeys(form.fields, NUL), keep=keep)


def describe(data: dict) -> str:
    def short(value) -> str:
        text = getattr(value, "name", value)
        return repr(text) if len(text) <= 24 else f"{text[:12]!r}...({len(text)} chars)"

    return "{" + ", ".join(f"{key}={short(value)}" for key, value in data.items()) + "}"


def test_every_form_as_every_role_takes_fuzz_without_a_server_error(settings, tmp_path):
    world = build_world(tmp_path, settings)
    before = world.key_rows()
    urls, unfilled = [], []
    for chain in every_pattern():
        if route_of(chain) in NOT_WALKED:
            continue
        url = fill(chain, world)
        if url is None:
            unfilled.append(route_of(chain))
        else:
            urls.append((url, route_of(chain).startswith("admin/")))
    assert not unfilled, f"patterns this test cannot fill (add their arguments): {unfilled}"
    assert len(urls) > 100  # the admin's patterns are walked too

    started = time.monotonic()
    walk = Walk(Client(enforce_csrf_checks=False), world)
    for role, user in world.users.items():
        # The admin's delete pages come last: their POST really deletes (then rolled back).
        for url, is_admin in sorted(urls, key=lambda item: item[0].endswith("/delete/")):
            walk.visit(role, user, url, is_admin=is_admin)
    elapsed = time.monotonic() - started

    assert not walk.errors, f"{len(walk.errors)} server errors:\n" + "\n".join(walk.errors)
    assert world.key_rows() == before
    assert walk.requests > 2000, walk.requests
    print(f"{walk.requests} requests in {elapsed:.0f} s")  # noqa: T201


def test_the_walk_finds_the_forms_of_a_page(client):
    """The parser sees hidden fields, selects, textareas and named buttons."""
    html = """
      <form method="post" action="/x/"><input type="hidden" name="csrfmiddlewaretoken" value="t">
        <select name="collaborator"><option>1</option></select><textarea name="note"></textarea>
        <button name="decision" value="verify">ok</button><input type="submit" value="go"></form>
      <form><input name="q"></form><input name="loose">
    """
    post, search, loose = forms_in(html)
    assert (post.action, post.method) == ("/x/", "post")
    assert set(post.fields) == {"csrfmiddlewaretoken", "collaborator", "note", "decision"}
    assert (search.method, set(search.fields)) == ("get", {"q"})
    assert set(loose.fields) == {"loose"}
