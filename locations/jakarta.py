"""Load the real Jakarta data shipped in locations/data/jakarta (sources and licences in
its DATA_SOURCES.md): Kemendagri boundaries down to kelurahan, the BPS RW layer attached to
kelurahan through the crosswalk, and area indicators (education, floods).

Decisions about the data's quirks, each reported when it applies:
- RW codes are <kelurahan code>.<3-digit RW number>; the number comes from the 16-digit BPS
  `rw_id` (10-digit kelurahan + RW number + 000), not from the free-text label.
- BPS numbers 099 and 999 mark zones without residents (cemeteries, an industrial estate,
  a prison, TMII) or unlabelled leftovers. They are kept as RW-level areas so the map has no
  holes, flagged `is_residential=False`, named by their label, and take no needs.
- A truncated `rw_id` is rebuilt from its kelurahan id and the RW number in its label.
- A BPS kelurahan id missing from the crosswalk is placed by location: the Kemendagri
  kelurahan containing the RW, accepted only when the names agree.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import shapely
from django.db import transaction
from shapely.strtree import STRtree

from .geometry import GeometryError, polygonal_from_geojson
from .importers import (
    AreaRecord,
    ImportFileError,
    ImportReport,
    import_area_records,
    read_features,
    records_from_features,
)
from .models import Area, AreaIndicator

DATA_DIR = Path(__file__).resolve().parent / "data" / "jakarta"
BOUNDARIES = DATA_DIR / "boundaries-kemendagri"
RW_FILE = DATA_DIR / "rw-bps" / "jakarta_rw_dissolved.geojson"
CROSSWALK_FILE = DATA_DIR / "crosswalk_bps_to_kemendagri_kelurahan.csv"
EDUCATION_FILE = DATA_DIR / "indicators" / "education_status_age10plus_2018.csv"
FLOOD_FILES = {
    "2016-03-05": (DATA_DIR / "flood-rw" / "rw_flood_2016-03-05_hazard.geojson", "pkey"),
    "2017-02-21": (DATA_DIR / "flood-rw" / "rw_flood_2017-02-21.geojson", "geom_id"),
}

KEMENDAGRI_LEVELS = [
    (Area.Level.PROVINCE, "jakarta_provinsi.geojson"),
    (Area.Level.KOTA, "jakarta_kota_kabupaten.geojson"),
    (Area.Level.KECAMATAN, "jakarta_kecamatan.geojson"),
    (Area.Level.KELURAHAN, "jakarta_kelurahan.geojson"),
]
KEMENDAGRI_SOURCE = "Kemendagri boundaries (cahyadsn/wilayah_boundaries, MIT)"
RW_SOURCE = "BPS RW layer (rasyidstat/nusantr, MIT; Jakarta Smart City)"
NON_RESIDENTIAL_NUMBERS = {99, 999}
RW_LABEL = re.compile(r"^RW\s*0*(\d+)$", re.IGNORECASE)

FLOOD_STATES = {
    0: "no flooding reported",
    1: "caution",
    2: "flooded 10-70 cm",
    3: "flooded 71-150 cm",
    4: "flooded over 150 cm",
}


@dataclass
class CrosswalkRow:
    bps_id: str
    bps_name: str
    kemendagri_code: str
    kemendagri_name: str


def read_crosswalk(path: Path = CROSSWALK_FILE) -> dict[str, CrosswalkRow]:
    with path.open(encoding="utf-8") as handle:
        return {
            row["bps_kelurahan_id"]: CrosswalkRow(
                row["bps_kelurahan_id"],
                row["bps_name"],
                row["kemendagri_kode"],
                row["kemendagri_nama"],
            )
            for row in csv.DictReader(handle)
        }


def load_jakarta(*, stdout=None) -> list[ImportReport]:
    """Load or refresh all Jakarta areas and indicators in one transaction."""
    reports = []
    with transaction.atomic():
        crosswalk = read_crosswalk()
        for level, filename in KEMENDAGRI_LEVELS:
            reports.append(_load_kemendagri_level(level, BOUNDARIES / filename, crosswalk))
        reports.append(load_rw(crosswalk))
        reports.append(load_education_indicators())
        reports.append(load_flood_indicators())
    if stdout is not None:
        for report in reports:
            for line in report.lines():
                stdout.write(line)
    return reports


def _load_kemendagri_level(level: str, path: Path, crosswalk: dict[str, CrosswalkRow]):
    report = ImportReport(level=level, source=path.name)
    features = read_features(path)
    records = records_from_features(features, report=report, code_field="kode", name_field="nama")
    bps_codes = _bps_codes_for_level(level, crosswalk)
    for record in records:
        record.bps_code = bps_codes.get(record.code, "")
    for row in crosswalk.values():
        if level == Area.Level.KELURAHAN and row.bps_name != row.kemendagri_name:
            report.notes.append(
                f"{row.kemendagri_code}: named '{row.kemendagri_name}' (Kemendagri); "
                f"BPS spells it '{row.bps_name}'"
            )
    return import_area_records(records, level=level, source=KEMENDAGRI_SOURCE, report=report)


def _bps_codes_for_level(level: str, crosswalk: dict[str, CrosswalkRow]) -> dict[str, str]:
    """BPS codes where the crosswalk determines them: kelurahan directly; kecamatan and
    kota by the prefix of their kelurahan's BPS ids, when those all agree."""
    digits = {Area.Level.PROVINCE: 2, Area.Level.KOTA: 4, Area.Level.KECAMATAN: 7}
    segments = {Area.Level.PROVINCE: 1, Area.Level.KOTA: 2, Area.Level.KECAMATAN: 3}
    if level == Area.Level.KELURAHAN:
        return {row.kemendagri_code: row.bps_id for row in crosswalk.values()}
    candidates: dict[str, set[str]] = {}
    for row in crosswalk.values():
        code = ".".join(row.kemendagri_code.split(".")[: segments[level]])
        candidates.setdefault(code, set()).add(row.bps_id[: digits[level]])
    return {code: ids.pop() for code, ids in candidates.items() if len(ids) == 1}


def load_rw(crosswalk: dict[str, CrosswalkRow], path: Path = RW_FILE) -> ImportReport:
    report = ImportReport(level=Area.Level.RW, source=path.name)
    features = read_features(path)
    locator = _KelurahanLocator()
    records: list[AreaRecord] = []
    seen: set[str] = set()
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") or {}
        rw_id = str(properties.get("rw_id") or "")
        label = str(properties.get("rw") or "").strip()
        kelurahan_id = str(properties.get("kelurahan_id") or "")
        ref = f"feature {index} ({rw_id or 'no rw_id'}, {properties.get('kelurahan')}, {label!r})"
        try:
            geometry = polygonal_from_geojson(feature.get("geometry"))
        except GeometryError as exc:
            report.skip(ref, str(exc))
            continue
        if geometry.repair:
            report.repair(ref, f"{geometry.repair}; made valid")

        rw_id = _repair_rw_id(rw_id, kelurahan_id, label, ref, report)
        if rw_id is None:
            continue
        number = int(rw_id[10:13])
        row = crosswalk.get(rw_id[:10])
        if row is not None:
            parent_code = row.kemendagri_code
        else:
            parent = locator.locate(geometry.geometry, properties.get("kelurahan") or "")
            if parent is None:
                report.skip(
                    ref,
                    f"kelurahan id {rw_id[:10]} is not in the crosswalk and no "
                    "Kemendagri kelurahan with the same name contains it",
                )
                continue
            parent_code = parent.code
            report.repair(
                ref,
                f"kelurahan id {rw_id[:10]} is not in the crosswalk; placed in "
                f"{parent.code} {parent.name} by location and name",
            )
        code = f"{parent_code}.{number:03d}"
        if code in seen:
            report.skip(ref, f"duplicate RW {code}")
            continue
        seen.add(code)
        residential = number not in NON_RESIDENTIAL_NUMBERS
        if residential:
            name = f"RW {number:02d}"
        else:
            name = label or "Kawasan tanpa RW"
            report.notes.append(
                f"{code} ({properties.get('kelurahan')}): BPS number {number:03d}, label "
                f"{label!r}: kept as a non-residential zone that takes no needs"
            )
        records.append(
            AreaRecord(
                code=code,
                name=name,
                geometry=geometry.geometry,
                parent_code=parent_code,
                bps_code=rw_id,
                is_residential=residential,
                properties=dict(properties),
            )
        )
    if not records:
        raise ImportFileError(f"{path.name}: no RW could be placed")
    import_area_records(
        records, level=Area.Level.RW, source=RW_SOURCE, report=report, parent="field"
    )
    without_rw = (
        Area.objects.filter(level=Area.Level.KELURAHAN, children__isnull=True)
        .order_by("code")
        .values_list("code", "name")
    )
    if without_rw:
        report.notes.append(
            f"{len(without_rw)} kelurahan have no RW polygons in the source (their needs are "
            "recorded at kelurahan level): "
            + ", ".join(f"{code} {name}" for code, name in without_rw)
        )
    return report


def _repair_rw_id(rw_id: str, kelurahan_id: str, label: str, ref: str, report) -> str | None:
    if re.fullmatch(r"\d{16}", rw_id):
        return rw_id
    match = RW_LABEL.match(label)
    if re.fullmatch(r"\d{10}", kelurahan_id) and rw_id.startswith(kelurahan_id) and match:
        repaired = f"{kelurahan_id}{int(match.group(1)):03d}000"
        report.repair(ref, f"rw_id {rw_id!r} is truncated; rebuilt as {repaired} from its label")
        return repaired
    report.skip(ref, f"rw_id {rw_id!r} is not a 16-digit BPS id and cannot be rebuilt")
    return None


class _KelurahanLocator:
    """Finds the Kemendagri kelurahan containing a shape, for RW whose BPS kelurahan id is
    not in the crosswalk. Built on first use only."""

    def __init__(self) -> None:
        self._tree: STRtree | None = None
        self._areas: list[Area] = []

    def locate(self, geometry, bps_name: str) -> Area | None:
        if self._tree is None:
            self._areas = list(Area.objects.filter(level=Area.Level.KELURAHAN).with_geometry())
            self._tree = STRtree([shapely.geometry.shape(a.geometry) for a in self._areas])
        point = geometry.point_on_surface()
        for index in self._tree.query(point, predicate="intersects"):
            area = self._areas[index]
            if _same_name(area.name, bps_name):
                return area
        return None


def _same_name(a: str, b: str) -> bool:
    """'Rawabadak Utara' and 'Rawa Badak Utara' are the same kelurahan."""

    def normal(s: str) -> str:
        return re.sub(r"[^a-z]", "", s.lower())

    return normal(a) == normal(b)


def load_education_indicators(path: Path = EDUCATION_FILE) -> ImportReport:
    """Susenas 2018 education status by kota and sex. Totals are kept as printed (some do
    not sum to 100 in the source table)."""
    report = ImportReport(level="indicator", source=path.name)
    areas = {a.code: a for a in Area.objects.filter(level__in=["province", "kota"])}
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    required = {"area_code", "sex", "status", "status_label_id", "percent", "year", "source"}
    if not rows or not required <= set(rows[0]):
        raise ImportFileError(f"{path.name}: expected columns {', '.join(sorted(required))}")
    indicators = []
    for number, row in enumerate(rows, start=2):
        area = areas.get(row["area_code"])
        if area is None:
            report.skip(f"line {number}", f"area {row['area_code']} is not loaded")
            continue
        indicators.append(
            dict(
                area=area,
                indicator=f"education-{row['status'].replace('_', '-')}",
                breakdown=f"sex={row['sex']}",
                label=row["status_label_id"],
                value=Decimal(row["percent"]),
                unit="%",
                year=int(row["year"]),
                period=row["year"],
                source=row["source"],
            )
        )
    _upsert_indicators(indicators, report)
    return report


def load_flood_indicators() -> ImportReport:
    report = ImportReport(level="indicator", source="flood-rw")
    rw_by_bps = dict(Area.objects.filter(level=Area.Level.RW).values_list("bps_code", "pk"))
    indicators = []
    for period, (path, id_field) in FLOOD_FILES.items():
        for feature in read_features(path):
            properties = feature.get("properties") or {}
            bps_id = str(properties.get(id_field) or "")
            area_pk = rw_by_bps.get(bps_id)
            if area_pk is None:
                report.skip(f"{path.name} {bps_id}", "no RW with this BPS id in the RW layer")
                continue
            state = int(properties.get("state") or 0)
            indicators.append(
                dict(
                    area_id=area_pk,
                    indicator="flood-state",
                    breakdown="",
                    label=FLOOD_STATES.get(state, f"state {state}"),
                    value=Decimal(state),
                    unit="state 0-4",
                    year=int(period[:4]),
                    period=period,
                    source="PetaJakarta flood states (inasafe-django, ODbL)",
                )
            )
    _upsert_indicators(indicators, report)
    return report


def _upsert_indicators(rows: list[dict], report: ImportReport) -> None:
    def key_of(area_id, indicator, breakdown, period):
        return (area_id, indicator, breakdown, period)

    existing = {
        key_of(i.area_id, i.indicator, i.breakdown, i.period): i
        for i in AreaIndicator.objects.filter(indicator__in={row["indicator"] for row in rows})
    }
    to_create, to_update = [], []
    for row in rows:
        area_id = row.pop("area").pk if "area" in row else row.pop("area_id")
        key = key_of(area_id, row["indicator"], row["breakdown"], row["period"])
        current = existing.get(key)
        if current is None:
            to_create.append(AreaIndicator(area_id=area_id, **row))
        elif any(getattr(current, name) != value for name, value in row.items()):
            for name, value in row.items():
                setattr(current, name, value)
            to_update.append(current)
        else:
            report.unchanged += 1
    AreaIndicator.objects.bulk_create(to_create, batch_size=500)
    AreaIndicator.objects.bulk_update(
        to_update, ["label", "value", "unit", "year", "source"], batch_size=500
    )
    report.created += len(to_create)
    report.updated += len(to_update)
