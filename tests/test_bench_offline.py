"""The offline benchmark (bench/offline.py) runs end to end, once, and prints its one line
with sane numbers; its targets are judged on full runs, not here."""

import os
import re

import pytest

from .benches import bench_line

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"  # Debian's, as in conftest.py; never a downloaded browser
LINE = re.compile(r"^offline_shell_bytes=(\d+) sync_50_actions_s=(\d+\.\d\d)$")


def test_the_offline_benchmark_prints_its_line():
    # Its own throw-away database, and the same browser run on SQLite and PostgreSQL: it
    # runs once, in CI's SQLite leg.
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs once, in the SQLite leg (DATABASE_URL is set)")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("KSBB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and KSBB_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    match, _stderr = bench_line("offline.py", line=LINE, timeout=600)
    stored, seconds = int(match[1]), float(match[2])
    assert stored > 200_000  # at least the shell's CSS, scripts and Leaflet
    # 50 requests one after another, each with the slow link's 562.5 ms of latency.
    assert 50 * 0.56 < seconds < 300
