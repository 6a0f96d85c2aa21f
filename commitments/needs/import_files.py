"""Needs files: reading an uploaded CSV or XLSX into rows, refusing what is not one, and
writing the downloadable template. Parsing is tablib's (openpyxl for XLSX); this module
decides only what a file may be and which columns mean what.

What the rows say is checked in commitments.needs.bulk_import.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import tablib
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The limits and the reading itself are shared with the other imports.
from ksbb.spreadsheets import MAX_ROWS, FileRefused, cell_value, dataset_read


@dataclass(frozen=True)
class Column:
    key: str
    header_id: str
    header_en: str
    required: bool
    help: str

    def header(self, language: str) -> str:
        return self.header_id if language == "id" else self.header_en


COLUMNS = (
    Column(
        "area_code",
        "kode_wilayah",
        "area_code",
        True,
        gettext_lazy("Kemendagri code of the RW or kelurahan, e.g. 31.73.04.1002.001."),
    ),
    Column(
        "site",
        "kode_lembaga",
        "site",
        False,
        gettext_lazy("Number of the institution (school, orphanage...) in that area; optional."),
    ),
    Column("program", "program", "program", True, gettext_lazy("Program code, e.g. pangan.")),
    Column(
        "donation_form",
        "bentuk_donasi",
        "donation_form",
        True,
        gettext_lazy("Donation form code of that program (see the list below)."),
    ),
    Column("quantity", "jumlah", "quantity", True, gettext_lazy("A whole number above zero.")),
    Column(
        "unit",
        "satuan",
        "unit",
        False,
        gettext_lazy("The donation form's unit (checked when given)."),
    ),
    Column(
        "priority",
        "prioritas",
        "priority",
        False,
        gettext_lazy("1 high, 2 medium (when empty), 3 low; or the word."),
    ),
    Column("households", "kk", "households", False, gettext_lazy("Households to benefit.")),
    Column("persons", "jiwa", "persons", False, gettext_lazy("Persons to benefit.")),
    Column(
        "valid_until",
        "berlaku_sampai",
        "valid_until",
        True,
        gettext_lazy("Date the assessment is valid until, YYYY-MM-DD or DD/MM/YYYY; not past."),
    ),
    Column("note", "catatan", "note", False, gettext_lazy("Free text, at most 5,000 characters.")),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
HEADER_LANGUAGES = ("id", "en")


@dataclass
class Table:
    format: str  # "csv" or "xlsx"
    language: str  # of the header row: "id" or "en"
    # (row number as a spreadsheet shows it, the header being row 1; {column key: value}),
    # blank rows left out.
    rows: list[tuple[int, dict[str, object]]]


def table_read(*, data: bytes, name: str) -> Table:
    """Read an uploaded needs file; raise FileRefused with a clear message otherwise."""
    dataset, file_format = dataset_read(data=data, name=name)
    return _table(dataset, file_format, name)


def _header_keys(headers: list, name: str) -> tuple[list[str | None], str]:
    """The column key of each header cell, and the language the headers are written in."""
    by_header = {}
    for column in COLUMNS:
        by_header[column.header_en] = (column.key, "en")
        # A header both languages share ("program") says nothing about the language.
        shared = column.header_id == column.header_en
        by_header[column.header_id] = (column.key, None if shared else "id")
    keys, votes, unknown = [], {"id": 0, "en": 0}, []
    for cell in headers:
        text = str(cell if cell is not None else "").strip().lower().replace(" ", "_")
        if not text:
            keys.append(None)
            continue
        key, language = by_header.get(text, (None, None))
        if key is None:
            unknown.append(str(cell)[:40])
        elif language:
            votes[language] += 1
        keys.append(key)
    language = "en" if votes["en"] > votes["id"] else "id"
    if unknown:
        raise FileRefused(
            _("%(name)s has columns this import does not know: %(columns)s. Use the template.")
            % {"name": name, "columns": ", ".join(unknown)}
        )
    if len({key for key in keys if key}) != len([key for key in keys if key]):
        raise FileRefused(_("%(name)s has a column twice.") % {"name": name})
    missing = [c.header(language) for c in COLUMNS if c.required and c.key not in keys]
    if missing:
        raise FileRefused(
            _(
                "%(name)s has no column %(columns)s. The first row must hold the template's "
                "column names (and, in an XLSX file, the needs must be on the first sheet)."
            )
            % {"name": name, "columns": ", ".join(missing)}
        )
    return keys, language


def _table(dataset: tablib.Dataset, file_format: str, name: str) -> Table:
    if not dataset.headers:
        raise FileRefused(_("%(name)s is empty.") % {"name": name})
    keys, language = _header_keys(list(dataset.headers), name)
    rows = []
    for index, values in enumerate(dataset, start=2):
        row = {key: cell_value(value) for key, value in zip(keys, values, strict=False) if key}
        if any("\x00" in value for value in row.values() if isinstance(value, str)):
            raise FileRefused(
                _("%(name)s holds a NUL byte in row %(row)s.") % {"name": name, "row": index}
            )
        if any(value != "" for value in row.values()):
            rows.append((index, row))
            if len(rows) > MAX_ROWS:
                raise FileRefused(
                    _("%(name)s has more than %(limit)s rows: split it into smaller files.")
                    % {"name": name, "limit": f"{MAX_ROWS:,}"}
                )
    if not rows:
        raise FileRefused(_("%(name)s has a header row but no needs.") % {"name": name})
    return Table(format=file_format, language=language, rows=rows)


# --- the template ------------------------------------------------------------------------


def template_file(
    *, file_format: str, language: str, example: dict[str, object], donation_forms
) -> bytes:
    """The needs template in `language` ("id" or "en"): the header row and one example row;
    an XLSX adds a sheet of instructions and of the donation forms' codes and units."""
    with translation.override(language):
        needs = tablib.Dataset(title=_("Needs"))
        needs.headers = [column.header(language) for column in COLUMNS]
        needs.append([_template_value(example.get(c.key, ""), file_format) for c in COLUMNS])
        if file_format == "csv":
            return needs.export("csv").encode("utf-8-sig")
        instructions = tablib.Dataset(title=_("Instructions"))
        instructions.headers = [_("column"), _("required"), _("what to write")]
        for column in COLUMNS:
            instructions.append(
                [
                    column.header(language),
                    _("yes") if column.required else _("no"),
                    str(column.help),
                ]
            )
        instructions.append(["", "", ""])
        instructions.append([_("program"), _("donation form"), _("unit")])
        for form in donation_forms:
            instructions.append(
                [form.program.slug, form.slug, f"{form.get_unit_display()}: {form.name}"]
            )
        book = tablib.Databook([needs, instructions])
        return book.export("xlsx")


def _template_value(value, file_format: str):
    if isinstance(value, datetime.date) and file_format == "csv":
        return value.isoformat()
    return value
