"""Area indicators imported from real files (CSV, XLSX, GeoJSON): every row matched to an
area or listed with the reason it is not, values the column cannot hold refused, nothing
written from a file with problems; the program leads' upload with its preview; the shipped
Satu Data Jakarta density file; and the map layer each indicator becomes."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from locations.indicator_import import IndicatorSpec, indicator_file_check
from locations.jakarta import DENSITY_FILE, DENSITY_SOURCE, INDICATOR_FILES
from locations.models import Area, AreaIndicator, IndicatorImport
from locations.vulnerability import vulnerability_by_area

from .factories import CollaboratorFactory, UserFactory, facilitator_of, lead_of, member_of

pytestmark = pytest.mark.django_db

UPLOAD = reverse("indicator-import")
KALI_ANYAR = "31.73.04.1002"
TANAH_TINGGI = "31.71.08.1004"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def lead(client):
    user = lead_of("pangan")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def rw_of(kelurahan: str, number: int = 1) -> Area:
    return Area.objects.get(code=f"{kelurahan}.{number:03d}")


def csv_bytes(headers: list[str], rows: list[list]) -> bytes:
    data = tablib.Dataset(*rows, headers=headers)
    return data.export("csv").encode("utf-8")


def xlsx_bytes(headers: list[str], rows: list[list]) -> bytes:
    return tablib.Dataset(*rows, headers=headers).export("xlsx")


def geojson_bytes(properties: list[dict]) -> bytes:
    features = [
        {"type": "Feature", "properties": p, "geometry": {"type": "Point", "coordinates": [0, 0]}}
        for p in properties
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def form_data(file: SimpleUploadedFile, **fields) -> dict:
    return {
        "file": file,
        "indicator": "poverty-rate",
        "label": "Penduduk miskin",
        "unit": "%",
        "year": 2024,
        "source": "BPS DKI Jakarta, Susenas 2024 (test)",
        "by": "code",
        "value_column": "value",
        "code_column": "area_code",
        "kelurahan_column": "kelurahan",
        "kecamatan_column": "kecamatan",
        "bps_column": "pkey",
        **fields,
    }


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


def values_of(indicator: str) -> dict[str, str]:
    return {
        code: format(value.normalize(), "f")
        for code, value in AreaIndicator.objects.filter(indicator=indicator).values_list(
            "area__code", "value"
        )
    }


# --- the command: code-keyed CSV ------------------------------------------------------------


def test_a_code_keyed_csv_matches_any_level_reports_and_writes_only_without_dry_run(tmp_path):
    path = tmp_path / "poverty.csv"
    path.write_bytes(
        csv_bytes(
            ["area_code", "value"],
            [
                ["31.73", "3.61"],  # a kota
                [KALI_ANYAR, "7.5"],  # a kelurahan
                [f"{KALI_ANYAR}.001", "12"],  # an RW
                ["31.73.04.9999", "1"],  # no such kelurahan
                ["", "2"],
            ],
        )
    )
    args = [
        str(path),
        "--indicator=poverty-rate",
        "--value-column=value",
        "--unit=%",
        "--year=2024",
        "--source=BPS (test)",
        "--min=0",
        "--max=100",
    ]
    out = io.StringIO()
    call_command("import_indicators", *args, "--dry-run", stdout=out)
    report = out.getvalue()
    assert (
        "poverty.csv: poverty-rate by code: 5 rows, 3 matched (1 kelurahan, 1 kota, 1 rw), "
        "2 unmatched, 0 problems; 3 to create, 0 to update, 0 unchanged"
    ) in report
    assert "unmatched row 5 (area_code): No area has the code “31.73.04.9999”." in report
    assert "unmatched row 6 (area_code): No area code in this row." in report
    assert not AreaIndicator.objects.filter(indicator="poverty-rate").exists()

    call_command("import_indicators", *args, stdout=io.StringIO())
    assert values_of("poverty-rate") == {
        "31.73": "3.61",
        KALI_ANYAR: "7.5",
        f"{KALI_ANYAR}.001": "12",
    }
    stored = AreaIndicator.objects.get(indicator="poverty-rate", area__code=KALI_ANYAR)
    assert (stored.unit, stored.year, stored.period, stored.source) == (
        "%",
        2024,
        "2024",
        "BPS (test)",
    )

    out = io.StringIO()
    call_command("import_indicators", *args, stdout=out)  # again: an upsert, not a duplicate
    assert "0 created, 0 updated, 3 unchanged" in out.getvalue()
    assert AreaIndicator.objects.filter(indicator="poverty-rate").count() == 3


# --- values the column cannot hold --------------------------------------------------------------


@pytest.mark.parametrize(
    "value, message",
    [
        ("10000000000", "“10000000000” does not fit"),
        ("-1e12", "“-1e12” does not fit"),
        ("-5", "“-5” is below the smallest allowed value, 0"),
        ("101", "“101” is above the largest allowed value, 100"),
        ("1,234", "“1,234” is not a number"),
        ("12.345,6", "“12.345,6” is not a number"),
        ("NaN", "“NaN” is not a number"),
        ("Infinity", "“Infinity” is not a number"),
        ("tujuh", "“tujuh” is not a number"),
        ("", "This column cannot be empty."),
    ],
)
def test_a_value_out_of_range_or_unreadable_is_a_problem_and_nothing_is_written(
    tmp_path, value, message
):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(["area_code", "value"], [["31.73", "3"], [KALI_ANYAR, value]]))
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command(
            "import_indicators", str(path), "--indicator=poverty-rate", "--value-column=value",
            "--unit=%", "--year=2024", "--source=test", "--min=0", "--max=100", stdout=out,
        )  # fmt: skip
    assert f"problem row 3 (value): {message}" in out.getvalue()
    assert not AreaIndicator.objects.filter(indicator="poverty-rate").exists()


def test_values_keep_four_decimals_as_the_column_does(tmp_path):
    data = csv_bytes(
        ["area_code", "value"], [[KALI_ANYAR, "0.123456"], ["31.73", "9999999999.9999"]]
    )
    spec = IndicatorSpec(
        indicator="share", label="share", unit="%", source="t", value_column="value", year=2024
    )
    checked = indicator_file_check(data=data, name="x.csv", spec=spec)
    assert checked.problems == []
    assert [line["value"] for line in checked.lines] == [
        Decimal("0.1235"),
        Decimal("9999999999.9999"),
    ]


# --- the upload page: name-keyed XLSX, preview, apply ----------------------------------------


@pytest.fixture
def second_kali_anyar():
    """A kelurahan of the same name in another kecamatan: a name alone is then ambiguous."""
    kecamatan = Area.objects.get(code="31.73.05")
    return Area.objects.create(
        level="kelurahan",
        code="31.73.05.1999",
        name="Kali Anyar",
        parent=kecamatan,
        path=f"{kecamatan.path}/31.73.05.1999",
    )


NAME_HEADERS = ["kota", "kecamatan", "kelurahan", "value"]
NAME_ROWS = [
    ["KOTA ADM. JAKARTA BARAT", "TAMBORA", "KEL. KALI ANYAR", "7.5"],  # matched despite twin
    ["", "", "Kali Anyar", "8"],  # ambiguous: two kelurahan of this name
    ["", "Koja", "Rawabadak Utara", "6"],  # spacing differs from Rawa Badak Utara
    ["", "Tambora", "Tanah Tinggi", "5"],  # exists, but in Johar Baru
    ["", "Johar Baru", "Kampung Ngarang", "4"],  # no kelurahan of this name
    ["Kota Administrasi Jakarta Timur", "Johar Baru", "Tanah Tinggi", "3"],  # wrong kota
    ["Jakarta Pusat", "kecamatan johar baru", "kelurahan tanah-tinggi", "9"],  # matched
]


def test_a_name_keyed_xlsx_lists_unmatched_and_ambiguous_rows_then_applies_the_rest(
    client, lead, second_kali_anyar, django_capture_on_commit_callbacks
):
    file = SimpleUploadedFile("kemiskinan.xlsx", xlsx_bytes(NAME_HEADERS, NAME_ROWS))
    response = client.post(UPLOAD, form_data(file, by="name", kota_column="kota"))
    job = IndicatorImport.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (job.status, job.format, job.rows_total, job.matched_count) == ("checked", "xlsx", 7, 3)
    assert not AreaIndicator.objects.filter(indicator="poverty-rate").exists()  # a preview only

    page = text_of(client.get(job.get_absolute_url()))
    assert "4 rows match no area" in page
    reasons = {entry["row"]: entry["code"] for entry in job.unmatched}
    assert reasons == {3: "ambiguous", 5: "not_in_kecamatan", 6: "unknown_name", 7: "not_in_kota"}
    assert (
        "“Kali Anyar” may be any of 2 kelurahan (31.73.04.1002 Tambora, 31.73.05.1999 "
        "Kebon Jeruk): nothing is guessed" in page
    )
    assert "No kelurahan “Tanah Tinggi” in kecamatan Tambora (there is one in Johar Baru" in page
    assert "No kelurahan is named “Kampung Ngarang”." in page
    assert "No kelurahan “Tanah Tinggi” in Kota Administrasi Jakarta Timur" in page
    assert "3 new values" in page and "Save these values" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("indicator-import-apply", args=[job.pk]), follow=True)
    assert "3 values were saved" in text_of(response)
    assert values_of("poverty-rate") == {KALI_ANYAR: "7.5", "31.72.03.1004": "6", TANAH_TINGGI: "9"}
    job.refresh_from_db()
    assert (job.status, job.created_count, job.updated_count) == ("applied", 3, 0)

    # A second click applies nothing twice.
    client.post(reverse("indicator-import-apply", args=[job.pk]))
    assert AreaIndicator.objects.filter(indicator="poverty-rate").count() == 3


def test_a_file_with_a_bad_value_is_previewed_with_its_problems_and_cannot_be_applied(client, lead):
    rows = [*NAME_ROWS, ["", "Tambora", "Kali Anyar", "99999999999"]]
    file = SimpleUploadedFile("kemiskinan.xlsx", xlsx_bytes(NAME_HEADERS, rows))
    client.post(UPLOAD, form_data(file, by="name"))
    job = IndicatorImport.objects.get()
    # Without a twin Kali Anyar (nor a kota column) rows 3 and 8 now match the areas rows 2
    # and 7 gave values already; and row 9's value does not fit.
    assert job.problem_count == 3
    page = text_of(client.get(job.get_absolute_url()))
    assert "3 problems to fix" in page
    assert "“99999999999” does not fit" in page
    assert "Row 2 already gives 31.73.04.1002 a value for this indicator." in page
    assert "Row 7 already gives 31.71.08.1004 a value for this indicator." in page
    assert "Save these values" not in page

    response = client.post(reverse("indicator-import-apply", args=[job.pk]), follow=True)
    assert "not ready to be applied" in text_of(response)
    assert not AreaIndicator.objects.filter(indicator="poverty-rate").exists()
    assert IndicatorImport.objects.get().status == "checked"


# --- GeoJSON by BPS RW id ---------------------------------------------------------------------


def test_geojson_keyed_by_bps_rw_id_matches_rws_and_lists_the_rest(tmp_path):
    rw = rw_of(KALI_ANYAR)
    path = tmp_path / "banjir.geojson"
    path.write_bytes(
        geojson_bytes(
            [
                {"pkey": int(rw.bps_code), "state": 3},  # a number, as PetaJakarta writes it
                {"pkey": rw_of(KALI_ANYAR, 2).bps_code, "state": "1"},  # or text
                {"pkey": "3175060001012000", "state": 2},  # an RW the RW layer lacks
                {"pkey": "31750600", "state": 2},  # not 16 digits
            ]
        )
    )
    out = io.StringIO()
    call_command(
        "import_indicators", str(path), "--by=bps-rw", "--indicator=flood-depth",
        "--value-column=state", "--unit=state 0-4", "--year=2020", "--period=2020-01-01",
        "--source=test", stdout=out,
    )  # fmt: skip
    report = out.getvalue()
    assert "4 rows, 2 matched (2 rw), 2 unmatched, 0 problems; 2 created" in report
    assert "unmatched feature 3 (pkey): No RW has the BPS id “3175060001012000”" in report
    assert "unmatched feature 4 (pkey): “31750600” is not a 16-digit BPS RW id." in report
    assert values_of("flood-depth") == {rw.code: "3", rw_of(KALI_ANYAR, 2).code: "1"}
    assert AreaIndicator.objects.get(area=rw, indicator="flood-depth").period == "2020-01-01"


# --- files refused with the needs import's limits ---------------------------------------------


def _zip_bomb() -> bytes:
    workbook = io.BytesIO(xlsx_bytes(["area_code", "value"], [[KALI_ANYAR, 1]]))
    with zipfile.ZipFile(workbook, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (200 * 2**20))
    return workbook.getvalue()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("utf16.csv", "area_code,value\n31.73,1\n".encode("utf-16"), "holds NUL bytes"),
        ("nul.csv", b"area_code,value\n31.73,1\x00\n", "holds NUL bytes"),
        ("nul.geojson", geojson_bytes([{"pkey": "1", "state": "a\x00"}]), "holds a NUL byte"),
        ("bomb.xlsx", None, "would unpack to more than 40 MB"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x01" * 100, "old Excel (.xls)"),
        ("broken.geojson", b'{"type": "FeatureCollection", "features": [', "not valid GeoJSON"),
        ("other.csv", b"kode,nilai\n31.73,1\n", "has no column area_code, value"),
        ("header.csv", b"area_code,value\n", "has a header row but no data"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message(client, lead, name, content, message):
    content = _zip_bomb() if content is None else content
    response = client.post(UPLOAD, form_data(SimpleUploadedFile(name, content)))
    assert response.status_code == 400
    assert message in text_of(response)
    assert not IndicatorImport.objects.exists()


def test_files_over_the_size_or_row_limit_are_refused(client, lead, settings):
    rows = [[KALI_ANYAR, i] for i in range(20_001)]
    many = SimpleUploadedFile("many.csv", csv_bytes(["area_code", "value"], rows))
    response = client.post(UPLOAD, form_data(many))
    assert response.status_code == 400
    assert "has more than 20,000 rows" in text_of(response)

    settings.UPLOAD_MAX_BYTES = 1000
    big = SimpleUploadedFile("big.csv", csv_bytes(["area_code", "value"], rows[:200]))
    response = client.post(UPLOAD, form_data(big))
    assert response.status_code == 400
    assert "is too large; the limit is" in text_of(response)
    assert not IndicatorImport.objects.exists()


def test_form_fields_with_nul_bytes_or_too_long_are_refused(client, lead):
    file = SimpleUploadedFile("x.csv", csv_bytes(["area_code", "value"], [[KALI_ANYAR, 1]]))
    response = client.post(UPLOAD, form_data(file, label="a\x00b"))
    assert response.status_code == 400
    assert "a NUL byte" in text_of(response)

    file.seek(0)
    response = client.post(UPLOAD, form_data(file, unit="x" * 21, year=99999))
    assert response.status_code == 400
    page = text_of(response)
    assert "Ensure this value has at most 20 characters" in page
    assert "less than or equal to 2100" in page
    assert not IndicatorImport.objects.exists()


# --- who may import ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_and_collaborators_and_facilitators_are_refused(client):
    file = SimpleUploadedFile("x.csv", csv_bytes(["area_code", "value"], [[KALI_ANYAR, 1]]))
    response = client.get(UPLOAD)
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]
    for user in (member_of(CollaboratorFactory()), facilitator_of(KALI_ANYAR)):
        client.force_login(user)
        assert client.get(UPLOAD).status_code == 403
        assert client.post(UPLOAD, form_data(file)).status_code == 403
    assert not IndicatorImport.objects.exists()


def test_an_import_is_seen_by_its_uploader_and_administrators_only(client, lead):
    file = SimpleUploadedFile("x.csv", csv_bytes(["area_code", "value"], [[KALI_ANYAR, 1]]))
    assert client.get(UPLOAD).status_code == 200
    client.post(UPLOAD, form_data(file))
    job = IndicatorImport.objects.get()
    assert client.get(job.get_absolute_url()).status_code == 200

    client.force_login(lead_of("pendidikan"))  # another lead
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.post(reverse("indicator-import-apply", args=[job.pk])).status_code == 404
    assert "x.csv" not in text_of(client.get(UPLOAD))

    client.force_login(UserFactory(is_staff=True))
    page = text_of(client.get(job.get_absolute_url()))
    assert "x.csv" in page and "Save these values" not in page  # only the uploader applies
    client.post(reverse("indicator-import-apply", args=[job.pk]))
    assert not AreaIndicator.objects.filter(indicator="poverty-rate").exists()


# --- the shipped data -------------------------------------------------------------------------


def test_the_shipped_density_file_matches_every_kelurahan_by_name():
    """267 rows, 267 matched, 0 unmatched: every Satu Data Jakarta kelurahan name matches
    one Kemendagri kelurahan within its kecamatan and kota once case, spaces and punctuation
    are set aside; the one spelling variant needed is "KEP." for "Kepulauan" in the kota
    name "KAB. ADM. KEP. SERIBU". (Both sources list 267 kelurahan; none of their names
    repeats within a kecamatan, so nothing is ambiguous.)"""
    out = io.StringIO()
    call_command(
        "import_indicators", str(DENSITY_FILE), "--by=name", "--kota-column=wilayah",
        "--indicator=population-density", "--value-column=jumlah_kepadatan",
        "--unit=persons/km²", "--year=2024", f"--source={DENSITY_SOURCE}",
        "--label=Population density", "--min=0", "--dry-run",
        stdout=out,
    )  # fmt: skip
    assert (
        "population-density by name: 267 rows, 267 matched (267 kelurahan), 0 unmatched, "
        "0 problems; 0 to create, 0 to update, 267 unchanged"
    ) in out.getvalue()
    # As load_jakarta left them (conftest loads it for the session).
    for indicator in ("population", "population-density"):
        stored = AreaIndicator.objects.filter(indicator=indicator, period="2024")
        assert stored.count() == 267
        assert set(stored.values_list("area__level", flat=True)) == {"kelurahan"}
    assert values_of("population-density")[TANAH_TINGGI] == "71993.81"
    assert values_of("population")[TANAH_TINGGI] == "45230"
    # Kepulauan Seribu's six kelurahan, through the "KEP." variant.
    seribu = AreaIndicator.objects.filter(indicator="population", area__code__startswith="31.01.")
    assert seribu.count() == 6


def test_every_shipped_indicator_file_goes_through_the_generic_importer():
    counts = {}
    for path, spec in INDICATOR_FILES:
        checked = indicator_file_check(data=path.read_bytes(), name=path.name, spec=spec)
        assert checked.problems == []
        counts[f"{path.name} {spec.indicator}"] = (len(checked.lines), len(checked.unmatched))
    assert counts == {
        "education_status_age10plus_2018.csv education": (168, 0),
        # RW 3175060001012000 is in neither file's RW layer, nor found through the crosswalk.
        "rw_flood_2016-03-05_hazard.geojson flood-state": (427, 1),
        "rw_flood_2017-02-21.geojson flood-state": (160, 1),
        "data-kepadatan-penduduk-provinsi-dki-jakarta-2024.xlsx population": (267, 0),
        "data-kepadatan-penduduk-provinsi-dki-jakarta-2024.xlsx population-density": (267, 0),
    }


def test_vulnerability_per_rw_reads_its_kelurahan_kota_and_own_floods():
    flooded = AreaIndicator.objects.filter(indicator="flood-state", value__gte=2).first()
    by_rw = vulnerability_by_area("rw")
    assert len(by_rw) == 2698
    tanah_tinggi_rw = by_rw[f"{TANAH_TINGGI}.001"]
    assert tanah_tinggi_rw.density == Decimal("71993.81")
    assert tanah_tinggi_rw.population == Decimal("45230")
    never = AreaIndicator.objects.get(
        area__code="31.71", indicator="education-never-attended", breakdown="sex=all"
    )
    assert tanah_tinggi_rw.never_schooled_percent == never.value
    assert flooded.period in by_rw[flooded.area.code].flooded_on


# --- the map layer ----------------------------------------------------------------------------


def test_the_indicator_layer_json_has_values_legend_facts_and_an_etag(
    client, lead, django_capture_on_commit_callbacks
):
    url = reverse(
        "map-indicator-state", kwargs={"level": "kelurahan", "indicator": "population-density"}
    )
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["level"] == "kelurahan"
    assert data["title"] == "Kepadatan penduduk"
    assert data["unit"] == "jiwa/km²"
    assert "Satu Data Jakarta" in data["source"]
    assert data["periods"] == ["2024"] and data["classes"] == []
    assert len(data["areas"]) == 267
    assert data["areas"][TANAH_TINGGI] == [71993.81]
    etag = response["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_LANGUAGE="id").status_code == 304
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert json.loads(english.content)["unit"] == "persons/km²"
    assert english["ETag"] != etag and "Accept-Language" in english["Vary"]

    # Floods are drawn by class, with their labels.
    flood = client.get(
        reverse("map-indicator-state", kwargs={"level": "rw", "indicator": "flood-state"})
    )
    flood_data = json.loads(flood.content)
    assert flood_data["periods"] == ["2016-03-05", "2017-02-21"]
    assert [value for value, _label in flood_data["classes"]] == [0, 1, 2, 3, 4]

    # A new value applied through the upload shows at once, under a new ETag.
    file = SimpleUploadedFile("d.csv", csv_bytes(["area_code", "value"], [[TANAH_TINGGI, "80000"]]))
    client.post(
        UPLOAD,
        form_data(file, indicator="population-density", unit="persons/km²", label="Density"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("indicator-import-apply", args=[IndicatorImport.objects.get().pk]))
    again = client.get(url, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_LANGUAGE="id")
    assert again.status_code == 200 and again["ETag"] != etag
    assert json.loads(again.content)["areas"][TANAH_TINGGI] == [80000.0]

    for missing in ("kelurahan/indikator-no-such-thing", "kota/indikator-population"):
        assert client.get(f"/peta/data/{missing}.json").status_code == 404


def test_the_map_page_offers_each_indicator_as_a_layer(client):
    page = client.get(reverse("needs-map"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="f-layer"' in page
    assert "Population density per kelurahan, 2024" in page
    assert "Flood state (PetaJakarta) per RW, 2017-02-21" in page


def test_a_kota_indicator_is_drawn_by_kecamatan_with_its_kotas_value(client):
    never = AreaIndicator.objects.get(
        area__code="31.71", indicator="education-never-attended", breakdown="sex=all"
    )
    url = reverse(
        "map-indicator-state",
        kwargs={"level": "kecamatan", "indicator": "education-never-attended"},
    )
    data = json.loads(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content)
    central = Area.objects.filter(level="kecamatan", parent__code="31.71")
    assert central.count() == 8
    assert {code for code in data["areas"] if code.startswith("31.71.")} == {
        area.code for area in central
    }
    assert all(data["areas"][area.code] == [float(never.value)] for area in central)
    assert len(data["areas"]) == 44 and data["unit"] == "%"
    assert data["source"].endswith("(by kota)")
    page = client.get(reverse("needs-map"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "education-never-attended" in page
