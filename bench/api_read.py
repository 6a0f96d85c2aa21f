"""Warm read speed of API v1 against the portal's existing views of the same data.

Prepares a throw-away database (real Jakarta, an open need in every residential RW; see
common.py), starts gunicorn (DEBUG off, API throttles lifted: this measures serving, not
refusing) and measures requests per second with wrk (Debian package `wrk`), in one run:

- need state for the RW level: GET /api/v1/need-state/rw/ against the map's own JSON view
  /peta/data/rw/kebutuhan.json (the same bytes);
- an area's open needs: GET /api/v1/needs/?area=<kelurahan> (JSON, paginated) against that
  area's needs panel /wilayah/<kelurahan>/panel/ (the HTML list the map opens).

    apt-get install wrk   # once
    .venv/bin/python bench/api_read.py [--seconds 10] [--connections 16]

api_rps and view_rps are the rates of an even mix of the two requests (harmonic mean).
Ends with one line: api_rps=... view_rps=... ratio=...
"""

from __future__ import annotations

from common import load_data, serve, setup_django, wrk, wrk_arguments


def mixed(first: float, second: float) -> float:
    """Requests per second of a 50/50 mix of two requests served at these rates."""
    return 2 / (1 / first + 1 / second)


def main() -> None:
    args = wrk_arguments()

    database = setup_django()
    load_data()
    from django.urls import reverse

    from locations.models import Area, Need

    kelurahan = (
        Area.objects.filter(level="kelurahan", children__needs__status="open")
        .order_by("code")
        .first()
    )
    open_needs = Need.objects.open().in_area(kelurahan).count()
    print(f"kelurahan {kelurahan.code} ({kelurahan.name}): {open_needs} open needs")
    # Counted for real, over a one-second window: a minute's window at this rate would make
    # each request (un)pickle a history of every request of the last minute.
    unlimited = "1000000/s"
    server, base = serve(
        database,
        workers=args.workers,
        API_THROTTLE_ANON=unlimited,
        API_THROTTLE_USER=unlimited,
    )
    urls = {
        "api need state": f"{base}/api/v1/need-state/rw/",
        "view need state": base + reverse("map-need-state", args=["rw"]),
        "api area needs": f"{base}/api/v1/needs/?area={kelurahan.code}&page_size=50",
        "view area needs": base + reverse("area-panel", args=[kelurahan.code]),
    }
    try:
        for url in urls.values():  # warm every worker's cache
            wrk(url, 2, args.connections)
        rps = {name: wrk(url, args.seconds, args.connections) for name, url in urls.items()}
    finally:
        server.terminate()
        server.wait(timeout=10)
    for name, value in rps.items():
        print(f"{name:18s} {value:10.1f} requests/s")
    api = mixed(rps["api need state"], rps["api area needs"])
    view = mixed(rps["view need state"], rps["view area needs"])
    print(f"api_rps={api:.1f} view_rps={view:.1f} ratio={api / view:.2f}")


if __name__ == "__main__":
    main()
