"""GeoJSON for the areas endpoint: `Accept: application/geo+json` (or ?format=geojson)
answers a FeatureCollection (a list page, with its paging links as foreign members) or a
Feature (one area)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from .serializers import AreaPropertiesSerializer

GEOJSON = "application/geo+json"


def _feature(item: dict) -> dict:
    properties = {k: v for k, v in item.items() if k != "geometry"}
    return {
        "type": "Feature",
        "id": item.get("id"),
        "geometry": item.get("geometry"),
        "properties": properties,
    }


class GeoJSONRenderer(JSONRenderer):
    media_type = GEOJSON
    format = "geojson"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if isinstance(data, dict) and (response is None or response.status_code < 400):
            if isinstance(data.get("results"), list):
                data = {
                    "type": "FeatureCollection",
                    "features": [_feature(item) for item in data["results"]],
                    **{k: data[k] for k in ("count", "next", "previous") if k in data},
                }
            elif "id" in data:
                data = _feature(data)
        return super().render(data, accepted_media_type, renderer_context)


@extend_schema_serializer(many=False)
class FeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.IntegerField()
    geometry = serializers.JSONField(allow_null=True, help_text="GeoJSON geometry (EPSG:4326).")
    properties = AreaPropertiesSerializer()

    class Meta:
        ref_name = "AreaFeature"


@extend_schema_serializer(many=False)
class FeatureCollectionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = FeatureSerializer(many=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)

    class Meta:
        ref_name = "AreaFeatureCollection"
