"""The only door to tasks.py: domain code asks for a job by its Celery task name, and
tasks.py imports the domain, never the reverse (the app's ready() registers the tasks).

The outbox row is the job: a Notification still to email, a SummaryDirtyKey, an Export or
a NeedImport that is queued. Asking only hurries it; when the broker cannot be reached the
request is logged here, once, and the periodic run (or the page's retry button) takes the
row up later. Eager Celery (the embedded default) runs the job in place, but for the jobs in
IN_BACKGROUND: those run in a thread of this process, so the request that asked answers at
once (`wait_for_background_jobs` lets tests, and a clean shutdown, wait for them)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Hashable

from django.db import connection, connections

from ksbb.after_commit import on_commit_once
from ksbb.celery import app

logger = logging.getLogger(__name__)

# Task names: stable, since beat schedules and queued messages carry them.
REFRESH_SUMMARIES = "commitments.tasks.refresh_summaries"
REFRESH_COLLABORATOR_TOTALS = "commitments.tasks.refresh_collaborator_totals"
SEND_PENDING_NOTIFICATIONS = "commitments.tasks.send_pending_notifications"
BUILD_EXPORT = "commitments.tasks.build_export"
CHECK_NEED_IMPORT = "commitments.tasks.check_need_import"
APPLY_NEED_IMPORT = "commitments.tasks.apply_need_import"
ERASE_PERSONAL_DATA = "commitments.tasks.erase_personal_data"
RUN_ERASURES = "commitments.tasks.run_erasures"
FORGET_PERSONAL_DATA = "commitments.tasks.forget_personal_data"
ESCALATE_OVERDUE_REPORTS = "commitments.tasks.escalate_overdue_reports"

# Without workers, these run in a thread rather than in the request that asked: a whole
# program's export takes seconds, and its page follows the progress.
IN_BACKGROUND = {BUILD_EXPORT}
_started: list[threading.Thread] = []
_started_lock = threading.Lock()


def job_request(name: str, *args) -> bool:
    """Ask for job `name` now (call after commit: a worker may start at once). False when
    the broker could not take it; the row waits for the periodic run or a retry."""
    try:
        task = app.tasks[name]
        # A thread sees committed rows only: asked inside a transaction (a test's, or a
        # caller that did not wait for the commit) the job runs in place.
        if name in IN_BACKGROUND and app.conf.task_always_eager and not connection.in_atomic_block:
            _in_thread(task, args)
        else:
            task.delay(*args)
    except Exception:  # noqa: BLE001 - any broker failure: the outbox row stays the job
        logger.warning(
            "Broker unavailable; job %s%s waits for its next run", name, args, exc_info=True
        )
        return False
    return True


def job_after_commit(name: str, *args: Hashable) -> None:
    """Ask for job `name` once this transaction commits; asked again with the same
    arguments in the same transaction (a plan of fifty lines), it is asked once."""
    on_commit_once(requester(name, *args))


@functools.lru_cache(maxsize=4096)
def requester(name: str, *args: Hashable) -> Callable[[], bool]:
    """One callable per job and arguments, so that on_commit_once can tell it is waiting."""
    return functools.partial(job_request, name, *args)


def _in_thread(task, args: tuple) -> None:
    def run() -> None:
        try:
            task(*args)
        except Exception:  # noqa: BLE001 - the job's row keeps its state for a retry
            logger.exception("Job %s%s failed in its thread", task.name, args)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=run, name=f"{task.name}{args}", daemon=True)
    with _started_lock:
        _started[:] = [started for started in _started if started.is_alive()]
        _started.append(thread)
    thread.start()


def wait_for_background_jobs(timeout: float) -> bool:
    """Wait, `timeout` seconds at most in all, for the jobs started in threads; True when
    none is left running."""
    deadline = time.monotonic() + timeout
    with _started_lock:
        threads = list(_started)
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    return not any(thread.is_alive() for thread in threads)
