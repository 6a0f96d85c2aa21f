"""Bulk import of needs: real CSV and XLSX files built with tablib, uploaded through the
pages; the preview lists every problem with its row and column and nothing is applied
until a clean file is confirmed, then all rows are applied at once or none."""

from __future__ import annotations

import datetime
import io
import time
import zipfile

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from commitments.models import NeedImport
from commitments.needs.bulk_import import need_import_apply, need_import_check
from commitments.needs.import_files import COLUMNS
from locations.models import Area, Need, NeedChange, Site
from programs.models import DonationForm

from .factories import NeedFactory, UserFactory, facilitator_of, lead_of

pytestmark = pytest.mark.django_db

KALI_ANYAR = "31.73.04.1002"
UPLOAD = reverse("need-import")
FUTURE = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def facilitator(client):
    user = facilitator_of(KALI_ANYAR, title="Lurah Kali Anyar")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def rws(parent: str = KALI_ANYAR) -> list[str]:
    return list(
        Area.objects.filter(level="rw", parent__code=parent, is_residential=True)
        .order_by("code")
        .values_list("code", flat=True)
    )


def row(area: str, form: str = "groceries", quantity=10, **cells) -> dict:
    return {
        "area_code": area,
        "program": cells.pop("program", "pangan"),
        "donation_form": form,
        "quantity": quantity,
        "valid_until": cells.pop("valid_until", FUTURE),
        **cells,
    }


def table(rows: list[dict], language: str = "id") -> tablib.Dataset:
    data = tablib.Dataset()
    data.headers = [column.header(language) for column in COLUMNS]
    for cells in rows:
        data.append([cells.get(column.key, "") for column in COLUMNS])
    return data


def csv_file(rows, language="id", name="kebutuhan.csv", delimiter=",") -> SimpleUploadedFile:
    text = table(rows, language).export("csv", delimiter=delimiter)
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(rows, language="en", name="needs.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, table(rows, language).export("xlsx"))


def upload(client, file):
    return client.post(UPLOAD, {"file": file}, follow=True)


def the_import() -> NeedImport:
    return NeedImport.objects.get()


def apply(client, job: NeedImport):
    return client.post(reverse("need-import-apply", args=[job.pk]), follow=True)


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


def problem_cells(response) -> set[tuple[str, str, str]]:
    """(row, column, message) of every problem listed on the page."""
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.inside, self.cell = [], False, None

        def handle_starttag(self, tag, attrs):
            if tag == "table" and "import-problems" in (dict(attrs).get("class") or ""):
                self.inside = True
            elif self.inside and tag == "tr":
                self.rows.append([])
            elif self.inside and tag == "td":
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "table":
                self.inside = False
            elif tag == "td" and self.cell is not None:
                self.rows[-1].append(" ".join(self.cell.split()))
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Cells()
    parser.feed(response.content.decode())
    return {tuple(cells) for cells in parser.rows if cells}


# --- every listed problem, in a CSV and in an XLSX ---------------------------------------


@pytest.mark.parametrize("make_file, language", [(csv_file, "id"), (xlsx_file, "en")])
def test_the_preview_lists_every_rows_problem_and_applies_nothing(
    client, facilitator, make_file, language
):
    mine = rws()
    other_kelurahan_rw = Area.objects.filter(level="rw").exclude(path__contains=KALI_ANYAR)[0]
    kecamatan = Area.objects.get(code="31.73.04")
    zone = Area.objects.get(code=mine[-1])
    zone.is_residential = False  # a cemetery or an industrial estate
    zone.save()
    NeedFactory(area=Area.objects.get(code=mine[1]))  # an open need for groceries there
    school = Site.objects.create(
        area=Area.objects.get(code=mine[0]), kind="school", name="SDN Uji", lon=106.79, lat=-6.15
    )
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    too_far = (timezone.localdate() + datetime.timedelta(days=3 * 365)).isoformat()
    rows = [
        row(mine[0], quantity=25, unit="paket", priority="tinggi", households=10, persons=40),
        row("31.99.99.9999.999"),  # 3: unknown area
        row(mine[0], form="no-such-form"),  # 4: unknown donation form
        row(mine[0], form="sim-card"),  # 5: a donation form of pendidikan
        row(mine[2], form="instant-food", unit="rupiah"),  # 6: wrong unit
        row(mine[2], form="eid-food", quantity=-5),  # 7: negative
        row(mine[3], quantity=0),  # 8: zero
        row(mine[3], form="eid-food", quantity="banyak"),  # 9: not a number
        row(mine[3], form="instant-food", quantity=3_000_000_000),  # 10: too large
        row(mine[0], quantity=5),  # 11: same area and form as row 2
        row(mine[1]),  # 12: an open need is already there
        row(mine[4], valid_until=yesterday),  # 13: in the past
        row(mine[4], form="eid-food", valid_until="31/02/2026"),  # 14: unreadable date
        row(other_kelurahan_rw.code),  # 15: outside the facilitator's areas
        row(kecamatan.code),  # 16: not an RW or kelurahan
        row(zone.code),  # 17: nobody lives there
        row(mine[4], form="instant-food", site=999_999),  # 18: unknown institution
        row(mine[4], form="instant-food", site=school.pk),  # 19: an institution elsewhere
        row(mine[5], priority="urgent"),  # 20: not a priority
        row(mine[5], form="eid-food", valid_until=too_far),  # 21: valid for too long
    ]
    before = (Need.objects.count(), NeedChange.objects.count())

    response = upload(client, make_file(rows, language))

    assert response.status_code == 200
    job = the_import()
    assert (job.status, job.rows_total, job.header_language) == ("checked", 20, language)
    header = {column.key: column.header(language) for column in COLUMNS}
    problems = problem_cells(response)
    expected = [
        ("3", "area_code", "No area has the code 31.99.99.9999.999."),
        ("4", "donation_form", "No donation form has the code no-such-form."),
        ("5", "donation_form", "Donation form sim-card belongs to another program (pendidikan)."),
        ("6", "unit", "rupiah is not the unit of this donation form: it is counted in package."),
        ("7", "quantity", "-5: the quantity must be above zero."),
        ("8", "quantity", "0: the quantity must be above zero."),
        ("9", "quantity", "banyak is not a whole number."),
        ("10", "quantity", "3000000000 is too large."),
        ("11", "donation_form", "The same area, institution and donation form as row 2."),
        ("13", "valid_until", f"{yesterday} is in the past."),
        ("14", "valid_until", "31/02/2026 is not a date: use YYYY-MM-DD or DD/MM/YYYY."),
        (
            "15",
            "area_code",
            f"You do not keep the needs of {other_kelurahan_rw.code} for this program.",
        ),
        (
            "16",
            "area_code",
            "31.73.04 is a kecamatan: needs are assessed for an RW or a kelurahan.",
        ),
        (
            "17",
            "area_code",
            f"{zone.code} has no residents: record the need at an institution there.",
        ),
        ("18", "site", "No institution has the number 999999."),
        ("19", "site", f"Institution {school.pk} is not in this area."),
        ("20", "priority", "urgent is not a priority: use 1, 2 or 3 (high, medium, low)."),
        (
            "21",
            "valid_until",
            f"{too_far} is more than two years ahead: a need is assessed for two years at most.",
        ),
    ]
    for number, key, message in expected:
        assert (number, header[key], message) in problems
    open_need = Need.objects.get(area__code=mine[1])
    assert (
        "12",
        header["donation_form"],
        "An open need for this area, institution and donation form is already there "
        f"(need #{open_need.pk}): edit that need instead.",
    ) in problems
    assert len(problems) == job.problem_count == 19
    assert "19 problems to fix" in text_of(response)
    assert "Add these needs" not in text_of(response)

    refused = apply(client, job)

    assert "This file has problems" in text_of(refused)
    assert the_import().status == "checked"
    assert (Need.objects.count(), NeedChange.objects.count()) == before


def test_problems_read_in_indonesian_with_the_files_own_column_names(client, facilitator):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "id"
    response = upload(client, csv_file([row("31.99.99.9999.999", quantity="x")], language="id"))

    problems = problem_cells(response)
    assert ("2", "kode_wilayah", "Tidak ada wilayah dengan kode 31.99.99.9999.999.") in problems
    assert ("2", "jumlah", "x bukan bilangan bulat.") in problems


# --- applying -----------------------------------------------------------------------------


def test_a_clean_file_is_applied_fully_with_history(client, facilitator):
    mine = rws()
    rows = [
        row(mine[0], quantity=120, priority=1, households=30, persons=120, note="Lansia"),
        row(mine[0], form="instant-food", quantity=40, unit="package"),
        row(mine[1], form="eid-allowance-thr", quantity=5_000_000, unit="IDR"),
        row(KALI_ANYAR, quantity=7, priority="low"),  # the kelurahan itself
    ]
    response = upload(client, csv_file(rows, delimiter=";"))  # as Excel saves it in Indonesia
    assert "4 needs will be added" in text_of(response)
    job = the_import()
    assert (job.status, job.problem_count) == ("checked", 0)

    response = apply(client, job)

    assert "4 needs were added; they are on the map now." in text_of(response)
    job.refresh_from_db()
    assert (job.status, job.created_count, job.rows_done) == ("applied", 4, 4)
    needs = Need.objects.filter(area__code__in=[*mine, KALI_ANYAR]).order_by("pk")
    assert [(n.area.code, n.donation_form.slug, n.quantity_needed) for n in needs] == [
        (mine[0], "groceries", 120),
        (mine[0], "instant-food", 40),
        (mine[1], "eid-allowance-thr", 5_000_000),
        (KALI_ANYAR, "groceries", 7),
    ]
    first = needs[0]
    assert (first.priority, first.households, first.persons, first.description) == (
        1,
        30,
        120,
        "Lansia",
    )
    assert (first.assessed_by, first.assessed_by_role) == (facilitator, "Lurah Kali Anyar")
    assert needs[3].priority == Need.Priority.LOW
    history = NeedChange.objects.filter(need__in=needs)
    assert [(c.action, c.actor) for c in history] == [("imported", facilitator)] * 4
    area_page = client.get(reverse("area-detail", args=[mine[1]]))
    assert "5.000.000" in text_of(area_page) or "5,000,000" in text_of(area_page)

    # Confirming again (a double click, a replayed task) creates nothing twice.
    apply(client, job)
    need_import_apply(import_id=job.pk)
    need_import_check(import_id=job.pk)
    assert Need.objects.filter(area__code__in=[*mine, KALI_ANYAR]).count() == 4
    assert the_import().status == "applied"


def test_a_row_invalid_since_the_preview_fails_the_whole_apply(client, facilitator):
    mine = rws()
    rows = [row(mine[0]), row(mine[1]), row(mine[2])]
    upload(client, xlsx_file(rows))
    job = the_import()
    assert job.status == "checked" and job.problem_count == 0
    # Meanwhile someone adds the third row's need by hand.
    NeedFactory(area=Area.objects.get(code=mine[2]))
    before = (Need.objects.count(), NeedChange.objects.count())

    response = apply(client, job)

    page = text_of(response)
    assert "Nothing was imported." in page
    assert "Some rows are no longer valid" in page
    assert ("4", "donation_form") in {cells[:2] for cells in problem_cells(response)}
    assert the_import().status == "failed"
    assert (Need.objects.count(), NeedChange.objects.count()) == before


@pytest.fixture
def refuse_quantity_777():
    """A database that refuses one row: the failure comes after earlier rows were written."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_777() RETURNS trigger AS $$ BEGIN "
                "IF NEW.quantity_needed = 777 THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_777 BEFORE INSERT ON locations_need "
                "FOR EACH ROW EXECUTE FUNCTION refuse_777()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_777 BEFORE INSERT ON locations_need "
                "WHEN NEW.quantity_needed = 777 BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
    yield
    # The test's transaction is rolled back, the trigger with it.


def test_a_failure_mid_apply_rolls_back_the_rows_already_written(
    client, facilitator, refuse_quantity_777
):
    mine = rws()
    rows = [row(mine[0]), row(mine[1]), row(mine[2], quantity=777), row(mine[3])]
    upload(client, csv_file(rows))
    job = the_import()
    before = (Need.objects.count(), NeedChange.objects.count())

    response = apply(client, job)

    page = text_of(response)
    assert "Nothing was imported." in page
    assert "Rows 2 to 5 could not be written." in page
    assert the_import().status == "failed"
    assert (Need.objects.count(), NeedChange.objects.count()) == before


# --- scope --------------------------------------------------------------------------------


def test_a_facilitator_imports_only_into_their_own_kelurahan(client, facilitator):
    other = Area.objects.get(code="31.73.04.1001")
    elsewhere = rws("31.73.04.1001")[0]
    upload(client, csv_file([row(rws()[0]), row(other.code), row(elsewhere)]))

    job = the_import()
    assert [(p["row"], p["code"]) for p in job.problems] == [
        (3, "out_of_scope"),
        (4, "out_of_scope"),
    ]
    assert not job.may_apply


def test_a_lead_imports_only_for_their_programs_but_anywhere(client):
    lead = lead_of("pangan")
    client.force_login(lead)
    anywhere = rws("31.73.04.1001")[0]
    response = upload(
        client,
        xlsx_file(
            [row(anywhere), row(anywhere, program="pendidikan", form="sim-card", unit="unit")]
        ),
    )

    job = the_import()
    assert [(p["row"], p["code"]) for p in job.problems] == [(3, "out_of_scope")]
    assert response.status_code == 200


def test_nobody_else_sees_an_import(client, facilitator):
    upload(client, csv_file([row(rws()[0])]))
    job = the_import()
    urls = [
        reverse("need-import-detail", args=[job.pk]),
        reverse("need-import-status", args=[job.pk]),
    ]
    other_facilitator = facilitator_of(KALI_ANYAR)
    client.force_login(other_facilitator)
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(reverse("need-import-apply", args=[job.pk])).status_code == 404
    assert the_import().status == "checked"

    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(urls[0]).status_code == 200
    # An administrator sees it, but applying it is the uploader's decision.
    assert "Only the person who uploaded" in text_of(
        client.post(reverse("need-import-apply", args=[job.pk]), follow=True)
    )
    assert the_import().status == "checked"


def test_collaborators_and_visitors_cannot_import(client):
    client.force_login(UserFactory())
    assert client.get(UPLOAD).status_code == 403
    assert client.post(UPLOAD, {"file": csv_file([row(rws()[0])])}).status_code == 403
    assert client.get(reverse("need-import-template")).status_code == 403
    client.logout()
    assert client.get(UPLOAD).status_code == 302
    assert not NeedImport.objects.exists()


# --- large files ----------------------------------------------------------------------------


def test_ten_thousand_rows_go_through_the_job_with_progress(client):
    lead = lead_of("pangan")
    client.force_login(lead)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    codes = list(
        Area.objects.filter(level="rw", is_residential=True).values_list("code", flat=True)
    )
    forms = ["groceries", "instant-food", "eid-food", "eid-allowance-thr"]
    units = {"groceries": "package", "instant-food": "paket", "eid-food": ""}
    rows = [
        row(code, form=form, quantity=1 + i % 50, unit=units.get(form, ""))
        for i, (code, form) in enumerate((c, f) for f in forms for c in codes)
    ][:10_000]
    started = time.monotonic()

    response = upload(client, csv_file(rows))

    checked = time.monotonic()
    job = the_import()
    assert (job.status, job.rows_total, job.rows_done, job.problem_count) == (
        "checked",
        10_000,
        10_000,
        0,
    )
    assert "10000 needs will be added" in text_of(response)
    status = client.get(reverse("need-import-status", args=[job.pk])).json()
    assert status == {
        "status": "checked",
        "status_label": "checked",
        "rows_total": 10_000,
        "rows_done": 10_000,
        "busy": False,
    }

    apply(client, job)

    job.refresh_from_db()
    assert (job.status, job.created_count, job.rows_done) == ("applied", 10_000, 10_000)
    assert Need.objects.filter(assessed_by=lead).count() == 10_000
    assert NeedChange.objects.filter(actor=lead, action="imported").count() == 10_000
    print(  # noqa: T201
        f"10,000 rows: checked in {checked - started:.1f} s, "
        f"applied in {time.monotonic() - checked:.1f} s"
    )


# --- files that are refused -----------------------------------------------------------------


def _zip_bomb() -> bytes:
    """A real XLSX with one more entry that unpacks to 200 MB from a few hundred KB."""
    workbook = io.BytesIO(table([row("31.73.04.1002.001")]).export("xlsx"))
    with zipfile.ZipFile(workbook, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (200 * 2**20))
    return workbook.getvalue()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00junk", "holds NUL bytes"),
        ("empty.csv", b"", "The submitted file is empty."),
        ("blank.csv", b"  \n\n", "blank.csv is empty."),
        ("latin1.csv", "kode_wilayah,catatan\n1,Bu Sri Sumarni é\n".encode("cp1252"), "UTF-8"),
        ("utf16.csv", "kode_wilayah\n1\n".encode("utf-16"), "holds NUL bytes"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x01" * 100, "old Excel (.xls)"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x01" * 100, "damaged XLSX"),
        ("bomb.xlsx", None, "would unpack to more than 40 MB"),
        ("header.csv", b"kode_wilayah,jumlah\n", "has no column program, bentuk_donasi"),
        ("unknown.csv", b"area_code,program,colour\n", "columns this import does not know"),
        ("onlyheader.csv", ",".join(c.header_id for c in COLUMNS).encode() + b"\n", "no needs"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message(client, facilitator, name, content, message):
    content = _zip_bomb() if content is None else content
    response = client.post(UPLOAD, {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 400
    assert message in text_of(response)
    assert not NeedImport.objects.exists()


def test_a_file_over_the_upload_limit_or_row_limit_is_refused(client, facilitator, settings):
    many = csv_file([row("31.73.04.1002.001", quantity=i + 1) for i in range(20_001)])
    response = client.post(UPLOAD, {"file": many})
    assert response.status_code == 400
    assert "has more than 20,000 rows" in text_of(response)

    settings.UPLOAD_MAX_BYTES = 1000
    big = csv_file([row("31.73.04.1002.001", note="x" * 2000)])
    response = client.post(UPLOAD, {"file": big})
    assert response.status_code == 400
    assert "is too large; the limit is" in text_of(response)
    assert not NeedImport.objects.exists()


# --- the template ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_the_template_downloads_in_both_languages_and_uploads_cleanly(
    client, facilitator, language, file_format
):
    response = client.get(
        reverse("need-import-template"), {"lang": language, "format": file_format}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'.{file_format}"')
    if file_format == "xlsx":
        book = tablib.Databook().load(response.content, "xlsx")
        needs, instructions = book.sheets()
        assert instructions.title == {"id": "Petunjuk", "en": "Instructions"}[language]
        assert ("pangan", "groceries") in {tuple(r[:2]) for r in instructions}
    else:
        needs = tablib.Dataset().load(response.content.decode("utf-8-sig"), "csv")
    assert needs.headers == [column.header(language) for column in COLUMNS]
    assert needs.headers[0] == {"id": "kode_wilayah", "en": "area_code"}[language]
    assert len(needs) == 1  # the example row

    preview = upload(client, SimpleUploadedFile(f"templat.{file_format}", response.content))

    job = the_import()
    assert (job.status, job.problem_count, job.header_language) == ("checked", 0, language)
    assert "1 need will be added" in text_of(preview)


def test_the_workspace_links_to_the_import_for_those_who_keep_needs(client, facilitator):
    assert UPLOAD in client.get(reverse("workspace")).content.decode()
    client.force_login(UserFactory())
    assert UPLOAD not in client.get(reverse("workspace")).content.decode()


def test_donation_forms_exist_as_the_tests_name_them():
    slugs = set(DonationForm.objects.filter(program__slug="pangan").values_list("slug", flat=True))
    assert {"groceries", "instant-food", "eid-food", "eid-allowance-thr"} <= slugs
    assert DonationForm.objects.filter(program__slug="pendidikan", slug="sim-card").exists()
