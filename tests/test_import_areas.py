"""import_areas on bad files: one-line errors and an unchanged database; repairs reported."""

import json
from pathlib import Path

import pytest

from locations.jakarta import BOUNDARIES
from locations.models import Area

from .area_files import assert_one_line_error, run_import

pytestmark = pytest.mark.django_db

KELURAHAN_FILE = BOUNDARIES / "jakarta_kelurahan.geojson"
KECAMATAN_FILE = BOUNDARIES / "jakarta_kecamatan.geojson"


KELURAHAN_ARGS = ("--level", "kelurahan", "--code-field", "kode", "--name-field", "nama")


def test_malformed_json(tmp_path: Path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature",, }]}')
    assert_one_line_error(bad, *KELURAHAN_ARGS, match="not valid GeoJSON")


def test_truncated_file(tmp_path: Path):
    truncated = tmp_path / "truncated.geojson"
    text = KELURAHAN_FILE.read_text()
    truncated.write_text(text[: len(text) // 2])
    message = assert_one_line_error(truncated, *KELURAHAN_ARGS, match="not valid GeoJSON")
    assert "truncated" in message


def test_not_a_feature_collection(tmp_path: Path):
    other = tmp_path / "point.geojson"
    other.write_text(json.dumps({"type": "Point", "coordinates": [106.8, -6.2]}))
    assert_one_line_error(other, *KELURAHAN_ARGS, match="expected a GeoJSON FeatureCollection")


def test_unknown_property_names():
    message = assert_one_line_error(
        KELURAHAN_FILE,
        "--level",
        "kelurahan",
        "--code-field",
        "kd_kel",
        "--name-field",
        "nama",
        match="unknown property 'kd_kel' for --code-field",
    )
    assert "kode" in message and "nama" in message  # says what the file does have


def test_wrong_level_by_code_shape():
    assert_one_line_error(
        KECAMATAN_FILE,
        *KELURAHAN_ARGS,
        match="wrong level: codes such as 31.01.01 are kecamatan codes, not kelurahan codes",
    )


def test_wrong_level_without_kemendagri_codes(tmp_path: Path):
    """Codes of another scheme: the parent rule finds no parent, so the level is wrong."""
    data = json.loads(KECAMATAN_FILE.read_text())
    for feature in data["features"]:
        feature["properties"]["kode"] = "K" + feature["properties"]["kode"].replace(".", "")
    renamed = tmp_path / "kecamatan.geojson"
    renamed.write_text(json.dumps(data))
    assert_one_line_error(
        renamed,
        "--level",
        "rw",
        "--code-field",
        "kode",
        "--name-field",
        "nama",
        match="wrong level or parent rule",
    )


def test_unknown_level():
    assert_one_line_error(
        KELURAHAN_FILE,
        "--level",
        "village",
        "--code-field",
        "kode",
        "--name-field",
        "nama",
        match="unknown level 'village'",
    )


def test_a_city_can_load_its_own_file_with_repairs_and_skips_reported(tmp_path: Path):
    """New RW-level areas under Kali Anyar from a file with an invalid polygon (a bow tie),
    a feature without geometry and a duplicate code."""
    bow_tie = [
        [106.7955, -6.1485],
        [106.7965, -6.1475],
        [106.7965, -6.1485],
        [106.7955, -6.1475],
        [106.7955, -6.1485],
    ]
    square = [
        [106.7966, -6.1485],
        [106.7975, -6.1485],
        [106.7975, -6.1475],
        [106.7966, -6.1475],
        [106.7966, -6.1485],
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"id": "31.73.04.1002.901", "label": "RT A"},
            "geometry": {"type": "Polygon", "coordinates": [bow_tie]},
        },
        {
            "type": "Feature",
            "properties": {"id": "31.73.04.1002.902", "label": "RT B"},
            "geometry": {"type": "Polygon", "coordinates": [square]},
        },
        {
            "type": "Feature",
            "properties": {"id": "31.73.04.1002.902", "label": "RT B again"},
            "geometry": {"type": "Polygon", "coordinates": [square]},
        },
        {
            "type": "Feature",
            "properties": {"id": "31.73.04.1002.903", "label": "RT C"},
            "geometry": None,
        },
    ]
    path = tmp_path / "rw.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    args = ("--level", "rw", "--code-field", "id", "--name-field", "label")
    # By default the file is refused whole: the bow tie's repair creates its area from
    # nothing, and a feature has no geometry.
    message = assert_one_line_error(path, *args, match="2 of 4 features have a problem")
    assert "feature 1 (31.73.04.1002.901): Self-intersection" in message
    args += ("--skip-invalid", "--accept-repairs")
    report = run_import(path, *args)
    assert "2 created, 0 updated, 0 unchanged, 1 skipped, 1 repaired" in report
    assert "merged 2 parts of 31.73.04.1002.902 (feature 2, feature 3)" in report
    assert "31.73.04.1002.903): no geometry" in report
    assert "Self-intersection" in report and "made valid: area 0.0000 -> 0.0062 km²" in report
    repaired = Area.objects.with_geometry().get(code="31.73.04.1002.901")
    assert repaired.parent.code == "31.73.04.1002"
    assert repaired.geometry["type"] == "MultiPolygon"  # the bow tie became two triangles
    # Importing the same file again changes nothing.
    assert "0 created, 0 updated, 2 unchanged" in run_import(path, *args)


def test_parent_by_location(tmp_path: Path):
    # A small square around Kali Anyar's label point (106.7990, -6.1577).
    square = [
        [106.7987, -6.1579],
        [106.7993, -6.1579],
        [106.7993, -6.1575],
        [106.7987, -6.1575],
        [106.7987, -6.1579],
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"id": "X-1", "label": "Zone"},
            "geometry": {"type": "Polygon", "coordinates": [square]},
        }
    ]
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    run_import(
        path, "--level", "rw", "--code-field", "id", "--name-field", "label", "--parent", "contains"
    )
    area = Area.objects.get(code="X-1")
    assert area.parent.name == "Kali Anyar"


def one_rw_file(tmp_path: Path, *, code="31.73.04.1002.950", name="RW Uji", ring=None) -> Path:
    ring = ring or [
        [106.7966, -6.1485],
        [106.7975, -6.1485],
        [106.7975, -6.1475],
        [106.7966, -6.1475],
        [106.7966, -6.1485],
    ]
    good = {
        "type": "Feature",
        "properties": {"id": "31.73.04.1002.951", "label": "RW Baik"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    bad = {
        "type": "Feature",
        "properties": {"id": code, "label": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path = tmp_path / "rw.geojson"
    # json.dumps writes NaN as the bare token NaN, which json.loads (and so the importer)
    # reads back: exactly what a broken export looks like.
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, bad]}))
    return path


RW_ARGS = ("--level", "rw", "--code-field", "id", "--name-field", "label")


def test_nan_coordinates_stop_the_import(tmp_path: Path):
    ring = [
        [106.7966, -6.1485],
        [float("nan"), -6.1485],
        [106.7975, -6.1475],
        [106.7966, -6.1485],
    ]
    path = one_rw_file(tmp_path, ring=ring)
    message = assert_one_line_error(path, *RW_ARGS, match="feature 1 (31.73.04.1002.951)")
    assert "not finite numbers" in message
    assert not Area.objects.filter(code__startswith="31.73.04.1002.95").exists()


def test_a_code_longer_than_the_column_stops_the_import(tmp_path: Path):
    path = one_rw_file(tmp_path, code="31.73.04.1002." + "9" * 286)
    message = assert_one_line_error(path, *RW_ARGS, match="the code has 300 characters")
    assert "feature 2" in message and "at most 40" in message
    assert len(message) < 200  # the code is shortened in the message
    assert not Area.objects.filter(code="31.73.04.1002.951").exists()


def test_a_name_longer_than_the_column_stops_the_import(tmp_path: Path):
    path = one_rw_file(tmp_path, name="Rukun Warga " * 417)
    assert_one_line_error(path, *RW_ARGS, match="feature 2 (31.73.04.1002.950): the name has")
    assert not Area.objects.filter(code="31.73.04.1002.951").exists()


@pytest.mark.parametrize(
    "code", ["31.73.04.1002/950", "31.73.04.1002.950\x00", "31.73.04\n.1002.950", "31\t73"]
)
def test_a_code_with_a_slash_or_control_character_stops_the_import(tmp_path: Path, code: str):
    """Area.path is the '/'-joined codes that scopes match on: a '/' in a code would make
    one area look like the descendant of another."""
    path = one_rw_file(tmp_path, code=code)
    assert_one_line_error(path, *RW_ARGS, match="the code contains '/' or a control character")
    assert not Area.objects.filter(code="31.73.04.1002.951").exists()


def test_a_nul_in_a_name_stops_the_import(tmp_path: Path):
    path = one_rw_file(tmp_path, name="RW\x00 Uji")
    assert_one_line_error(path, *RW_ARGS, match="a NUL character in the name")
