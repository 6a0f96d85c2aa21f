"""GET /api/v1/need-state/{level}/: the needs map's per-area state (what remains, for how
many households, the headline need, the latest assessment), the same bytes the map's own
JSON view serves (locations.mapdata.served_need_state: computed once per needs version and
filter, kept gzipped in the cache). Unlike the map view, a bad filter is a 400."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from ksbb.bounds import BIGINT_MAX
from locations.mapdata import MAP_LEVELS, NeedFilter, served_need_state
from locations.models import Need
from locations.views import FRESH_DAYS_MAX, NEED_STATE_CACHE_CONTROL, compressed_response


class NeedStateQuery(serializers.Serializer):
    program = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    form = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)
    priority = serializers.ChoiceField(required=False, choices=Need.Priority.values)
    open = serializers.ChoiceField(required=False, choices=["0", "1"], default="1")
    fresh = serializers.IntegerField(required=False, min_value=1, max_value=FRESH_DAYS_MAX)


class NeedStateView(APIView):
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
        query = NeedStateQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        need_filter = NeedFilter(
            program=values.get("program"),
            donation_form=values.get("form"),
            priority=values.get("priority"),
            open_only=values["open"] != "0",
            fresh_days=values.get("fresh"),
        )
        state = served_need_state(level, need_filter)
        return compressed_response(
            request,
            state.payload_gzip,
            content_type="application/json",
            cache_control=NEED_STATE_CACHE_CONTROL,
            etag=state.etag,
        )
