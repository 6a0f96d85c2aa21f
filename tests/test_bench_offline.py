"""The offline benchmark (bench/offline.py) runs end to end, once, and prints its one line
with sane numbers; its targets are judged on full runs, not here."""

import re

import pytest

from .benches import browser_bench_line

pytestmark = pytest.mark.browser

LINE = re.compile(r"^offline_shell_bytes=(\d+) sync_50_actions_s=(\d+\.\d\d)$")


@pytest.mark.xdist_group("bench")  # one bench at a time (make test runs two workers)
def test_the_offline_benchmark_prints_its_line():
    match, _stderr = browser_bench_line("offline.py", line=LINE, timeout=600)
    stored, seconds = int(match[1]), float(match[2])
    assert stored > 200_000  # at least the shell's CSS, scripts and Leaflet
    # 50 requests one after another, each with the slow link's 562.5 ms of latency.
    assert 50 * 0.56 < seconds < 300
