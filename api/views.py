"""API v1 reads. See api/urls.py.

`NeedReadViewSet` and `CommitmentReadViewSet` are registered by api.write_views, which
subclasses them with the write actions; every other viewset registers here.

Lists keep a constant number of queries per page (select_related / prefetch_related, the
parent's code read from the area path); the public ones carry only what public pages show.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Max
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import utils as filter_utils
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import authentication, mixins, permissions, serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from collaborators.models import Collaborator
from collaborators.roles import scopes_for
from commitments.figures.totals import _SUMMARY_COLUMN
from commitments.models import (
    CONFIRMED_STATUSES,
    Commitment,
    CommitmentRollup,
    CommitmentSummary,
    Notification,
    Status,
)
from ksbb.bounds import BIGINT_MAX
from locations.models import Area, Need, Site
from programs.models import DonationForm, Program

from . import filters
from . import serializers as s
from .authentication import SessionCookieAuthentication
from .errors import PROBLEM_CONTENT_TYPE, problem_type
from .geojson import FeatureCollectionSerializer, FeatureSerializer, GeoJSONRenderer
from .pagination import (
    PAGE_NUMBER_MAX,
    CursorPagination,
    NewestCursorPagination,
    SummaryPagination,
    bounded_int,
)
from .rows import RowsSerializer

extra_urls: list = []


class QuickNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, which answers at once a request that names no format and
    takes anything (no Accept header, or */*), as DRF would: the first renderer, in its own
    media type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if (
            (accept is None or accept == "*/*")
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


class QuickFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend, filtering with the filters the request names
    (filters.FilterSet's `named_only`); the browsable API's form still shows them all."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not issubclass(filterset_class, filters.FilterSet):
            return super().filter_queryset(request, queryset, view)
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        filterset = filterset_class(**kwargs, named_only=True)
        if not filterset.is_valid() and self.raise_exception:
            raise filter_utils.translate_validation(filterset.errors)
        return filterset.qs


# For the API's reads: DRF's negotiation, filtering and authentication as configured, with
# the short answers above for the common request (QuickNegotiation; QuickFilterBackend; the
# session of a request without a session cookie left unread, SessionCookieAuthentication).
# No docstring: drf-spectacular would take it for the description of views without one. The
# schema is made with DRF's own authenticators, which it knows.
class QuickReadMixin:
    content_negotiation_class = QuickNegotiation
    filter_backends = [
        QuickFilterBackend if backend is DjangoFilterBackend else backend
        for backend in api_settings.DEFAULT_FILTER_BACKENDS
    ]

    def get_authenticators(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_authenticators()
        return [
            SessionCookieAuthentication()
            if type(authenticator) is authentication.SessionAuthentication
            else authenticator
            for authenticator in super().get_authenticators()
        ]


class ReadViewSet(
    QuickReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve by id. An id that is not a number, or beyond the column, is a 404
    problem body like any unknown id (not the portal's HTML 404, not a database error)."""

    lookup_field = "pk"
    lookup_value_regex = "[^/]+"

    # Lists are written by api.rows.RowsSerializer (as the serializer would write them).

    def list(self, request, *args, **kwargs):
        serializer_class = self.get_serializer_class()
        if hasattr(getattr(serializer_class, "Meta", None), "list_serializer_class"):
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = RowsSerializer(
            queryset if page is None else page,
            child_class=serializer_class,
            context=self.get_serializer_context(),
        ).data
        return Response(rows) if page is None else self.get_paginated_response(rows)

    def get_object(self):
        value = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if not filters.is_id(str(value)):
            raise NotFound()
        return super().get_object()


# An area joined to rows (select_related) loads every column, megabytes of geometry among
# them, unless these are deferred.
AREA_HEAVY = ("area__geometry", "area__display_geometry", "area__source_properties")


class PublicReadViewSet(ReadViewSet):
    permission_classes = [permissions.AllowAny]


# --- public data --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Programs", tags=["public"]),
    retrieve=extend_schema(summary="One program", tags=["public"]),
)
class ProgramViewSet(PublicReadViewSet):
    queryset = Program.objects.order_by("sort_order", "slug", "pk")
    serializer_class = s.ProgramSerializer


@extend_schema_view(
    list=extend_schema(summary="Donation forms", tags=["public"]),
    retrieve=extend_schema(summary="One donation form", tags=["public"]),
)
class DonationFormViewSet(PublicReadViewSet):
    queryset = DonationForm.objects.order_by(
        "program__sort_order", "program_id", "sort_order", "pk"
    )
    serializer_class = s.DonationFormSerializer
    filterset_class = filters.DonationFormFilter


GEOMETRY_PARAMETER = OpenApiParameter(
    "geometry",
    str,
    enum=["0", "1", "true", "false", "simplified"],
    description="Include each area's GeoJSON geometry: 1 as imported, simplified as drawn "
    "on the map (smaller). Always included for Accept: application/geo+json.",
)
GEOMETRY_FIELDS = {"1": "geometry", "true": "geometry", "simplified": "display_geometry"}


@extend_schema_view(
    list=extend_schema(
        summary="Areas",
        tags=["public"],
        parameters=[GEOMETRY_PARAMETER],
        responses={
            200: s.AreaSerializer(many=True),
            (200, "application/geo+json"): FeatureCollectionSerializer,
        },
    ),
    retrieve=extend_schema(
        summary="One area",
        tags=["public"],
        parameters=[GEOMETRY_PARAMETER],
        responses={
            200: s.AreaSerializer,
            (200, "application/geo+json"): FeatureSerializer,
        },
    ),
)
class AreaViewSet(PublicReadViewSet):
    """Province > kota > kecamatan > kelurahan > RW. Geometry only on request."""

    queryset = Area.objects.none()  # for the schema; get_queryset picks the columns
    serializer_class = s.AreaSerializer
    filterset_class = filters.AreaFilter
    renderer_classes = [JSONRenderer, GeoJSONRenderer, BrowsableAPIRenderer]

    def geometry_field(self) -> str | None:
        raw = self.request.query_params.get("geometry", "0")
        if raw not in ("0", "false", "", *GEOMETRY_FIELDS):
            raise ValidationError({"geometry": [_("Use 0, 1 or simplified.")]})
        field = GEOMETRY_FIELDS.get(raw)
        renderer = getattr(self.request, "accepted_renderer", None)
        if field is None and getattr(renderer, "format", "") == "geojson":
            field = "geometry"
        return field

    def get_queryset(self):
        areas = Area.objects.order_by("code")
        field = self.geometry_field()
        if field is not None:
            # Only the geometry asked for: the other one is as large.
            other = "display_geometry" if field == "geometry" else "geometry"
            areas = areas.with_geometry().defer(other, "source_properties")
        return areas

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "geometry_field": self.geometry_field()}


@extend_schema_view(
    list=extend_schema(summary="Sites (schools, pesantren, orphanages...)", tags=["public"]),
    retrieve=extend_schema(summary="One site", tags=["public"]),
)
class SiteViewSet(PublicReadViewSet):
    queryset = Site.objects.select_related("area").defer(*AREA_HEAVY).order_by("name", "pk")
    serializer_class = s.SiteSerializer
    filterset_class = filters.SiteFilter


@extend_schema_view(
    list=extend_schema(summary="Needs (newest first)", tags=["public"]),
    retrieve=extend_schema(summary="One need", tags=["public"]),
)
class NeedReadViewSet(PublicReadViewSet):
    """Needs assessment lines: public. A cursor walks them newest first."""

    queryset = (
        Need.objects.select_related("area", "donation_form")
        .defer(*AREA_HEAVY)
        .alias(remaining=F("quantity_needed") - F("quantity_claimed"))
        .order_by("-pk")
    )
    serializer_class = s.NeedSerializer
    filterset_class = filters.NeedFilter
    pagination_class = CursorPagination

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "today": timezone.localdate(),
            "now": timezone.now(),
        }


@extend_schema_view(
    list=extend_schema(summary="Collaborators (verified, public fields)", tags=["public"]),
    retrieve=extend_schema(summary="One collaborator", tags=["public"]),
)
class CollaboratorViewSet(PublicReadViewSet):
    """As the public gallery: verified collaborators only, public fields only (contacts live
    in another model and never load)."""

    queryset = (
        Collaborator.objects.verified()
        .publicly_named()
        .prefetch_related("programs")
        .order_by("-live_commitments", "name", "pk")
    )
    serializer_class = s.CollaboratorSerializer
    filterset_class = filters.CollaboratorFilter


# --- public summaries ---------------------------------------------------------------------

SUMMARY_COLUMNS = {
    "program": "program_id",
    "donation_form": "donation_form_id",
    "area": "area_id",
    "kelurahan": "kelurahan_id",
    "kecamatan": "kecamatan_id",
    "kota": "kota_id",
    "month": "month",
    "channel": "channel",
    "status": "status",
}
# What the kecamatan roll-up holds: figures that need nothing finer read it instead.
ROLLUP_GROUPS = {"program", "donation_form", "kecamatan", "kota", "month", "channel", "status"}
ROLLUP_AREA_LEVELS = {Area.Level.PROVINCE, Area.Level.KOTA, Area.Level.KECAMATAN}


class SummaryQuerySerializer(serializers.Serializer):
    group_by = serializers.CharField(
        required=False,
        default="program,status",
        max_length=200,
        help_text="Comma-separated: " + ", ".join(SUMMARY_COLUMNS),
    )
    program = serializers.CharField(required=False, max_length=60, help_text="Id or slug.")
    donation_form = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    area = serializers.CharField(
        required=False, max_length=60, help_text="Id or code: the area and everything below."
    )
    channel = serializers.ChoiceField(choices=Commitment.Channel.choices, required=False)
    status = serializers.ChoiceField(
        choices=[*Status.values, "confirmed"],
        required=False,
        help_text="One status, or confirmed (committed, delivered, completed: what public "
        "pages count).",
    )
    month_from = serializers.DateField(
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text="YYYY-MM (or a date in that month), included.",
    )
    month_to = serializers.DateField(
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text="YYYY-MM (or a date in that month), included.",
    )

    def validate_month_from(self, value):
        return value.replace(day=1)

    def validate_month_to(self, value):
        return value.replace(day=1)

    def validate_group_by(self, value: str) -> list[str]:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in SUMMARY_COLUMNS]
        if unknown or not names:
            raise serializers.ValidationError(
                _("Group by any of: %(names)s.") % {"names": ", ".join(SUMMARY_COLUMNS)}
            )
        return list(dict.fromkeys(names))


@extend_schema_view(
    list=extend_schema(
        summary="Public figures of commitments",
        description="Commitments counted by any of program, donation form, area (the "
        "commitment's RW or kelurahan) or its kelurahan / kecamatan / kota, month, channel "
        "and status, from the summary tables that public pages read. No figure is per "
        "collaborator. `computed_at` says when the newest figure on the page was computed.",
        tags=["public"],
        parameters=[SummaryQuerySerializer],
        responses={200: s.SummarySerializer},
    )
)
class SummaryViewSet(QuickReadMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.AllowAny]
    pagination_class = SummaryPagination
    filter_backends: list = []
    serializer_class = s.SummarySerializer
    queryset = CommitmentSummary.objects.none()

    def list(self, request):
        query = SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        groups = params["group_by"]
        area = filters.area_by_ref(params["area"]) if params.get("area") else None
        program = filters.program_by_ref(params["program"]) if params.get("program") else None
        nothing = (params.get("area") and area is None) or (
            params.get("program") and program is None
        )
        use_rollup = set(groups) <= ROLLUP_GROUPS and (
            area is None or area.level in ROLLUP_AREA_LEVELS
        )
        rows = (CommitmentRollup if use_rollup else CommitmentSummary).objects.all()
        if nothing:
            rows = rows.none()
        if program is not None:
            rows = rows.filter(program=program)
        if params.get("donation_form"):
            rows = rows.filter(donation_form_id=params["donation_form"])
        if area is not None:
            column = _SUMMARY_COLUMN.get(area.level)
            if column is not None:
                rows = rows.filter(**{column: area.pk})
        if params.get("channel"):
            rows = rows.filter(channel=params["channel"])
        if params.get("status") == "confirmed":
            rows = rows.filter(status__in=CONFIRMED_STATUSES)
        elif params.get("status"):
            rows = rows.filter(status=params["status"])
        if params.get("month_from"):
            rows = rows.filter(month__gte=params["month_from"])
        if params.get("month_to"):
            rows = rows.filter(month__lte=params["month_to"])
        columns = [SUMMARY_COLUMNS[g] for g in groups]
        figures = rows.figures_by(*columns).annotate(newest=Max("computed_at")).order_by(*columns)
        results = []
        page, computed_at = self._page_of_groups(request, rows, figures, columns)
        for row in page:
            item = {g: row[SUMMARY_COLUMNS[g]] for g in groups}
            item.update(
                count=row["commitments"] or 0,
                quantity=row["quantity"] or 0,
                # as every IDR amount: a decimal string
                value_idr=f"{row['value'] or Decimal(0):f}",
                households=row["households"] or 0,
                persons=row["persons"] or 0,
            )
            results.append(item)
        paged = self.paginator.get_paginated_response(results).data
        # Rows carry only the fields grouped by: built here, documented by SummarySerializer.
        return Response(
            {
                "group_by": groups,
                "computed_at": computed_at,
                **paged,
            }
        )

    def _page_of_groups(self, request, rows, figures, columns):
        """The page of grouped `figures` asked for, and when the newest figure on it was
        computed. When the first page holds every group, its one query tells the count too;
        otherwise one more query counts the distinct groups, which reads an index alone
        where one leads with the grouped columns (area; kelurahan, month; program, status,
        area)."""
        bounded_int(request, self.paginator.page_query_param, maximum=PAGE_NUMBER_MAX)
        size = self.paginator.get_page_size(request)
        groups = figures
        if request.query_params.get(self.paginator.page_query_param, "1") in ("", "1"):
            groups = list(figures[: size + 1])
        if isinstance(groups, list) and len(groups) <= size:
            count = len(groups)
        else:
            # The first page's rows are at hand already (the paginator slices the list).
            groups = groups if isinstance(groups, list) else figures
            count = rows.values(*columns).order_by().distinct().count()
        page = self.paginator.paginate_counted(groups, request, view=self, count=count)
        computed_at = max((g["newest"] for g in page if g["newest"]), default=None)
        return page, computed_at


# --- the user's own data ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Commitments I may see (newest first)", tags=["own"]),
    retrieve=extend_schema(summary="One commitment", tags=["own"]),
)
class CommitmentReadViewSet(ReadViewSet):
    """The commitments the requesting user holds a role on (Commitment.objects.visible_to):
    their collaborators'; those in the areas or sites they facilitate; those of the programs
    they lead; all for administrators. A token bound to a collaborator sees that
    collaborator's only (api.authentication narrows the scopes)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.CommitmentSerializer
    filterset_class = filters.CommitmentFilter
    pagination_class = NewestCursorPagination
    queryset = Commitment.objects.none()  # for the schema; get_queryset scopes it

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Commitment.objects.none()
        scopes = scopes_for(self.request.user)
        return (
            Commitment.objects.visible_to(scopes)
            .select_related("collaborator", "area")
            .defer(*AREA_HEAVY)
            .order_by("-created_at", "-pk")
        )


@extend_schema_view(
    list=extend_schema(summary="My notifications (newest first)", tags=["own"]),
    retrieve=extend_schema(summary="One of my notifications", tags=["own"]),
)
class NotificationViewSet(ReadViewSet):
    """The requesting user's own notifications. Through a token bound to a collaborator, only
    those about that collaborator's commitments."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.NotificationSerializer
    filterset_class = filters.NotificationFilter
    pagination_class = NewestCursorPagination
    queryset = Notification.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        mine = Notification.objects.filter(user=self.request.user)
        collaborator_id = getattr(self.request.auth, "collaborator_id", None)
        if collaborator_id is not None:
            mine = mine.filter(commitment__collaborator_id=collaborator_id)
        return mine.order_by("-created_at", "-pk")


def register(router) -> None:
    # Basenames start with "api-": the portal's own URL names (area-detail, program-detail,
    # collaborator-detail...) must keep reversing to its pages.
    router.register("programs", ProgramViewSet, basename="api-program")
    router.register("donation-forms", DonationFormViewSet, basename="api-donation-form")
    router.register("areas", AreaViewSet, basename="api-area")
    router.register("sites", SiteViewSet, basename="api-site")
    router.register("collaborators", CollaboratorViewSet, basename="api-collaborator")
    router.register("summaries", SummaryViewSet, basename="api-summary")
    router.register("notifications", NotificationViewSet, basename="api-notification")
    # "needs" and "commitments": api.write_views registers subclasses of the read viewsets.


def register_missing_reads(router) -> None:
    registered = {prefix for prefix, _viewset, _basename in router.registry}
    if "needs" not in registered:
        router.register("needs", NeedReadViewSet, basename="api-need")
    if "commitments" not in registered:
        router.register("commitments", CommitmentReadViewSet, basename="api-commitment")


def api_not_found(request, *args, **kwargs):
    """Any other path under /api/: a problem body, not the portal's HTML 404 (a GET
    without its trailing slash is sent to the path with one, as CommonMiddleware would)."""
    path = request.path_info
    if request.method in ("GET", "HEAD") and not path.endswith("/"):
        try:
            match = resolve(path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "api-not-found":
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse(
        {
            "type": problem_type(404),
            "title": str(_("Not found")),
            "status": 404,
            "detail": str(_("No API endpoint at this address.")),
        },
        status=404,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def problem_types(request):
    """/api/problems/: what each problem `type` of the API's error bodies means."""
    from .errors import _TYPES, _title

    kinds = [(slug, status, _title(status)) for status, slug in sorted(_TYPES.items())]
    return render(request, "api/problems.html", {"kinds": kinds})
