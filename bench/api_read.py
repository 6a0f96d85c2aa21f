"""Warm read speed of API v1 against plain Django views serving the same bytes.

Prepares a throw-away database (real Jakarta, an open need in every residential RW; see
common.py), starts gunicorn (DEBUG off, API throttles lifted: this measures serving, not
refusing) and measures requests per second with wrk (Debian package `wrk`), in one run, two
like-for-like pairs:

- need state for the RW level: GET /api/v1/need-state/rw/ against the map's own JSON view
  /peta/data/rw/kebutuhan.json (the same bytes, no query);
- an area's needs: GET /api/v1/needs/?area=<kelurahan>&page_size=50 (the cursor list's first
  page) against `needs_list` below, a plain Django view that runs the same two queries and
  answers the same JSON without DRF. It is mounted at /bench/needs/ for this bench only:
  gunicorn serves `portal_with_bench_view()`, the portal with this module as its URLconf.

Before timing, both pairs are checked: equal JSON bodies over HTTP, and (in process) the
same SQL for both needs lists. Each URL is measured for --seconds in all, in --rounds wrk
runs, an API run and its view's run back to back (in alternating order), with the same
connections and duration: load from elsewhere on the machine falls on both alike, and a
run pair hit by a burst of it shows as an outlier, which the median leaves out.

    apt-get install wrk   # once
    .venv/bin/python bench/api_read.py [--seconds 10] [--connections 16] [--workers 2]

Ends with one line, each ratio the API's requests per second over its view's (the median
over the run pairs):
need_state_ratio=R needs_list_ratio=R
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import urllib.request
from base64 import b64encode
from statistics import fmean, median
from urllib import parse

AREA_PAGE_SIZE = 50


# --- served by the bench's gunicorn only --------------------------------------------------


def needs_list(request):
    """GET /bench/needs/?area=<id or code>&page_size=<n>: the first page of
    GET /api/v1/needs/?area=...&page_size=... as a plain Django view serves it: the area, then
    one page of its needs (newest first, one more to know whether a page follows), written
    as the API writes them."""
    from django.db.models import F
    from django.http import JsonResponse
    from django.utils import timezone

    from api.filters import area_by_ref
    from locations.models import Need

    size = int(request.GET.get("page_size", AREA_PAGE_SIZE))
    area = area_by_ref(request.GET["area"])
    needs = (
        Need.objects.select_related("area", "donation_form")
        .defer("area__geometry", "area__display_geometry", "area__source_properties")
        .alias(remaining=F("quantity_needed") - F("quantity_claimed"))
        .order_by("-pk")
    )
    needs = needs.none() if area is None else needs.in_area(area)
    rows = list(needs[: size + 1])
    page = rows[:size]
    following = None
    if len(rows) > size:
        cursor = b64encode(parse.urlencode({"p": str(page[-1].pk)}).encode()).decode()
        scheme, netloc, here, query, fragment = parse.urlsplit(request.build_absolute_uri())
        params = {**parse.parse_qs(query, keep_blank_values=True), "cursor": [cursor]}
        query = parse.urlencode(sorted(params.items()), doseq=True)
        following = parse.urlunsplit((scheme, netloc, here, query, fragment))
    today, now = timezone.localdate(), timezone.now()
    body = {
        "next": following,
        "previous": None,
        "results": [need_json(need, today, now) for need in page],
    }
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


def need_json(need, today, now) -> dict:
    from django.utils import timezone

    area = need.area
    value = need.unit_value_idr
    return {
        "id": need.pk,
        "area": {"id": area.pk, "code": area.code, "name": area.name, "level": area.level},
        "site": need.site_id,
        "program": need.program_id,
        "donation_form": need.donation_form_id,
        "unit": need.donation_form.unit,
        "quantity_needed": need.quantity_needed,
        "quantity_claimed": need.quantity_claimed,
        "quantity_delivered": need.quantity_delivered,
        "quantity_remaining": need.quantity_remaining,
        "unit_value_idr": None if value is None else f"{value:f}",
        "priority": need.priority,
        "households": need.households,
        "persons": need.persons,
        "description": need.description,
        "assessed_by_role": need.assessed_by_role,
        "assessed_at": timezone.localtime(need.assessed_at).isoformat(),
        "valid_until": need.valid_until.isoformat(),
        "status": need.status,
        "is_open": need.is_open(today),
        "is_stale": need.is_stale(now),
        "version": need.version,
        "updated_at": timezone.localtime(need.updated_at).isoformat(),
    }


def __getattr__(name: str):
    """`urlpatterns`: this module is the URLconf of the bench's gunicorn (and of
    same_queries), the view above and the portal's URLs, built when Django first asks."""
    if name != "urlpatterns":
        raise AttributeError(name)
    from django.urls import include, path

    patterns = [path("bench/needs/", needs_list), path("", include("ksbb.urls"))]
    globals()["urlpatterns"] = patterns
    return patterns


def portal_with_bench_view():
    """gunicorn's application (bench.api_read:portal_with_bench_view()): ksbb.wsgi's, with
    this module as the URLconf."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.ROOT_URLCONF = "bench.api_read"
    return application


# --- the bench ------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per URL, in all")
    parser.add_argument(
        "--rounds", type=int, default=0, help="wrk runs per URL (0: one per 2 seconds)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk per URL first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    args.rounds = args.rounds or max(1, args.seconds // 2)
    if args.seconds < 1 or not 1 <= args.rounds <= args.seconds:
        parser.error("--seconds must be at least 1, --rounds from 1 to --seconds")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    return args


def serve(database: str, *, workers: int):
    """common.serve, serving portal_with_bench_view() instead of ksbb.wsgi."""
    import common

    unlimited = "1000000/s"
    # Counted for real, over a one-second window: a minute's window at this rate would make
    # each request (un)pickle a history of every request of the last minute.
    return common.serve(
        database,
        workers=workers,
        app="bench.api_read:portal_with_bench_view()",
        API_THROTTLE_ANON=unlimited,
        API_THROTTLE_USER=unlimited,
    )


def fetched_json(url: str):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return json.loads(body), len(body)


def same_json(api_url: str, view_url: str) -> int:
    """Both URLs answer the same JSON (else the bench stops); returns its size in bytes."""
    api, size = fetched_json(api_url)
    view, _ = fetched_json(view_url)
    if api != view:
        raise SystemExit(f"{api_url} and {view_url} answer different JSON")
    return size


def same_queries(api_path: str, view_path: str) -> int:
    """In process: both needs lists run the same SQL (else the bench stops); returns how
    many statements."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    def statements(url: str) -> list[str]:
        seen: list[str] = []

        def record(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with override_settings(ROOT_URLCONF=__name__), connection.execute_wrapper(record):
            response = Client(SERVER_NAME="127.0.0.1").get(url)
        assert response.status_code == 200, (url, response.status_code)
        return [sql for sql in seen if "locations_" in sql]

    api, view = statements(api_path), statements(view_path)
    if api != view:
        raise SystemExit(f"{api_path} and {view_path} run different SQL:\n{api}\n{view}")
    return len(api)


def measure(pairs: dict[str, tuple[str, str]], args) -> dict[str, tuple[list, list]]:
    """Requests per second of each pair's (API, view) in each of `args.rounds` runs, the two
    of a pair back to back, which one first alternating."""
    from common import wrk

    for api_url, view_url in pairs.values():  # warm every worker (and its cache)
        for url in (api_url, view_url):
            if args.warmup:
                wrk(url, args.warmup, args.connections)
    seconds = args.seconds // args.rounds
    rates = {name: ([], []) for name in pairs}
    for round_number in range(args.rounds):
        for name, urls in pairs.items():
            order = (0, 1) if round_number % 2 == 0 else (1, 0)
            for side in order:
                rates[name][side].append(wrk(urls[side], seconds, args.connections))
    return rates


def main() -> None:
    args = arguments()
    from common import setup_django

    database = setup_django()
    try:
        run(args, database)
    finally:
        if not os.environ.get("DATABASE_URL"):  # the throw-away SQLite file and its folder
            shutil.rmtree(os.path.dirname(database), ignore_errors=True)


def run(args, database: str) -> None:
    from common import load_data

    load_data()
    from django.urls import reverse

    from locations.models import Area, Need

    kelurahan = (
        Area.objects.filter(level="kelurahan", children__needs__status="open")
        .order_by("code")
        .first()
    )
    needs = Need.objects.in_area(kelurahan).count()
    query = f"?area={kelurahan.code}&page_size={AREA_PAGE_SIZE}"
    paths = {
        "need_state": ("/api/v1/need-state/rw/", reverse("map-need-state", args=["rw"])),
        "needs_list": (f"/api/v1/needs/{query}", f"/bench/needs/{query}"),
    }
    statements = same_queries(*paths["needs_list"])
    server, base = serve(database, workers=args.workers)
    try:
        pairs = {name: (base + api, base + view) for name, (api, view) in paths.items()}
        sizes = {name: same_json(*urls) for name, urls in pairs.items()}
        rps = measure(pairs, args)
    finally:
        server.terminate()
        server.wait(timeout=10)
    mean = {name: (fmean(api), fmean(view)) for name, (api, view) in rps.items()}
    spread = {
        name: sorted(a / v for a, v in zip(api, view, strict=True))
        for name, (api, view) in rps.items()
    }
    print(
        f"need state, RW level ({sizes['need_state']} bytes of JSON): "
        f"api {mean['need_state'][0]:.1f} requests/s, map view {mean['need_state'][1]:.1f}"
    )
    print(
        f"needs list, kelurahan {kelurahan.code} ({kelurahan.name}: {needs} needs, "
        f"{statements} queries, {sizes['needs_list']} bytes of JSON): "
        f"api {mean['needs_list'][0]:.1f} requests/s, plain view {mean['needs_list'][1]:.1f}"
    )
    print(
        f"(wrk: {args.connections} connections, {args.seconds} s per URL in {args.rounds} "
        f"runs; gunicorn: {args.workers} sync workers; ratio of each run pair, lowest to "
        f"highest: need state {spread['need_state'][0]:.2f}-{spread['need_state'][-1]:.2f}, "
        f"needs list {spread['needs_list'][0]:.2f}-{spread['needs_list'][-1]:.2f})"
    )
    ratios = {name: median(pair_ratios) for name, pair_ratios in spread.items()}
    line = " ".join(f"{name}_ratio={ratios[name]:.2f}" for name in ("need_state", "needs_list"))
    print(line)


if __name__ == "__main__":
    main()
