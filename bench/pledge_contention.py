"""Concurrent pledges over HTTP against a real server (gunicorn) on PostgreSQL.

1. The race: many clients pledge 1 unit each at once against a small need; exactly its
   quantity must be accepted, the rest refused with a clear message, no server errors,
   and no over-commitment in the database.
2. Throughput: the same pledge endpoint with and without the claim (the conditional
   UPDATE on the need row), on a need large enough never to refuse, in the same run.

    .venv/bin/python bench/pledge_contention.py [--clients 32] [--pledges 2000]

Uses DATABASE_URL when it points at PostgreSQL, else creates (and drops) a database on
postgres://postgres@127.0.0.1:5432. Ends with one line:
accepted=... refused=... errors=... overcommit=... pledges_per_s=... ratio_vs_unlocked=...
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
# The server checks sessions made here, and session hashes depend on the key.
SECRET_KEY = "bench-only-secret-key-0123456789abcdef"
os.environ["SECRET_KEY"] = SECRET_KEY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(clients: int):
    """A fresh PostgreSQL database with two needs and `clients` signed-in donors."""
    import psycopg

    owned = not os.environ.get("DATABASE_URL", "").startswith("postgres")
    if owned:
        name = f"ksbb_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{ADMIN_URL}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{ADMIN_URL}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
    import django

    django.setup()
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    from collaborators.models import Collaborator, Membership
    from locations.models import Area, Need
    from programs.models import DonationForm, Program

    call_command("migrate", verbosity=0)
    chain, parent = (
        [
            ("province", "99"),
            ("kota", "99.01"),
            ("kecamatan", "99.01.01"),
            ("kelurahan", "99.01.01.1001"),
            ("rw", "99.01.01.1001.001"),
        ],
        None,
    )
    for level, code in chain:
        parent = Area.objects.create(
            code=code,
            level=level,
            name=f"Bench {level}",
            parent=parent,
            path=(parent.path + "/" if parent else "") + code,
        )
    program = Program.objects.create(
        slug="bench", name_id="Bench", name_en="Bench", lead_agency="Bench"
    )
    form = DonationForm.objects.create(
        program=program,
        slug="paket",
        name_id="Paket",
        name_en="Package",
        unit="package",
        unit_value_idr=1000,
    )
    valid = timezone.localdate() + datetime.timedelta(days=30)
    small = Need.objects.create(
        area=parent, program=program, donation_form=form, quantity_needed=100, valid_until=valid
    )
    large = Need.objects.create(
        area=parent, program=program, donation_form=form, quantity_needed=10**9, valid_until=valid
    )
    donors = []
    for n in range(clients):
        collaborator = Collaborator.objects.create(
            name=f"Donor {n}", slug=f"donor-{n}", kind="company", verification_status="verified"
        )
        user = get_user_model().objects.create_user(f"d{n}@bench.example", f"d{n}@bench.example")
        Membership.objects.create(user=user, collaborator=collaborator, role="owner")
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "collaborators.accounts.EmailBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        donors.append((session.session_key, collaborator.pk))
    return owned, small, large, donors


class Donor:
    """One browser: its own keep-alive connection, session and CSRF token."""

    def __init__(self, port: int, session_key: str, collaborator_id: int, need_id: int):
        self.port, self.collaborator_id, self.need_id = port, collaborator_id, need_id
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = {"sessionid": session_key}
        status, body = self.request("GET", f"/janji/{need_id}/")
        if status != 200:
            raise SystemExit(f"GET /janji/{need_id}/ answered {status}: {body[:300]!r}")
        self.csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)

    def request(self, method: str, path: str, body: bytes | None = None):
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Host": "127.0.0.1",
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # gunicorn's sync workers close idle connections
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data

    def pledge(self, need_id: int) -> tuple[int, bytes]:
        form = urlencode(
            {
                "csrfmiddlewaretoken": self.csrf,
                "key": uuid.uuid4().hex,
                "collaborator": self.collaborator_id,
                "quantity": 1,
                "planned_delivery_on": (
                    datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=5)
                ).isoformat(),
            }
        ).encode()
        return self.request("POST", f"/janji/{need_id}/", form)


STATIC_ROOT = tempfile.mkdtemp(prefix="ksbb-bench-static-")


def serve(port: int, wsgi: str, workers: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="60",
        PYTHONPATH=str(ROOT),
        STATIC_ROOT=STATIC_ROOT,
    )
    if not os.listdir(STATIC_ROOT):  # production static files: hashed names, a manifest
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            wsgi,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--keep-alive",
            "5",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def run(donors: list[Donor], need_id: int, total: int) -> tuple[dict, float]:
    """`total` pledges spread over the donors' threads, all released at once."""
    counts = {"accepted": 0, "refused": 0, "errors": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(len(donors) + 1)
    per_donor = [total // len(donors) + (i < total % len(donors)) for i in range(len(donors))]

    def work(donor: Donor, n: int) -> None:
        barrier.wait()
        for _ in range(n):
            try:
                status, body = donor.pledge(need_id)
            except OSError:
                status, body = 0, b""
            outcome = (
                "accepted"
                if status == 302
                # 409 with the reason: "only N remain" or "no longer open for pledges"
                else "refused"
                if status == 409 and (b"errorlist" in body or b"<h1>" in body)
                else "errors"
            )
            with lock:
                counts[outcome] += 1

    threads = [
        threading.Thread(target=work, args=(d, n)) for d, n in zip(donors, per_donor, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return counts, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--race", type=int, default=400, help="pledges against a need of 100")
    parser.add_argument("--pledges", type=int, default=2000, help="pledges per throughput run")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    owned, small, large, sessions = prepare(args.clients)
    from locations.models import Need

    results = {}
    try:
        for label, wsgi in (("claim", "ksbb.wsgi"), ("unlocked", "bench.unlocked_wsgi")):
            port = free_port()
            server = serve(port, wsgi, args.workers)
            try:
                donors = [
                    Donor(port, key, collaborator, large.pk) for key, collaborator in sessions
                ]
                if label == "claim":
                    race, race_seconds = run(donors, small.pk, args.race)
                    small.refresh_from_db()
                    overcommit = max(0, small.quantity_claimed - small.quantity_needed)
                    print(
                        f"race: {args.race} pledges of 1 against a need of "
                        f"{small.quantity_needed} in {race_seconds:.2f} s: {race}; "
                        f"claimed {small.quantity_claimed}"
                    )
                run(donors, large.pk, args.clients * 2)  # warm up every worker
                counts, seconds = run(donors, large.pk, args.pledges)
                results[label] = args.pledges / seconds
                print(
                    f"{label}: {args.pledges} pledges from {args.clients} clients in "
                    f"{seconds:.2f} s = {results[label]:.1f}/s {counts}"
                )
            finally:
                server.terminate()
                server.wait(timeout=10)
        accepted = Need.objects.get(pk=large.pk).quantity_claimed
        print(f"large need claimed {accepted} (only the run with the claim counts)")
    finally:
        from django.db import connections

        connections.close_all()
        if owned:
            import psycopg

            name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
            with psycopg.connect(f"{ADMIN_URL}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"accepted={race['accepted']} refused={race['refused']} errors={race['errors']} "
        f"overcommit={overcommit} pledges_per_s={results['claim']:.1f} "
        f"ratio_vs_unlocked={results['claim'] / results['unlocked']:.2f}"
    )


if __name__ == "__main__":
    main()
