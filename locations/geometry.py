"""Geometry helpers on shapely: validity repair, bbox, a label point, GeoJSON in and out.

Geometry is stored as GeoJSON in JSON fields so that SQLite and PostgreSQL behave the same
and no GIS system library is needed (see DESIGN.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

Polygonal = Polygon | MultiPolygon

STORED_DECIMALS = 7  # about 1 cm at the equator
DISPLAY_DECIMALS = 6  # about 10 cm: below what a map can show


class GeometryError(ValueError):
    """A geometry that cannot be used, with the reason in words."""


@dataclass
class RepairedGeometry:
    geometry: Polygonal
    repair: str  # empty when the input was already valid
    # Before a repair: the area as the invalid shape's rings give it (shell minus holes);
    # equal to area_after when nothing was repaired.
    area_before_km2: float = 0.0
    area_after_km2: float = 0.0

    @property
    def area_change(self) -> float | None:
        """The relative change of area by the repair (0.3 for +30%), None from nothing."""
        if not self.area_before_km2:
            return None if self.area_after_km2 else 0.0
        return (self.area_after_km2 - self.area_before_km2) / self.area_before_km2

    def area_change_text(self) -> str:
        """'area 1.62 -> 2.10 km² (+30%)': what a repair did to the area."""
        change = self.area_change
        relative = "from nothing" if change is None else f"{change:+.1%}"
        return (
            f"area {_km2_text(self.area_before_km2)} -> {_km2_text(self.area_after_km2)} km² "
            f"({relative})"
        )


def _km2_text(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.4f}"


def polygonal_from_geojson(data: Mapping) -> RepairedGeometry:
    """Parse a GeoJSON geometry into a valid (Multi)Polygon, repairing it if needed."""
    if not isinstance(data, Mapping) or "type" not in data:
        raise GeometryError("no geometry")
    if data["type"] not in {"Polygon", "MultiPolygon"}:
        raise GeometryError(f"{data['type']} is not an area (expected Polygon or MultiPolygon)")
    try:
        geom = shape(data)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise GeometryError(f"unreadable coordinates ({exc})") from exc
    if geom.is_empty:
        raise GeometryError("empty geometry")
    if not all(math.isfinite(c) for c in geom.bounds):
        raise GeometryError("coordinates are not finite numbers")
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if min_lon < -180 or max_lon > 180 or min_lat < -90 or max_lat > 90:
        raise GeometryError("coordinates are outside lon/lat ranges (is the file in EPSG:4326?)")
    repair = ""
    before = area_km2(geom)
    if not geom.is_valid:
        repair = explain_validity(geom)
        geom = _polygonal_part(shapely.make_valid(geom))
        if geom.is_empty:
            raise GeometryError(f"invalid ({repair}) and nothing remained after repair")
    return RepairedGeometry(
        geometry=_as_polygonal(geom),
        repair=repair,
        area_before_km2=before,
        area_after_km2=area_km2(geom) if repair else before,
    )


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    """make_valid may return a collection with stray lines or points; keep the areas."""
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in {"Polygon", "MultiPolygon"}]
        return shapely.union_all(parts) if parts else Polygon()
    return geom


def _as_polygonal(geom: BaseGeometry) -> Polygonal:
    if geom.geom_type in {"Polygon", "MultiPolygon"}:
        return geom
    raise GeometryError(f"repair produced a {geom.geom_type}, not an area")


def to_geojson(geom: BaseGeometry, decimals: int = STORED_DECIMALS) -> dict:
    """GeoJSON with rounded coordinates and plain lists, stable across runs and databases."""
    rounded = shapely.set_precision(geom, 10**-decimals) if decimals else geom
    if rounded.is_empty or rounded.geom_type not in {"Polygon", "MultiPolygon"}:
        # Rounding collapsed a tiny part: keep the unrounded shape rather than lose it.
        rounded = geom
    return _round_coordinates(mapping(rounded), decimals)


def _round_coordinates(obj, decimals: int):
    if isinstance(obj, dict):
        return {key: _round_coordinates(value, decimals) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        if obj and isinstance(obj[0], float | int) and not isinstance(obj[0], bool):
            return [round(float(value), decimals) for value in obj]
        return [_round_coordinates(value, decimals) for value in obj]
    return obj


def bbox(geom: BaseGeometry) -> tuple[float, float, float, float]:
    return tuple(round(value, STORED_DECIMALS) for value in geom.bounds)


def label_point(geom: BaseGeometry) -> tuple[float, float]:
    """A point guaranteed inside the area (the centroid can fall outside a concave shape)."""
    point = geom.centroid
    if not geom.contains(point):
        point = geom.point_on_surface()
    return round(point.x, STORED_DECIMALS), round(point.y, STORED_DECIMALS)


def area_km2(geom: BaseGeometry) -> float:
    """Approximate area on the sphere: planar degrees scaled at the shape's latitude.

    Accurate to well under 1% for areas the size of a city, which is all it is used for.
    """
    lat = math.radians(geom.centroid.y)
    km_per_degree = 111.32
    return round(geom.area * km_per_degree * km_per_degree * math.cos(lat), 4)
