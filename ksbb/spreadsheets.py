"""Reading an uploaded CSV or XLSX file into a table, refusing what is not one.

Shared by every import (needs, area indicators): the limits on size, rows, unpacked size
and NUL bytes are decided here once. Parsing is tablib's (openpyxl for XLSX); what the
columns mean is each import's business.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import tablib
from django.conf import settings
from django.utils.translation import gettext as _

MAX_ROWS = 20_000
# An XLSX is a zip archive: its entries may unpack to far more than the upload limit.
# The declared sizes are read before anything is unpacked (zipfile never inflates an entry
# beyond its declared size), so a small file that would unpack to gigabytes is refused.
XLSX_MAX_UNPACKED_BYTES = 40 * 1024 * 1024
XLSX_MAX_ENTRIES = 500


class FileRefused(Exception):
    """A file that cannot be read as a table; the message says why, for the uploader."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


def check_size(data: bytes, name: str) -> None:
    """Refuse a file over the upload limit, or an empty one."""
    limit = settings.UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise FileRefused(
            _("%(name)s is too large; the limit is %(limit)s MB.")
            % {"name": name, "limit": limit // 10**6}
        )
    if not data.strip():
        raise FileRefused(_("%(name)s is empty.") % {"name": name})


def dataset_read(*, data: bytes, name: str) -> tuple[tablib.Dataset, str]:
    """The first sheet of an XLSX file or a CSV file, and its format ("xlsx" or "csv")."""
    check_size(data, name)
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, name), "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            _("%(name)s is an old Excel (.xls) file: save it as .xlsx or as CSV UTF-8.")
            % {"name": name}
        )
    return _read_csv(data, name), "csv"


def _read_xlsx(data: bytes, name: str) -> tablib.Dataset:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileRefused(_("%(name)s is a damaged XLSX file.") % {"name": name}) from exc
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("%(name)s is a zip archive but not an XLSX workbook.") % {"name": name})
    if (
        len(entries) > XLSX_MAX_ENTRIES
        or sum(entry.file_size for entry in entries) > XLSX_MAX_UNPACKED_BYTES
    ):
        raise FileRefused(
            _("%(name)s would unpack to more than %(limit)s MB: split it into smaller files.")
            % {"name": name, "limit": XLSX_MAX_UNPACKED_BYTES // 2**20}
        )
    try:
        return tablib.Dataset().load(io.BytesIO(data), format="xlsx")
    except tablib.InvalidDimensions as exc:
        raise FileRefused(_too_wide(name)) from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        raise FileRefused(_("%(name)s is a damaged XLSX file.") % {"name": name}) from exc


def refuse_nul(data: bytes, name: str) -> None:
    if b"\x00" in data:
        raise FileRefused(
            _(
                "%(name)s holds NUL bytes, so it is not a CSV text file (UTF-16 text and "
                "binary files are not accepted): save it as CSV UTF-8 or as XLSX."
            )
            % {"name": name}
        )


def text_decode(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark allowed), or FileRefused naming the first bad line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            _(
                "%(name)s is neither an XLSX file nor UTF-8 text (line %(line)s cannot be "
                "read): save it as CSV UTF-8 or as XLSX."
            )
            % {"name": name, "line": data[: exc.start].count(b"\n") + 1}
        ) from exc


def _read_csv(data: bytes, name: str) -> tablib.Dataset:
    refuse_nul(data, name)
    text = text_decode(data, name)
    header_line = text.split("\n", 1)[0]
    # Excel in an Indonesian locale separates CSV fields with semicolons.
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        return tablib.Dataset().load(text, format="csv", delimiter=delimiter)
    except tablib.InvalidDimensions as exc:
        raise FileRefused(_too_wide(name)) from exc
    except Exception as exc:  # noqa: BLE001 - csv.Error and the like: not a table
        raise FileRefused(_("%(name)s cannot be read as CSV.") % {"name": name}) from exc


def _too_wide(name: str) -> str:
    return _("%(name)s has a row with more cells than its header row has columns.") % {"name": name}


def cell_value(value) -> object:
    """A cell as an import reads it: strings stripped, empty cells "", XLSX numbers and dates
    as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return value


def data_rows(rows, name: str) -> Iterator[tuple[int, list]]:
    """(row number as a spreadsheet shows it, the header being row 1; the cells) of every
    row that is not blank. Refuses a NUL byte in a cell and more than MAX_ROWS rows."""
    kept = 0
    for index, values in enumerate(rows, start=2):
        cells = [cell_value(value) for value in values]
        if any("\x00" in value for value in cells if isinstance(value, str)):
            raise FileRefused(
                _("%(name)s holds a NUL byte in row %(row)s.") % {"name": name, "row": index}
            )
        if all(value == "" for value in cells):
            continue
        kept += 1
        if kept > MAX_ROWS:
            raise FileRefused(
                _("%(name)s has more than %(limit)s rows: split it into smaller files.")
                % {"name": name, "limit": f"{MAX_ROWS:,}"}
            )
        yield index, cells
