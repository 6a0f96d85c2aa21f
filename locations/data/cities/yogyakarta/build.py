"""Build this folder's GeoJSON files from the SQL dumps of cahyadsn/wilayah_boundaries
(see README.md for the commits and paths).

    python locations/data/cities/yogyakarta/build.py KAB_SQL KEC_SQL KEL_SQL

The dumps hold `INSERT INTO wilayah_boundaries(kode,nama,lat,lng,path) VALUES (...)` rows
whose `path` is a JSON array of rings of [lat, lng] pairs (a Polygon) or an array of such
polygons (a MultiPolygon). Each row becomes a GeoJSON feature with properties `code` and
`name` and coordinates swapped to [lon, lat]. Kept: Kota Yogyakarta (34.71), its kecamatan
(34.71.xx) and kelurahan (34.71.xx.xxxx). The province outline (34) is the union of the
five kabupaten/kota rows of the kab dump, with gaps under 0.01 km² between them closed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

HERE = Path(__file__).resolve().parent
ROW = re.compile(r"\('([0-9.]+)','((?:[^'\\]|\\.)*)',(-?[0-9.]+),(-?[0-9.]+),'(\[[^']*\])'\)")
CITY = "34.71"
PROVINCE = ("34", "Daerah Istimewa Yogyakarta")
SLIVER_DEGREES2 = 1e-6  # about 0.012 km² at this latitude


def read_rows(path: Path) -> list[tuple[str, str, dict]]:
    """(code, name, GeoJSON geometry in lon/lat) for each row of a dump."""
    rows = []
    for code, name, _lat, _lng, path_json in ROW.findall(path.read_text(encoding="utf-8")):
        rows.append((code, name.replace("\\'", "'"), lonlat_geometry(json.loads(path_json))))
    return rows


def lonlat_geometry(nested: list) -> dict:
    """[[[lat, lng], ...], ...] (rings) or [[[[lat, lng], ...]]] (polygons) -> GeoJSON."""

    def ring(points: list) -> list:
        return [[lng, lat] for lat, lng in points]

    if isinstance(nested[0][0][0], (int, float)):
        return {"type": "Polygon", "coordinates": [ring(r) for r in nested]}
    return {"type": "MultiPolygon", "coordinates": [[ring(r) for r in p] for p in nested]}


def feature_collection(name: str, rows: list[tuple[str, str, dict]]) -> dict:
    return {
        "type": "FeatureCollection",
        "name": name,
        "features": [
            {"type": "Feature", "properties": {"code": code, "name": nama}, "geometry": geometry}
            for code, nama, geometry in sorted(rows)
        ],
    }


def province(kab_rows: list[tuple[str, str, dict]]) -> tuple[str, str, dict]:
    """The province as the union of its kabupaten/kota, small gaps between them closed."""
    union = shapely.unary_union([shape(g).buffer(0) for _c, _n, g in kab_rows])
    polygons = union.geoms if isinstance(union, MultiPolygon) else [union]
    closed = [
        Polygon(p.exterior, [h for h in p.interiors if Polygon(h).area >= SLIVER_DEGREES2])
        for p in polygons
    ]
    merged = closed[0] if len(closed) == 1 else MultiPolygon(closed)
    return PROVINCE[0], PROVINCE[1], mapping(merged)


def write(name: str, rows: list[tuple[str, str, dict]]) -> None:
    text = json.dumps(feature_collection(name, rows), ensure_ascii=False, separators=(",", ":"))
    (HERE / name).write_text(text + "\n", encoding="utf-8")
    print(f"{name}: {len(rows)} features")


def main(kab_sql: str, kec_sql: str, kel_sql: str) -> None:
    kab = [row for row in read_rows(Path(kab_sql)) if row[0].startswith("34.")]
    write("provinsi.geojson", [province(kab)])
    write("kota.geojson", [row for row in kab if row[0] == CITY])
    kec = read_rows(Path(kec_sql))
    write("kecamatan.geojson", [row for row in kec if row[0].startswith(CITY + ".")])
    kel = read_rows(Path(kel_sql))
    write("kelurahan.geojson", [row for row in kel if row[0].startswith(CITY + ".")])


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
