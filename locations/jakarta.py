"""Load the real Jakarta data shipped in locations/data/jakarta (sources and licences in
its DATA_SOURCES.md): Kemendagri boundaries down to kelurahan, the BPS RW layer attached to
kelurahan through the crosswalk, and area indicators (education, floods, population and
density), each through the generic indicator importer.

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
from django.utils.translation import gettext_noop
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
from .indicator_import import BY_BPS_RW, BY_CODE, BY_NAME, IndicatorSpec, indicator_path_apply
from .models import Area

DATA_DIR = Path(__file__).resolve().parent / "data" / "jakarta"
BOUNDARIES = DATA_DIR / "boundaries-kemendagri"
RW_FILE = DATA_DIR / "rw-bps" / "jakarta_rw_dissolved.geojson"
CROSSWALK_FILE = DATA_DIR / "crosswalk_bps_to_kemendagri_kelurahan.csv"
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

# Labels stored with each flood value; translated where shown (the map legend).
FLOOD_STATES = {
    "0": gettext_noop("no flooding reported"),
    "1": gettext_noop("caution"),
    "2": gettext_noop("flooded 10-70 cm"),
    "3": gettext_noop("flooded 71-150 cm"),
    "4": gettext_noop("flooded over 150 cm"),
}
FLOOD_SOURCE = "PetaJakarta flood states (inasafe-django, ODbL)"
DENSITY_FILE = (
    DATA_DIR
    / "vulnerability"
    / "satudata-kepadatan-penduduk-2024"
    / "data-kepadatan-penduduk-provinsi-dki-jakarta-2024.xlsx"
)
DENSITY_SOURCE = "Satu Data Jakarta (Pemprov DKI Jakarta), Data Kepadatan Penduduk 2024"
KELURAHAN_BY_NAME = dict(
    by=BY_NAME,
    kelurahan_column="kelurahan",
    kecamatan_column="kecamatan",
    kota_column="wilayah",
    year_column="periode_data",
    source=DENSITY_SOURCE,
    minimum=Decimal(0),
)
INDICATOR_FILES = [
    (
        DATA_DIR / "indicators" / "education_status_age10plus_2018.csv",
        # Susenas 2018 education status by kota and sex. Totals are kept as printed (some
        # do not sum to 100 in the source table).
        IndicatorSpec(
            indicator="education",
            indicator_column="status",
            breakdown_column="sex",
            label="",
            label_column="status_label_id",
            value_column="percent",
            unit="%",
            year_column="year",
            source="Susenas March 2018 (BPS), Tabel 5, Jakarta Education Profile 2019",
            by=BY_CODE,
            code_column="area_code",
            # No maximum: a printed total is 100.84.
            minimum=Decimal(0),
        ),
    ),
    *[
        (
            DATA_DIR / "flood-rw" / filename,
            IndicatorSpec(
                indicator="flood-state",
                label="flood state",
                value_column="state",
                value_labels=FLOOD_STATES,
                unit="state 0-4",
                year=int(period[:4]),
                period=period,
                source=FLOOD_SOURCE,
                by=BY_BPS_RW,
                bps_column=id_field,
                minimum=Decimal(0),
                maximum=Decimal(4),
            ),
        )
        for period, filename, id_field in [
            ("2016-03-05", "rw_flood_2016-03-05_hazard.geojson", "pkey"),
            ("2017-02-21", "rw_flood_2017-02-21.geojson", "geom_id"),
        ]
    ],
    (
        DENSITY_FILE,
        IndicatorSpec(
            indicator="population",
            label="Population",
            value_column="jumlah_penduduk",
            unit=gettext_noop("persons"),
            **KELURAHAN_BY_NAME,
        ),
    ),
    (
        DENSITY_FILE,
        IndicatorSpec(
            indicator="population-density",
            label="Population density",
            value_column="jumlah_kepadatan",
            unit=gettext_noop("persons/km²"),
            **KELURAHAN_BY_NAME,
        ),
    ),
]


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
        reports.extend(load_indicators())
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
            parent_code = _parent_code_by_location(
                rw_id, geometry.geometry, properties, ref, locator, report
            )
            if parent_code is None:
                continue
        code = f"{parent_code}.{number:03d}"
        if code in seen:
            report.skip(ref, f"duplicate RW {code}")
            continue
        seen.add(code)
        residential = number not in NON_RESIDENTIAL_NUMBERS
        name = _rw_name(code, number, label, residential, properties, report)
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
    _note_kelurahan_without_rw(report)
    return report


def _parent_code_by_location(
    rw_id: str,
    geometry,
    properties: dict,
    ref: str,
    locator: _KelurahanLocator,
    report: ImportReport,
) -> str | None:
    """The code of the Kemendagri kelurahan of the same name containing an RW missing from the
    crosswalk (reported as a repair), else None after skipping the RW."""
    parent = locator.locate(geometry, properties.get("kelurahan") or "")
    if parent is None:
        report.skip(
            ref,
            f"kelurahan id {rw_id[:10]} is not in the crosswalk and no "
            "Kemendagri kelurahan with the same name contains it",
        )
        return None
    report.repair(
        ref,
        f"kelurahan id {rw_id[:10]} is not in the crosswalk; placed in "
        f"{parent.code} {parent.name} by location and name",
    )
    return parent.code


def _rw_name(
    code: str, number: int, label: str, residential: bool, properties: dict, report: ImportReport
) -> str:
    """An RW's name: "RW nn", or a non-residential zone's label (noted in the report)."""
    if residential:
        return f"RW {number:02d}"
    report.notes.append(
        f"{code} ({properties.get('kelurahan')}): BPS number {number:03d}, label "
        f"{label!r}: kept as a non-residential zone that takes no needs"
    )
    return label or "Kawasan tanpa RW"


def _note_kelurahan_without_rw(report: ImportReport) -> None:
    """Note the kelurahan left without any RW polygon (their needs are kept at that level)."""
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


def load_indicators() -> list[ImportReport]:
    """The shipped indicators, each through the generic importer (locations.indicator_import):
    education by kota code, flood states by BPS RW id, population and density by kelurahan
    name within kecamatan and kota. Unmatched rows are reported, never guessed."""
    return [indicator_path_apply(path, spec) for path, spec in INDICATOR_FILES]
