"""The pages benchmark runs end to end at a small size and prints its one line with sane
numbers, so a renamed URL, a page that no longer answers 200 or a broken action fails the
build (its timings are judged on the full run at a million commitments, not here).

It makes its own PostgreSQL database whatever the suite runs on: it runs once, in CI's
PostgreSQL leg (tests/benches.py)."""

import math
import re

import pytest

from .benches import bench_line

LINE = re.compile(r"^pages=(\d+) pages_grown=(\d+) export_1m_s=(\d+(?:\.\d+)?)$")
ROW = re.compile(r"^(.+?)\s+(\d+\.\d)\s+(\d+\.\d)\s+(\d+\.\d\d) (pass|MISS)$", re.MULTILINE)


@pytest.mark.xdist_group("bench")  # one bench at a time (make test runs two workers)
def test_the_pages_benchmark_prints_its_line_and_table_at_20000_rows():
    match, stderr = bench_line(
        "pages.py",
        *("--rows", "20000", "--small", "5000", "--requests", "1"),
        line=LINE,
        timeout=300,
    )
    pages, grown, export_s = int(match.group(1)), int(match.group(2)), float(match.group(3))
    assert pages >= 20
    assert 0 <= grown <= pages
    assert math.isfinite(export_s) and export_s > 0
    rows = ROW.findall(stderr)
    assert len(rows) == pages, stderr[-3000:]
    names = {row[0] for row in rows}
    for role in ("public", "donor", "facilitator", "lead", "admin", "api"):
        assert any(name.startswith(role) for name in names), role
    for _name, small, large, _ratio, _verdict in rows:
        assert math.isfinite(float(small)) and float(small) > 0
        assert math.isfinite(float(large)) and float(large) > 0
    assert sum(verdict == "MISS" for *_row, verdict in rows) == grown
