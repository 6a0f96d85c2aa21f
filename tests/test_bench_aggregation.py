"""The aggregation benchmark runs end to end at a small size and prints its one line with
sane numbers, so a renamed path or a broken case fails the build (its timings are judged
on the full run at a million commitments, not here).

It makes its own PostgreSQL database whatever the suite runs on: it runs once, in CI's
PostgreSQL leg (tests/benches.py)."""

import math
import re

import pytest

from .benches import bench_line

NUMBER = r"(\d+(?:\.\d+)?)"
LINE = re.compile(
    rf"^rows=(\d+) rows_written=(\d+)/(\d+)/(\d+) repair0_ratio={NUMBER} "
    rf"repair1pct_ratio={NUMBER} bulk_reload_ratio={NUMBER} "
    rf"dashboard_uncached_p50_ms={NUMBER} dashboard_uncached_p95_ms={NUMBER} "
    rf"dashboard_cold_p50_ms={NUMBER} live_speedup={NUMBER} "
    rf"pledge_busiest_ratio={NUMBER} pledge_unverified_ratio={NUMBER}$"
)


@pytest.mark.xdist_group("bench")  # one bench at a time (make test runs two workers)
def test_the_aggregation_benchmark_prints_its_line_at_20000_rows():
    match, stderr = bench_line(
        "aggregation.py",
        *("--rows", "20000", "--small", "5000", "--pledges", "5"),
        *("--repeat", "1", "--requests", "4"),
        line=LINE,
        timeout=600,
    )
    last = match.string
    rows, nothing, one_percent, reloaded = (int(match.group(i)) for i in range(1, 5))
    assert rows >= 20000
    assert nothing == 0, "a rebuild with nothing to repair writes nothing"
    assert 0 < one_percent < reloaded / 50, "1% wrong rows: about 1% rewritten"
    assert reloaded > 1000
    figures = [float(match.group(i)) for i in range(5, 14)]
    assert all(math.isfinite(value) and value > 0 for value in figures), last
    p50, p95 = figures[3], figures[4]
    assert p50 <= p95
    assert "MISMATCH" not in stderr
