"""import_areas reads Shapefile (plain or zipped), GeoPackage and KML written in another
projection (UTM 48S, where Jakarta lies) and loads the same areas as the lon/lat GeoJSON;
oversized zips and unknown formats are refused with one line (issue 24)."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape

from locations.geometry import area_km2
from locations.jakarta import BOUNDARIES
from locations.models import Area

from .area_files import KELURAHAN_ARGS, assert_one_line_error, feature, run_import, write_geojson

pytestmark = pytest.mark.django_db

UTM_48S = "EPSG:32748"


def real_shapes() -> list[tuple[str, str, shapely.Geometry]]:
    """Three real kelurahan of Tambora, given new codes so they load as new areas."""
    data = json.loads((BOUNDARIES / "jakarta_kelurahan.geojson").read_text())
    tambora = [f for f in data["features"] if f["properties"]["kode"].startswith("31.73.04.")]
    return [
        (f"31.73.04.91{index:02d}", f"Uji {f['properties']['nama']}", shape(f["geometry"]))
        for index, f in enumerate(tambora[:3])
    ]


def write_projected(path: Path, driver: str, **options) -> Path:
    shapes = real_shapes()
    to_utm = Transformer.from_crs("EPSG:4326", UTM_48S, always_xy=True)
    projected = shapely.transform(
        np.array([geometry for _, _, geometry in shapes]),
        lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])),
    )
    pyogrio.raw.write(
        path,
        shapely.to_wkb(projected),
        [np.array([value[i] for value in shapes], dtype=object) for i in (0, 1)],
        ["kode", "nama"],
        driver=driver,
        crs=UTM_48S,
        geometry_type="MultiPolygon",
        promote_to_multi=True,
        **options,
    )
    return path


def assert_loaded_like_the_geojson(report: str) -> None:
    assert "3 created, 0 updated, 0 unchanged, 0 skipped" in report
    for code, name, geometry in real_shapes():
        area = Area.objects.get(code=code)
        assert (area.name, area.parent.code, area.level) == (name, "31.73.04", "kelurahan")
        assert area.area_km2 == pytest.approx(area_km2(geometry), rel=0.005)


def test_geojson_in_lon_lat(tmp_path):
    features = [feature(mapping(g), kode=c, nama=n) for c, n, g in real_shapes()]
    path = write_geojson(tmp_path / "kel.geojson", features)
    assert_loaded_like_the_geojson(run_import(path, *KELURAHAN_ARGS))


@pytest.mark.parametrize(
    "filename, driver",
    [("kel.shp", "ESRI Shapefile"), ("kel.gpkg", "GPKG"), ("kel.kml", "KML")],
)
def test_projected_formats_load_the_same_areas(tmp_path, filename, driver):
    path = write_projected(tmp_path / filename, driver)
    report = run_import(path, *KELURAHAN_ARGS)
    assert_loaded_like_the_geojson(report)
    assert Area.objects.get(code="31.73.04.9100").source.startswith(f"{filename} (sha256 ")


def test_a_zipped_shapefile(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    write_projected(folder / "kelurahan.shp", "ESRI Shapefile")
    archive = tmp_path / "kelurahan.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for part in folder.iterdir():
            zipped.write(part, f"data/{part.name}")
    assert_loaded_like_the_geojson(run_import(archive, *KELURAHAN_ARGS))


def test_a_geojson_declaring_a_projected_crs_is_reprojected(tmp_path):
    to_utm = Transformer.from_crs("EPSG:4326", UTM_48S, always_xy=True)
    features = [
        feature(
            mapping(shapely.transform(g, lambda xy: np.column_stack(to_utm.transform(*xy.T)))),
            kode=c,
            nama=n,
        )
        for c, n, g in real_shapes()
    ]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32748"}}
    path = write_geojson(tmp_path / "kel.geojson", features, crs=crs)
    assert_loaded_like_the_geojson(run_import(path, *KELURAHAN_ARGS))


def test_a_geopackage_with_several_layers_needs_layer(tmp_path):
    path = write_projected(tmp_path / "kel.gpkg", "GPKG", layer="kelurahan")
    write_projected(path, "GPKG", layer="copy", append=False)
    assert_one_line_error(path, *KELURAHAN_ARGS, match="2 layers (kelurahan, copy); choose one")
    assert_one_line_error(path, *KELURAHAN_ARGS, "--layer", "rw", match="no layer 'rw'")
    assert_loaded_like_the_geojson(run_import(path, *KELURAHAN_ARGS, "--layer", "kelurahan"))


def test_a_decompression_bomb_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("kel.shp", b"\0" * 100)
        zipped.writestr("kel.dbf", b"\0" * (40 * 2**20))  # 40 MiB of zeros: ~40 KiB packed
    message = assert_one_line_error(archive, *KELURAHAN_ARGS, match="bomb.zip: the zip expands")
    assert "decompression bomb" in message


def test_a_zip_without_one_shapefile_is_refused(tmp_path):
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "no shapefile here")
    assert_one_line_error(archive, *KELURAHAN_ARGS, match="expected one shapefile in the zip")


def test_an_unknown_format_is_refused_with_the_formats_read(tmp_path):
    path = tmp_path / "kel.csv"
    path.write_text("kode,nama\n")
    message = assert_one_line_error(path, *KELURAHAN_ARGS, match="unknown format '.csv'")
    assert "Shapefile" in message and "GeoPackage" in message and "KML" in message


def test_an_unreadable_file_is_refused_with_one_line(tmp_path):
    path = tmp_path / "kel.gpkg"
    path.write_bytes(b"not a geopackage")
    assert_one_line_error(path, *KELURAHAN_ARGS, match="kel.gpkg: cannot be read")
