"""Running a bench script as its smoke test does: in a subprocess from the project root,
its last stdout line matched against the bench's fixed keys.

Each bench builds its own database (a throw-away SQLite file, or a PostgreSQL database of its
own at BENCH_POSTGRES) and its own cache, so the suite's DATABASE_URL and REDIS_URL are not
passed on, and its smoke run runs once in CI: in the PostgreSQL leg (DATABASE_URL set), where
PostgreSQL is sure to be there; the SQLite leg has the accessibility walk instead, which
keeps the two legs of about equal length."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # Debian's, as in conftest.py; never a downloaded browser


def bench_line(script: str, *args: str, line: re.Pattern, timeout: int) -> tuple[re.Match, str]:
    """Run bench/`script` with `args`, without the suite's database and cache; assert it
    succeeded and its last line matches `line`. Returns the match and stderr."""
    if not os.environ.get("DATABASE_URL"):
        pytest.skip("the bench smoke runs once, in CI's PostgreSQL leg (DATABASE_URL unset)")
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    last = done.stdout.strip().splitlines()[-1]
    match = line.match(last)
    assert match, last
    return match, done.stderr


def browser_bench_line(script: str, *args: str, line: re.Pattern, timeout: int):
    """bench_line for a bench that drives Chromium."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("KSBB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and KSBB_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return bench_line(script, *args, line=line, timeout=timeout)
