"""Running a bench script as its smoke test does: in a subprocess from the project root,
its last stdout line matched against the bench's fixed keys."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # Debian's, as in conftest.py; never a downloaded browser


def bench_line(
    script: str, *args: str, line: re.Pattern, timeout: int, drop_env: tuple[str, ...] = ()
) -> tuple[re.Match, str]:
    """Run bench/`script` with `args` (without the environment variables `drop_env`);
    assert it succeeded and its last line matches `line`. Returns the match and stderr."""
    environment = {k: v for k, v in os.environ.items() if k not in drop_env}
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
    """bench_line for a bench that drives Chromium on its own throw-away database: the
    browser run is the same on SQLite and PostgreSQL, so it runs once, in CI's SQLite leg."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs once, in the SQLite leg (DATABASE_URL is set)")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("KSBB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and KSBB_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return bench_line(script, *args, line=line, timeout=timeout)
