"""Importing area indicators (population, density, flood states, education...) from a file:
read -> match every row to an area -> preview -> apply in one transaction (an upsert).

One importer for every source: a CSV or XLSX keyed by area code (any level) or by kelurahan
name within kecamatan (and kota), or a GeoJSON keyed by 16-digit BPS RW id. What the columns
mean is said by an IndicatorSpec. The management command `import_indicators`, the shipped
Jakarta data (locations.jakarta) and the program leads' upload page all come through here.

Matching guesses nothing. Names are compared after normalising case, spaces, punctuation and
the "Kel." / "Kelurahan" (and "Kec.", "Kota Adm.") prefixes; the one spelling variant
applied is "Kep." for "Kepulauan", which Satu Data Jakarta writes in its kota names. A row
whose name fits no area, or several, is unmatched, listed with its reason and left out.
A value the column cannot hold, a missing value or the same area twice is a problem: a file
with problems is not applied at all.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ksbb.spreadsheets import (
    MAX_ROWS,
    FileRefused,
    cell_value,
    check_size,
    data_rows,
    dataset_read,
    text_decode,
)
from programs.models import ProgramLead

from .importers import ImportFileError, ImportReport
from .mapdata import indicators_changed
from .models import Area, AreaIndicator, IndicatorImport

CROSSWALK_FILE = (
    Path(__file__).resolve().parent / "data/jakarta/crosswalk_bps_to_kemendagri_kelurahan.csv"
)
PROBLEMS_KEPT = 1000
SAMPLE_ROWS = 10
VALUE_PLACES = Decimal("0.0001")  # AreaIndicator.value: 14 digits, 4 after the point
VALUE_LIMIT = Decimal(10) ** 10
YEAR_RANGE = (1900, 2100)
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

BY_CODE, BY_NAME, BY_BPS_RW = "code", "name", "bps-rw"
KEYS = (BY_CODE, BY_NAME, BY_BPS_RW)

# Field sizes of AreaIndicator.
MAX_LENGTH = {"indicator": 80, "label": 200, "unit": 20, "period": 20, "source": 300}
MAX_LENGTH["breakdown"] = 80

PROBLEM_MESSAGES = {
    # Unmatched rows: left out, with the reason.
    "no_code": gettext_lazy("No area code in this row."),
    "unknown_code": gettext_lazy("No area has the code %(value)s."),
    "no_name": gettext_lazy("No kelurahan name in this row."),
    "unknown_name": gettext_lazy("No kelurahan is named %(value)s."),
    "not_in_kecamatan": gettext_lazy(
        "No kelurahan %(value)s in kecamatan %(within)s (there is one in %(found)s)."
    ),
    "not_in_kota": gettext_lazy(
        "No kelurahan %(value)s in %(within)s (there is one in %(found)s)."
    ),
    "ambiguous": gettext_lazy(
        "%(value)s may be any of %(count)s kelurahan (%(found)s): nothing is guessed; "
        "add or correct the kecamatan to tell them apart."
    ),
    "bad_bps_id": gettext_lazy("%(value)s is not a 16-digit BPS RW id."),
    "unknown_bps_id": gettext_lazy(
        "No RW has the BPS id %(value)s (not in the RW layer, nor through the crosswalk)."
    ),
    # Problems: the file is not applied.
    "required": gettext_lazy("This column cannot be empty."),
    "not_number": gettext_lazy(
        "%(value)s is not a number: write it with a decimal point and no thousands "
        "separators, e.g. 71993.81."
    ),
    "out_of_range": gettext_lazy(
        "%(value)s does not fit: values must be smaller than 10,000,000,000."
    ),
    "below_minimum": gettext_lazy("%(value)s is below the smallest allowed value, %(limit)s."),
    "above_maximum": gettext_lazy("%(value)s is above the largest allowed value, %(limit)s."),
    "bad_year": gettext_lazy("%(value)s is not a year between 1900 and 2100."),
    "too_long": gettext_lazy("%(value)s is longer than %(limit)s characters."),
    "bad_slug": gettext_lazy("%(value)s cannot be part of an indicator name."),
    "duplicate": gettext_lazy("Row %(other)s already gives %(area)s a value for this indicator."),
}
UNMATCHED_CODES = {
    "no_code",
    "unknown_code",
    "no_name",
    "unknown_name",
    "not_in_kecamatan",
    "not_in_kota",
    "ambiguous",
    "bad_bps_id",
    "unknown_bps_id",
}


def problem_message(problem: dict) -> str:
    value = problem.get("value", "")
    params = {"value": f"“{value}”", **problem.get("params", {})}
    return str(PROBLEM_MESSAGES[problem["code"]]) % params


@dataclass
class IndicatorSpec:
    """How to read one indicator from a file: which column holds the area and the value, and
    what the value is (its slug, label, unit, year, period, source)."""

    indicator: str
    label: str
    unit: str
    source: str
    value_column: str
    year: int | None = None
    period: str = ""  # the year unless given (an observation date, e.g. 2016-03-05)
    by: str = BY_CODE
    code_column: str = "area_code"
    kelurahan_column: str = "kelurahan"
    kecamatan_column: str = "kecamatan"
    kota_column: str = ""
    bps_column: str = "pkey"
    breakdown: str = ""  # e.g. "sex=female"; empty for the whole area
    # Optional columns that vary per row: the indicator is <indicator>-<cell>, the breakdown
    # <column>=<cell>, the label the cell, the year (and period) the cell.
    indicator_column: str = ""
    breakdown_column: str = ""
    label_column: str = ""
    year_column: str = ""
    # A label per value, for states ("2": "flooded 10-70 cm"); keys are the value as text.
    value_labels: dict[str, str] = field(default_factory=dict)
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    @classmethod
    def from_dict(cls, data: dict) -> IndicatorSpec:
        known = {f.name for f in fields(cls)}
        spec = cls(**{k: v for k, v in data.items() if k in known})
        for bound in ("minimum", "maximum"):
            value = getattr(spec, bound)
            if value is not None:
                setattr(spec, bound, Decimal(str(value)))
        return spec

    def as_dict(self) -> dict:
        data = asdict(self)
        for bound in ("minimum", "maximum"):
            if data[bound] is not None:
                data[bound] = str(data[bound])
        return data

    def errors(self) -> list[str]:
        """What is wrong with the spec itself (before any file is read)."""
        errors = []
        if self.by not in KEYS:
            errors.append(_("Match rows by one of: %(keys)s.") % {"keys": ", ".join(KEYS)})
        if not self.indicator or slugify(self.indicator) != self.indicator:
            errors.append(
                _("The indicator must be a short name in lower case with hyphens, e.g. %(e)s.")
                % {"e": "population-density"}
            )
        for name in ("indicator", "label", "unit", "period", "source", "breakdown"):
            value = getattr(self, name)
            if len(value) > MAX_LENGTH[name]:
                errors.append(
                    _("%(field)s is longer than %(limit)s characters.")
                    % {"field": name, "limit": MAX_LENGTH[name]}
                )
        for name, value in asdict(self).items():
            if isinstance(value, str) and any(not c.isprintable() for c in value):
                errors.append(_("%(field)s holds control characters.") % {"field": name})
        if self.year is None and not self.year_column:
            errors.append(_("Give the year of the data, or the column holding it."))
        elif self.year is not None and not YEAR_RANGE[0] <= self.year <= YEAR_RANGE[1]:
            errors.append(_("The year must be between 1900 and 2100."))
        if not self.label and not self.label_column:
            errors.append(_("Give a label for the indicator."))
        for name in ("unit", "source", "value_column"):
            if not getattr(self, name):
                errors.append(_("%(field)s cannot be empty.") % {"field": name})
        if self.by == BY_NAME and not self.kelurahan_column:
            errors.append(_("Name the column holding the kelurahan."))
        return errors

    def key_columns(self) -> list[str]:
        if self.by == BY_CODE:
            return [self.code_column]
        if self.by == BY_BPS_RW:
            return [self.bps_column]
        return [c for c in (self.kelurahan_column, self.kecamatan_column, self.kota_column) if c]

    def columns(self) -> list[str]:
        """Every column the spec reads: each must be in the file."""
        optional = [
            self.indicator_column,
            self.breakdown_column,
            self.label_column,
            self.year_column,
        ]
        return [*self.key_columns(), self.value_column, *[c for c in optional if c]]


# --- reading ------------------------------------------------------------------------------


@dataclass
class SourceTable:
    format: str  # csv, xlsx or geojson
    # (row number as the uploader finds it: spreadsheet row, or feature number; cells by
    # column name), blank rows left out.
    rows: list[tuple[int, dict]]


def source_read(*, data: bytes, name: str, spec: IndicatorSpec) -> SourceTable:
    """Read a CSV, XLSX or GeoJSON file with the same limits as every upload (size, rows,
    unpacked size, NUL bytes); FileRefused says what is wrong."""
    check_size(data, name)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        table = _geojson_rows(data, name)
    else:
        dataset, file_format = dataset_read(data=data, name=name)
        headers = [str(cell_value(h)) for h in (dataset.headers or [])]
        if not any(headers):
            raise FileRefused(_("%(name)s is empty.") % {"name": name})
        rows = [
            (number, dict(zip(headers, cells, strict=False)))
            for number, cells in data_rows(dataset, name)
        ]
        table = SourceTable(file_format, rows)
        _columns_check(headers, spec, name)
    if not table.rows:
        raise FileRefused(_("%(name)s has a header row but no data.") % {"name": name})
    if table.format == "geojson":
        present = set().union(*(cells.keys() for _n, cells in table.rows))
        _columns_check(sorted(present), spec, name)
    return table


def _columns_check(headers: list[str], spec: IndicatorSpec, name: str) -> None:
    missing = [column for column in spec.columns() if column not in headers]
    if missing:
        raise FileRefused(
            _("%(name)s has no column %(columns)s; its columns are: %(found)s.")
            % {
                "name": name,
                "columns": ", ".join(missing),
                "found": ", ".join(h for h in headers if h)[:500],
            }
        )
    used = set(spec.columns())
    twice = [h for h, n in Counter(headers).items() if n > 1 and h in used]
    if twice:
        raise FileRefused(
            _("%(name)s has the column %(columns)s twice.")
            % {"name": name, "columns": ", ".join(twice)}
        )


def _geojson_rows(data: bytes, name: str) -> SourceTable:
    text = text_decode(data, name)
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FileRefused(_("%(name)s is not valid GeoJSON.") % {"name": name}) from exc
    features = document.get("features") if isinstance(document, dict) else None
    if document.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise FileRefused(_("%(name)s is not a GeoJSON FeatureCollection.") % {"name": name})
    if len(features) > MAX_ROWS:
        raise FileRefused(
            _("%(name)s has more than %(limit)s rows: split it into smaller files.")
            % {"name": name, "limit": f"{MAX_ROWS:,}"}
        )
    rows = []
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            continue
        cells = {
            str(key): cell_value(value)
            for key, value in properties.items()
            if not isinstance(value, dict | list)
        }
        if any("\x00" in v for v in [*cells, *cells.values()] if isinstance(v, str)):
            raise FileRefused(
                _("%(name)s holds a NUL byte in feature %(row)s.") % {"name": name, "row": number}
            )
        rows.append((number, cells))
    return SourceTable("geojson", rows)


# --- matching -----------------------------------------------------------------------------

NAME_PREFIXES = {
    "kelurahan": ("kelurahan ", "kel. ", "kel."),
    "kecamatan": ("kecamatan ", "kec. ", "kec."),
    "kota": (
        "kota administrasi ",
        "kabupaten administrasi ",
        "kota adm. ",
        "kab. adm. ",
        "kota adm ",
        "kab adm ",
        "kota ",
        "kabupaten ",
        "kab. ",
    ),
}
# Written abbreviated by Satu Data Jakarta ("KAB. ADM. KEP. SERIBU").
SPELLING_VARIANTS = {"kota": ((re.compile(r"\bkep\.\s*"), "kepulauan "),)}


def normal_name(text: str, kind: str) -> str:
    """'KEL. Rawa Badak-Utara' and 'Rawabadak Utara' -> 'rawabadakutara'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", " ", text.lower()).strip()
    for pattern, replacement in SPELLING_VARIANTS.get(kind, ()):
        text = pattern.sub(replacement, text)
    for prefix in NAME_PREFIXES[kind]:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass(frozen=True)
class _Kelurahan:
    pk: int
    code: str
    name: str
    kecamatan: str
    kota: str


class _Areas:
    """Areas loaded once per check, looked up by code, by name, by BPS RW id."""

    def __init__(self, spec: IndicatorSpec) -> None:
        self.by_code: dict[str, tuple[int, str]] = {}
        self.by_name: dict[str, list[_Kelurahan]] = {}
        self.rw_by_bps: dict[str, tuple[int, str]] = {}
        if spec.by == BY_CODE:
            self.by_code = {
                code: (pk, level, code)
                for pk, code, level in Area.objects.values_list("pk", "code", "level")
            }
        elif spec.by == BY_NAME:
            names = dict(
                Area.objects.filter(level__in=[Area.Level.KOTA, Area.Level.KECAMATAN]).values_list(
                    "code", "name"
                )
            )
            for pk, code, name, path in Area.objects.filter(level=Area.Level.KELURAHAN).values_list(
                "pk", "code", "name", "path"
            ):
                ancestors = path.split("/")
                kelurahan = _Kelurahan(
                    pk, code, name, names.get(ancestors[-2], ""), names.get(ancestors[-3], "")
                )
                self.by_name.setdefault(normal_name(name, "kelurahan"), []).append(kelurahan)
        else:
            rws = Area.objects.filter(level=Area.Level.RW).values_list("pk", "code", "bps_code")
            self.by_code = {code: (pk, Area.Level.RW, code) for pk, code, _b in rws}
            self.rw_by_bps = {bps: (pk, Area.Level.RW, code) for pk, code, bps in rws if bps}
            self.crosswalk = _crosswalk()

    # Each match_* gives ((area pk, level, code) or None, the reason it is unmatched, the
    # reason's parameters).
    def match_code(self, raw) -> tuple[tuple[int, str, str] | None, str, dict]:
        code = _text(raw).replace(" ", "")
        if not code:
            return None, "no_code", {}
        found = self.by_code.get(code)
        return (found, "", {}) if found else (None, "unknown_code", {})

    def match_name(self, cells: dict, spec: IndicatorSpec):
        raw = _text(cells.get(spec.kelurahan_column, ""))
        if not raw:
            return None, "no_name", {}
        candidates = self.by_name.get(normal_name(raw, "kelurahan"), [])
        if not candidates:
            return None, "unknown_name", {}
        for column, kind, attribute, reason in (
            (spec.kecamatan_column, "kecamatan", "kecamatan", "not_in_kecamatan"),
            (spec.kota_column, "kota", "kota", "not_in_kota"),
        ):
            within = _text(cells.get(column, "")) if column else ""
            if not within:
                continue
            wanted = normal_name(within, kind)
            inside = [c for c in candidates if normal_name(getattr(c, attribute), kind) == wanted]
            if not inside:
                found = ", ".join(f"{getattr(c, attribute)} ({c.code})" for c in candidates)
                return None, reason, {"within": within, "found": found}
            candidates = inside
        if len(candidates) > 1:
            found = ", ".join(f"{c.code} {c.kecamatan}" for c in candidates)
            return None, "ambiguous", {"count": len(candidates), "found": found}
        return (candidates[0].pk, Area.Level.KELURAHAN, candidates[0].code), "", {}

    def match_bps_rw(self, raw):
        bps = _text(raw)
        if isinstance(raw, float) and raw.is_integer():
            bps = str(int(raw))
        if not re.fullmatch(r"\d{16}", bps):
            return None, "bad_bps_id", {}
        found = self.rw_by_bps.get(bps)
        if found is None:
            # Not in the RW layer under this id: its kelurahan through the crosswalk.
            kelurahan = self.crosswalk.get(bps[:10])
            if kelurahan:
                found = self.by_code.get(f"{kelurahan}.{bps[10:13]}")
        if found is None:
            return None, "unknown_bps_id", {}
        return found, "", {}


def _crosswalk() -> dict[str, str]:
    with CROSSWALK_FILE.open(encoding="utf-8") as handle:
        return {row["bps_kelurahan_id"]: row["kemendagri_kode"] for row in csv.DictReader(handle)}


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


def _number(value) -> Decimal | None:
    """A number written plainly; None for anything else (booleans, thousands separators,
    text). Nothing is guessed: "1,234" could be 1234 or 1.234."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        text = str(value)
    else:
        text = str(value).strip().replace(" ", "")
    if not PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# --- checking -----------------------------------------------------------------------------


@dataclass
class Checked:
    """What a file would write: its matched lines, unmatched rows and problems."""

    format: str = ""
    rows_total: int = 0
    lines: list[dict] = field(default_factory=list)  # AreaIndicator fields, area_id included
    unmatched: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    levels: Counter = field(default_factory=Counter)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, problem_list: list, row: int, column: str, code: str, value="", **params):
        problem_list.append(
            {
                "row": row,
                "column": column,
                "code": code,
                "value": str(value)[:200],
                "params": params,
            }
        )

    @property
    def row_word(self) -> str:
        return "feature" if self.format == "geojson" else "row"

    def preview(self) -> dict:
        values = [line["value"] for line in self.lines]
        return {
            "levels": dict(sorted(self.levels.items())),
            "indicators": sorted({line["indicator"] for line in self.lines})[:20],
            "periods": sorted({line["period"] for line in self.lines})[:20],
            "min": _number_text(min(values)) if values else None,
            "max": _number_text(max(values)) if values else None,
            "create": self.created,
            "update": self.updated,
            "unchanged": self.unchanged,
            "sample": [
                [line["area_code"], line["breakdown"], _number_text(line["value"])]
                for line in self.lines[:SAMPLE_ROWS]
            ],
        }

    def report_lines(self, name: str, spec: IndicatorSpec, *, applied: bool) -> list[str]:
        verbs = ("created", "updated") if applied else ("to create", "to update")
        levels = ", ".join(f"{n} {level}" for level, n in sorted(self.levels.items()))
        lines = [
            f"{name}: {spec.indicator} by {spec.by}: {self.rows_total} rows, "
            f"{len(self.lines)} matched ({levels or 'none'}), {len(self.unmatched)} unmatched, "
            f"{len(self.problems)} problems; {self.created} {verbs[0]}, "
            f"{self.updated} {verbs[1]}, {self.unchanged} unchanged"
        ]
        for kind, entries in (("unmatched", self.unmatched), ("problem", self.problems)):
            lines += [
                f"  {kind} {self.row_word} {p['row']} ({p['column']}): {problem_message(p)}"
                for p in entries
            ]
        return lines


def indicator_rows_check(table: SourceTable, spec: IndicatorSpec) -> Checked:
    """Match every row to an area and read its value; write nothing."""
    checked = Checked(format=table.format, rows_total=len(table.rows))
    areas = _Areas(spec)
    first_row_of: dict[tuple, int] = {}
    for row, cells in table.rows:
        line = _check_row(row, cells, spec, areas, checked)
        if line is None:
            continue
        key = (line["area_id"], line["indicator"], line["breakdown"], line["period"])
        if key in first_row_of:
            checked.add(
                checked.problems, row, spec.key_columns()[0], "duplicate",
                line["area_code"], other=first_row_of[key], area=line["area_code"],
            )  # fmt: skip
            continue
        first_row_of[key] = row
        checked.lines.append(line)
    _compare_with_stored(checked)
    return checked


def _check_row(row: int, cells: dict, spec: IndicatorSpec, areas: _Areas, checked: Checked):
    """One row's indicator line, or None after adding its problems (or when it is unmatched)."""
    before = len(checked.problems)
    found = _row_area(row, cells, spec, areas, checked)
    value = _row_value(row, cells, spec, checked)
    indicator = _row_indicator(row, cells, spec, checked)
    breakdown = _row_breakdown(row, cells, spec, checked)
    if spec.label_column:
        label = _text_cell(row, cells, checked, spec.label_column, "label")
    else:
        label = spec.label
    if value is not None and spec.value_labels:
        label = spec.value_labels.get(_number_text(value), label)
    year, period = _row_year_and_period(row, cells, spec, checked)

    if found is None or len(checked.problems) > before:
        return None
    area_id, level, code = found
    checked.levels[level] += 1
    return {
        "area_id": area_id,
        "area_code": code,
        "indicator": indicator,
        "breakdown": breakdown,
        "label": label,
        "value": value,
        "unit": spec.unit,
        "year": year,
        "period": period,
        "source": spec.source,
    }


def _row_area(row: int, cells: dict, spec: IndicatorSpec, areas: _Areas, checked: Checked):
    """The row's area as (id, level, code), matched by the spec's key, or None after adding
    the row to the unmatched."""
    if spec.by == BY_CODE:
        found, reason, params = areas.match_code(cells.get(spec.code_column, ""))
        raw_key = cells.get(spec.code_column, "")
    elif spec.by == BY_NAME:
        found, reason, params = areas.match_name(cells, spec)
        raw_key = cells.get(spec.kelurahan_column, "")
    else:
        found, reason, params = areas.match_bps_rw(cells.get(spec.bps_column, ""))
        raw_key = cells.get(spec.bps_column, "")
    if found is None:
        checked.add(checked.unmatched, row, spec.key_columns()[0], reason, _text(raw_key), **params)
    return found


def _text_cell(row: int, cells: dict, checked: Checked, column: str, name: str) -> str | None:
    """A required text cell, or None after adding its problem (empty or too long)."""
    value = _text(cells.get(column, ""))
    if not value:
        checked.add(checked.problems, row, column, "required")
        return None
    if len(value) > MAX_LENGTH[name]:
        checked.add(checked.problems, row, column, "too_long", value, limit=MAX_LENGTH[name])
        return None
    return value


def _row_value(row: int, cells: dict, spec: IndicatorSpec, checked: Checked) -> Decimal | None:
    """The row's value, rounded to VALUE_PLACES, or None after adding its problem."""
    value = None
    raw = cells.get(spec.value_column, "")
    if _text(raw) == "":
        checked.add(checked.problems, row, spec.value_column, "required")
    else:
        number = _number(raw)
        if number is None:
            checked.add(checked.problems, row, spec.value_column, "not_number", _text(raw))
        elif abs(number) >= VALUE_LIMIT:
            checked.add(checked.problems, row, spec.value_column, "out_of_range", _text(raw))
        elif spec.minimum is not None and number < spec.minimum:
            checked.add(
                checked.problems, row, spec.value_column, "below_minimum", _text(raw),
                limit=str(spec.minimum),
            )  # fmt: skip
        elif spec.maximum is not None and number > spec.maximum:
            checked.add(
                checked.problems, row, spec.value_column, "above_maximum", _text(raw),
                limit=str(spec.maximum),
            )  # fmt: skip
        else:
            value = number.quantize(VALUE_PLACES, rounding=ROUND_HALF_EVEN)
    return value


def _row_indicator(row: int, cells: dict, spec: IndicatorSpec, checked: Checked) -> str:
    """The row's indicator: the spec's, suffixed with the row's slug when a column names it."""
    indicator = spec.indicator
    if spec.indicator_column:
        part = _text_cell(row, cells, checked, spec.indicator_column, "indicator")
        slug = slugify(part.replace("_", "-")) if part else ""
        if part and not slug:
            checked.add(checked.problems, row, spec.indicator_column, "bad_slug", part)
        indicator = f"{spec.indicator}-{slug}"
        if slug and len(indicator) > MAX_LENGTH["indicator"]:
            checked.add(
                checked.problems, row, spec.indicator_column, "too_long", indicator,
                limit=MAX_LENGTH["indicator"],
            )  # fmt: skip
    return indicator


def _row_breakdown(row: int, cells: dict, spec: IndicatorSpec, checked: Checked) -> str:
    """The row's breakdown: the spec's, or `<column>=<cell>` when a column gives it."""
    breakdown = spec.breakdown
    if spec.breakdown_column:
        part = _text_cell(row, cells, checked, spec.breakdown_column, "breakdown")
        breakdown = f"{spec.breakdown_column}={part}"
        if part and len(breakdown) > MAX_LENGTH["breakdown"]:
            checked.add(
                checked.problems, row, spec.breakdown_column, "too_long", breakdown,
                limit=MAX_LENGTH["breakdown"],
            )  # fmt: skip
    return breakdown


def _row_year_and_period(
    row: int, cells: dict, spec: IndicatorSpec, checked: Checked
) -> tuple[int | None, str]:
    """The row's year and period: the spec's, or read from its year column."""
    year, period = spec.year, spec.period
    if spec.year_column:
        raw_year = cells.get(spec.year_column, "")
        number = _number(raw_year)
        if number is None or number != int(number) or not YEAR_RANGE[0] <= number <= YEAR_RANGE[1]:
            checked.add(checked.problems, row, spec.year_column, "bad_year", _text(raw_year))
        else:
            year = int(number)
            period = spec.period or str(year)
    period = period or str(year)
    return year, period


def _number_text(value: Decimal) -> str:
    """2.0000 -> "2", 2.5000 -> "2.5": how a value_labels key is written."""
    return format(value.normalize(), "f")


def _stored(lines: list[dict]) -> dict[tuple, AreaIndicator]:
    if not lines:
        return {}
    stored = AreaIndicator.objects.filter(
        indicator__in={line["indicator"] for line in lines},
        period__in={line["period"] for line in lines},
    )
    return {(i.area_id, i.indicator, i.breakdown, i.period): i for i in stored}


UPDATED_FIELDS = ["label", "value", "unit", "year", "source"]


def _compare_with_stored(checked: Checked) -> dict[tuple, AreaIndicator]:
    stored = _stored(checked.lines)
    checked.created = checked.updated = checked.unchanged = 0
    for line in checked.lines:
        current = stored.get(
            (line["area_id"], line["indicator"], line["breakdown"], line["period"])
        )
        if current is None:
            checked.created += 1
        elif any(getattr(current, name) != line[name] for name in UPDATED_FIELDS):
            checked.updated += 1
        else:
            checked.unchanged += 1
    return stored


class IndicatorFileProblems(Exception):
    """The file has problems: nothing was written."""

    def __init__(self, checked: Checked) -> None:
        super().__init__(f"{len(checked.problems)} problems")
        self.checked = checked


def indicators_write(checked: Checked) -> None:
    """Upsert the checked lines. Call inside a transaction (indicator_file_apply does)."""
    stored = _compare_with_stored(checked)
    to_create, to_update = [], []
    for line in checked.lines:
        key = (line["area_id"], line["indicator"], line["breakdown"], line["period"])
        current = stored.get(key)
        values = {name: line[name] for name in UPDATED_FIELDS}
        if current is None:
            to_create.append(
                AreaIndicator(
                    area_id=line["area_id"],
                    indicator=line["indicator"],
                    breakdown=line["breakdown"],
                    period=line["period"],
                    **values,
                )
            )
        elif any(getattr(current, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            to_update.append(current)
    AreaIndicator.objects.bulk_create(to_create, batch_size=500)
    AreaIndicator.objects.bulk_update(to_update, UPDATED_FIELDS, batch_size=500)
    if to_create or to_update:
        transaction.on_commit(indicators_changed)


def indicator_file_check(*, data: bytes, name: str, spec: IndicatorSpec) -> Checked:
    """The preview of a file: read it, match its rows; nothing is written."""
    errors = spec.errors()
    if errors:
        raise FileRefused(" ".join(errors))
    return indicator_rows_check(source_read(data=data, name=name, spec=spec), spec)


def indicator_file_apply(*, data: bytes, name: str, spec: IndicatorSpec) -> Checked:
    """Check a file and write its matched rows, all in one transaction; unmatched rows are
    left out (they are in the returned report). Raises IndicatorFileProblems, having written
    nothing, when any row has a problem."""
    with transaction.atomic():
        checked = indicator_file_check(data=data, name=name, spec=spec)
        if checked.problems:
            raise IndicatorFileProblems(checked)
        indicators_write(checked)
    return checked


def indicator_path_apply(path: Path, spec: IndicatorSpec) -> ImportReport:
    """Load a shipped file (locations.jakarta) and report it as the other loaders do."""
    try:
        checked = indicator_file_apply(data=path.read_bytes(), name=path.name, spec=spec)
    except IndicatorFileProblems as failed:
        lines = failed.checked.report_lines(path.name, spec, applied=False)
        raise ImportFileError("\n".join(lines)) from None
    except FileRefused as refused:
        raise ImportFileError(str(refused.message)) from None
    report = ImportReport(level=f"indicator {spec.indicator}", source=path.name)
    report.created, report.updated = checked.created, checked.updated
    report.unchanged = checked.unchanged
    for entry in checked.unmatched:
        report.skip(f"{checked.row_word} {entry['row']}", problem_message(entry))
    return report


# --- uploads by program leads -------------------------------------------------------------


def may_import_indicators(user) -> bool:
    """Program leads and administrators (as collaborators.roles counts them: a ProgramLead
    row, or staff)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.is_superuser or ProgramLead.objects.filter(user=user).exists()


def indicator_import_create(*, uploader, upload, spec: IndicatorSpec) -> IndicatorImport:
    """Store an uploaded file with its check (the preview). Raises FileRefused for a file or
    spec that cannot be read at all."""
    name = "".join(c for c in (getattr(upload, "name", "") or "") if c.isprintable())[-100:]
    name = name or "file"
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    checked = indicator_file_check(data=data, name=name, spec=spec)
    table_format = checked.format
    job = IndicatorImport(
        uploaded_by=uploader,
        file_name=name,
        format=table_format,
        spec=spec.as_dict(),
    )
    _store_check(job, checked)
    job.file.save(f"{uuid.uuid4().hex}.{table_format}", ContentFile(data), save=False)
    job.save()
    return job


def _store_check(job: IndicatorImport, checked: Checked) -> None:
    job.rows_total = checked.rows_total
    job.matched_count = len(checked.lines)
    job.unmatched = checked.unmatched[:PROBLEMS_KEPT]
    job.unmatched_count = len(checked.unmatched)
    job.problems = checked.problems[:PROBLEMS_KEPT]
    job.problem_count = len(checked.problems)
    job.preview = checked.preview()


class ImportRefused(Exception):
    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


def indicator_import_apply(*, job: IndicatorImport, actor) -> IndicatorImport:
    """Apply a checked import: the file is checked again (areas may have changed) and its
    matched rows upserted in one transaction. Only its uploader applies it, once: the status
    is claimed with a conditional UPDATE, so a second click finds it applied."""
    if job.uploaded_by_id != actor.pk:
        raise ImportRefused(_("Only the person who uploaded this file can apply it."))
    try:
        with transaction.atomic():
            claimed = IndicatorImport.objects.filter(
                pk=job.pk, status=IndicatorImport.Status.CHECKED, problem_count=0
            ).update(status=IndicatorImport.Status.APPLIED, applied_at=timezone.now())
            if not claimed:
                job.refresh_from_db()
                if job.status == IndicatorImport.Status.APPLIED:
                    return job
                raise ImportRefused(_("This import is not ready to be applied."))
            with job.file.open("rb") as stored:
                data = stored.read()
            checked = indicator_file_apply(
                data=data, name=job.file_name, spec=IndicatorSpec.from_dict(job.spec)
            )
            if not checked.lines:
                raise ImportRefused(_("No row of this file matches an area."))
            _store_check(job, checked)
            job.created_count, job.updated_count = checked.created, checked.updated
            job.status = IndicatorImport.Status.APPLIED
            job.applied_at = timezone.now()
            job.save()
    except IndicatorFileProblems as failed:
        _store_check(job, failed.checked)
        _fail(job, _("Some rows are no longer valid (the areas changed since the check)."))
    except (FileRefused, OSError) as refused:
        _fail(job, getattr(refused, "message", _("The stored file cannot be read.")))
    return job


def _fail(job: IndicatorImport, error: str) -> None:
    job.status = IndicatorImport.Status.FAILED
    job.error = str(error)[:2000]
    job.applied_at = None
    job.save()
