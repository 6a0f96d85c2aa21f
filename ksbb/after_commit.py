"""After-commit work asked for by many changes in one transaction, run once: a plan of fifty
lines publishes one summary refresh, bumps the map's version once and queues one email job,
so a slow broker or cache costs its short timeout once, not fifty times."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def on_commit_once(func: Callable[[], None]) -> None:
    """transaction.on_commit(func), unless func already waits for this transaction's commit,
    registered inside every savepoint this change runs in.

    Such a callback cannot be dropped (Django drops one when a savepoint it was registered
    in rolls back) unless this change is rolled back too: its other savepoints were
    released. One registered outside them (before this savepoint began) is not relied on:
    tests run callbacks early, as if that part had committed."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        current = set(connection.savepoint_ids)
        # Django's pending callbacks: (savepoint ids when registered, func, robust).
        for savepoints, waiting, _robust in connection.run_on_commit:
            if waiting is func and savepoints >= current:
                return
    transaction.on_commit(func)
