"""Topology-preserving simplification and TopoJSON encoding of a layer of areas.

The map draws a whole administrative level (e.g. all 2,698 Jakarta RWs) in one request, so
a layer is simplified as a whole: every border shared by two areas is cut out once as an
*arc*, simplified once, and reused by both areas, which therefore keep sharing it exactly
(no slivers, no overlaps). The same arcs make TopoJSON compact on the wire: each shared
border is stored once, quantized to integers and delta-encoded.

Arc extraction follows topojson-server: a vertex is a *junction* when the rings through it
do not all have the same two neighbours there; rings are cut at junctions, and arcs that are
identical forwards or backwards are one arc. That needs neighbours to share vertices with
identical coordinates; near misses (float noise, T-junctions) are snapped together first.
Borders that genuinely differ (overlapping or gapped inputs) stay separate arcs: they are
still checked against each other, but not guaranteed to match.

Only shapely 2 (GEOS) and numpy; everything hot is vectorised through them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

Areal = Polygon | MultiPolygon

__all__ = [
    "QUANTIZATION_BY_LEVEL",
    "TOLERANCE_BY_LEVEL",
    "decode_topojson",
    "encode_topojson",
    "iou",
    "simplify_layer",
]

# An arc's tolerance is capped at this fraction of sqrt(area) of the smallest ring using it.
# Douglas-Peucker moves a border by at most the tolerance, so a ring of size s changes area
# by at most ~4 * s * tol: 8% at 0.02 * s, typically a third of that, i.e. about min_iou.
SIZE_FRACTION = 0.02
# Each failed check halves the tolerance of the arcs involved; after this many halvings
# an arc is used unsimplified, which cannot fail (the input is valid), so the loop ends.
MAX_REDUCTIONS = 6
# Vertices of different rings closer than this (coordinate units; ~1 mm in degrees) become
# one vertex, and a vertex this close to another ring's segment is added to it: see _snap.
# Larger values start pinching the RW file's sub-centimetre slivers.
SNAP_DISTANCE = 1e-8
# DE-9IM: arcs may only meet at their end points (boundaries), never interior to anything.
_ARCS_DISJOINT_BUT_ENDS = "FF*F*****"

# Measured defaults (degrees) by Area.Level; see tests/test_topology.py. The RW file
# goes from 134k to 58k vertices (63k at 3e-5), 202 KB gzipped TopoJSON at encode_topojson's
# default grid, mean IoU 0.993. The Kemendagri files are coarse already (segments ~90 m),
# so simplification changes them little.
TOLERANCE_BY_LEVEL = {
    "rw": 4e-5,
    "kelurahan": 2e-4,
    "kecamatan": 2e-4,
    "kota": 2e-4,
    "province": 2e-4,
}
# Grid steps per axis of the served TopoJSON by level (encode_topojson's `quantization`).
# The RW layer is the needs map's biggest download, on phones over slow links: 25,000 steps
# over its 0.29 deg make a 1.3 m grid, under the 4.4 m simplification tolerance. With that
# tolerance it is 177 KB gzipped (209 KB at 3e-5 and 1e5 steps), mean IoU with the source
# 0.991, min 0.965 (bench/map_payload.py). Neighbours still all touch; 10 pairs whose
# source borders are not one arc overlap anew, by slivers under 0.6 m (1 pair at 1e5
# steps); coarser grids part neighbours. The other levels are small and keep the default.
QUANTIZATION_BY_LEVEL = {
    "rw": 25_000,
    "kelurahan": 100_000,
    "kecamatan": 100_000,
    "kota": 100_000,
    "province": 100_000,
}


def iou(a, b) -> float | np.ndarray:
    """Intersection over union of two areal geometries (1.0 for two empty geometries).

    Also accepts equal-length arrays of geometries and then returns an array.
    """
    inter = shapely.area(shapely.intersection(a, b))
    union = shapely.area(a) + shapely.area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 1.0)
    return float(out) if np.ndim(out) == 0 else out


# --- arc extraction ------------------------------------------------------------------------


@dataclass
class _Topology:
    xy: np.ndarray  # (V, 2) distinct vertices
    arcs: list[np.ndarray]  # vertex-id sequences (closed arcs repeat their first id)
    rings: list[list[int]]  # per ring, arc references; ~i means arc i reversed
    ring_part: np.ndarray  # part index of each ring; the first ring of a part is its shell
    part_feature: np.ndarray  # feature index of each part
    ring_xy: list[np.ndarray]  # input ring coordinates, without closing point or duplicates

    @property
    def ring_feature(self) -> np.ndarray:
        return self.part_feature[self.ring_part]


def _ring_bounds(ring_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first and last point of each ring run in a ring-sorted point array."""
    first = np.flatnonzero(np.r_[True, ring_of[1:] != ring_of[:-1]])
    return first, np.r_[first[1:], len(ring_of)] - 1


def _drop_repeats(xy: np.ndarray, ring_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop points equal to their predecessor, cyclically (closing points included)."""
    first, last = _ring_bounds(ring_of)
    pred = np.arange(len(xy)) - 1
    pred[first] = last
    keep = np.any(xy != xy[pred], axis=1)
    return xy[keep], ring_of[keep]


def _use_rings(
    xy: np.ndarray, ring_of: np.ndarray, other_xy: np.ndarray, other_ring: np.ndarray, take
) -> tuple[np.ndarray, np.ndarray]:
    """Points of (xy, ring_of), except rings flagged in `take`, which come from `other`."""
    keep, back = ~take[ring_of], take[other_ring]
    ring_all = np.r_[ring_of[keep], other_ring[back]]
    order = np.argsort(ring_all, kind="stable")
    return np.r_[xy[keep], other_xy[back]][order], ring_all[order]


def _rings_of_vertices(inverse: np.ndarray, ring_of: np.ndarray) -> tuple[np.ndarray, int]:
    """Sorted keys vertex * n_rings + ring, one per ring through each vertex."""
    n_rings = int(ring_of.max()) + 1
    return np.unique(inverse.astype(np.int64) * n_rings + ring_of), n_rings


def _snap(xy: np.ndarray, ring_of: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Make near-coincident borders of different rings exactly coincident.

    Real layers (the BPS RW file among them) have thousands of shared vertices that differ
    in the 12th decimal, and T-junctions where one side of a border has a vertex the other
    lacks. Either makes the two sides separate arcs, simplified (and quantized) apart into
    gaps and overlaps. Points move by about eps at most; a ring is never snapped onto
    itself, which would pinch slivers and narrow necks.
    """
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    keys, n_rings = _rings_of_vertices(inverse, ring_of)
    key_vertex, key_ring = keys // n_rings, keys % n_rings
    first_key = np.searchsorted(key_vertex, np.arange(len(uniq)))
    rings_per_vertex = np.bincount(key_vertex, minlength=len(uniq))

    points = shapely.points(uniq)
    i, j = shapely.STRtree(points).query(points, predicate="dwithin", distance=eps)
    keep = i < j
    i, j = i[keep], j[keep]
    # Expand each pair over the rings through i, to drop pairs with a ring in common.
    per_pair = rings_per_vertex[i]
    pair = np.repeat(np.arange(len(i)), per_pair)
    nth = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    common = np.isin(j[pair] * n_rings + key_ring[first_key[i][pair] + nth], keys)
    apart = np.bincount(pair, weights=common, minlength=len(i)) == 0
    i, j = i[apart], j[apart]
    # Each cluster of close vertices collapses onto its smallest (lexicographic) member.
    rep = np.arange(len(uniq))
    while True:
        old = rep.copy()
        np.minimum.at(rep, j, rep[i])
        rep = rep[rep]
        if np.array_equal(rep, old):
            break
    snapped, snapped_ring = _drop_repeats(uniq[rep][inverse], ring_of)
    collapsed = np.bincount(snapped_ring, minlength=n_rings) < 3
    if collapsed.any():
        snapped, snapped_ring = _use_rings(snapped, snapped_ring, xy, ring_of, collapsed)

    # T-junctions: a vertex close to the inside of another ring's segment is added to it.
    first, last = _ring_bounds(snapped_ring)
    nxt = np.arange(1, len(snapped) + 1)
    nxt[last] = first
    segments = shapely.linestrings(np.stack([snapped, snapped[nxt]], axis=1))
    uniq, inverse = np.unique(snapped, axis=0, return_inverse=True)
    keys, _ = _rings_of_vertices(inverse.ravel(), snapped_ring)
    v, seg = shapely.STRtree(segments).query(
        shapely.points(uniq), predicate="dwithin", distance=eps
    )
    foreign = ~np.isin(v * n_rings + snapped_ring[seg], keys)
    v, seg = v[foreign], seg[foreign]
    if len(v) == 0:
        return snapped, snapped_ring
    p = uniq[v]
    d = snapped[nxt[seg]] - snapped[seg]
    t = np.einsum("ij,ij->i", p - snapped[seg], d) / np.einsum("ij,ij->i", d, d)
    order = np.lexsort((np.r_[np.zeros(len(snapped)), t], np.r_[np.arange(len(snapped)), seg]))
    return _drop_repeats(np.r_[snapped, p][order], np.r_[snapped_ring, snapped_ring[seg]][order])


def _polygons(
    xy: np.ndarray, ring_of: np.ndarray, ring_part: np.ndarray, part_feature: np.ndarray
) -> np.ndarray:
    """One MultiPolygon per feature from ring-sorted, unclosed ring points."""
    first, _ = _ring_bounds(ring_of)
    closed_at = np.r_[first[1:], len(xy)]
    closed = np.insert(xy, closed_at, xy[first], axis=0)
    rings = shapely.linearrings(closed, indices=np.insert(ring_of, closed_at, ring_of[first]))
    parts = shapely.polygons(rings, indices=ring_part)
    return shapely.multipolygons(parts, indices=part_feature)


def _build_topology(geoms: Sequence[Areal], snap: float = 0.0) -> _Topology:
    geoms = np.asarray(geoms, dtype=object)
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    ring_geoms, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = _drop_repeats(*shapely.get_coordinates(ring_geoms, return_index=True))
    if snap > 0 and len(xy):
        snapped, snapped_ring = _snap(xy, ring_of, snap)
        # Snapping must not break an area: one it would keeps its own points (unshared).
        broken = ~shapely.is_valid(_polygons(snapped, snapped_ring, ring_part, part_feature))
        broken &= shapely.is_valid(geoms)
        xy, ring_of = _use_rings(
            snapped, snapped_ring, xy, ring_of, broken[part_feature[ring_part]]
        )

    uniq, vid = np.unique(xy, axis=0, return_inverse=True)
    vid = vid.ravel()
    counts = np.bincount(ring_of, minlength=len(ring_geoms))
    if len(counts) and counts.min() < 3:
        raise ValueError("degenerate ring (fewer than 3 distinct points); repair the input")
    starts = np.r_[0, np.cumsum(counts)[:-1]]

    # Junctions: vertices whose unordered {previous, next} neighbour pair is not the same in
    # every ring through them. In a planar partition, 3+ rings meeting at a point always
    # differ there; identical duplicates or overlaps share arcs rather than shatter.
    pos = np.arange(len(vid))
    start = np.repeat(starts, counts)
    end = start + np.repeat(counts, counts)
    prev_v = vid[np.where(pos == start, end - 1, pos - 1)]
    next_v = vid[np.where(pos == end - 1, start, pos + 1)]
    triples = np.unique(
        np.stack([vid, np.minimum(prev_v, next_v), np.maximum(prev_v, next_v)], axis=1), axis=0
    )
    junction = np.bincount(triples[:, 0], minlength=len(uniq)) > 1

    arcs: list[np.ndarray] = []
    index: dict[bytes, int] = {}
    rings: list[list[int]] = []
    ring_xy: list[np.ndarray] = []

    def add(seq: np.ndarray, rotatable: bool) -> int:
        if rotatable:
            # A ring without junctions: any start will do, so pick a canonical one (the
            # smallest id, walking towards its smaller neighbour) to find duplicates.
            body = np.roll(seq[:-1], -int(np.argmin(seq[:-1])))
            forward = body[1] < body[-1]
            canon = body if forward else np.r_[body[0], body[:0:-1]]
            canon = np.r_[canon, canon[0]]
        else:
            if seq[0] != seq[-1]:
                forward = seq[0] < seq[-1]
            else:
                forward = seq[1] <= seq[-2]
            canon = seq if forward else seq[::-1]
        key = canon.tobytes()
        i = index.get(key)
        if i is None:
            i = index[key] = len(arcs)
            arcs.append(canon)
        return i if forward else ~i

    for s, n in zip(starts, counts, strict=True):
        ids = vid[s : s + n]
        ring_xy.append(xy[s : s + n])
        cuts = np.flatnonzero(junction[ids])
        if len(cuts) == 0:
            rings.append([add(np.r_[ids, ids[0]], rotatable=True)])
            continue
        ids = np.roll(ids, -cuts[0])
        closed = np.r_[ids, ids[0]]
        bounds = np.r_[cuts - cuts[0], n]
        rings.append(
            [add(closed[a : b + 1], rotatable=False) for a, b in itertools.pairwise(bounds)]
        )

    return _Topology(uniq, arcs, rings, ring_part, part_feature, ring_xy)


def _join(pieces: list[np.ndarray]) -> np.ndarray:
    """Concatenate consecutive point runs that share their joint point."""
    return np.concatenate([pieces[0], *(p[1:] for p in pieces[1:])])


def _ring_coords(ring: list[int], arc_xy: list[np.ndarray]) -> np.ndarray:
    return _join([arc_xy[a] if a >= 0 else arc_xy[~a][::-1] for a in ring])


def _assemble(
    topo: _Topology, arc_xy: list[np.ndarray], features: np.ndarray, multi: np.ndarray
) -> np.ndarray:
    """Rebuild the given features (sorted indexes) from arc coordinates."""
    ring_sel = np.flatnonzero(np.isin(topo.ring_feature, features))
    coords = [_ring_coords(topo.rings[r], arc_xy) for r in ring_sel]
    lengths = [len(c) for c in coords]
    rings = shapely.linearrings(
        np.concatenate(coords), indices=np.repeat(np.arange(len(coords)), lengths)
    )
    _, part_local = np.unique(topo.ring_part[ring_sel], return_inverse=True)
    polys = shapely.polygons(rings, indices=part_local.ravel())
    part_ids = np.unique(topo.ring_part[ring_sel])
    _, feat_local = np.unique(topo.part_feature[part_ids], return_inverse=True)
    out = shapely.multipolygons(polys, indices=feat_local.ravel())
    single = ~multi[features]
    out[single] = shapely.get_geometry(out[single], 0)
    return out


# --- simplification ------------------------------------------------------------------------


def _simplify_arcs(
    arc_xy: list[np.ndarray], tol: np.ndarray, arcs: np.ndarray, out: list[np.ndarray]
) -> list[int]:
    """Douglas-Peucker the given arcs at their own tolerance into `out`, ends fixed.

    Returns the closed arcs (whole rings) that collapsed below a triangle: those are left
    as they were, for another try at a smaller tolerance.

    Douglas-Peucker rather than Visvalingam: it bounds every point's displacement by the
    tolerance, which is what the size cap and "tolerance in degrees" need, and GEOS runs it
    in C over all arcs at once.
    """
    for a in arcs:
        out[a] = arc_xy[a]
    arcs = np.array([a for a in arcs if tol[a] > 0 and len(arc_xy[a]) > 2], dtype=int)
    if len(arcs) == 0:
        return []
    simple = shapely.simplify(_lines(arc_xy, arcs), tol[arcs], preserve_topology=False)
    xy, which = shapely.get_coordinates(simple, return_index=True)
    runs = np.split(xy, np.cumsum(np.bincount(which, minlength=len(arcs)))[:-1])
    collapsed = []
    for a, run in zip(arcs.tolist(), runs, strict=True):
        if len(run) < 4 and np.array_equal(run[0], run[-1]):
            collapsed.append(a)
        else:
            out[a] = run
    return collapsed


def _lines(arc_xy: list[np.ndarray], arcs: np.ndarray) -> np.ndarray:
    coords = [arc_xy[a] for a in arcs]
    lengths = [len(c) for c in coords]
    return shapely.linestrings(
        np.concatenate(coords), indices=np.repeat(np.arange(len(arcs)), lengths)
    )


def _pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of geometries whose bounding boxes intersect."""
    i, j = shapely.STRtree(geoms).query(geoms)
    keep = i < j
    return i[keep], j[keep]


def _overlap_and_border(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: do the interiors overlap; is the intersection longer than a point."""
    matrix = shapely.relate(a, b).astype("U9").view("U1").reshape(-1, 9)
    overlap = matrix[:, 0] == "2"
    return overlap, overlap | (matrix[:, 4] == "1")


def _check_types(keys: list[str], geoms: np.ndarray) -> None:
    for k, g in zip(keys, geoms, strict=True):
        if not isinstance(g, Polygon | MultiPolygon):
            raise TypeError(f"{k!r}: expected Polygon or MultiPolygon, got {type(g).__name__}")


def simplify_layer(
    geoms: Mapping[str, Areal], *, tolerance: float, min_iou: float = 0.97
) -> dict[str, Areal]:
    """Simplify a whole layer of areas, keeping shared borders shared.

    `tolerance` is the Douglas-Peucker tolerance in the coordinates' units (degrees for
    EPSG:4326). It is capped per border by the size of the smallest ring using it, then
    halved for borders involved in any defect (crossing another border, invalid output,
    IoU below `min_iou`, a new overlap between areas) until there is none; a border halved
    MAX_REDUCTIONS times is kept as it was. Inputs must be valid (Polygon or MultiPolygon,
    e.g. through shapely.make_valid); an invalid one is returned unchanged. Neighbours must
    share their border's vertices (to within SNAP_DISTANCE), or their borders are simplified
    independently: still without crossing, overlapping anew or parting, but not identical.
    The output has the input's keys, order, geometry types and polygon parts; empty
    geometries pass through.
    """
    keys = list(geoms)
    src = np.empty(len(keys), dtype=object)
    src[:] = [geoms[k] for k in keys]
    _check_types(keys, src)
    result = dict(zip(keys, src, strict=True))
    nonempty = np.flatnonzero(~shapely.is_empty(src))
    if tolerance <= 0 or len(nonempty) == 0:
        return result

    out = _simplify_until_clean(src[nonempty], tolerance=tolerance, min_iou=min_iou)
    for k, g in zip(nonempty, out, strict=True):
        result[keys[k]] = g
    return result


def _simplify_until_clean(src: np.ndarray, *, tolerance: float, min_iou: float) -> np.ndarray:
    """Simplify the arcs, halving the tolerance of defective ones until none is left."""
    multi = shapely.get_type_id(src) == shapely.GeometryType.MULTIPOLYGON
    topo = _build_topology(src, snap=SNAP_DISTANCE)
    arc_xy = [topo.xy[a] for a in topo.arcs]
    n_arcs = len(arc_xy)
    ref_arc, ref_feature, base_tol = _arc_uses_and_base_tolerance(topo, n_arcs, tolerance)

    ends = np.array([(a[0], a[-1]) for a in topo.arcs])
    arc_i, arc_j = _pairs(_lines(arc_xy, np.arange(n_arcs)))
    feat_i, feat_j = _pairs(src)
    src_overlap, src_border = _overlap_and_border(src[feat_i], src[feat_j])

    tol = base_tol.copy()
    level = np.zeros(n_arcs, dtype=int)
    simple_xy = list(arc_xy)
    lines = np.empty(n_arcs, dtype=object)
    out = src.copy()
    changed = np.ones(n_arcs, dtype=bool)
    while True:
        todo = np.flatnonzero(changed)
        collapsed = _simplify_arcs(arc_xy, tol, todo, simple_xy)
        lines[todo] = _lines(simple_xy, todo)
        # Douglas-Peucker keeps a subset of points, so same length means same arc: defects
        # between unsimplified arcs are the input's and cannot be fixed here.
        simplified = np.array([len(s) < len(o) for s, o in zip(simple_xy, arc_xy, strict=True)])
        bad = _crossing_arcs(topo, lines, ends, todo, changed, simplified, arc_i, arc_j)

        feats = np.unique(ref_feature[np.isin(ref_arc, todo)])
        out[feats] = _assemble(topo, simple_xy, feats, multi)
        bad_feature = _distorted_features(out, src, feats, min_iou)
        _mark_new_overlaps_and_gaps(
            bad_feature, out, feats, feat_i, feat_j, src_overlap, src_border
        )

        bad[ref_arc[bad_feature[ref_feature]]] = True
        bad &= simplified
        bad[collapsed] = True
        if not bad.any():
            break
        level[bad] += 1
        tol[bad] = np.where(level[bad] > MAX_REDUCTIONS, 0.0, base_tol[bad] * 0.5 ** level[bad])
        changed = bad

    # Unsimplified arcs rebuild the input, so this only catches inputs that were invalid.
    broken = ~shapely.is_valid(out)
    out[broken] = src[broken]
    return out


def _arc_uses_and_base_tolerance(
    topo: _Topology, n_arcs: int, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which arc and feature each ring reference is, and each arc's tolerance before any
    halving: `tolerance` capped by the size of the smallest ring using the arc."""
    ref_ring = np.repeat(np.arange(len(topo.rings)), [len(r) for r in topo.rings])
    ref_arc = np.array([a if a >= 0 else ~a for r in topo.rings for a in r])
    ref_feature = topo.ring_feature[ref_ring]
    ring_lengths = [len(c) for c in topo.ring_xy]
    ring_area = shapely.area(
        shapely.polygons(
            shapely.linearrings(
                np.concatenate(topo.ring_xy),
                indices=np.repeat(np.arange(len(ring_lengths)), ring_lengths),
            )
        )
    )
    smallest = np.full(n_arcs, np.inf)
    np.minimum.at(smallest, ref_arc, ring_area[ref_ring])
    base_tol = np.minimum(tolerance, SIZE_FRACTION * np.sqrt(smallest))
    return ref_arc, ref_feature, base_tol


def _crossing_arcs(
    topo: _Topology,
    lines: np.ndarray,
    ends: np.ndarray,
    todo: np.ndarray,
    changed: np.ndarray,
    simplified: np.ndarray,
    arc_i: np.ndarray,
    arc_j: np.ndarray,
) -> np.ndarray:
    """The arcs that cross themselves or meet another arc anywhere but at a shared end."""
    bad = np.zeros(len(lines), dtype=bool)
    bad[todo[~shapely.is_simple(lines[todo])]] = True
    check = (changed[arc_i] | changed[arc_j]) & (simplified[arc_i] | simplified[arc_j])
    ci, cj = arc_i[check], arc_j[check]
    suspect = ~shapely.relate_pattern(lines[ci], lines[cj], _ARCS_DISJOINT_BUT_ENDS)
    for i, j in zip(ci[suspect], cj[suspect], strict=True):
        # Closed arcs have no DE-9IM boundary, so meeting at a junction lands here too.
        common = sorted(set(ends[i].tolist()) & set(ends[j].tolist()))
        extra = shapely.intersection(lines[i], lines[j])
        if common:
            extra = shapely.difference(extra, shapely.multipoints(topo.xy[common]))
        if not extra.is_empty:
            bad[i] = bad[j] = True
    return bad


def _distorted_features(
    out: np.ndarray, src: np.ndarray, feats: np.ndarray, min_iou: float
) -> np.ndarray:
    """The rebuilt features that are invalid or whose IoU with the input is below `min_iou`."""
    bad_feature = np.zeros(len(src), dtype=bool)
    bad_feature[feats] = ~shapely.is_valid(out[feats])
    ok = feats[~bad_feature[feats]]
    bad_feature[ok[iou(out[ok], src[ok]) < min_iou]] = True
    return bad_feature


def _mark_new_overlaps_and_gaps(
    bad_feature: np.ndarray,
    out: np.ndarray,
    feats: np.ndarray,
    feat_i: np.ndarray,
    feat_j: np.ndarray,
    src_overlap: np.ndarray,
    src_border: np.ndarray,
) -> None:
    """Mark both features of a pair that overlap anew or no longer share their border."""
    # An arc can jump over a small island of another area without crossing any arc, and
    # borders that are not shared arcs (overlapping inputs) can drift apart into gaps.
    touched = np.zeros(len(out), dtype=bool)
    touched[feats] = True
    pair = np.flatnonzero(
        (touched[feat_i] | touched[feat_j]) & ~bad_feature[feat_i] & ~bad_feature[feat_j]
    )
    overlap, border = _overlap_and_border(out[feat_i[pair]], out[feat_j[pair]])
    wrong = pair[(overlap & ~src_overlap[pair]) | (src_border[pair] & ~border)]
    bad_feature[feat_i[wrong]] = bad_feature[feat_j[wrong]] = True


# --- TopoJSON ------------------------------------------------------------------------------


def encode_topojson(
    features: Iterable[tuple[str, Areal, dict]],
    *,
    quantization: int = 100_000,
    object_name: str = "areas",
) -> dict:
    """Encode (id, geometry, properties) triples as a quantized TopoJSON 1.0 topology.

    Borders shared exactly by neighbours (as simplify_layer leaves them) are stored once.
    The grid spans the layer's bbox in `quantization` steps per axis. A position moves by
    half a step at most (plus half a step where another area's border is that close and
    gets snapped onto): 0.16 m on the 0.29 deg RW layer, 0.33 m on a 0.6 deg one. On the RW
    layer 1e6 costs 21% more gzipped than 1e5, and 5e4 saves 6%. Rings keep the input's
    orientation; features with empty geometry get a null geometry.
    """
    items = list(features)
    geoms = np.empty(len(items), dtype=object)
    geoms[:] = [g for _, g, _ in items]
    _check_types([fid for fid, _, _ in items], geoms)
    nonempty = np.flatnonzero(~shapely.is_empty(geoms))
    if len(nonempty) == 0:
        return _topology_dict([0.0, 0.0, 0.0, 0.0], 1.0, 1.0, object_name, items, {}, [])
    x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geoms[nonempty]))
    steps = max(quantization - 1, 1)
    kx = (x1 - x0) / steps if x1 > x0 else 1.0
    ky = (y1 - y0) / steps if y1 > y0 else 1.0
    # Borders closer than the grid resolution cannot stay apart once quantized; left as
    # separate arcs they would round independently into slivers of gap or overlap. Half a
    # step is as far as rounding moves a point anyway; a whole step pinches more than it fixes.
    topo = _build_topology(geoms[nonempty], snap=max(SNAP_DISTANCE, 0.5 * min(kx, ky)))

    lengths = np.array([len(a) for a in topo.arcs])
    q = np.rint((topo.xy[np.concatenate(topo.arcs)] - (x0, y0)) / (kx, ky)).astype(np.int64)
    first = np.zeros(len(q), dtype=bool)
    first[np.r_[0, np.cumsum(lengths)[:-1]]] = True
    moves = first | np.r_[True, np.any(q[1:] != q[:-1], axis=1)]
    full = np.split(q, np.cumsum(lengths)[:-1])
    kept = np.split(moves, np.cumsum(lengths)[:-1])
    arcs = []
    for pts, keep in zip(full, kept, strict=True):
        arcs.append(pts[keep] if keep.sum() >= 2 else pts[[0, -1]])
    # Rings collapsing below 4 positions keep their repeated points instead: a tiny sliver
    # must still decode as a (degenerate) ring, as topojson-client pads it to.
    for ring in topo.rings:
        used = [a if a >= 0 else ~a for a in ring]
        if sum(len(arcs[a]) - 1 for a in used) + 1 < 4:
            for a in used:
                arcs[a] = full[a]

    ring_refs: dict[int, list[list[int]]] = {}
    for r, ring in enumerate(topo.rings):
        ring_refs.setdefault(int(topo.ring_part[r]), []).append(ring)
    part_refs: dict[int, list[list[list[int]]]] = {}
    for p, refs in ring_refs.items():
        part_refs.setdefault(int(topo.part_feature[p]), []).append(refs)

    by_item = {int(k): part_refs[f] for f, k in enumerate(nonempty)}
    return _topology_dict([x0, y0, x1, y1], kx, ky, object_name, items, by_item, arcs)


def _topology_dict(
    bbox: list[float],
    kx: float,
    ky: float,
    object_name: str,
    items: list[tuple[str, Areal, dict]],
    parts_by_item: dict[int, list[list[list[int]]]],
    arcs: list[np.ndarray],
) -> dict:
    geometries = []
    for k, (fid, geom, props) in enumerate(items):
        obj: dict = {"type": None}
        if k in parts_by_item:
            parts = parts_by_item[k]
            if isinstance(geom, MultiPolygon):
                obj = {"type": "MultiPolygon", "arcs": parts}
            else:
                obj = {"type": "Polygon", "arcs": parts[0]}
        obj["id"] = fid
        if props:
            obj["properties"] = props
        geometries.append(obj)
    return {
        "type": "Topology",
        "transform": {"scale": [kx, ky], "translate": bbox[:2]},
        "bbox": bbox,
        "objects": {object_name: {"type": "GeometryCollection", "geometries": geometries}},
        # Delta encoding: the first position is absolute, the others relative to the last.
        "arcs": [np.diff(a, axis=0, prepend=[[0, 0]]).tolist() for a in arcs],
    }


def decode_topojson(topology: dict, object_name: str = "areas") -> dict[str, Areal]:
    """Decode one GeometryCollection of (Multi)Polygons the way topojson-client does.

    Returns shapely geometries keyed by id (by position when a geometry has no id); a null
    geometry decodes as an empty Polygon.
    """
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        xy = np.asarray(arc, dtype=float).reshape(-1, 2)
        if transform:
            xy = np.cumsum(xy, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(xy)

    def ring(refs: list[int]) -> np.ndarray:
        xy = _join([arcs[a] if a >= 0 else arcs[~a][::-1] for a in refs])
        while len(xy) < 4:
            xy = np.vstack([xy, xy[:1]])
        return xy

    def polygon(rings: list[list[int]]) -> Polygon:
        return Polygon(ring(rings[0]), [ring(r) for r in rings[1:]]) if rings else Polygon()

    out: dict[str, Areal] = {}
    for k, obj in enumerate(topology["objects"][object_name]["geometries"]):
        kind = obj.get("type")
        if kind == "Polygon":
            geom = polygon(obj["arcs"])
        elif kind == "MultiPolygon":
            geom = MultiPolygon([polygon(p) for p in obj["arcs"]])
        elif kind is None:
            geom = Polygon()
        else:
            raise ValueError(f"unsupported geometry type {kind!r}")
        out[obj.get("id", str(k))] = geom
    return out
