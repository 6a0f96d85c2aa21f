"""Wire size and fidelity of the needs map's data, as a browser receives it.

Builds a throw-away database with real Jakarta data and an open need in every residential
RW, requests the RW geometry and need state through Django with `Accept-Encoding: gzip`,
and compares every decoded RW shape with its polygon in the source file.

    .venv/bin/python bench/map_payload.py

Ends with one line: geometry_gz_bytes=... need_state_gz_bytes=... mean_iou=... min_iou=...
"""

from __future__ import annotations

import gzip
import json
import time

from common import ROOT, load_data, setup_django


def main() -> None:
    setup_django()
    started = time.perf_counter()
    load_data()
    print(f"database ready in {time.perf_counter() - started:.1f} s")

    import numpy as np
    import shapely
    from django.test import Client
    from django.urls import reverse
    from shapely.geometry import shape
    from shapely.strtree import STRtree

    from locations.models import Area, MapLayer
    from locations.topology import decode_topojson

    client = Client(HTTP_ACCEPT_ENCODING="gzip", HTTP_HOST="127.0.0.1")
    layer = MapLayer.objects.get(level="rw")
    geometry = client.get(reverse("map-geometry", args=["rw", layer.version]))
    state = client.get(reverse("map-need-state", args=["rw"]))
    assert geometry["Content-Encoding"] == state["Content-Encoding"] == "gzip"
    topology = json.loads(gzip.decompress(geometry.content))
    need_state = json.loads(gzip.decompress(state.content))
    decoded = decode_topojson(topology)

    source_file = ROOT / "locations/data/jakarta/rw-bps/jakarta_rw_dissolved.geojson"
    source = {
        f["properties"]["rw_id"]: shapely.make_valid(shape(f["geometry"]))
        for f in json.loads(source_file.read_text())["features"]
    }
    code_to_source = {
        code: props["rw_id"]
        for code, props in Area.objects.filter(level="rw").values_list("code", "source_properties")
    }
    codes = sorted(decoded)
    served = np.array([shapely.make_valid(decoded[c]) for c in codes], dtype=object)
    original = np.array([source[code_to_source[c]] for c in codes], dtype=object)
    inter = shapely.area(shapely.intersection(served, original))
    iou = inter / (shapely.area(served) + shapely.area(original) - inter)

    # Borders: neighbours in the source should still touch and not newly overlap.
    tree = STRtree(original)
    left, right = tree.query(original, predicate="intersects")
    pairs = [(i, j) for i, j in zip(left, right, strict=True) if i < j]
    new_overlaps = lost_borders = 0
    for i, j in pairs:
        smaller = min(original[i].area, original[j].area)
        was = shapely.intersection(original[i], original[j]).area > 1e-6 * smaller
        now = shapely.intersection(served[i], served[j]).area > 1e-6 * smaller
        new_overlaps += now and not was
        if shapely.intersection(original[i], original[j]).length > 0:
            lost_borders += not served[i].intersects(served[j])

    source_bytes = source_file.stat().st_size
    raw_bytes = len(gzip.decompress(geometry.content))
    print(f"RW features: {len(codes)}; need state areas: {len(need_state['areas'])}")
    print(
        f"source file: {source_bytes} bytes; geometry payload: {raw_bytes} bytes "
        f"({100 * raw_bytes / source_bytes:.1f}% of the source), "
        f"{len(geometry.content)} gzipped"
    )
    print(
        f"IoU against the source: mean {iou.mean():.4f}, min {iou.min():.4f} "
        f"({codes[int(iou.argmin())]}), below 0.99: {(iou < 0.99).sum()}"
    )
    print(
        f"neighbour pairs: {len(pairs)}; new overlaps: {new_overlaps}; "
        f"neighbours no longer touching: {lost_borders}"
    )
    print(
        f"geometry_gz_bytes={len(geometry.content)} need_state_gz_bytes={len(state.content)} "
        f"mean_iou={iou.mean():.4f} min_iou={iou.min():.4f}"
    )


if __name__ == "__main__":
    main()
