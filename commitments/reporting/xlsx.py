"""A streaming XLSX writer for the exports: sheets of plain values (text, whole and decimal
numbers), the first row of each in bold and frozen. Nothing else of SpreadsheetML.

Written here because the libraries were too slow for an export's budget (a whole program at a
million commitments, about 340,000 rows, in 15 s of work; bench/pages.py): openpyxl's
write-only mode wrote about 4,600 rows a second, XlsxWriter 8,400 and pyexcelerate 14,000
(which also holds every row in memory); this writes a row as one string, over 100,000 a
second. The files are read back by openpyxl in the tests (tests/test_exports.py).

Text is written inline (never a formula, whatever it starts with), without the characters XML
1.0 cannot hold."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from xml.sax.saxutils import quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CHUNK_ROWS = 1000

# Escaped as XML text; the control characters XML 1.0 cannot hold (and U+FFFE, U+FFFF) left
# out, as a name pasted from elsewhere may carry them.
_TEXT = str.maketrans(
    {
        **dict.fromkeys((*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF)),
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)

STYLES = f"""{HEAD}<styleSheet xmlns="{MAIN}">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill>
<fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

SHEET_START = f"""{HEAD}<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">\
<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews><sheetData>"""
SHEET_END = "</sheetData></worksheet>"


_NEEDS_CARE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT_CELL = '<c t="inlineStr"><is><t xml:space="preserve">'


def _text(value: str) -> str:
    return value.translate(_TEXT)


def _row(row: Sequence, *, careful: bool = False) -> str:
    """One row: a cell per value, in order (an empty one for None and empty text), so no
    cell needs its reference written. Text is escaped only in the rare row that needs it
    (`careful`, after one search over the row's text), which keeps a row at a few
    microseconds."""
    cells = []
    texts = []
    for value in row:
        kind = value.__class__
        if kind is int or kind is Decimal or kind is float:
            cells.append(f"<c><v>{value}</v></c>")
        elif value is None or value == "":
            cells.append("<c/>")
        else:
            text = value if kind is str else str(value)
            if careful:
                text = _text(text)
            else:
                texts.append(text)
            cells.append(f"{_TEXT_CELL}{text}</t></is></c>")
    if texts and _NEEDS_CARE.search("".join(texts)):
        return _row(row, careful=True)
    return f"<row>{''.join(cells)}</row>"


def _sheet_rows(headers: Sequence[str], rows: Iterable[Sequence]) -> Iterable[str]:
    """The sheet's rows as XML, a chunk of rows at a time; the header's cells in bold."""
    bold = "".join(f'<c s="1" t="inlineStr"><is><t>{_text(h)}</t></is></c>' for h in headers)
    chunk = [f"<row>{bold}</row>"]
    for row in rows:
        chunk.append(_row(row))
        if len(chunk) == CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)


def write_xlsx(out, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> None:
    """Write a workbook to the binary file `out`: one sheet per (title, headers, rows), rows
    read one at a time. Titles are cut to 31 characters, as Excel requires. The package's
    own parts come first ([Content_Types].xml leads, where file-type sniffers look)."""
    titles = [title[:31] for title, _headers, _rows in sheets]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, text in _package_parts(titles).items():
            book.writestr(name, text)
        for number, (_title, headers, rows) in enumerate(sheets, start=1):
            with book.open(f"xl/worksheets/sheet{number}.xml", "w") as sheet:
                sheet.write(SHEET_START.encode())
                for xml in _sheet_rows(headers, rows):
                    sheet.write(xml.encode())
                sheet.write(SHEET_END.encode())


def _package_parts(titles: list[str]) -> dict[str, str]:
    """The workbook, its relationships, styles and content types, for sheets 1..n."""
    numbers = range(1, len(titles) + 1)
    worksheet = f"{TYPES}.worksheet+xml"
    sheets = "".join(
        f'<sheet name={quoteattr(title)} sheetId="{n}" r:id="rId{n}"/>'
        for n, title in zip(numbers, titles, strict=True)
    )
    links = "".join(
        f'<Relationship Id="rId{n}" Type="{DOCUMENT}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in numbers
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{worksheet}"/>'
        for n in numbers
    )
    return {
        "[Content_Types].xml": f"""{HEAD}<Types \
xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="{TYPES}.styles+xml"/>{overrides}</Types>""",
        "_rels/.rels": f"""{HEAD}<Relationships xmlns="{RELATIONSHIPS}">\
<Relationship Id="rId1" Type="{DOCUMENT}/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>""",
        "xl/workbook.xml": f"""{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{DOCUMENT}">\
<sheets>{sheets}</sheets></workbook>""",
        "xl/_rels/workbook.xml.rels": f"""{HEAD}<Relationships xmlns="{RELATIONSHIPS}">{links}\
<Relationship Id="rIdStyles" Type="{DOCUMENT}/styles" Target="styles.xml"/></Relationships>""",
        "xl/styles.xml": STYLES,
    }
