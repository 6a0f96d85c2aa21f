"""Import administrative boundaries (GeoJSON-like features, see boundary_files) into Area rows.

A file is checked whole before anything is written: malformed or truncated JSON, unknown
property names and a wrong level are errors (`ImportFileError`, one line). Problems of a
single feature (no code, no geometry, coordinates out of lon/lat, a repair that changes
its area by more than 1%, a parent that is not loaded) are listed in the report's
`skipped`; with `strict=True` (import_areas without --skip-invalid) any of them refuses
the whole file before anything is written. Features sharing a code are merged into one
area (or refused). Each skip, merge and repair is reported with its reason, never
silently. Callers wrap `import_area_records` in a transaction so that a bad file writes
nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.db import transaction

from .area_parents import ParentLookup, format_code, place_by_overlap
from .geometry import (
    DISPLAY_DECIMALS,
    GeometryError,
    Polygonal,
    area_km2,
    bbox,
    label_point,
    polygonal_from_geojson,
    to_geojson,
)
from .mapdata import MAP_LEVELS, map_layers_rebuild
from .models import Area
from .search import search_index_clear
from .topology import TOLERANCE_BY_LEVEL, simplify_layer

# Kemendagri codes: 31 / 31.73 / 31.73.04 / 31.73.04.1002 / (RW) 31.73.04.1002.001
KEMENDAGRI_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4}(\.\d{3})?)?)?)?$")
# A code is one segment of Area.path, which is "/"-joined, and part of the area's URL.
BAD_CODE_CHARACTER = re.compile(r"[/\x00-\x1f\x7f]")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing is written."""


@dataclass
class AreaRecord:
    code: str
    name: str
    geometry: Polygonal
    parent_code: str | None = None
    bps_code: str = ""
    is_residential: bool = True
    properties: dict = field(default_factory=dict)


@dataclass
class ImportReport:
    level: str
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    repaired: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    # Children placed by overlap whose parent is not clear: (code, placement in words).
    ambiguous: list[tuple[str, str]] = field(default_factory=list)
    features: int = 0  # in the file

    def skip(self, ref: str, reason: str) -> None:
        self.skipped.append((ref, reason))

    def repair(self, ref: str, reason: str) -> None:
        self.repaired.append((ref, reason))

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def lines(self) -> list[str]:
        lines = [
            f"{self.source}: {self.level}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped, "
            f"{len(self.repaired)} repaired"
        ]
        lines += [f"  skipped {ref}: {reason}" for ref, reason in self.skipped]
        lines += [f"  repaired {ref}: {reason}" for ref, reason in self.repaired]
        lines += [f"  {merge}" for merge in self.merged]
        lines += [f"  parent unclear for {code}: {text}" for code, text in self.ambiguous]
        lines += [f"  note: {note}" for note in self.notes]
        return lines

    def refusal(self) -> str:
        """The one-line error of a file refused for its problem features."""
        ref, reason = self.skipped[0]
        count = len(self.skipped)
        of = f" of {self.features}" if self.features else ""
        return (
            f"{self.source}: {count}{of} features have a problem, so nothing was imported; "
            f"first: {ref}: {reason} (--skip-invalid imports the others and lists them)"
        )


def read_features(path: str | Path) -> list[dict]:
    """The features of a GeoJSON FeatureCollection, or ImportFileError saying what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path.name}: cannot be read as UTF-8 text ({exc})") from None
    if not text.strip():
        raise ImportFileError(f"{path.name}: the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ImportFileError(
            f"{path.name}: not valid GeoJSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}{hint}"
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportFileError(f"{path.name}: expected a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise ImportFileError(f"{path.name}: the FeatureCollection has no features")
    if not all(isinstance(f, dict) and f.get("type") == "Feature" for f in features):
        raise ImportFileError(f"{path.name}: some entries of 'features' are not GeoJSON Features")
    return features


def property_names(features: Iterable[Mapping]) -> set[str]:
    names: set[str] = set()
    for feature in features:
        names.update((feature.get("properties") or {}).keys())
    return names


def require_properties(features: Sequence[Mapping], **options: str | None) -> None:
    """Each named option (e.g. code_field='kode') must name a property the file has."""
    available = property_names(features)
    for option, name in options.items():
        if name and name not in available:
            raise ImportFileError(
                f"unknown property '{name}' for --{option.replace('_', '-')}; "
                f"the features have: {', '.join(sorted(available)) or 'no properties'}"
            )


# A repair that changes an area by more than this share is a problem, not a repair: a hole
# lying outside its shell "repaired" into filled land, a bow tie of opposite lobes.
REPAIR_LIMIT = 0.01
DUPLICATES = ("merge", "refuse")


def records_from_features(
    features: Sequence[Mapping],
    *,
    report: ImportReport,
    code_field: str,
    name_field: str,
    parent_field: str | None = None,
    bps_field: str | None = None,
    code_format: tuple[int, ...] | None = None,
    duplicates: str = "merge",
    repair_limit: float | None = REPAIR_LIMIT,
) -> list[AreaRecord]:
    """One record per code. A feature with a problem (no code or name, no usable geometry,
    a code that does not fit `code_format`, a repair changing its area by more than
    `repair_limit`) is listed in report.skipped; features sharing a code are merged into one
    (Multi)Polygon, or all listed as problems with duplicates="refuse"."""
    require_properties(
        features,
        code_field=code_field,
        name_field=name_field,
        parent=parent_field,
        bps_code_field=bps_field,
    )
    report.features = len(features)
    parts: dict[str, list[tuple[str, AreaRecord]]] = {}
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") or {}
        code = str(properties.get(code_field) or "").strip()
        ref = f"feature {index}" + (f" ({_printable(code)})" if code else "")
        if not code:
            report.skip(ref, f"no value in '{code_field}'")
            continue
        if code_format:
            formatted = format_code(code, code_format)
            if formatted is None:
                expected = ".".join(str(size) for size in code_format)
                report.skip(ref, f"the code does not fit --code-format {expected}")
                continue
            code = formatted
        record = _record_of_feature(
            feature, ref, code, report, name_field, parent_field, bps_field, repair_limit
        )
        if record is not None:
            parts.setdefault(code, []).append((ref, record))
    records = _one_record_per_code(parts, duplicates, report)
    if not records:
        raise ImportFileError(
            "no feature could be imported: "
            + "; ".join(f"{ref}: {reason}" for ref, reason in report.skipped[:3])
        )
    return records


def _record_of_feature(
    feature: Mapping,
    ref: str,
    code: str,
    report: ImportReport,
    name_field: str,
    parent_field: str | None,
    bps_field: str | None,
    repair_limit: float | None,
) -> AreaRecord | None:
    properties = feature.get("properties") or {}
    name = str(properties.get(name_field) or "").strip()
    if not name:
        report.skip(ref, f"no value in '{name_field}'")
        return None
    bps_code = str(properties.get(bps_field) or "") if bps_field else ""
    problem = _value_problem(code, name, bps_code, feature)
    if problem:
        # A value the database would refuse or that would corrupt area paths: the file
        # is wrong as a whole (a wrong field or a broken export), so nothing is written.
        raise ImportFileError(f"{ref}: {problem}")
    if isinstance(feature.get("crs"), Mapping):
        report.skip(ref, "the feature declares its own CRS; the file must be in one CRS")
        return None
    try:
        repaired = polygonal_from_geojson(feature.get("geometry"))
    except GeometryError as exc:
        report.skip(ref, str(exc))
        return None
    if repaired.repair:
        change = repaired.area_change
        what = f"{repaired.repair}; made valid: {repaired.area_change_text()}"
        if repair_limit is not None and (change is None or abs(change) > repair_limit):
            report.skip(ref, f"{what}, more than {repair_limit:.0%}: check the shape")
            return None
        report.repair(ref, what)
    parent_code = str(properties.get(parent_field) or "").strip() if parent_field else None
    return AreaRecord(
        code=code,
        name=name,
        geometry=repaired.geometry,
        parent_code=parent_code or None,
        bps_code=bps_code,
        properties=dict(properties),
    )


def _one_record_per_code(
    parts: dict[str, list[tuple[str, AreaRecord]]], duplicates: str, report: ImportReport
) -> list[AreaRecord]:
    """Merge (or refuse) the features sharing a code, saying what was done."""
    records = []
    for code, shares in parts.items():
        first = shares[0][1]
        if len(shares) == 1:
            records.append(first)
            continue
        refs = ", ".join(ref.split(" (")[0] for ref, _ in shares)
        if duplicates == "refuse":
            for ref, _ in shares:
                report.skip(ref, f"the code is shared by {refs} (--duplicates refuse)")
            continue
        pieces = [record.geometry for _, record in shares]
        merged = shapely.union_all(pieces)
        sizes = " + ".join(f"{area_km2(piece):.2f}" for piece in pieces)
        report.merged.append(
            f"merged {len(shares)} parts of {_printable(code)} ({refs}): "
            f"{sizes} -> {area_km2(merged):.2f} km²"
        )
        names = sorted({record.name for _, record in shares} - {first.name})
        if names:
            report.notes.append(f"{code}: parts also named {', '.join(names)}; kept '{first.name}'")
        first.geometry = merged
        records.append(first)
    return records


def _printable(text: str, limit: int = 40) -> str:
    """A value as it can appear in a one-line message."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return shown + ("..." if len(text) > limit else "")


def _value_problem(code: str, name: str, bps_code: str, feature: Mapping) -> str | None:
    limits = (("code", code), ("name", name), ("bps_code", bps_code))
    for field_name, value in limits:
        max_length = Area._meta.get_field(field_name).max_length
        if len(value) > max_length:
            return f"the {field_name} has {len(value)} characters; at most {max_length} fit"
    if BAD_CODE_CHARACTER.search(code):
        return "the code contains '/' or a control character"
    if "\x00" in name or "\x00" in bps_code:
        return "a NUL character in the name or BPS code"
    if not _all_finite((feature.get("geometry") or {}).get("coordinates")):
        return "coordinates are not finite numbers (NaN or Infinity)"
    try:
        text = json.dumps(feature.get("properties"), default=str, allow_nan=False)
    except ValueError:
        return "a property is NaN or Infinity, which JSON cannot store"
    if "\\u0000" in text:
        return "a property contains a NUL character"
    return None


def _all_finite(coordinates) -> bool:
    if isinstance(coordinates, float):
        return math.isfinite(coordinates)
    if isinstance(coordinates, list):
        return all(_all_finite(item) for item in coordinates)
    return True


def check_level(records: Sequence[AreaRecord], level: str) -> None:
    if level not in Area.LEVEL_ORDER:
        raise ImportFileError(f"unknown level '{level}'; use one of: {', '.join(Area.LEVEL_ORDER)}")
    expected_segments = Area.LEVEL_ORDER.index(level) + 1
    codes = [r.code for r in records]
    if all(KEMENDAGRI_CODE.match(code) for code in codes):
        wrong = [code for code in codes if code.count(".") + 1 != expected_segments]
        if wrong:
            actual = Area.LEVEL_ORDER[min(wrong[0].count("."), len(Area.LEVEL_ORDER) - 1)]
            raise ImportFileError(
                f"wrong level: codes such as {wrong[0]} are {actual} codes, not {level} codes"
            )
    clashes = (
        Area.objects.filter(code__in=codes).exclude(level=level).values_list("code", "level")[:1]
    )
    for code, existing_level in clashes:
        raise ImportFileError(
            f"wrong level: {code} is already loaded as a {existing_level}, not a {level}"
        )


def resolve_parents(
    records: list[AreaRecord], level: str, parent: str, report: ImportReport
) -> tuple[list[AreaRecord], dict[str, Area]]:
    """Find each record's parent at the level above, by `parent`:
    'prefix' (the code minus its last '.' segment), 'field' (parent codes already read
    from a property) or 'contains' (the area of the level above overlapping most of the
    record; unclear cases are listed in report.ambiguous). A parent code is matched on
    any code the parent stores (Kemendagri, BPS, or Kemendagri without dots)."""
    parent_level = Area.level_above(level)
    if parent_level is None:
        return records, {}
    lookup = ParentLookup(parent_level)
    if not len(lookup):
        raise ImportFileError(
            f"no {parent_level} areas are loaded yet; import the {parent_level} level first"
        )
    if parent == "prefix":
        for record in records:
            record.parent_code = record.code.rsplit(".", 1)[0] if "." in record.code else None
    elif parent == "contains":
        _assign_parents_by_overlap(records, parent_level, report)
    placed, missing = [], []
    for record in records:
        code, why = lookup.find(record.parent_code) if record.parent_code else (None, "")
        if code is None:
            missing.append((record, why))
        else:
            record.parent_code = code
            placed.append(record)
    if not placed:
        example = missing[0][0].parent_code or "none"
        raise ImportFileError(
            f"wrong level or parent rule: no feature has a parent among the {len(lookup)} "
            f"loaded {parent_level} areas (first parent looked for: {example})"
        )
    for record, why in missing:
        report.skip(record.code, why or _no_parent(record, parent, parent_level))
    parents = Area.objects.filter(code__in={r.parent_code for r in placed})
    return placed, {area.code: area for area in parents}


def _no_parent(record: AreaRecord, parent: str, parent_level: str) -> str:
    if parent == "contains" and record.parent_code is None:
        return f"no loaded {parent_level} overlaps it"
    if parent == "prefix" and record.parent_code is None:
        return "the code has no '.' to take its parent's code from (see --code-format)"
    return f"parent {record.parent_code or '(none found)'} is not a loaded {parent_level}"


def _assign_parents_by_overlap(
    records: list[AreaRecord], parent_level: str, report: ImportReport
) -> None:
    placements = place_by_overlap({r.code: r.geometry for r in records}, parent_level)
    for record in records:
        placement = placements[record.code]
        record.parent_code = placement.parent_code
        if placement.ambiguous:
            report.ambiguous.append((record.code, placement.describe()))


# The Area columns an import writes (all but the code).
_AREA_FIELDS = [
    "level",
    "name",
    "bps_code",
    "parent",
    "path",
    "is_residential",
    "geometry",
    "display_geometry",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
    "centroid_lon",
    "centroid_lat",
    "area_km2",
    "source",
    "source_properties",
]


def import_area_records(
    records: list[AreaRecord],
    *,
    level: str,
    source: str,
    report: ImportReport,
    parent: str = "prefix",
    tolerance: float | None = None,
    strict: bool = False,
) -> ImportReport:
    """Create or update the areas of one level. Run inside transaction.atomic(). With
    `strict`, a feature with a problem (report.skipped) refuses the file before any write."""
    _check_source_label(source)
    check_level(records, level)
    records, parents = resolve_parents(records, level, parent, report)
    if strict and report.skipped:
        raise ImportFileError(report.refusal())
    tolerance = TOLERANCE_BY_LEVEL[level] if tolerance is None else tolerance
    display = simplify_layer({r.code: r.geometry for r in records}, tolerance=tolerance)

    existing = {
        a.code: a for a in Area.objects.filter(code__in=[r.code for r in records]).with_geometry()
    }
    to_create, to_update = [], []
    for record in records:
        parent_area = parents.get(record.parent_code) if record.parent_code else None
        values = _area_values(
            record, level=level, source=source, parent_area=parent_area, display=display
        )
        area = existing.get(record.code)
        if area is None:
            to_create.append(Area(code=record.code, **values))
        elif any(getattr(area, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(area, name, value)
            to_update.append(area)
        else:
            report.unchanged += 1
    Area.objects.bulk_create(to_create, batch_size=500)
    Area.objects.bulk_update(to_update, _AREA_FIELDS, batch_size=500)
    report.created += len(to_create)
    report.updated += len(to_update)
    others = Area.objects.filter(level=level).exclude(code__in=[r.code for r in records]).count()
    if others:
        report.notes.append(f"{others} {level} areas already loaded and not in this file were kept")
    # Idempotent: a layer whose content did not change keeps its version. RW map labels
    # carry their kelurahan's name, so the level below is rebuilt too.
    below = Area.LEVEL_ORDER[Area.LEVEL_ORDER.index(level) + 1 :][:1]
    map_layers_rebuild([lvl for lvl in [level, *below] if lvl in MAP_LEVELS])
    if report.changed:
        transaction.on_commit(search_index_clear)
    return report


def _check_source_label(source: str) -> None:
    """Refuse a source label longer than Area.source holds."""
    source_max = Area._meta.get_field("source").max_length
    if len(source) > source_max:
        raise ImportFileError(
            f"the source label has {len(source)} characters; at most {source_max} fit"
        )


def _area_values(
    record: AreaRecord, *, level: str, source: str, parent_area: Area | None, display: dict
) -> dict:
    """The Area field values of one record: its names, place in the tree, geometries,
    bounding box, label point, size and source."""
    min_lon, min_lat, max_lon, max_lat = bbox(record.geometry)
    centroid_lon, centroid_lat = label_point(record.geometry)
    return {
        "level": level,
        "name": record.name,
        "bps_code": record.bps_code,
        "parent_id": parent_area.pk if parent_area else None,
        "path": (parent_area.path + "/" if parent_area else "") + record.code,
        "is_residential": record.is_residential,
        "geometry": to_geojson(record.geometry),
        "display_geometry": to_geojson(display[record.code], DISPLAY_DECIMALS),
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "centroid_lon": centroid_lon,
        "centroid_lat": centroid_lat,
        "area_km2": area_km2(record.geometry),
        "source": source,
        "source_properties": json.loads(json.dumps(record.properties, default=str)),
    }
