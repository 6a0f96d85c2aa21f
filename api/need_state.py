"""GET /api/v1/need-state/{level}/: the needs map's per-area state (what remains, for how
many households, the headline need, the latest assessment), the same bytes the map's own
JSON view serves (locations.mapdata.served_need_state: computed once per needs version and
filter, kept gzipped in the cache), with its ETag. Unlike the map view, a bad filter is a
400.

The map asks for it at every pan and filter change, anonymously: that request takes a short
path (NeedStateView.quick_response) through what DRF would do with it. Authentication would
find nobody, negotiation would pick JSON, the filter is one already checked: only the
permissions and the throttles (the same throttles, counting the same requests) are left to
run. Any other request goes through DRF as usual."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from ksbb.bounds import BIGINT_MAX
from locations.mapdata import MAP_LEVELS, NeedFilter
from locations.models import Need
from locations.views import FRESH_DAYS_MAX, need_state_response

from .views import QuickReadMixin


class NeedStateQuery(serializers.Serializer):
    program = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    form = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    priority = serializers.ChoiceField(required=False, choices=Need.Priority.values)
    open = serializers.ChoiceField(required=False, choices=["0", "1"], default="1")
    fresh = serializers.IntegerField(required=False, min_value=1, max_value=FRESH_DAYS_MAX)


Params = tuple[tuple[str, tuple[str, ...]], ...]


def query_params(request) -> Params:
    return tuple((name, tuple(values)) for name, values in request.GET.lists())


@lru_cache(maxsize=512)
def need_filter(params: Params) -> NeedFilter:
    """The filter that query parameters ((name, values), ...) ask for, checked by
    NeedStateQuery: a ValidationError (a 400 problem) if they are not valid. Valid ones are
    remembered, a serializer per request costing more than the rest of the request: a map
    asks for few filters, and the answer depends on nothing else."""
    data = QueryDict(mutable=True)
    for name, values in params:
        data.setlist(name, list(values))
    query = NeedStateQuery(data=data)
    query.is_valid(raise_exception=True)
    values = query.validated_data
    return NeedFilter(
        program=values.get("program"),
        donation_form=values.get("form"),
        priority=values.get("priority"),
        open_only=values["open"] != "0",
        fresh_days=values.get("fresh"),
    )


class NeedStateView(QuickReadMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="need_state",
        summary="Needs per area, as the map shows them",
        parameters=[
            OpenApiParameter("level", str, OpenApiParameter.PATH, enum=sorted(MAP_LEVELS)),
            NeedStateQuery,
        ],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Per area code: remaining quantity and value, households, need "
                "lines, the headline need and the age of the latest assessment.",
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match)"),
        },
        tags=["needs"],
    )
    def get(self, request, level: str):
        if level not in MAP_LEVELS:
            raise NotFound()
        return need_state_response(request, level, need_filter(query_params(request)))

    def dispatch(self, request, *args, **kwargs):
        response = self.quick_response(request, **kwargs)
        if response is None:
            return super().dispatch(request, *args, **kwargs)
        return response

    def quick_response(self, request, level: str):
        """What DRF's dispatch would answer an anonymous GET (or HEAD) that accepts anything
        and asks for a valid level and filter; None for any other request, which DRF then
        answers. A request the throttles refuse is counted here, refused by DRF's path
        (check_throttles below)."""
        meta = request.META
        if (
            request.method not in ("GET", "HEAD")
            or level not in MAP_LEVELS
            or meta.get("HTTP_ACCEPT", "*/*") != "*/*"
            or "HTTP_AUTHORIZATION" in meta
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or hasattr(request, "_force_auth_user")  # DRF's test client
            or hasattr(request, "_force_auth_token")
            or api_settings.URL_FORMAT_OVERRIDE in request.GET
        ):
            return None
        try:
            state_filter = need_filter(query_params(request))
        except ValidationError:
            return None
        self.args, self.kwargs = (), {"level": level}
        # No authenticator: DRF's would all find nobody, and leave the anonymous user.
        drf_request = Request(request, negotiator=self.get_content_negotiator())
        if not all(p.has_permission(drf_request, self) for p in self.get_permissions()):
            return None
        waits = [
            throttle.wait()
            for throttle in self.get_throttles()
            if not throttle.allow_request(drf_request, self)
        ]
        if waits:
            self.counted_wait = max((wait for wait in waits if wait is not None), default=None)
            return None
        self.request, self.headers = drf_request, self.default_response_headers
        response = need_state_response(request, level, state_filter)
        self.response = self.finalize_response(drf_request, response)
        return self.response

    def check_throttles(self, request):
        if hasattr(self, "counted_wait"):  # counted by quick_response, and refused
            self.throttled(request, self.counted_wait)
        super().check_throttles(request)
