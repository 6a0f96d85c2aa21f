"""Shared set-up for the benchmarks: a throw-away database with real Jakarta data and an
open need in every residential RW (the worst case for the need-state payload)."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Where the benches create (and drop) their throw-away PostgreSQL databases.
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def setup_django(sqlite_path: str | None = None) -> str:
    """Configure Django on a fresh SQLite file (unless DATABASE_URL is set); returns it."""
    if not os.environ.get("DATABASE_URL"):
        sqlite_path = sqlite_path or os.path.join(
            tempfile.mkdtemp(prefix="ksbb-bench-"), "db.sqlite3"
        )
        os.environ["SQLITE_PATH"] = sqlite_path
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
    import django

    django.setup()
    return sqlite_path or os.environ["DATABASE_URL"]


def load_data(needs_everywhere: bool = True) -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("migrate", verbosity=0, stdout=out)
    call_command("load_programs", stdout=out)
    call_command("load_jakarta", stdout=out)
    if needs_everywhere:
        add_need_in_every_rw()


def add_need_in_every_rw() -> int:
    import datetime
    import random

    from locations.models import Area, Need
    from programs.models import DonationForm

    if Need.objects.filter(description="bench").exists():
        return 0
    rng = random.Random(7)
    forms = list(DonationForm.objects.select_related("program"))
    needs = []
    for area in Area.objects.filter(level="rw", is_residential=True):
        form = rng.choice(forms)
        needs.append(
            Need(
                area=area,
                program=form.program,
                donation_form=form,
                quantity_needed=rng.randint(5, 900),
                unit_value_idr=rng.choice([50_000, 300_000]),
                households=rng.randint(80, 900),
                priority=rng.choice([1, 2, 3]),
                valid_until=datetime.date(2099, 1, 1),
                description="bench",
            )
        )
    Need.objects.bulk_create(needs, batch_size=500)
    return len(needs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(
    database: str,
    *,
    workers: int,
    ready: str = "/kesehatan/",
    app: str = "ksbb.wsgi",
    **env_overrides,
):
    """Start gunicorn (DEBUG off) serving `app` on the bench database; returns (process,
    base URL) once `ready` answers. The caller terminates the process."""
    port = free_port()
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        **env_overrides,
    )
    if not os.environ.get("DATABASE_URL"):
        env["SQLITE_PATH"] = database
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + ready, timeout=1)
            return server, base
        except OSError:
            if server.poll() is not None:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer")


def throwaway_setup(cleanup) -> tuple[str, str]:
    """The bench database (see setup_django) and an empty static root, both removed when
    `cleanup` (an ExitStack) closes (the database unless it is PostgreSQL's):
    (database, static_root)."""
    database = setup_django()
    static_root = tempfile.mkdtemp(prefix="ksbb-bench-static-")
    cleanup.callback(shutil.rmtree, static_root, ignore_errors=True)
    if not os.environ.get("DATABASE_URL"):
        cleanup.callback(shutil.rmtree, os.path.dirname(database), ignore_errors=True)
    return database, static_root


def collect_static(**env) -> None:
    """manage.py collectstatic with DEBUG off (the manifest storage: hashed names, as serve()
    runs the portal), into env's STATIC_ROOT."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-only-" + "x" * 40, **env},
        check=True,
    )


def wrk(url: str, seconds: int, connections: int, *headers: str) -> float:
    """Requests per second of `url` measured by wrk (Debian package `wrk`); any error
    response stops the benchmark."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", "Accept-Encoding: gzip"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


def database_create() -> str:
    import psycopg

    name = f"ksbb_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def database_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wrk_arguments():
    """The options of a wrk bench (--seconds, --connections, --workers), with wrk present."""
    import argparse
    import shutil

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    return args
