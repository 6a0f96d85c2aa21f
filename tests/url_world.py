"""The test world the every-URL walks share (tests/test_fuzz_every_form.py, the accessibility
walk): one object of every kind a URL pattern can name, and each pattern of Django's resolver
filled with those objects' arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from axes.models import AccessFailureLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
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

RW_CODE = "31.73.04.1002.001"


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
