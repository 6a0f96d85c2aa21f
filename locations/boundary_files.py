"""Read a boundary file of any common format into GeoJSON-like features in EPSG:4326.

GeoJSON in lon/lat is read as JSON (strict: NaN, truncation and bad structure are reported
precisely). Shapefile (.shp, or a .zip holding one), GeoPackage (.gpkg), KML and a GeoJSON
that declares another CRS are read with pyogrio (GDAL ships in its wheel) and reprojected
with pyproj (PROJ ships in its wheel): pyogrio reads the layer's CRS but does not reproject.

A file that declares no CRS must be in lon/lat: one whose coordinates are all outside
lon/lat ranges is refused (it is in metres). A zip is unpacked with a cap on what it may
expand to, so a decompression bomb is refused before it fills the disk.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import mapping

from .importers import ImportFileError, read_features

MAX_FILE_BYTES = 300 * 1024 * 1024
MAX_UNZIPPED_BYTES = 500 * 1024 * 1024
# Shapefiles compress well (padded .dbf columns) but not by this much: a decompression bomb.
MAX_ZIP_RATIO = 200
SMALL_BYTES = 2**20  # parts this small are not checked for their ratio
MAX_ZIP_MEMBERS = 1000
GEOJSON_SUFFIXES = {".geojson", ".json"}
OGR_SUFFIXES = {".shp", ".gpkg", ".kml"}
FORMATS = (
    "GeoJSON (.geojson, .json), Shapefile (.shp or a .zip holding one), GeoPackage (.gpkg), "
    "KML (.kml)"
)
LON_LAT = CRS.from_epsg(4326)
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}


@dataclass
class BoundaryFile:
    features: list[dict]
    name: str
    sha256: str
    crs: str  # as declared by the file, "" when it declares none

    @property
    def source_label(self) -> str:
        """Stable across the ways of naming the same file: `./kel.geojson` and
        `kel.geojson` (and a copy elsewhere) give the same label."""
        return f"{self.name[:120]} (sha256 {self.sha256[:16]})"


def read_boundary_file(path: str | Path, *, layer: str | None = None) -> BoundaryFile:
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportFileError(
            f"{path.name}: {size // 2**20} MiB is more than the {MAX_FILE_BYTES // 2**20} MiB read"
        )
    suffix = path.suffix.lower()
    digest = _sha256(path)
    if suffix in GEOJSON_SUFFIXES:
        declared = _declared_geojson_crs(path)
        if declared is None:
            features = read_features(path)
            _refuse_projected_without_crs(path.name, features)
            return BoundaryFile(features, path.name, digest, "")
        features, crs = _read_with_ogr(path, path.name, layer)
    elif suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="ksbb-areas-") as folder:
            shp = _unzip_shapefile(path, Path(folder), layer)
            features, crs = _read_with_ogr(shp, path.name, None)
    elif suffix in OGR_SUFFIXES:
        features, crs = _read_with_ogr(path, path.name, layer)
    else:
        raise ImportFileError(f"{path.name}: unknown format '{suffix}'; read are {FORMATS}")
    return BoundaryFile(features, path.name, digest, crs)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _declared_geojson_crs(path: Path) -> str | None:
    """The legacy `crs` member of a GeoJSON file when it names something other than lon/lat
    (RFC 7946 dropped it, but exports from older tools still write it)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # read_features reports it precisely
    crs = data.get("crs") if isinstance(data, dict) else None
    name = ((crs or {}).get("properties") or {}).get("name") if isinstance(crs, dict) else None
    if not name or _is_lon_lat(str(name)):
        return None
    return str(name)


def _is_lon_lat(crs: str) -> bool:
    try:
        return CRS.from_user_input(crs).equals(LON_LAT, ignore_axis_order=True)
    except CRSError:
        return False


def _unzip_shapefile(path: Path, folder: Path, layer: str | None) -> Path:
    """Extract the one shapefile of a zip (or the one named by --layer), capped in size."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(f"{path.name}: not a readable zip ({exc})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ImportFileError(f"{path.name}: {len(members)} files in the zip; too many")
        shapefiles = [m for m in members if m.filename.lower().endswith(".shp")]
        if layer:
            shapefiles = [m for m in shapefiles if Path(m.filename).stem == layer]
        if len(shapefiles) != 1:
            found = ", ".join(Path(m.filename).name for m in shapefiles) or "none"
            raise ImportFileError(
                f"{path.name}: expected one shapefile in the zip (found: {found}); "
                "name it with --layer"
            )
        stem = shapefiles[0].filename[:-4]
        parts = [
            m for m in members if m.filename[: len(stem)] == stem and _is_part(m.filename, stem)
        ]
        declared = sum(m.file_size for m in parts)
        packed = max(1, sum(m.compress_size for m in parts))
        if declared > MAX_UNZIPPED_BYTES or declared > max(SMALL_BYTES, MAX_ZIP_RATIO * packed):
            raise _bomb(path)
        budget = MAX_UNZIPPED_BYTES
        for member in parts:
            target = folder / ("layer" + Path(member.filename).suffix.lower())
            budget = _extract_capped(archive, member, target, budget, path)
        return folder / "layer.shp"


def _is_part(filename: str, stem: str) -> bool:
    return filename[len(stem) :].lower() in SHAPEFILE_PARTS


def _bomb(path: Path) -> ImportFileError:
    return ImportFileError(
        f"{path.name}: the zip expands to more than {MAX_UNZIPPED_BYTES // 2**20} MiB or "
        f"{MAX_ZIP_RATIO} times its size; refused (a decompression bomb?)"
    )


def _extract_capped(archive, member, target: Path, budget: int, path: Path) -> int:
    """Copy one member, counting the bytes actually written (a zip can lie about sizes)."""
    written, limit = 0, max(SMALL_BYTES, MAX_ZIP_RATIO * member.compress_size)
    with archive.open(member) as source, target.open("wb") as sink:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > budget or written > limit:
                raise _bomb(path)
            sink.write(chunk)
    return budget - written


def _read_with_ogr(path: Path, name: str, layer: str | None) -> tuple[list[dict], str]:
    layer = _chosen_layer(path, name, layer)
    try:
        meta, _fids, geometry, field_data = pyogrio.raw.read(
            path, layer=layer, force_2d=True, datetime_as_string=True, return_fids=True
        )
    except Exception as exc:  # GDAL's errors come as several classes; all mean "unreadable"
        message = " ".join(str(exc).split())[:200]
        raise ImportFileError(f"{name}: cannot be read ({message})") from None
    if not len(geometry):
        raise ImportFileError(f"{name}: the layer has no features")
    shapes = shapely.from_wkb(geometry)
    crs = meta.get("crs") or ""
    if crs and not _is_lon_lat(crs):
        shapes = _to_lon_lat(shapes, crs, name)
    features = [
        {
            "type": "Feature",
            "properties": {
                field: _plain(values[index])
                for field, values in zip(meta["fields"], field_data, strict=True)
            },
            "geometry": mapping(shape) if shape is not None else None,
        }
        for index, shape in enumerate(shapes)
    ]
    if not crs:
        _refuse_projected_without_crs(name, features)
    return features, crs


def _chosen_layer(path: Path, name: str, layer: str | None) -> str | None:
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # as above: GDAL could not open the file
        message = " ".join(str(exc).split())[:200]
        raise ImportFileError(f"{name}: cannot be read ({message})") from None
    if layer is not None:
        if layer not in layers:
            raise ImportFileError(
                f"{name}: no layer '{layer}'; the file has: {', '.join(layers) or 'none'}"
            )
        return layer
    if len(layers) > 1:
        raise ImportFileError(
            f"{name}: {len(layers)} layers ({', '.join(layers[:10])}); choose one with --layer"
        )
    return None


def _to_lon_lat(shapes: np.ndarray, crs: str, name: str) -> np.ndarray:
    try:
        transformer = Transformer.from_crs(CRS.from_user_input(crs), LON_LAT, always_xy=True)
    except CRSError as exc:
        raise ImportFileError(f"{name}: unknown CRS ({exc})") from None

    def project(coordinates: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coordinates[:, 0], coordinates[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(shapes, project)


def _plain(value):
    """A field value as JSON holds it: numpy scalars as Python numbers, NaN as null."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _refuse_projected_without_crs(name: str, features: list[dict]) -> None:
    """A file that declares no CRS is read as lon/lat; if no coordinate of it fits lon/lat
    it is in another projection (metres), and nothing would be placed right."""
    outside, first = 0, None
    for feature in features:
        bounds = _bounds(feature.get("geometry"))
        if bounds is None:
            continue
        if _outside_lon_lat(bounds):
            outside += 1
            first = first or bounds
        else:
            return
    if outside:
        raise ImportFileError(
            f"{name}: the coordinates are not lon/lat (e.g. {first[0]:.0f}, {first[1]:.0f}) "
            "and the file declares no CRS; reproject it to EPSG:4326 or use a format "
            "that declares its CRS (Shapefile with .prj, GeoPackage)"
        )


def _bounds(geometry) -> tuple[float, float, float, float] | None:
    try:
        with np.errstate(invalid="ignore"):  # NaN coordinates: reported by the importer
            shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    if shape.is_empty:
        return None
    return shape.bounds


def _outside_lon_lat(bounds: tuple[float, float, float, float]) -> bool:
    min_x, min_y, max_x, max_y = bounds
    return min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90
