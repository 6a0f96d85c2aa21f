"""What the needs map downloads, built for slow connections.

Geometry and need state are separate responses. A level's geometry changes only when
boundaries are imported, so it is built once (`map_layer_rebuild`), stored gzip-compressed
in MapLayer and served under a versioned URL with a year-long cache. The need state is a
small JSON keyed by area code, computed per filter, cached until needs change
(`needs_changed` bumps a version kept in the cache) and served with an ETag.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy
from shapely.geometry import shape

from programs.models import DonationForm

from .models import Area, AreaIndicator, MapLayer, Need
from .topology import QUANTIZATION_BY_LEVEL, encode_topojson

MAP_LEVELS = [Area.Level.RW, Area.Level.KELURAHAN, Area.Level.KECAMATAN]
LEVEL_DEPTH = {level: index for index, level in enumerate(Area.LEVEL_ORDER)}
NEEDS_VERSION_KEY = "map:needs-version"
NEED_STATE_TTL = 300  # seconds; a safety net, since every write through the app bumps the version
NEED_STATE_FIELDS = [
    "value",  # remaining value of open needs, IDR (needs without a unit value count 0)
    "qty",  # remaining quantity, in each need's own unit
    "hh",  # households to benefit
    "needs",  # number of need lines
    "form",  # index into `forms` of the headline need (highest priority, most remaining)
    "form_qty",  # remaining quantity of the headline need
    "age",  # days since the most recent assessment
]


def compress(data: bytes) -> bytes:
    # mtime=0: the same content always gives the same bytes (and the same ETag).
    return gzip.compress(data, compresslevel=9, mtime=0)


def to_json_bytes(data) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


# --- geometry ------------------------------------------------------------------------------


def map_layer_rebuild(level: str) -> MapLayer | None:
    """Rebuild the served geometry of a level from the areas' display geometries.

    Keeps the row untouched when the content is the same, so re-imports change nothing.
    """
    areas = (
        Area.objects.filter(level=level, display_geometry__isnull=False)
        .select_related("parent")
        .only("code", "name", "level", "is_residential", "display_geometry", "parent__name")
        .order_by("code")
    )
    features = []
    for area in areas:
        properties = {"n": area.display_name}
        if not area.is_residential:
            properties["z"] = 1  # a zone without residents: drawn, never shaded as in need
        features.append((area.code, shape(area.display_geometry), properties))
    if not features:
        MapLayer.objects.filter(level=level).delete()
        return None
    raw = to_json_bytes(encode_topojson(features, quantization=QUANTIZATION_BY_LEVEL[level]))
    version = hashlib.sha256(raw).hexdigest()[:16]
    layer = MapLayer.objects.filter(level=level).first()
    if layer is not None and layer.version == version:
        return layer
    layer, _ = MapLayer.objects.update_or_create(
        level=level,
        defaults={
            "version": version,
            "payload_gzip": compress(raw),
            "size_bytes": len(raw),
            "feature_count": len(features),
            "built_at": timezone.now(),
        },
    )
    cache.delete(_layer_cache_key(level))
    return layer


def _layer_cache_key(level: str) -> str:
    return f"map:layer:{level}"


@dataclass(frozen=True)
class ServedLayer:
    level: str
    version: str
    payload_gzip: bytes


def served_layer(level: str) -> ServedLayer | None:
    """The current geometry of a level, from the cache (falling back to the database)."""
    key = _layer_cache_key(level)
    layer = cache.get(key)
    if layer is None:
        row = MapLayer.objects.filter(level=level).first()
        if row is None:
            return None
        layer = ServedLayer(level, row.version, bytes(row.payload_gzip))
        cache.set(key, layer, timeout=3600)
    return layer


def layer_versions() -> dict[str, str]:
    return dict(MapLayer.objects.values_list("level", "version"))


# --- need state ----------------------------------------------------------------------------


def needs_changed() -> None:
    """Call after any change to needs or their claimed quantities (after commit)."""
    try:
        cache.incr(NEEDS_VERSION_KEY)
    except ValueError:
        cache.set(NEEDS_VERSION_KEY, 1, timeout=None)


def needs_version() -> int:
    version = cache.get(NEEDS_VERSION_KEY)
    if version is None:
        cache.add(NEEDS_VERSION_KEY, 1, timeout=None)
        version = cache.get(NEEDS_VERSION_KEY, 1)
    return version


@dataclass(frozen=True)
class NeedFilter:
    program: int | None = None
    donation_form: int | None = None
    priority: int | None = None
    open_only: bool = True
    fresh_days: int | None = None

    def key(self) -> str:
        return (
            f"p{self.program or ''}f{self.donation_form or ''}r{self.priority or ''}"
            f"o{int(self.open_only)}d{self.fresh_days or ''}"
        )

    def apply(self, needs, today: datetime.date):
        if self.program:
            needs = needs.filter(program_id=self.program)
        if self.donation_form:
            needs = needs.filter(donation_form_id=self.donation_form)
        if self.priority:
            needs = needs.filter(priority=self.priority)
        if self.open_only:
            needs = needs.open(today)
        if self.fresh_days:
            since = timezone.now() - datetime.timedelta(days=self.fresh_days)
            needs = needs.filter(assessed_at__gte=since)
        return needs


@dataclass(frozen=True)
class ServedState:
    etag: str
    payload_gzip: bytes


def served_need_state(level: str, need_filter: NeedFilter) -> ServedState:
    key = f"map:needs:{needs_version()}:{level}:{need_filter.key()}"
    state = cache.get(key)
    if state is None:
        raw = to_json_bytes(need_state(level, need_filter))
        state = ServedState('"' + hashlib.sha256(raw).hexdigest()[:20] + '"', compress(raw))
        cache.set(key, state, timeout=NEED_STATE_TTL)
    return state


def need_state(level: str, need_filter: NeedFilter, today: datetime.date | None = None) -> dict:
    """Per area of `level`: remaining value and quantity, households, need lines, the
    headline need and the age of the latest assessment, rolled up from the RW / kelurahan
    needs below it. Areas without matching needs are absent."""
    today = today or timezone.localdate()
    now = timezone.now()
    depth = LEVEL_DEPTH[level]
    forms = {
        f.pk: f
        for f in DonationForm.objects.only("pk", "name_id", "name_en", "unit", "unit_value_idr")
    }
    form_index: dict[int, int] = {}
    needs = need_filter.apply(Need.objects.all(), today).values_list(
        "area__path",
        "donation_form_id",
        "quantity_needed",
        "quantity_claimed",
        "unit_value_idr",
        "households",
        "priority",
        "assessed_at",
    )
    areas: dict[str, list] = {}
    households_by_area: dict[str, int] = {}
    for path, form_id, needed, claimed, unit_value, households, priority, assessed in needs:
        codes = path.split("/")
        if len(codes) <= depth:
            continue  # a need above this level (none today) is not drawn at this level
        code = codes[depth]
        remaining = needed - claimed
        form = forms[form_id]
        if form.unit == DonationForm.Unit.IDR:
            value = remaining
        else:
            per_unit = unit_value if unit_value is not None else form.unit_value_idr
            value = remaining * int(per_unit or Decimal(0))
        entry = areas.get(code)
        if entry is None:
            entry = areas[code] = [0, 0, 0, 0, None, 0, None, (9, 0)]
        entry[0] += value
        entry[1] += remaining
        entry[3] += 1
        headline = (priority, -remaining)
        if headline < entry[7]:
            entry[7] = headline
            entry[4] = form_index.setdefault(form_id, len(form_index))
            entry[5] = remaining
        age = max(0, (now - assessed).days)
        entry[6] = age if entry[6] is None else min(entry[6], age)
        # The same households are behind several need lines of one RW: count them once
        # per RW (the largest figure), then add RWs up.
        if households:
            households_by_area[path] = max(households_by_area.get(path, 0), households)
    for path, households in households_by_area.items():
        areas[path.split("/")[depth]][2] += households
    ordered_forms = sorted(form_index.items(), key=lambda item: item[1])
    return {
        "level": level,
        "fields": NEED_STATE_FIELDS,
        "forms": [
            [forms[pk].name_id, forms[pk].name_en, forms[pk].unit] for pk, _ in ordered_forms
        ],
        "areas": {code: entry[:7] for code, entry in sorted(areas.items())},
    }


@transaction.atomic
def map_layers_rebuild(levels: list[str] | None = None) -> list[MapLayer]:
    layers = [map_layer_rebuild(level) for level in (levels if levels is not None else MAP_LEVELS)]
    return [layer for layer in layers if layer is not None]


# --- indicator layers ----------------------------------------------------------------------

INDICATORS_VERSION_KEY = "map:indicators-version"
# An indicator with at most this many distinct values, each with its own label (flood
# states), is drawn by class with those labels; any other by quantiles.
INDICATOR_CLASSES_MAX = 6
# Titles of the indicators the portal ships (locations.jakarta); an uploaded indicator is
# titled by its label.
INDICATOR_TITLES = {
    "population": gettext_lazy("Population"),
    "population-density": gettext_lazy("Population density"),
    "flood-state": gettext_lazy("Flood state (PetaJakarta)"),
}


# Whole-population values: no breakdown, or a breakdown by sex that counts everyone (the
# education table's "sex=all").
WHOLE_AREA = ("", "sex=all")


def _kota_rows_by_kecamatan(indicator: str) -> list[tuple]:
    """A kota-level indicator (the education table) on the map's coarsest level: each
    kecamatan shows its kota's value; the legend's source says so."""
    kota_rows = AreaIndicator.objects.filter(
        indicator=indicator, breakdown__in=WHOLE_AREA, area__level=Area.Level.KOTA
    ).values_list("area__code", "period", "value", "label", "unit", "source")
    by_kota: dict[str, list[tuple]] = {}
    for code, *rest in kota_rows:
        by_kota.setdefault(code, []).append(tuple(rest))
    by_kota_note = gettext("by kota")
    return sorted(
        (code, period, value, label, unit, f"{source} ({by_kota_note})")
        for code, kota in Area.objects.filter(level=Area.Level.KECAMATAN).values_list(
            "code", "parent__code"
        )
        for period, value, label, unit, source in by_kota.get(kota, [])
    )


def indicators_changed() -> None:
    """Call after indicators are written (after commit): the map's layers are rebuilt."""
    try:
        cache.incr(INDICATORS_VERSION_KEY)
    except ValueError:
        cache.set(INDICATORS_VERSION_KEY, 1, timeout=None)


def indicators_version() -> int:
    version = cache.get(INDICATORS_VERSION_KEY)
    if version is None:
        cache.add(INDICATORS_VERSION_KEY, 1, timeout=None)
        version = cache.get(INDICATORS_VERSION_KEY, 1)
    return version


def _indicator_title(indicator: str, labels: Counter) -> str:
    if indicator in INDICATOR_TITLES:
        return str(INDICATOR_TITLES[indicator])
    return gettext(labels.most_common(1)[0][0]) if len(labels) == 1 else indicator


def indicator_layers() -> list[dict]:
    """The indicators the map can draw: whole-area values (no breakdown) at a map level,
    one entry per indicator, level and period. One GROUP BY over a few thousand rows: not
    cached, so the map page costs the same queries whatever the cache holds."""
    rows = (
        AreaIndicator.objects.filter(
            breakdown__in=WHOLE_AREA, area__level__in=[*MAP_LEVELS, Area.Level.KOTA]
        )
        .values_list("indicator", "area__level", "period", "label")
        .annotate(count=Count("pk"))
    )
    grouped: dict[tuple, dict] = {}
    for indicator, level, period, label, count in rows:
        level = Area.Level.KECAMATAN if level == Area.Level.KOTA else level  # drawn by kecamatan
        entry = grouped.setdefault((indicator, level), {"periods": set(), "labels": Counter()})
        entry["periods"].add(period)
        entry["labels"][label] += count
    layers = [
        {
            "indicator": indicator,
            "level": level,
            "period": period,
            "title": _indicator_title(indicator, entry["labels"]),
        }
        for (indicator, level), entry in sorted(
            grouped.items(), key=lambda item: (LEVEL_DEPTH[item[0][1]], item[0][0])
        )
        for period in sorted(entry["periods"], reverse=True)
    ]
    return layers


def indicator_state(level: str, indicator: str) -> dict | None:
    """Per area of `level`: the indicator's value in each period (null where the source has
    none), with what a legend needs (title, unit, source, classes). None if there is none."""
    rows = list(
        AreaIndicator.objects.filter(
            indicator=indicator, breakdown__in=WHOLE_AREA, area__level=level
        )
        .order_by("area__code", "period")
        .values_list("area__code", "period", "value", "label", "unit", "source")
    )
    if not rows and level == Area.Level.KECAMATAN:
        rows = _kota_rows_by_kecamatan(indicator)
    if not rows:
        return None
    periods = sorted({row[1] for row in rows})
    column = {period: index for index, period in enumerate(periods)}
    areas: dict[str, list] = {}
    labels, units, sources = {}, Counter(), Counter()
    for code, period, value, label, unit, source in rows:
        areas.setdefault(code, [None] * len(periods))[column[period]] = float(value)
        labels.setdefault(float(value), Counter())[label] += 1
        units[unit] += 1
        sources[source] += 1
    by_value = {value: counter.most_common(1)[0][0] for value, counter in labels.items()}
    classes = []
    if len(by_value) <= INDICATOR_CLASSES_MAX and len(set(by_value.values())) == len(by_value):
        classes = [[value, gettext(label)] for value, label in sorted(by_value.items())]
    all_labels = Counter({label: n for counter in labels.values() for label, n in counter.items()})
    return {
        "level": level,
        "indicator": indicator,
        "title": _indicator_title(indicator, all_labels),
        "unit": gettext(units.most_common(1)[0][0]),
        "source": "; ".join(source for source, _n in sources.most_common(3)),
        "periods": periods,
        "classes": classes,
        "areas": areas,
    }


def served_indicator_state(level: str, indicator: str) -> ServedState | None:
    key = f"map:indicator:{indicators_version()}:{get_language()}:{level}:{indicator}"
    state = cache.get(key)
    if state is None:
        data = indicator_state(level, indicator)
        if data is None:
            return None
        raw = to_json_bytes(data)
        state = ServedState('"' + hashlib.sha256(raw).hexdigest()[:20] + '"', compress(raw))
        cache.set(key, state, timeout=NEED_STATE_TTL)
    return state
