"""The needs map's phone benchmark (bench/map_phone.py) runs end to end, once, and prints
its one line with sane numbers; its targets are judged on full runs, not here."""

import re

import pytest

from .benches import browser_bench_line

pytestmark = pytest.mark.browser

LINE = re.compile(r"^phone_map_interactive_s=(\d+\.\d\d) tap_to_panel_s=(\d+\.\d\d) bytes=(\d+)$")


@pytest.mark.xdist_group("bench")  # one bench at a time (make test runs two workers)
def test_the_phone_map_benchmark_prints_its_line():
    match, _stderr = browser_bench_line("map_phone.py", "--runs", "1", line=LINE, timeout=300)
    interactive, tap, size = float(match[1]), float(match[2]), int(match[3])
    assert 0 < interactive < 60
    assert 0 < tap < 30
    assert size > 100_000  # at least the RW geometry, the need state and the scripts
