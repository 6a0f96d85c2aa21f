"""Warm serving speed of the needs map's data against a static file of the same bytes.

Prepares a throw-away database (real Jakarta, a need in every residential RW), writes the
exact gzip bytes of the RW geometry and need state as static files, starts gunicorn
(DEBUG off, whitenoise serving the static files), warms the caches, then measures
requests per second with wrk (Debian package `wrk`) for each endpoint and its static twin,
in one run:

    apt-get install wrk   # once
    .venv/bin/python bench/map_serving.py [--seconds 10] [--connections 16]

Ends with one line: need_state_ratio=... geometry_ratio=... (endpoint rps / static rps).
"""

from __future__ import annotations

import gzip
import os
import tempfile

from common import load_data, serve, setup_django, wrk, wrk_arguments


def main() -> None:
    args = wrk_arguments()

    database = setup_django()
    load_data()
    from django.test import Client
    from django.urls import reverse

    from locations.models import MapLayer

    client = Client(HTTP_ACCEPT_ENCODING="gzip", HTTP_HOST="127.0.0.1")
    geometry_path = reverse("map-geometry", args=["rw", MapLayer.objects.get(level="rw").version])
    state_path = reverse("map-need-state", args=["rw"])
    static_root = tempfile.mkdtemp(prefix="ksbb-bench-static-")
    os.makedirs(os.path.join(static_root, "bench"))
    for name, path in [("geometry.json", geometry_path), ("need-state.json", state_path)]:
        body = client.get(path).content
        with open(os.path.join(static_root, "bench", name), "wb") as f:
            f.write(gzip.decompress(body))
        with open(os.path.join(static_root, "bench", name + ".gz"), "wb") as f:
            f.write(body)  # whitenoise serves these exact bytes to gzip clients

    ready = "/static/bench/need-state.json"
    server, base = serve(database, workers=args.workers, STATIC_ROOT=static_root, ready=ready)
    try:
        urls = {
            "need state": base + state_path,
            "need state (static file)": base + "/static/bench/need-state.json",
            "geometry": base + geometry_path,
            "geometry (static file)": base + "/static/bench/geometry.json",
        }
        for url in urls.values():  # warm every worker's cache
            wrk(url, 2, args.connections)
        rps = {name: wrk(url, args.seconds, args.connections) for name, url in urls.items()}
    finally:
        server.terminate()
        server.wait(timeout=10)
    for name, value in rps.items():
        print(f"{name:28s} {value:10.1f} requests/s")
    need_ratio = rps["need state"] / rps["need state (static file)"]
    geometry_ratio = rps["geometry"] / rps["geometry (static file)"]
    print(f"need_state_ratio={need_ratio:.2f} geometry_ratio={geometry_ratio:.2f}")


if __name__ == "__main__":
    main()
