"""Find an area by name or code: "Kali Anyar", "kalianyar", "31.73.04.1002",
"RW 5 Kali Anyar", "kali anyar rw 05"."""

from __future__ import annotations

import re

from django.core.cache import cache

from .models import Area

SEARCH_INDEX_KEY = "areas:search-index"
RW_QUERY = re.compile(r"\brw\s*0*(\d{1,3})\b", re.IGNORECASE)
LEVEL_RANK = {"kelurahan": 0, "kecamatan": 1, "kota": 2, "province": 3, "rw": 4}


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _index() -> list[tuple]:
    """(code, name, level, normalised name, parent name, bbox) of every area; a few hundred
    KB, cached, rebuilt when areas are imported."""
    index = cache.get(SEARCH_INDEX_KEY)
    if index is None:
        index = [
            (
                code,
                name,
                level,
                normalise(name),
                parent_name or "",
                (min_lon, min_lat, max_lon, max_lat),
            )
            for code, name, level, parent_name, min_lon, min_lat, max_lon, max_lat in (
                Area.objects.order_by("code").values_list(
                    "code",
                    "name",
                    "level",
                    "parent__name",
                    "min_lon",
                    "min_lat",
                    "max_lon",
                    "max_lat",
                )
            )
        ]
        cache.set(SEARCH_INDEX_KEY, index, timeout=3600)
    return index


def search_index_clear() -> None:
    cache.delete(SEARCH_INDEX_KEY)


def search_areas(query: str, limit: int = 10) -> list[dict]:
    query = query.strip()
    if not query:
        return []
    index = _index()
    rw_match = RW_QUERY.search(query)
    rw_number = int(rw_match.group(1)) if rw_match else None
    name_part = normalise(RW_QUERY.sub(" ", query)) if rw_match else normalise(query)
    scored = []
    for code, name, level, normalised, parent_name, bbox in index:
        if code.startswith(query):
            score = (0, len(code))
        elif rw_number is not None:
            if level != "rw" or not code.endswith(f".{rw_number:03d}"):
                continue
            parent = normalise(parent_name)
            if name_part and not parent.startswith(name_part) and name_part not in parent:
                continue
            score = (1 if parent == name_part else 2, len(parent))
        elif level == "rw" or not name_part:
            continue
        elif normalised == name_part:
            score = (1, LEVEL_RANK[level])
        elif normalised.startswith(name_part):
            score = (2, LEVEL_RANK[level])
        elif name_part in normalised:
            score = (3, LEVEL_RANK[level])
        else:
            continue
        scored.append((score, code, name, level, parent_name, bbox))
    scored.sort()
    return [
        _result(code, name, level, parent_name, bbox)
        for _, code, name, level, parent_name, bbox in scored[:limit]
    ]


def area_by_code(code: str) -> dict | None:
    """One area as a search result (what the map needs to fly to it), or None."""
    if not code:
        return None
    row = (
        Area.objects.filter(code=code)
        .values_list("name", "level", "parent__name", "min_lon", "min_lat", "max_lon", "max_lat")
        .first()
    )
    if row is None:
        return None
    name, level, parent_name, *bbox = row
    return _result(code, name, level, parent_name or "", tuple(bbox))


def _result(code: str, name: str, level: str, parent_name: str, bbox: tuple) -> dict:
    return {
        "code": code,
        "name": f"{name}, {parent_name}" if level == "rw" else name,
        "level": level,
        "level_label": str(Area.Level(level).label),
        "parent": parent_name,
        "bbox": bbox,
    }
