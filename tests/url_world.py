"""The test world the every-URL walks share (tests/test_fuzz_every_form.py, the accessibility
walk): one object of every kind a URL pattern can name, and each pattern of Django's resolver
filled with those objects' arguments."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from types import SimpleNamespace

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
from commitments.adoption.models import Adoption, NeedFirstOffer
from commitments.adoption.public_proofs import proof_publish
from commitments.assets.models import Asset
from commitments.assets.registry import AssetEntry
from commitments.feedback.models import Report
from commitments.figures.summaries import summaries_rebuild
from commitments.lifecycle.pledges import commitment_pledge
from commitments.lifecycle.transitions import delivery_confirm, delivery_record
from commitments.lifecycle.uploads import CleanUpload, clean_upload
from commitments.models import (
    Commitment,
    Delivery,
    DeliveryProof,
    Export,
    NeedImport,
    Notification,
)
from commitments.needs.bulk_import import need_import_check, need_import_create
from commitments.privacy.models import ErasureRequest
from commitments.reporting.exports import export_build, export_request
from locations.indicator_import import IndicatorSpec, indicator_import_create
from locations.models import Area, IndicatorImport, MapLayer, Need, NeedChange, Site

from .adoption_world import make_adoption
from .asset_world import laptop_world
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    jpeg_with_location,
    lead_of,
    member_of,
)
from .feedback_world import submit as submit_report
from .pooling_world import make_pooled_chain

RW_CODE = "31.73.04.1002.001"
OTHER_RW_CODE = "31.73.04.1002.002"
PDF = CleanUpload("bukti.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf", "document")


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
    # The objects the other routes name, each of its own kind (fill() picks by URL name).
    indicator_import: IndicatorImport | None = None
    token: ApiToken | None = None
    notification: Notification | None = None
    photo: DeliveryProof | None = None  # a photo of the delivery, marked public
    letter: Commitment | None = None  # a pledge with a statement letter
    export: Export | None = None  # the lead's, built
    adoption: Adoption | None = None  # active, in RW_CODE
    proposal: Adoption | None = None  # changes requested: its adopter may edit it
    pooled: SimpleNamespace | None = None  # tests.pooling_world.make_pooled_chain's
    assets: SimpleNamespace | None = None  # an asset, and a delivery to register at receipt

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
        proofs=[PDF, _photo()],
    )
    unverified = CollaboratorFactory(verification_status=Collaborator.Verification.UNVERIFIED)
    commitment_in("pledged", need=need, collaborator=unverified, quantity=1)
    staff = UserFactory(is_staff=True, is_superuser=True)
    notification = Notification.objects.create(
        user=owner, commitment=commitment, subject="Uji", body="Uji"
    )
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
    world = World(
        need=need,
        collaborator=collaborator,
        unverified=unverified,
        commitment=commitment,
        delivery=delivery,
        proof=delivery.proofs.get(kind=DeliveryProof.Kind.DOCUMENT),
        users=users,
        admin_objects={
            Need: need,
            Area: need.area,
            Collaborator: collaborator,
            Commitment: commitment,
            Delivery: delivery,
            type(owner): member,
        },
        need_import=_need_import(users["facilitator"]),
        notification=notification,
    )
    _add_records(world)
    _add_route_objects(world)
    summaries_rebuild()
    return world


def _photo() -> CleanUpload:
    """A phone's photo, checked and re-encoded as the upload forms do."""
    return clean_upload(SimpleUploadedFile("foto.jpg", jpeg_with_location(), "image/jpeg"))


def _add_records(world: World) -> None:
    """What the services, jobs and other people write: rows the admin lists and shows."""
    need, users = world.need, world.users
    # A token of the member, an indicator upload of the lead.
    world.token, _key = ApiToken.issue(
        user=users["member"], name="ERP", collaborator=world.collaborator
    )
    world.indicator_import = indicator_import_create(
        uploader=users["lead"],
        upload=SimpleUploadedFile("uji.csv", f"area_code,nilai\n{RW_CODE},1\n".encode()),
        spec=IndicatorSpec(
            indicator="uji", label="Uji", unit="%", source="uji", value_column="nilai", year=2024
        ),
    )
    NeedChange.objects.create(need=need, action=NeedChange.Action.UPDATED, reason="Uji")
    # An adoption and a first offer (run out), which the admin shows read-only: each model
    # the admin registers needs a row here, or its change and history URLs cannot be filled.
    world.adoption = make_adoption(world.collaborator, codes=(RW_CODE,))
    NeedFirstOffer.objects.create(need=need, adoption=world.adoption, until=timezone.now())
    # A gift pooled by an aggregator, its share, a delivery and a distribution. The member
    # of the world's collaborator is a member of the aggregator too: its workspace's role.
    world.pooled = make_pooled_chain(
        source=world.collaborator,
        source_member=users["owner"],
        need=need,
        facilitator=users["facilitator"],
    )
    Membership.objects.create(
        user=users["member"], collaborator=world.pooled.agency, role=Membership.Role.MEMBER
    )
    # A recipient's report with a photo: its pages and the admin's.
    submit_report(world.delivery, photo=_photo())
    ErasureRequest.objects.create(user=UserFactory())  # a person's erasure (admin pages)


def _add_route_objects(world: World) -> None:
    """The objects of the routes that name something other than the world's need and
    commitment, each seen by one of the world's roles at least."""
    users = world.users
    world.photo = world.delivery.proofs.get(kind=DeliveryProof.Kind.PHOTO)
    proof_publish(  # the facilitator shows it to everyone
        user=users["facilitator"],
        commitment_id=world.commitment.pk,
        proof_id=world.photo.pk,
        public=True,
    )
    world.letter = commitment_pledge(
        user=users["owner"],
        collaborator=world.collaborator,
        need=world.need,
        quantity=1,
        idempotency_key=uuid.uuid4().hex,
        statement_letter=PDF,
    ).commitment
    world.export = export_request(user=users["lead"], data={}, format="csv")
    export_build(export_id=world.export.pk)  # the job itself, so it is done on return
    # An adoption sent back to its adopter (the owner), in another RW than the active one.
    world.proposal = make_adoption(
        world.collaborator,
        status="changes_requested",
        codes=(OTHER_RW_CODE,),
        name="Kampung Usulan",
    )
    world.assets = _assets(users["facilitator"])


def _assets(facilitator) -> SimpleNamespace:
    """A laptop registered as an asset (with its photo) at its receipt in RW_CODE, and
    another laptop delivery there waiting for its receipt: the facilitator's to register."""
    registered = laptop_world(quantity=1, facilitator=facilitator)
    delivery_confirm(
        delivery_id=registered.delivery.pk,
        actor=facilitator,
        assets=[
            AssetEntry(
                owner_kind="school",
                owner_site_id=registered.school.pk,
                serial_number="SN-DUNIA-1",
                photo=_photo(),
            )
        ],
    )
    return SimpleNamespace(
        asset=Asset.objects.get(delivery=registered.delivery),
        school=registered.school,
        program=registered.form.program,
        waiting=laptop_world(quantity=1, facilitator=facilitator),
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


PROGRAM_PAGES = (
    "program-detail",
    "program-dashboard",
    "assistant-weights",
    "program-deliveries",
    "program-deliveries-feed",
    "program-reports",
    "program-month-report",
)


def _arguments_by_name(world: World) -> dict[str, dict]:
    """The arguments of the routes (by URL name) that name an object of another kind than
    fill()'s defaults (the collaborator's slug, the commitment's pk, the world's delivery)."""
    pooled, assets, waiting = world.pooled, world.assets, world.assets.waiting
    gift = {"pk": pooled.gift.pk}
    chain = {"pk": pooled.commitment.pk, "delivery_id": pooled.delivery.pk}
    distribution = {"proof_id": pooled.distribution.pk}
    by_name = {
        **dict.fromkeys(PROGRAM_PAGES, {"slug": "pangan"}),
        "verify-collaborator": {"slug": world.unverified.slug},
        **dict.fromkeys(("need-detail", "need-edit", "need-close"), {"pk": world.need.pk}),
        **dict.fromkeys(("api-need-detail", "api-need-close"), {"pk": world.need.pk}),
        "indicator-import-detail": {"import_id": world.indicator_import.pk},
        "indicator-import-apply": {"import_id": world.indicator_import.pk},
        "api-token-revoke": {"pk": world.token.pk},
        "api-notification-detail": {"pk": world.notification.pk},
        "api-program-detail": {"pk": world.need.program_id},
        "api-donation-form-detail": {"pk": world.need.donation_form_id},
        "api-area-detail": {"pk": world.need.area_id},
        "api-site-detail": {"pk": assets.school.pk},
        "api-collaborator-detail": {"pk": world.collaborator.pk},
        "statement-file": {"pk": world.letter.pk},
        "proof-public": {"proof_id": world.photo.pk},
        "proof-public-file": {"proof_id": world.photo.pk},
        "asset-register": {"pk": waiting.commitment.pk, "delivery_id": waiting.delivery.pk},
        **dict.fromkeys(("asset-detail", "asset-event", "asset-photo"), {"pk": assets.asset.pk}),
        "asset-register-school": {"pk": assets.school.pk},
        "asset-register-program": {"slug": assets.program.slug},
        "asset-program-years": {"slug": assets.program.slug},
        "adoption-edit": {"pk": world.proposal.pk},
        "adoption-withdraw": {"pk": world.proposal.pk},
        "pooling-contribution": gift,
        "pooling-receive": gift,
        "pooling-refuse": gift,
        "pooling-chain-proof": {**gift, "proof_id": pooled.delivery.proofs.get().pk},
        "pooling-chain-distribution-proof": {**gift, **distribution},
        "pooling-commit": {"slug": pooled.agency.slug, "need_id": world.need.pk},
        "pooling-distribution-create": chain,
        "pooling-distribution-proof": {**chain, **distribution},
    }
    for name in ("pooling-aggregator", "pooling-ledger-csv", "pooling-ledger-xlsx"):
        by_name[name] = {"slug": pooled.agency.slug}
    exports = ("export-detail", "export-status", "export-download", "export-retry")
    for name in (*exports, "api-export-detail", "api-export-download"):
        by_name[name] = {"pk": world.export.pk}
    adoptions = ("adoption-detail", "adoption-comment", "adoption-decide", "adoption-work-add")
    for name in (*adoptions, "api-adoption-detail"):
        by_name[name] = {"pk": world.adoption.pk}
    return by_name


def fill(chain, world: World) -> str | None:
    """A URL for the pattern with its arguments taken from the world; None if one cannot be."""
    route = route_of(chain)
    name = chain[-1].name
    regex = "".join(part.pattern.regex.pattern.lstrip("^") for part in chain)
    (template, params), *_ = normalize(regex)
    member = world.users["member"]
    values = {
        "slug": world.collaborator.slug,
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
        **_arguments_by_name(world).get(name, {}),
    }
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
