"""Find the parent of an imported area one level up: by any code the parent stores, or by
the largest overlap of their shapes.

Codes: a parent is looked up by its Kemendagri code, then by its BPS code or its code
without dots (`3471011001` finds `34.71.01.1001`); a value that finds two different areas
that way is ambiguous and finds none.

Overlap: the candidates are the parent-level areas whose bbox columns meet the child's
bbox (one query, then an STRtree: no scan of all pairs); the parent is the one holding
the largest share of the child's area. Shares are ratios of areas within one child, so a
local equal-area projection (longitudes scaled by cos(latitude)) multiplies numerator and
denominator alike: they are computed on the lon/lat shapes directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from .models import Area

# A child is reported when its parent holds less than this share of it...
CLEAR_SHARE = 0.9
# ...or when the next candidate's share comes within this many points of the best one.
CLOSE_MARGIN = 0.1
CODE_FORMAT = re.compile(r"^[1-9]\d?(\.[1-9]\d?)*$")


def parse_code_format(text: str) -> tuple[int, ...]:
    """'2.2.2.4.3' -> (2, 2, 2, 4, 3): the digit groups of a code, joined by dots."""
    if not CODE_FORMAT.match(text.strip()):
        raise ValueError(
            f"--code-format {text!r}: give the sizes of the digit groups joined by dots, "
            "e.g. 2.2.2.4.3 turns 3471011001005 into 34.71.01.1001.005"
        )
    return tuple(int(size) for size in text.strip().split("."))


def format_code(code: str, groups: tuple[int, ...]) -> str | None:
    """The code's digits regrouped (dots already there are ignored), or None if it does not
    fit: not all digits, or another number of them."""
    digits = code.replace(".", "")
    if not digits.isdigit() or len(digits) != sum(groups):
        return None
    parts, start = [], 0
    for size in groups:
        parts.append(digits[start : start + size])
        start += size
    return ".".join(parts)


class ParentLookup:
    """The loaded areas of one level by every code they store."""

    def __init__(self, level: str):
        rows = Area.objects.filter(level=level).values_list("code", "bps_code")
        self.codes: set[str] = set()
        self.other_keys: dict[str, set[str]] = {}
        for code, bps_code in rows:
            self.codes.add(code)
            for key in {bps_code, code.replace(".", "")} - {"", code}:
                self.other_keys.setdefault(key, set()).add(code)

    def __len__(self) -> int:
        return len(self.codes)

    def find(self, value: str) -> tuple[str | None, str]:
        """(the parent's code, "") or (None, why not)."""
        if value in self.codes:
            return value, ""
        found = self.other_keys.get(value) or self.other_keys.get(value.replace(".", ""), set())
        if len(found) == 1:
            return next(iter(found)), ""
        if found:
            return None, f"parent {value} matches several areas: {', '.join(sorted(found))}"
        return None, ""


@dataclass
class Placement:
    parent_code: str | None
    share: float = 0.0  # of the child's area inside its parent
    runner_up: str | None = None
    runner_up_share: float = 0.0

    @property
    def ambiguous(self) -> bool:
        return self.parent_code is not None and (
            self.share < CLEAR_SHARE or self.share - self.runner_up_share < CLOSE_MARGIN
        )

    def describe(self) -> str:
        text = f"placed in {self.parent_code}, which holds {self.share:.0%} of it"
        if self.runner_up:
            text += f"; next {self.runner_up} holds {self.runner_up_share:.0%}"
        return text


def place_by_overlap(geometries: dict[str, BaseGeometry], level: str) -> dict[str, Placement]:
    """Each child (code -> shape) under the area of `level` overlapping most of it."""
    if not geometries:
        return {}
    min_x, min_y, max_x, max_y = shapely.total_bounds(list(geometries.values()))
    parents = list(
        Area.objects.filter(
            level=level,
            max_lon__gte=min_x,
            min_lon__lte=max_x,
            max_lat__gte=min_y,
            min_lat__lte=max_y,
        )
        .with_geometry()
        .only("code", "geometry")
    )
    shapes = [shapely.geometry.shape(p.geometry) for p in parents if p.geometry]
    codes = [p.code for p in parents if p.geometry]
    tree = STRtree(shapes)
    return {
        code: _placement(geometry, tree.query(geometry), shapes, codes)
        for code, geometry in geometries.items()
    }


def _placement(
    child: BaseGeometry, candidates: Iterable[int], shapes: list, codes: list[str]
) -> Placement:
    size = child.area or 1.0
    shares = sorted(
        ((shapes[i].intersection(child).area / size, codes[i]) for i in candidates), reverse=True
    )
    shares = [(share, code) for share, code in shares if share > 0]
    if not shares:
        return Placement(parent_code=None)
    (best, best_code), *rest = shares
    runner_up_share, runner_up = rest[0] if rest else (0.0, None)
    return Placement(best_code, best, runner_up, runner_up_share)
