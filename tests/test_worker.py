"""Summaries kept by a real `celery -A ksbb worker` process, on PostgreSQL, through a real
Redis broker: the incremental path agrees with a direct GROUP BY and a full rebuild after any
sequence of changes; a worker killed with SIGKILL half-way through a job and restarted leaves
exact totals; with the broker unreachable changes still succeed, and the catch-up run (as
beat sends it) makes the totals exact.

The tests commit for real (the worker is another process), so they flush the database at
the end, like every transactional test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from commitments.figures.summaries import summaries_rebuild
from commitments.models import Commitment, CommitmentSummary, SummaryDirtyKey
from commitments.tasks import refresh_summaries

from .conftest import celery_broker
from .world import LIFECYCLE_ACTIONS, LifecycleWorld, direct_group_by, summaries

REDIS_URL = os.environ.get("REDIS_URL", "")
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

pytestmark = [
    pytest.mark.skipif(
        not (ON_POSTGRESQL and REDIS_URL),
        reason="real-worker tests need DATABASE_URL on PostgreSQL and REDIS_URL",
    ),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parent.parent
# The worker's database sessions carry this name, so the tests can find (and end) them.
WORKER_APP_NAME = "ksbb-test-worker"
VISIBILITY_TIMEOUT = 3  # seconds before a dead worker's unacknowledged job is delivered again
WAIT = 60  # seconds: generous upper bound for anything the worker should do at once (loaded CI)


def wait_for(condition, *, timeout: float = WAIT, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def worker_sessions() -> list[tuple[str | None, str]]:
    """(wait_event_type, query) of the worker's PostgreSQL sessions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event_type, query FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP_NAME],
        )
        return cursor.fetchall()


def end_worker_sessions() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP_NAME],
        )


class Worker:
    """`celery -A ksbb worker` in a subprocess on the test database, one job at a time
    (--pool=solo: the process we signal is the one running the job)."""

    def __init__(self, *, queue: str, log_dir: Path):
        self.queue = queue
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.runs = 0

    def env(self) -> dict[str, str]:
        db = connection.settings_dict
        assert db["NAME"].startswith("test_"), db["NAME"]  # never the real database
        database_url = (
            f"postgres://{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            f"?application_name={WORKER_APP_NAME}"
        )
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
        env.update(
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            DB_CONN_MAX_AGE="0",
            EMAIL_HOST="",  # notifications the jobs send go to the log
        )
        return env

    @property
    def log(self) -> Path:
        return self.log_dir / f"worker-{self.runs}.log"

    def start(self) -> None:
        self.runs += 1
        command = [
            sys.executable, "-m", "celery", "-A", "ksbb", "worker",
            "--pool=solo", "-Q", self.queue, "-n", f"{self.queue}-{self.runs}@%h",
            "--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel=info",
        ]  # fmt: skip
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self.ready, what=f"the worker to start (see {self.log})")

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited: {self.log.read_text()[-3000:]}")
        return " ready." in self.log.read_text()

    def received(self, task: str) -> list[str]:
        """Ids of the `task` jobs this run of the worker received, from its log."""
        marker = f"Task {task}["
        return [
            line.split(marker, 1)[1].split("]", 1)[0]
            for line in self.log.read_text().splitlines()
            if marker in line and line.endswith("] received")
        ]

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT)

    def stop(self) -> None:
        # Killed, not shut down (which takes seconds even when idle): the test is over.
        if self.process is not None and self.process.poll() is None:
            self.kill()
        # A killed worker's session may linger; it must not keep the database busy.
        end_worker_sessions()


@pytest.fixture
def queue():
    """This process publishes to the real broker, on a queue of its own, emptied before and
    after."""
    name = f"test-worker-{uuid.uuid4().hex[:8]}"
    with celery_broker(REDIS_URL, eager=False) as app:
        app.conf.task_default_queue = name
        try:
            purge(app, name)
            yield name
        finally:
            purge(app, name)
            app.conf.task_default_queue = "celery"


def purge(app, queue: str) -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


@pytest.fixture
def worker(queue, tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path  # proofs of delivery the tests upload
    worker = Worker(queue=queue, log_dir=tmp_path)
    try:
        yield worker
    finally:
        worker.stop()
        for run in range(1, worker.runs + 1):  # shown by pytest when the test failed
            print(f"--- worker run {run} ---\n" + (tmp_path / f"worker-{run}.log").read_text())


def wait_until_drained() -> None:
    wait_for(lambda: not SummaryDirtyKey.objects.exists(), what="the stale keys to drain")


@hypothesis_settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(LIFECYCLE_ACTIONS), st.integers(min_value=0, max_value=30)),
        min_size=1,
        max_size=10,
    )
)
def test_a_real_worker_keeps_summaries_equal_to_a_group_by_and_a_rebuild(worker, steps):
    if worker.process is None:
        worker.start()
    # Examples add to what earlier ones committed: the property holds for any state.
    world = LifecycleWorld(own_areas=True)
    for action, n in steps:
        world.act(action, n)  # each change commits and enqueues its refresh job
    wait_until_drained()
    incremental = summaries()
    assert incremental == direct_group_by()
    summaries_rebuild()
    assert summaries() == incremental


def test_a_worker_killed_half_way_through_a_job_is_redelivered_and_totals_are_exact(worker):
    world = LifecycleWorld(own_areas=True)
    world.pledge(0)  # committed; its one refresh job waits in the queue (no worker yet)
    assert SummaryDirtyKey.objects.count() == 1
    # Hold the stale marks: the job deletes them last, after it has replaced the summary
    # rows, so it blocks half-way through its transaction.
    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        holder.autocommit = False
        holder.execute(f"SELECT id FROM {SummaryDirtyKey._meta.db_table} FOR UPDATE")
        worker.start()
        # Blocked deleting the marks: it has already replaced the summary rows.
        blocked_delete = f'DELETE FROM "{SummaryDirtyKey._meta.db_table}"'
        wait_for(
            lambda: any(
                event == "Lock" and query.startswith(blocked_delete)
                for event, query in worker_sessions()
            ),
            what="the job to block on the held stale marks",
        )
        delivered = time.monotonic()
        job = worker.received("commitments.tasks.refresh_summaries")[0]
        worker.kill()
    finally:
        holder.rollback()
        holder.close()
    # PostgreSQL rolls the dead worker's transaction back once it can run on and finds
    # the client gone: nothing of the half-done job is left.
    wait_for(lambda: not worker_sessions(), what="the dead worker's session to end")
    assert CommitmentSummary.objects.count() == 0
    assert SummaryDirtyKey.objects.count() == 1

    # No beat runs here and nothing else is enqueued: only the unacknowledged job coming
    # back (acks_late, visibility timeout) can repair the totals.
    time.sleep(max(0.0, delivered + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    worker.start()
    wait_until_drained()
    assert job in worker.received("commitments.tasks.refresh_summaries")
    assert summaries() == direct_group_by()
    assert {s.status for s in CommitmentSummary.objects.all()} == {"pledged"}


def test_with_the_broker_unreachable_changes_succeed_and_the_catch_up_makes_totals_exact(
    worker, client
):
    worker.start()
    world = LifecycleWorld(own_areas=True)
    with celery_broker("redis://127.0.0.1:1/0", eager=False):  # the web side's broker is down
        world.pledge(0)
        world.pledge(1)
        world.offline(3)
        world.act("confirm", 0)
        assert client.get("/kesehatan/").status_code == 503
    assert Commitment.objects.count() == 3
    assert Commitment.objects.filter(status="committed").count() == 2  # offline: committed
    # Nothing reached the worker: every touched key waits, stale.
    assert SummaryDirtyKey.objects.count() == 4
    assert CommitmentSummary.objects.count() == 0
    health = client.get("/kesehatan/").json()
    assert health["broker"]["status"] == "ok" and health["summaries"]["stale_keys"] == 4

    refresh_summaries.delay()  # the broker is back: beat's periodic catch-up
    wait_until_drained()
    assert summaries() == direct_group_by()
    assert {s.status for s in CommitmentSummary.objects.all()} == {"pledged", "committed"}
    assert client.get("/kesehatan/").json()["summaries"]["stale_keys"] == 0
