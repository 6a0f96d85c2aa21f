"""API v1 writes. See api/urls.py.

Thin views over the same domain functions as the web's (commitments.lifecycle, .needs,
.offline, .exports): validate the body, call one function, serialize. Domain refusals
become problem details (api.errors): 422 for a refusal (over what remains, a limit, a
transition not possible now), 409 for a conflict (a reused Idempotency-Key with another
body, a stale need version), 403 for a visible object the user may not change, 404 for one
they cannot see at all.

Pledges, plans and offline commitments keep their Idempotency-Key on the commitment; the
other writes an offline outbox sends (needs upkeep, status changes, deliveries, receipts)
take an optional one through api.idempotency's @idempotent.
"""

from __future__ import annotations

import uuid
from functools import partial

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from collaborators.roles import pledge_for_refusal, scopes_for
from commitments.assistant.plans import PlanChanged, plan_pledge
from commitments.lifecycle.offline import commitment_record_offline, offline_roles
from commitments.lifecycle.pledges import PledgeRefused, commitment_pledge
from commitments.lifecycle.transitions import (
    commitment_transition,
    delivery_confirm,
    delivery_record,
)
from commitments.models import Delivery, Export
from commitments.needs.upkeep import (
    NeedChanged,
    need_close,
    need_create,
    need_update,
    needs_reconfirm,
)
from commitments.reporting.exports import (
    CONTENT_TYPES,
    ExportRefused,
    export_enqueue,
    export_may_download,
    export_request,
    exports_visible_to,
)
from commitments.workflow import TransitionRefused, available, commitment_roles
from commitments.workflow import record_delivery_roles as delivery_roles

from . import serializers as read
from . import write_serializers as w
from .asset_serializers import DeliveryConfirmSerializer
from .errors import Conflict, Unprocessable
from .idempotency import (
    IDEMPOTENCY_HEADER,
    OPTIONAL_KEY_PARAMETER,
    REPLAYED_HEADERS,
    PreconditionRequired,
    idempotency_key,
    idempotent,
    replayed_header,
)
from .views import CommitmentReadViewSet, NeedReadViewSet

extra_urls: list = []


class NeedConflict(Conflict):
    """A stale need version; the problem body carries the need as it is now."""

    def __init__(self, current, detail=None) -> None:
        super().__init__(detail or _("Someone else changed this need meanwhile."))
        self.current = current


def problems(ref, name: str = ""):
    """Raise a domain refusal as a problem (Django's ValidationError, PermissionDenied)."""
    if isinstance(ref, DjangoPermissionDenied):
        raise exceptions.PermissionDenied(str(ref) or None) from ref
    if hasattr(ref, "error_dict"):
        raise Unprocessable(ref.message_dict) from ref
    raise Unprocessable(" ".join(str(m) for m in ref.messages)) from ref


def transition_problem(refusal: TransitionRefused):
    if refusal.forbidden:
        raise exceptions.PermissionDenied(str(refusal.message))
    raise Unprocessable(str(refusal.message))


class CommitmentRefused(Unprocessable):
    """A change the commitment's state refuses (cancelled or expired meanwhile, a delivery
    already confirmed); the problem body carries the commitment as it is now, `current`."""

    def __init__(self, detail, commitment_id: int) -> None:
        super().__init__(detail)
        self.commitment_id = commitment_id


def commitment_problem(refusal: TransitionRefused, commitment_id: int):
    if refusal.forbidden:
        raise exceptions.PermissionDenied(str(refusal.message))
    raise CommitmentRefused(str(refusal.message), commitment_id)


def assets_first(commitment, delivery: Delivery) -> bool:
    """Whether the delivery still waits for its assets to be registered (so that a refusal
    of its confirmation was one of the assets', a 409)."""
    return commitment.donation_form.creates_assets and not (
        Delivery.objects.filter(pk=delivery.pk, confirmed_at__isnull=False).exists()
    )


# --- Idempotency-Key --------------------------------------------------------------------

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "1 to 100 printable ASCII characters, new for every pledge (a UUID will do). "
        "A retry with the same key and body gets the first answer again (with "
        "Idempotency-Replayed: true); the same key with another body is a 409."
    ),
)


def receipt(request, result, *, created_status=status.HTTP_201_CREATED) -> Response:
    """201 with the pledge's receipt, the first time and on every faithful retry."""
    if not result.same_request:
        raise Conflict(
            _(
                "This Idempotency-Key was already used for another request; nothing was "
                "written. Use a new key for a new request."
            )
        )
    body = w.PledgeReceiptSerializer(result.commitment, context={"request": request}).data
    headers = {"Location": body["url"]}
    if not result.created:
        headers.update(REPLAYED_HEADERS)
    return Response(body, status=created_status, headers=headers)


PROBLEM = OpenApiResponse(description="Problem details (RFC 9457), application/problem+json")


def errors(*codes: int) -> dict:
    return dict.fromkeys(codes, PROBLEM)


REFUSED_WITH_CURRENT = OpenApiResponse(
    description="Problem details; `current` is the commitment as it is now (when the refusal "
    "is the commitment's state: cancelled or expired meanwhile, already confirmed)."
)


# --- commitments ------------------------------------------------------------------------


class CommitmentWriteMixin:
    """Pledging, status changes and deliveries. The commitment is found among those the
    user holds a role on (404 otherwise); the domain decides what the role allows (403)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_throttles(self):
        # Pledging has its tighter rate (settings: "pledge"), counted by api.throttling's
        # ScopedThrottle, one of the default throttles.
        self.throttle_scope = "pledge" if self.action == "create" else None
        return super().get_throttles()

    def get_serializer_class(self):
        return {
            "create": w.PledgeSerializer,
            "transitions": w.TransitionSerializer,
            "deliveries": w.DeliverySerializer,
        }.get(self.action, super().get_serializer_class())

    @extend_schema(
        summary="Pledge to a need",
        tags=["own"],
        parameters=[IDEMPOTENCY_PARAMETER, replayed_header(201)],
        request={
            "application/json": w.PledgeSerializer,
            "multipart/form-data": w.PledgeSerializer,
        },
        responses={201: w.PledgeReceiptSerializer, **errors(400, 401, 403, 409, 422, 428, 429)},
    )
    def create(self, request, *args, **kwargs):
        key = idempotency_key(request, required=True)
        serializer = w.PledgeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        refusal = pledge_for_refusal(request.user, data["collaborator"].pk)
        if refusal:
            # Acting for someone else's collaborator is a permission refusal (403), not a
            # refusal of the pledge itself (422); the domain refuses it all the same.
            raise exceptions.PermissionDenied(refusal)
        try:
            result = commitment_pledge(
                user=request.user,
                collaborator=data["collaborator"],
                need=data["need"],
                quantity=data["quantity"],
                idempotency_key=key,
                planned_delivery_on=data["planned_delivery_on"],
                aggregator=data["aggregator"],
                statement_letter=data["statement_letter"],
                is_anonymous=data["is_anonymous"],
                note=data["note"],
            )
        except PledgeRefused as refusal:
            raise Unprocessable(str(refusal.message)) from None
        return receipt(request, result)

    @extend_schema(
        methods=["GET"],
        summary="The status changes you may make now",
        tags=["own"],
        request=None,
        responses={200: w.AvailableTransitionSerializer(many=True), **errors(401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Change a commitment's status (confirm, cancel, reject)",
        tags=["own"],
        parameters=[OPTIONAL_KEY_PARAMETER, replayed_header(200)],
        request=w.TransitionSerializer,
        responses={
            200: read.CommitmentSerializer,
            **errors(400, 401, 403, 404, 409),
            422: REFUSED_WITH_CURRENT,
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    @idempotent
    def transitions(self, request, pk=None):
        commitment = self.get_object()
        if request.method == "GET":
            return Response(
                w.AvailableTransitionSerializer(available(request.user, commitment), many=True).data
            )
        serializer = w.TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            commitment_transition(
                commitment_id=commitment.pk,
                target=serializer.validated_data["to_status"],
                actor=request.user,
                reason=serializer.validated_data["reason"],
            )
        except TransitionRefused as refusal:
            commitment_problem(refusal, commitment.pk)
        return Response(self._current(commitment.pk))

    @extend_schema(
        summary="Record a delivery with proof",
        tags=["own"],
        parameters=[OPTIONAL_KEY_PARAMETER, replayed_header(201)],
        request={"multipart/form-data": w.DeliverySerializer},
        responses={
            201: w.DeliveryOutSerializer,
            **errors(400, 401, 403, 404, 409),
            422: REFUSED_WITH_CURRENT,
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    @idempotent
    def deliveries(self, request, pk=None):
        commitment = self.get_object()
        if not commitment_roles(request.user, commitment) & delivery_roles(commitment):
            raise exceptions.PermissionDenied(_("You may not do this for this commitment."))
        serializer = w.DeliverySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            delivery = delivery_record(
                commitment_id=commitment.pk,
                actor=request.user,
                quantity=data["quantity"],
                delivered_on=data["delivered_on"],
                recipients_households=data["recipients_households"],
                recipients_persons=data["recipients_persons"],
                proofs=data["proofs"],
                note=data["note"],
            )
        except TransitionRefused as refusal:
            commitment_problem(refusal, commitment.pk)
        return Response(w.DeliveryOutSerializer(delivery).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm receipt of a delivery",
        description=(
            "A delivery of a donation form that creates assets (laptops, benches...) is "
            "confirmed together with the registration of its assets, sent in `assets` (as "
            "many as the delivery's quantity), by the same rules as the portal's page: all "
            "are registered, or none and a 409 says why (the owner the program allows, a "
            "school of the area, a private owner's name, serial numbers present and unused). "
            "A delivery of any other form takes no `assets`. Photos of what arrived may come "
            "with the receipt, as multipart/form-data (one `photos` part per file, `assets` "
            "then as a JSON string): they are checked as delivery proofs are and stored as "
            "proofs of the delivery in the same transaction, all or nothing (a bad photo is "
            "a 400 and nothing is confirmed). A second confirmation is a 422 whose `current` "
            "is the commitment as it is now."
        ),
        tags=["own"],
        request={
            "application/json": DeliveryConfirmSerializer,
            "multipart/form-data": w.ReceiptFormSerializer,
        },
        parameters=[
            OpenApiParameter("delivery_id", int, OpenApiParameter.PATH),
            OPTIONAL_KEY_PARAMETER,
            replayed_header(200),
        ],
        responses={
            200: w.DeliveryOutSerializer,
            **errors(400, 401, 403, 404, 409),
            422: REFUSED_WITH_CURRENT,
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/confirm",
        url_name="delivery-confirm",
        filter_backends=[],
    )
    @idempotent
    def confirm_delivery(self, request, pk=None, delivery_id=None):
        commitment = self.get_object()
        delivery = get_object_or_404(Delivery, pk=int(delivery_id), commitment=commitment)
        body = w.ReceiptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assets = body.entries()
        if assets and not commitment.donation_form.creates_assets:
            raise exceptions.ValidationError(
                {"assets": [_("This delivery's donation form creates no assets.")]}
            )
        try:
            delivery = delivery_confirm(
                delivery_id=delivery.pk,
                actor=request.user,
                assets=assets,
                photos=body.photo_uploads(),
            )
        except TransitionRefused as refusal:
            if not refusal.forbidden and assets_first(commitment, delivery):
                if assets:  # the registry's own reason, as the page shows it
                    raise Conflict(str(refusal.message)) from None
                page = reverse("asset-register", args=[commitment.pk, delivery.pk])
                raise Conflict(
                    _(
                        "This delivery brings %(count)s assets: send them in `assets`, or "
                        "register them on its page: %(url)s"
                    )
                    % {"count": delivery.quantity, "url": request.build_absolute_uri(page)}
                ) from None
            commitment_problem(refusal, commitment.pk)
        return Response(w.DeliveryOutSerializer(delivery).data)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, CommitmentRefused):
            response.data["current"] = self._current(exc.commitment_id)
        return response

    def _current(self, pk: int):
        commitment = self.get_queryset().get(pk=pk)
        return read.CommitmentSerializer(commitment, context=self.get_serializer_context()).data


class CommitmentViewSet(CommitmentWriteMixin, CommitmentReadViewSet):
    pass


# --- plans ------------------------------------------------------------------------------


class PlanConflict(Conflict):
    """Lines of the plan changed; the problem body lists them and the adjusted plan."""

    def __init__(self, changed: PlanChanged) -> None:
        super().__init__(str(changed))
        self.changed = changed


class PlanViewSet(viewsets.GenericViewSet):
    """A whole plan (the assistant's) pledged in one request (commitments.assistant.plans), for a
    collaborator one belongs to (403 otherwise): 201 with every commitment, or nothing
    written and a 409 naming the lines that changed, or a 422 for a limit."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = w.PlanSerializer
    parser_classes = [JSONParser]
    pagination_class = None
    filter_backends: list = []
    throttle_scope = "pledge"  # as single pledges (settings: "pledge")

    @extend_schema(
        summary="Pledge a whole plan: one commitment per line, all or none",
        tags=["own"],
        parameters=[IDEMPOTENCY_PARAMETER, replayed_header(201)],
        request=w.PlanSerializer,
        responses={
            201: w.PlanReceiptSerializer,
            409: OpenApiResponse(
                w.PlanChangedProblemSerializer,
                description="Lines changed (nothing written; accept `adjusted_plan` under a "
                "new key), or the key was used for another plan.",
            ),
            **errors(400, 401, 403, 422, 428, 429),
        },
    )
    def create(self, request):
        key = idempotency_key(request, required=True)
        serializer = w.PlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        refusal = pledge_for_refusal(request.user, data["collaborator"].pk)
        if refusal:
            raise exceptions.PermissionDenied(refusal)
        try:
            result = plan_pledge(
                user=request.user,
                collaborator=data["collaborator"],
                lines=[(line["need"], line["quantity"]) for line in data["lines"]],
                idempotency_key=key,
                planned_delivery_on=data["planned_delivery_on"],
                note=data["note"],
            )
        except PlanChanged as changed:
            raise PlanConflict(changed) from None
        except PledgeRefused as refusal:
            raise Unprocessable(str(refusal.message)) from None
        if not result.same_request:
            raise Conflict(
                _(
                    "This Idempotency-Key was already used for another request; nothing was "
                    "written. Use a new key for a new request."
                )
            )
        body = w.PlanReceiptSerializer(
            {"commitments": result.commitments}, context={"request": request}
        ).data
        headers = {} if result.created else REPLAYED_HEADERS
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, PlanConflict):
            response.data["lines"] = [
                {
                    "need": line.need_id,
                    "asked": line.asked,
                    "available": line.available,
                    "adjusted": line.adjusted,
                    "reason": line.reason,
                }
                for line in exc.changed.changed
            ]
            response.data["adjusted_plan"] = [
                {"need": need_id, "quantity": quantity}
                for need_id, quantity in exc.changed.adjusted
            ]
        return response


# --- needs ------------------------------------------------------------------------------

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The need\'s `version` you last read, e.g. "3" (or send `version`).',
)


def expected_version(request, body_version: int | None) -> int:
    """The need version a change is based on: If-Match ("3", W/"3" or 3) or `version`."""
    header = request.headers.get("If-Match")
    version = None
    if header is not None:
        text = header.strip().removeprefix("W/").strip('"')
        if not (text.isascii() and text.isdigit() and len(text) <= 10):
            raise exceptions.ValidationError(
                {"If-Match": [_('Send the need\'s version, e.g. "3".')]}
            )
        version = int(text)
        if body_version is not None and body_version != version:
            raise exceptions.ValidationError(
                {"version": [_("The version and the If-Match header differ.")]}
            )
    version = version if version is not None else body_version
    if version is None:
        raise PreconditionRequired(
            _("Send the need's version (If-Match header or `version` field) you based this on.")
        )
    return version


class NeedWriteMixin:
    """Needs upkeep by the facilitators of their areas and sites, program leads for their
    programs, administrators (Scopes.may_keep_need). Needs are public: others get 403."""

    def get_serializer_class(self):
        return {
            "create": w.NeedCreateSerializer,
            "partial_update": w.NeedUpdateSerializer,
            "close": w.NeedCloseSerializer,
            "reconfirm": w.ReconfirmSerializer,
        }.get(self.action, super().get_serializer_class())

    def get_permissions(self):
        if self.action in ("create", "partial_update", "close", "reconfirm"):
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, NeedConflict):
            response.data["current"] = self._need_out(exc.current)
        return response

    def _need_out(self, need):
        need = NeedReadViewSet.queryset.get(pk=need.pk)
        return read.NeedSerializer(need, context=self.get_serializer_context()).data

    def _kept(self):
        """The need, if the user keeps it (403 for a need of someone else's area)."""
        need = self.get_object()
        if not scopes_for(self.request.user).may_keep_need(need.area, need.site, need.program_id):
            raise exceptions.PermissionDenied(
                _("You do not keep the needs of this area for this program.")
            )
        return need

    @extend_schema(
        summary="Add a need",
        tags=["needs upkeep"],
        parameters=[OPTIONAL_KEY_PARAMETER, replayed_header(201)],
        request=w.NeedCreateSerializer,
        responses={201: read.NeedSerializer, **errors(400, 401, 403, 409, 422)},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = w.NeedCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            need = need_create(
                actor=request.user,
                area=data["area"],
                site=data["site"],
                program=data["program"],
                donation_form=data["donation_form"],
                quantity_needed=data["quantity_needed"],
                unit_value_idr=data.get("unit_value_idr"),
                priority=data["priority"],
                households=data.get("households"),
                persons=data.get("persons"),
                valid_until=data["valid_until"],
                description=data.get("description", ""),
            )
        except (DjangoPermissionDenied, DjangoValidationError) as refusal:
            problems(refusal)
        return Response(self._need_out(need), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a need",
        description=(
            "A stale `version` (someone changed the need meanwhile) is a 409 whose `current` "
            "is the need as it is now; to keep one's own change, send it again with "
            "`version` = current.version and a new Idempotency-Key."
        ),
        tags=["needs upkeep"],
        parameters=[IF_MATCH, OPTIONAL_KEY_PARAMETER, replayed_header(200)],
        request=w.NeedUpdateSerializer,
        responses={200: read.NeedSerializer, **errors(400, 401, 403, 404, 409, 422, 428)},
    )
    @idempotent
    def partial_update(self, request, *args, **kwargs):
        need = self._kept()
        serializer = w.NeedUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        version = expected_version(request, changes.pop("version", None))
        try:
            need = need_update(
                actor=request.user, need_id=need.pk, expected_version=version, **changes
            )
        except NeedChanged as changed:
            raise NeedConflict(changed.current) from None
        except (DjangoPermissionDenied, DjangoValidationError) as refusal:
            problems(refusal)
        return Response(self._need_out(need))

    @extend_schema(
        summary="Close a need (rejects its pledges not yet confirmed)",
        tags=["needs upkeep"],
        parameters=[IF_MATCH, OPTIONAL_KEY_PARAMETER, replayed_header(200)],
        request=w.NeedCloseSerializer,
        responses={200: read.NeedSerializer, **errors(400, 401, 403, 404, 409, 422, 428)},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    @idempotent
    def close(self, request, pk=None):
        need = self._kept()
        serializer = w.NeedCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = expected_version(request, serializer.validated_data.get("version"))
        try:
            need = need_close(
                actor=request.user,
                need_id=need.pk,
                expected_version=version,
                reason=serializer.validated_data["reason"],
            )
        except NeedChanged as changed:
            raise NeedConflict(changed.current) from None
        except (DjangoPermissionDenied, DjangoValidationError) as refusal:
            problems(refusal)
        return Response(self._need_out(need))

    @extend_schema(
        summary="Re-confirm the open needs of an area as they are",
        tags=["needs upkeep"],
        parameters=[OPTIONAL_KEY_PARAMETER, replayed_header(200)],
        request=w.ReconfirmSerializer,
        responses={200: w.ReconfirmResultSerializer, **errors(400, 401, 403, 409)},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    @idempotent
    def reconfirm(self, request):
        serializer = w.ReconfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        area = serializer.validated_data["area"]
        scopes = scopes_for(request.user)
        if not scopes.keeps_needs_in(area):
            raise exceptions.PermissionDenied(_("You do not keep the needs of this area."))
        try:
            count = needs_reconfirm(actor=request.user, area=area)
        except DjangoPermissionDenied as refusal:
            problems(refusal)
        return Response({"reconfirmed": count})


class NeedViewSet(NeedWriteMixin, NeedReadViewSet):
    pass


# --- offline commitments ----------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        summary="Record a commitment made outside the portal",
        tags=["needs upkeep"],
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Optional here; as for pledges, a retry with it records nothing twice.",
            ),
            replayed_header(201),
        ],
        request=w.OfflineCommitmentSerializer,
        responses={
            201: w.PledgeReceiptSerializer,
            **errors(400, 401, 403, 404, 409, 422),
        },
    )
)
class OfflineCommitmentViewSet(viewsets.GenericViewSet):
    """For program leads, facilitators and administrators: those who would have confirmed
    the commitment (commitments.lifecycle.offline)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = w.OfflineCommitmentSerializer
    pagination_class = None
    filter_backends: list = []

    def create(self, request):
        scopes = scopes_for(request.user)
        if not scopes.confirms_anything:
            raise exceptions.PermissionDenied(
                _("Only facilitators, program leads and administrators record these.")
            )
        key = idempotency_key(request, required=False) or uuid.uuid4().hex
        serializer = w.OfflineCommitmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        need = data["need"]
        if need is not None and not offline_roles(
            scopes, area=need.area, site=need.site, program_id=need.program_id
        ):
            raise Http404
        try:
            result = commitment_record_offline(
                actor=request.user,
                collaborator=data["collaborator"],
                need=need,
                area=data["area"],
                donation_form=need.donation_form if need else data["donation_form"],
                quantity=data["quantity"],
                value_idr=data["value_idr"],
                made_on=data["made_on"],
                note=data["note"],
                idempotency_key=key,
            )
        except TransitionRefused as refusal:
            transition_problem(refusal)
        return receipt(request, result)


# --- exports ----------------------------------------------------------------------------


class PassthroughRenderer(BaseRenderer):
    """Lets a download answer whatever its Accept header asks (the file keeps its own
    content type); problem bodies on this endpoint are still JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, "application/json", renderer_context)


@extend_schema_view(
    list=extend_schema(summary="My exports", tags=["exports"]),
    retrieve=extend_schema(summary="One export: status and progress", tags=["exports"]),
    create=extend_schema(
        summary="Ask for an export of dashboard data",
        tags=["exports"],
        request=w.ExportRequestSerializer,
        responses={202: w.ExportSerializer, **errors(400, 401, 403, 422)},
    ),
)
class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Exports as the dashboard makes them: CSV, XLSX, HXL-tagged CSV or IATI-style JSON,
    built by a job. Seen by their requester (and administrators); others get 404."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = w.ExportSerializer
    queryset = Export.objects.none()
    filter_backends: list = []
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Export.objects.none()
        if self.action == "list":
            return Export.objects.filter(requested_by=self.request.user).order_by("-pk")
        return exports_visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return w.ExportRequestSerializer
        return w.ExportSerializer

    def create(self, request):
        serializer = w.ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        file_format = data.pop("format")
        try:
            with transaction.atomic():
                export = export_request(user=request.user, data=data, format=file_format)
                transaction.on_commit(partial(export_enqueue, export_id=export.pk))
        except ExportRefused as refused:
            if refused.form is not None and refused.form.errors:
                raise exceptions.ValidationError(
                    {
                        name: [str(m) for m in messages]
                        for name, messages in refused.form.errors.items()
                    }
                ) from None
            raise Unprocessable(str(refused.message)) from None
        except DjangoPermissionDenied:
            raise exceptions.PermissionDenied(
                _("You may not export this: it is not one of your dashboards' programs.")
            ) from None
        export.refresh_from_db()
        body = w.ExportSerializer(export, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        summary="Download a finished export",
        tags=["exports"],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
            **errors(401, 403, 404, 409),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PassthroughRenderer])
    def download(self, request, pk=None):
        export = self.get_object()
        if export.status != Export.Status.DONE or not export.file:
            raise Conflict(_("This export is not ready yet; its status says when it is."))
        if not export_may_download(export=export, user=request.user):
            raise exceptions.PermissionDenied(
                _("You no longer hold the rights this export was made with.")
            )
        try:
            stored = export.file.open("rb")
        except OSError:
            raise exceptions.NotFound() from None
        response = FileResponse(
            stored,
            as_attachment=True,
            filename=export.file_name,
            content_type=CONTENT_TYPES[export.format],
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def register(router) -> None:
    router.register("needs", NeedViewSet, basename="api-need")
    router.register("commitments", CommitmentViewSet, basename="api-commitment")
    router.register("plans", PlanViewSet, basename="api-plan")
    router.register(
        "offline-commitments", OfflineCommitmentViewSet, basename="api-offline-commitment"
    )
    router.register("exports", ExportViewSet, basename="api-export")
