"""The allocation benchmark runs end to end on a small data set (SQLite, 60 donors, two seeds)
and prints its one line with every key and sane numbers; whether the targets are met is judged
on the full run (bench/allocation.py), not here. Not marked slow: it runs in CI's default
suite, once, in its PostgreSQL leg (tests/benches.py)."""

import math
import re

import pytest

from .benches import bench_line

NUMBER = r"(-?(?:\d+(?:\.\d*)?|inf|nan))"
LINE = re.compile(
    rf"^seeds=(\d+) gini_vs_today={NUMBER} gini_vs_best={NUMBER} "
    rf"vulnerable_units_margin={NUMBER} vulnerable_idr_margin={NUMBER} "
    rf"km_vs_nearest={NUMBER} dominated_by=(\d+) fairness_vs_optimum={NUMBER} "
    rf"page_p95_ms={NUMBER}$"
)


@pytest.mark.xdist_group("bench")  # one bench at a time (make test runs two workers)
def test_the_allocation_benchmark_prints_its_line_for_two_seeds():
    match, stderr = bench_line(
        "allocation.py",
        *("--sqlite", "--donors", "60", "--seeds", "101,202", "--samples", "3"),
        line=LINE,
        timeout=600,
    )
    last = match.string
    seeds, *figures = match.groups()
    assert int(seeds) == 2
    (
        gini_vs_today,
        gini_vs_best,
        units_margin,
        idr_margin,
        km_vs_nearest,
        dominated_by,
        fairness,
        page_ms,
    ) = figures
    values = [float(v) for v in figures]
    assert all(math.isfinite(v) for v in values), last
    assert float(gini_vs_today) > 0 and float(gini_vs_best) > 0 and float(km_vs_nearest) > 0
    assert -1 <= float(units_margin) <= 1 and -1 <= float(idr_margin) <= 1
    assert dominated_by.isdigit() and 0 <= int(dominated_by) <= 4
    # The optimum is at least as fair as the assistant's own allocation (a feasible point).
    assert 0 < float(fairness) <= 1 + 1e-6
    assert float(page_ms) > 0
    assert "implementation check" in stderr
