"""Small boundary files for import_areas tests, built in tmp_path, and the command's runner."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from locations.models import Area

# Synthetic kelurahan codes under Tambora (31.73.04), drawn far from Jakarta's real areas
# (near Yogyakarta) so that overlaps are only with what a test loads.
KECAMATAN = "31.73.04"


def box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> list:
    return [
        [min_lon, min_lat],
        [max_lon, min_lat],
        [max_lon, max_lat],
        [min_lon, max_lat],
        [min_lon, min_lat],
    ]


def polygon(*rings: list) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def feature(geometry: dict | None, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(path: Path, features: list[dict], **extra) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", **extra, "features": features}))
    return path


def run_import(path, *args) -> str:
    out = io.StringIO()
    call_command("import_areas", str(path), *args, stdout=out)
    return out.getvalue()


def database_state():
    return (
        Area.objects.count(),
        list(Area.objects.with_geometry().order_by("code").values_list("code", "name", "geometry")),
    )


def assert_one_line_error(path, *args, match: str) -> str:
    before = database_state()
    with pytest.raises(CommandError) as error:
        run_import(path, *args)
    message = str(error.value)
    assert "\n" not in message
    assert match in message, message
    assert database_state() == before
    return message


KELURAHAN_ARGS = ("--level", "kelurahan", "--code-field", "kode", "--name-field", "nama")
RW_ARGS = ("--level", "rw", "--code-field", "kode", "--name-field", "nama")
