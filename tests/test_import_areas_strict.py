"""import_areas imports a file whole or not at all, merges duplicate codes, places children
under the parent overlapping most of them, matches parents on any code, says what repairs
did, and labels the source stably (issue 24)."""

from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape

from locations.geometry import area_km2
from locations.models import Area

from .area_files import (
    KELURAHAN_ARGS,
    RW_ARGS,
    assert_one_line_error,
    box,
    feature,
    polygon,
    run_import,
    write_geojson,
)

pytestmark = pytest.mark.django_db

A = box(110.36, -7.80, 110.37, -7.79)
B = box(110.37, -7.80, 110.40, -7.79)
# In metres (UTM 49S): what one feature of an export in another projection looks like.
IN_METRES = box(430000, 9137000, 431000, 9138000)


def kelurahan_file(tmp_path: Path, *extra: dict, name="kel.geojson") -> Path:
    features = [
        feature(polygon(A), kode="31.73.04.9001", nama="Kelurahan A", bps="3173040901"),
        feature(polygon(B), kode="31.73.04.9002", nama="Kelurahan B", bps="3173040902"),
        *extra,
    ]
    return write_geojson(tmp_path / name, features)


@pytest.fixture
def parents(tmp_path: Path):
    """Kelurahan A and B (with BPS codes) under Tambora."""
    run_import(kelurahan_file(tmp_path), *KELURAHAN_ARGS, "--bps-code-field", "bps")


def test_a_feature_in_metres_refuses_the_file_and_skip_invalid_imports_the_rest(tmp_path):
    path = kelurahan_file(tmp_path, feature(polygon(IN_METRES), kode="31.73.04.9003", nama="C"))
    message = assert_one_line_error(
        path, *KELURAHAN_ARGS, match="kel.geojson: 1 of 3 features have a problem"
    )
    assert "feature 3 (31.73.04.9003): coordinates are outside lon/lat ranges" in message
    assert "--skip-invalid" in message
    report = run_import(path, *KELURAHAN_ARGS, "--skip-invalid")
    assert "2 created, 0 updated, 0 unchanged, 1 skipped" in report
    assert "skipped feature 3 (31.73.04.9003): coordinates are outside lon/lat" in report
    assert set(
        Area.objects.filter(code__startswith="31.73.04.900").values_list("code", flat=True)
    ) == {
        "31.73.04.9001",
        "31.73.04.9002",
    }


def test_a_file_entirely_in_metres_without_a_crs_is_refused(tmp_path):
    path = write_geojson(
        tmp_path / "utm.geojson",
        [feature(polygon(IN_METRES), kode="31.73.04.9003", nama="C")],
    )
    message = assert_one_line_error(path, *KELURAHAN_ARGS, match="the coordinates are not lon/lat")
    assert "declares no CRS" in message


def test_missing_codes_and_unknown_parents_are_counted_and_listed(tmp_path):
    extra = [
        feature(polygon(box(110.41, -7.80, 110.42, -7.79)), kode="", nama="No code 1"),
        feature(polygon(box(110.42, -7.80, 110.43, -7.79)), nama="No code 2"),
        feature(polygon(box(110.43, -7.80, 110.44, -7.79)), kode="31.73.99.9004", nama="Lost"),
    ]
    path = kelurahan_file(tmp_path, *extra)
    message = assert_one_line_error(path, *KELURAHAN_ARGS, match="3 of 5 features have a problem")
    assert "first: feature 3: no value in 'kode'" in message
    report = run_import(path, *KELURAHAN_ARGS, "--skip-invalid")
    assert "2 created, 0 updated, 0 unchanged, 3 skipped" in report
    assert "skipped feature 4: no value in 'kode'" in report
    assert "skipped 31.73.99.9004: parent 31.73.99 is not a loaded kecamatan" in report


def test_duplicate_codes_are_merged_with_their_full_area(tmp_path):
    """The issue's case: the second part of an area was dropped and it shrank from 1.62 to
    0.67 km². Both parts are kept, as one multipolygon."""
    first = box(110.36, -7.80, 110.3675, -7.79272)
    second = box(110.38, -7.80, 110.3895, -7.79186)
    path = write_geojson(
        tmp_path / "kel.geojson",
        [
            feature(polygon(first), kode="31.73.04.9001", nama="Kelurahan A"),
            feature(polygon(B), kode="31.73.04.9002", nama="Kelurahan B"),
            feature(polygon(second), kode="31.73.04.9001", nama="Kelurahan A"),
        ],
    )
    report = run_import(path, *KELURAHAN_ARGS)
    assert "2 created, 0 updated, 0 unchanged, 0 skipped" in report
    assert (
        "merged 2 parts of 31.73.04.9001 (feature 1, feature 3): 0.67 + 0.95 -> 1.62 km²" in report
    )
    area = Area.objects.with_geometry().get(code="31.73.04.9001")
    parts = area_km2(shapely.Polygon(first)) + area_km2(shapely.Polygon(second))
    assert area.area_km2 == pytest.approx(parts, rel=0.001)
    assert area.area_km2 == pytest.approx(1.62, abs=0.01)
    assert area.geometry["type"] == "MultiPolygon"
    assert len(shape(area.geometry).geoms) == 2


def test_duplicate_codes_can_be_refused(tmp_path):
    path = kelurahan_file(
        tmp_path,
        feature(polygon(box(110.41, -7.80, 110.42, -7.79)), kode="31.73.04.9001", nama="A"),
    )
    message = assert_one_line_error(
        path, *KELURAHAN_ARGS, "--duplicates", "refuse", match="2 of 3 features have a problem"
    )
    assert "the code is shared by feature 1, feature 3 (--duplicates refuse)" in message


# Child X: a tall strip inside A and a wide low block inside B. Its interior point (on the
# horizontal line through the middle of its bbox) lies in the strip, in A; 2/3 of its area
# lies in B.
CHILD_X = [
    [110.368, -7.80],
    [110.380, -7.80],
    [110.380, -7.796],
    [110.370, -7.796],
    [110.370, -7.79],
    [110.368, -7.79],
    [110.368, -7.80],
]
CHILD_Y = box(110.361, -7.799, 110.365, -7.795)  # wholly in A
CHILD_Z = box(110.365, -7.799, 110.3745, -7.798)  # 53% in A, 47% in B


def test_children_go_under_the_parent_overlapping_most_and_unclear_ones_are_reported(
    tmp_path, parents
):
    x_point = shapely.Polygon(CHILD_X).point_on_surface()
    assert shapely.Polygon(A).contains(x_point)  # the old rule would have put X in A
    path = write_geojson(
        tmp_path / "rw.geojson",
        [
            feature(polygon(CHILD_X), kode="YK-X", nama="RW X"),
            feature(polygon(CHILD_Y), kode="YK-Y", nama="RW Y"),
            feature(polygon(CHILD_Z), kode="YK-Z", nama="RW Z"),
        ],
    )
    report = run_import(path, *RW_ARGS, "--parent", "contains")
    parents_of = dict(
        Area.objects.filter(code__startswith="YK-").values_list("code", "parent__code")
    )
    assert parents_of == {"YK-X": "31.73.04.9002", "YK-Y": "31.73.04.9001", "YK-Z": "31.73.04.9001"}
    assert (
        "parent unclear for YK-X: placed in 31.73.04.9002, which holds 67% of it; "
        "next 31.73.04.9001 holds 33%" in report
    )
    assert "parent unclear for YK-Z: placed in 31.73.04.9001, which holds 53% of it" in report
    assert "YK-Y" not in report


def test_a_child_overlapping_no_parent_refuses_the_file(tmp_path, parents):
    path = write_geojson(
        tmp_path / "rw.geojson",
        [
            feature(polygon(CHILD_Y), kode="YK-Y", nama="RW Y"),
            feature(polygon(box(110.50, -7.80, 110.51, -7.79)), kode="YK-W", nama="RW W"),
        ],
    )
    assert_one_line_error(
        path, *RW_ARGS, "--parent", "contains", match="first: YK-W: no loaded kelurahan overlaps it"
    )


def test_parents_match_bps_codes_and_codes_without_dots(tmp_path, parents):
    path = write_geojson(
        tmp_path / "rw.geojson",
        [
            feature(polygon(CHILD_Y), kode="YK-1", nama="RW 1", kel="3173040902"),  # BPS code
            feature(polygon(CHILD_Y), kode="YK-2", nama="RW 2", kel="3173049001"),  # no dots
            feature(polygon(CHILD_Y), kode="YK-3", nama="RW 3", kel="31.73.04.9002"),
        ],
    )
    run_import(path, *RW_ARGS, "--parent", "field:kel")
    parents_of = dict(
        Area.objects.filter(code__startswith="YK-").values_list("code", "parent__code")
    )
    assert parents_of == {"YK-1": "31.73.04.9002", "YK-2": "31.73.04.9001", "YK-3": "31.73.04.9002"}


def test_code_format_turns_rw_codes_without_dots_into_kemendagri_codes(tmp_path, parents):
    path = write_geojson(
        tmp_path / "rw.geojson",
        [
            feature(polygon(CHILD_Y), kode="3173049001005", nama="RW 005"),
            feature(polygon(CHILD_Z), kode="3173049002001", nama="RW 001"),
        ],
    )
    run_import(path, *RW_ARGS, "--code-format", "2.2.2.4.3")
    rw = Area.objects.get(code="31.73.04.9001.005")
    assert rw.parent.code == "31.73.04.9001"
    assert rw.path == "31/31.73/31.73.04/31.73.04.9001/31.73.04.9001.005"
    assert Area.objects.get(code="31.73.04.9002.001").parent.code == "31.73.04.9002"


def test_codes_that_do_not_fit_the_code_format_are_refused(tmp_path, parents):
    path = write_geojson(
        tmp_path / "rw.geojson",
        [
            feature(polygon(CHILD_Y), kode="3173049001005", nama="RW 005"),
            feature(polygon(CHILD_Z), kode="317304900100", nama="RW short"),
        ],
    )
    assert_one_line_error(
        path,
        *RW_ARGS,
        "--code-format",
        "2.2.2.4.3",
        match="feature 2 (317304900100): the code does not fit --code-format 2.2.2.4.3",
    )
    assert_one_line_error(path, *RW_ARGS, "--code-format", "2-2-2", match="--code-format '2-2-2'")


def test_without_dots_or_a_code_format_the_prefix_rule_says_what_to_do(tmp_path, parents):
    path = write_geojson(
        tmp_path / "rw.geojson",
        [
            feature(polygon(CHILD_Y), kode="31.73.04.9001.005", nama="RW 005"),
            feature(polygon(CHILD_Z), kode="3173049002001", nama="RW 001"),
        ],
    )
    assert_one_line_error(path, *RW_ARGS, match="the code has no '.' to take its parent's code")


HOLE_OUTSIDE = box(110.38, -7.80, 110.385, -7.795)


def test_a_repair_that_changes_the_area_is_refused_unless_accepted(tmp_path):
    """The issue's case: a hole lying outside its shell was 'repaired' into filled land."""
    path = kelurahan_file(
        tmp_path, feature(polygon(A, HOLE_OUTSIDE), kode="31.73.04.9003", nama="Holey")
    )
    message = assert_one_line_error(path, *KELURAHAN_ARGS, match="1 of 3 features")
    assert (
        "feature 3 (31.73.04.9003): Hole lies outside shell[110.38 -7.8]; made valid: "
        "area 0.92 -> 1.53 km² (+66.7%), more than 1%: check the shape" in message
    )
    report = run_import(path, *KELURAHAN_ARGS, "--accept-repairs")
    assert "repaired feature 3 (31.73.04.9003): Hole lies outside shell" in report
    assert "area 0.92 -> 1.53 km² (+66.7%)" in report
    assert Area.objects.get(code="31.73.04.9003").area_km2 == pytest.approx(1.53, abs=0.01)


def test_a_small_repair_is_kept_and_says_what_it_changed(tmp_path):
    """Two parts of a multipolygon overlapping by a sliver: the union is 0.2% smaller."""
    left = box(110.41, -7.80, 110.42, -7.79)
    right = box(110.41995, -7.80, 110.42995, -7.79)
    geometry = {"type": "MultiPolygon", "coordinates": [[left], [right]]}
    path = kelurahan_file(tmp_path, feature(geometry, kode="31.73.04.9003", nama="Sliver"))
    report = run_import(path, *KELURAHAN_ARGS)
    assert "3 created" in report
    assert "made valid: area 2.46 -> 2.45 km² (-0.2%)" in report


def test_the_source_label_is_the_file_name_and_its_hash(tmp_path, monkeypatch):
    path = kelurahan_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert "2 created" in run_import("kel.geojson", *KELURAHAN_ARGS)
    source = Area.objects.get(code="31.73.04.9001").source
    assert source.startswith("kel.geojson (sha256 ") and str(tmp_path) not in source
    assert "0 created, 0 updated, 2 unchanged" in run_import("./kel.geojson", *KELURAHAN_ARGS)
    assert "0 created, 0 updated, 2 unchanged" in run_import(path, *KELURAHAN_ARGS)
