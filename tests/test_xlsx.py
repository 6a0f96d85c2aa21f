"""The exports' XLSX writer (commitments.reporting.xlsx), read back by openpyxl: every kind of
value it is given comes back as it was (text that XML cannot hold cleaned), the header bold
and frozen, sheets in order."""

import io
import zipfile
from decimal import Decimal

import openpyxl

from commitments.reporting.xlsx import CHUNK_ROWS, write_xlsx


def written(sheets) -> openpyxl.Workbook:
    out = io.BytesIO()
    write_xlsx(out, sheets)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def test_values_come_back_as_they_were():
    headers = ["number", "big", "decimal", "float", "text", "empty", "none", "formula"]
    rows = [
        [1, 10**18, Decimal("12.50"), 0.25, "Beras & minyak <5 kg>", "", None, "=SUM(A1:A9)"],
        [-7, 0, Decimal(0), 1.5, "  spaced  ", "1500000", "Kelurahan Ciliwung – ñ", "'x"],
    ]
    sheet = written([("Data", headers, iter(rows))])["Data"]
    values = list(sheet.values)
    assert values[0] == tuple(headers)
    assert values[1] == (1, 10**18, 12.5, 0.25, "Beras & minyak <5 kg>", None, None, "=SUM(A1:A9)")
    assert values[2] == (-7, 0, 0, 1.5, "  spaced  ", "1500000", "Kelurahan Ciliwung – ñ", "'x")
    # Text is text: neither a formula nor a number, whatever it looks like.
    assert sheet["H2"].data_type == "s" and sheet["F3"].data_type == "s"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1]) and not sheet["A2"].font.bold


def test_characters_xml_cannot_hold_are_left_out_and_the_rest_escaped():
    rows = [["a\x00b\x0bc\x1f&d", "\ufffe<e>\uffff"], ["x & y", "ok"]]
    sheet = written([("S", ["one", "two"], rows)])["S"]
    assert list(sheet.values)[1:] == [("abc&d", "<e>"), ("x & y", "ok")]


def test_many_rows_and_columns_and_sheets_in_order():
    wide = [f"c{i}" for i in range(60)]  # beyond Z, AZ
    rows = ([n, *range(59)] for n in range(CHUNK_ROWS * 2 + 3))
    long_title = "A title longer than Excel allows for a sheet"
    book = written([("Wide", wide, rows), (long_title, ["x"], []), ("Third", ["y"], [[1]])])
    assert book.sheetnames == ["Wide", long_title[:31], "Third"]
    sheet = book["Wide"]
    assert sheet.max_row == CHUNK_ROWS * 2 + 4 and sheet.max_column == 60
    assert sheet.cell(row=CHUNK_ROWS * 2 + 4, column=1).value == CHUNK_ROWS * 2 + 2
    assert sheet.cell(row=2, column=60).value == 58
    assert list(book[long_title[:31]].values) == [("x",)]


def test_the_package_leads_with_its_content_types():
    out = io.BytesIO()
    write_xlsx(out, [("S", ["h"], [["v"]])])
    names = zipfile.ZipFile(io.BytesIO(out.getvalue())).namelist()
    assert names[0] == "[Content_Types].xml" and "xl/worksheets/sheet1.xml" in names
