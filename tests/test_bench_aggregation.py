"""The aggregation benchmark runs end to end on a small data set and prints its one line
(its timings are judged on the full run, not here). Run with: pytest -m slow."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"^rows=(\d+) full_rebuild_s=[\d.]+ raw_group_by_s=[\d.]+ ratio=[\d.]+ "
    r"pledge_ms_10k=[\d.]+ pledge_ms_1m=[\d.]+ dashboard_ms=\S+ dashboard_live_ms=\S+ "
    r"speedup=\S+$"
)


def test_the_aggregation_benchmark_prints_its_line_at_20000_rows():
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    done = subprocess.run(
        [sys.executable, "bench/aggregation.py", "--rows", "20000", "--pledges", "5"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = LINE.match(last)
    assert match, last
    assert int(match.group(1)) >= 20000
    assert "MISMATCH" not in done.stderr
