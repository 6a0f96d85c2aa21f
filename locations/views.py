"""The needs map: its page and the data it downloads (geometry, need state, sites, search)."""

from __future__ import annotations

import gzip

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from django.views.decorators.http import require_GET

from ksbb.bounds import BIGINT_MAX
from ksbb.text import other_language
from programs.models import Program

from . import map_palette
from .mapdata import (
    MAP_LEVELS,
    NeedFilter,
    indicator_layers,
    indicators_version,
    layer_versions,
    needs_version,
    served_indicator_state,
    served_layer,
    served_need_state,
)
from .models import Area, Need, Site, area_geometry_deferred
from .search import area_by_code, search_areas
from .signals import sites_cache_key

GEOMETRY_CACHE_CONTROL = "public, max-age=31536000, immutable"
NEED_STATE_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60"
FRESH_DAYS_MAX = 3650


def accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "")


def compressed_response(
    request: HttpRequest,
    payload_gzip: bytes,
    *,
    content_type: str,
    cache_control: str,
    etag: str | None = None,
) -> HttpResponse:
    """Serve bytes compressed once, ahead of time; decompress only for the rare client
    that does not take gzip."""
    if etag and etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    elif accepts_gzip(request):
        response = HttpResponse(payload_gzip, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(payload_gzip), content_type=content_type)
    response["Cache-Control"] = cache_control
    response["Vary"] = "Accept-Encoding"
    if etag:
        response["ETag"] = etag
    return response


def parse_need_filter(params) -> NeedFilter:
    """Filters from query parameters; anything unreadable is ignored, never an error."""

    def positive_int(name: str, limit: int = BIGINT_MAX) -> int | None:
        try:
            value = int(params.get(name, ""))
        except ValueError:
            return None
        return value if 0 < value <= limit else None

    priority = positive_int("priority")
    return NeedFilter(
        program=positive_int("program"),
        donation_form=positive_int("form"),
        priority=priority if priority in Need.Priority.values else None,
        open_only=params.get("open", "1") != "0",
        # Older than this is no filter at all; far more would overflow date arithmetic.
        fresh_days=positive_int("fresh", limit=FRESH_DAYS_MAX),
    )


def _map_level(level: str) -> str:
    if level not in MAP_LEVELS:
        raise Http404("No map at this level")
    return level


@require_GET
def map_geometry(request: HttpRequest, level: str, version: str) -> HttpResponse:
    layer = served_layer(_map_level(level))
    if layer is None:
        raise Http404("This level has no areas loaded")
    if version != layer.version:
        # An old page asks for a replaced version: send it to the current one.
        response = redirect("map-geometry", level=level, version=layer.version)
        response["Cache-Control"] = "no-cache"
        return response
    return compressed_response(
        request,
        layer.payload_gzip,
        content_type="application/json",
        cache_control=GEOMETRY_CACHE_CONTROL,
        etag=f'"{layer.version}"',
    )


def need_state_response(request, level: str, need_filter: NeedFilter) -> HttpResponse:
    """The need state of a level under a filter, gzipped with its ETag: the map's and the
    API's answer alike (same bytes)."""
    state = served_need_state(level, need_filter)
    return compressed_response(
        request,
        state.payload_gzip,
        content_type="application/json",
        cache_control=NEED_STATE_CACHE_CONTROL,
        etag=state.etag,
    )


@require_GET
def map_need_state(request: HttpRequest, level: str) -> HttpResponse:
    return need_state_response(request, _map_level(level), parse_need_filter(request.GET))


@require_GET
def map_indicator_state(request: HttpRequest, level: str, indicator: str) -> HttpResponse:
    """An indicator's values per area of a level, drawn as an optional map layer."""
    state = served_indicator_state(_map_level(level), indicator)
    if state is None:
        raise Http404("No such indicator at this level")
    return compressed_response(
        request,
        state.payload_gzip,
        content_type="application/json",
        cache_control=NEED_STATE_CACHE_CONTROL,
        etag=state.etag,
    )


@require_GET
def map_sites(request: HttpRequest) -> HttpResponse:
    key = sites_cache_key(get_language())
    payload = cache.get(key)
    if payload is None:
        sites = [
            {"id": pk, "k": kind, "n": name, "a": code, "x": lon, "y": lat}
            for pk, kind, name, code, lon, lat in Site.objects.order_by("pk").values_list(
                "pk", "kind", "name", "area__code", "lon", "lat"
            )
        ]
        payload = {"kinds": {k: str(label) for k, label in Site.Kind.choices}, "sites": sites}
        cache.set(key, payload, timeout=300)
    response = JsonResponse(payload)
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def area_search(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "").strip()[:80]
    results = search_areas(query) if len(query) >= 2 else []
    return JsonResponse({"query": query, "results": results})


def needs_map(request: HttpRequest) -> HttpResponse:
    layers = _map_layers()
    programs = Program.objects.prefetch_related("donation_forms")
    need_filter = parse_need_filter(request.GET)
    # Without JavaScript the page still lists where help is needed, with the same filters.
    top = (
        need_filter.apply(Need.objects.all(), timezone.localdate())
        .select_related("area", "area__parent", "donation_form")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .order_by("priority", "-quantity_needed")[:25]
    )
    indicators = _map_indicators(layers)
    map_config = _map_config(request, layers, indicators)
    focus = map_config["focus"]
    # The layer the page opens at: the focused area's, or the first.
    opening = [layer for layer in layers if focus and layer["level"] == focus["level"]] or layers
    return render(
        request,
        "locations/needs_map.html",
        {
            "map_config": map_config,
            # Fetched by the page's script; named in the page's head so that it starts
            # downloading before the scripts that ask for it have arrived.
            "preload_geometry_url": opening[0]["geometry_url"] if opening else None,
            "layers": layers,
            "indicators": indicators,
            "programs": programs,
            "priorities": Need.Priority.choices,
            "need_filter": need_filter,
            "top_needs": top,
            "fresh_choices": [(30, 30), (90, 90), (180, 180)],
        },
    )


def _map_layers() -> list[dict]:
    """The map's levels that have a geometry layer, with their geometry and need-state URLs."""
    versions = layer_versions()
    return [
        {
            "level": level,
            "label": Area.Level(level).label,
            "geometry_url": reverse(
                "map-geometry", kwargs={"level": level, "version": versions[level]}
            ),
            "state_url": reverse("map-need-state", kwargs={"level": level}),
        }
        for level in MAP_LEVELS
        if level in versions
    ]


def _map_indicators(layers: list[dict]) -> list[dict]:
    """The indicator layers of the map's levels, each with its label and state URL."""
    level_labels = {layer["level"]: layer["label"] for layer in layers}
    return [
        {
            **entry,
            "label": gettext("%(title)s per %(level)s, %(period)s")
            % {
                "title": entry["title"],
                "level": level_labels[entry["level"]],
                "period": entry["period"],
            },
            # lang="id" on the title of Indonesian data on an English page (and back).
            "title_lang": other_language(entry["title"]),
            "url": reverse(
                "map-indicator-state",
                kwargs={"level": entry["level"], "indicator": entry["indicator"]},
            ),
        }
        for entry in indicator_layers()
        if entry["level"] in level_labels
    ]


def _map_config(request: HttpRequest, layers: list[dict], indicators: list[dict]) -> dict:
    """The settings the map's script reads: layers, versions, URLs, focus and strings."""
    return {
        "layers": layers,
        # Optional layers shading the map by an indicator instead of the needs; each JSON
        # is fetched once, geometry is shared with the needs.
        "indicators": indicators,
        "indicatorsVersion": indicators_version(),
        # In the need-state URL: a page rendered after a change never reads an older copy
        # from the browser's cache.
        "needsVersion": needs_version(),
        "lang": get_language() or "id",
        "tiles": {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION},
        "panelUrl": reverse("area-panel", kwargs={"code": "__code__"}),
        "searchUrl": reverse("area-search"),
        "sitesUrl": reverse("map-sites"),
        # ?wilayah=<code> (the area pages' "See it on the needs map") opens on that area;
        # a code that names no area is ignored.
        "focus": area_by_code(request.GET.get("wilayah", "")),
        "strings": _map_strings(),
        # Colours and fill opacity of the needs and indicator layers (locations.map_palette:
        # 3:1 as drawn).
        "palette": map_palette.palette(),
    }


def _map_strings() -> dict:
    """The map script's texts in the page's language."""
    return {
        "noNeed": gettext("No open need"),
        "noResidents": gettext("No residents (cemetery, industrial estate...)"),
        "remaining": gettext("remaining"),
        # [singular, plural]: the page picks one by the count (Indonesian and English
        # have no other plural forms).
        "moreNeeds": [
            ngettext("and %(count)s more need", "and %(count)s more needs", n) for n in (1, 2)
        ],
        "areasShaded": [
            ngettext("%(count)s area with needs", "%(count)s areas with needs", n) for n in (1, 2)
        ],
        "loadFailed": gettext("The map data could not be loaded. Check your connection."),
        "noResults": gettext("No area found"),
        "sitesHere": [
            ngettext(
                "%(count)s institution here: zoom in",
                "%(count)s institutions here: zoom in",
                n,
            )
            for n in (1, 2)
        ],
        "showArea": gettext("Show %(name)s"),
        "noData": gettext("No data"),
        "areasWithData": [
            ngettext("%(count)s area with data", "%(count)s areas with data", n) for n in (1, 2)
        ],
        "source": gettext("Source"),
    }
