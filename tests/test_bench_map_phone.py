"""The needs map's phone benchmark (bench/map_phone.py) runs end to end, once, and prints
its one line with sane numbers; its targets are judged on full runs, not here."""

import os
import re

import pytest

from .benches import bench_line

pytestmark = pytest.mark.browser


CHROMIUM = "/usr/bin/chromium"  # Debian's, as in conftest.py; never a downloaded browser
LINE = re.compile(r"^phone_map_interactive_s=(\d+\.\d\d) tap_to_panel_s=(\d+\.\d\d) bytes=(\d+)$")


def test_the_phone_map_benchmark_prints_its_line():
    # The bench builds its own throw-away database (SQLite, or PostgreSQL with DATABASE_URL)
    # and the browser run is the same on both: it runs once, in CI's SQLite leg.
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs once, in the SQLite leg (DATABASE_URL is set)")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("KSBB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and KSBB_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    match, _stderr = bench_line("map_phone.py", "--runs", "1", line=LINE, timeout=300)
    interactive, tap, size = float(match[1]), float(match[2]), int(match[3])
    assert 0 < interactive < 60
    assert 0 < tap < 30
    assert size > 100_000  # at least the RW geometry, the need state and the scripts
