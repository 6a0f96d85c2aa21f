"""Health endpoint for monitors and container healthchecks.

One small view rather than django-health-check: what we need beyond "database up" is a
broker check that connects once with a short timeout (not a worker ping that waits), the
freshness of the summary tables, and a "degraded but serving" state, all of which would be
custom checks and a custom status mapping there anyway.

Public on purpose (load balancers and container runtimes call it without credentials), so
it says only up/down, counts and ages: no host names, URLs or error messages, which go to
the log instead.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from commitments.figures.summaries import summaries_freshness
from ksbb.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", logged for operators
        logger.warning("Health: database unreachable", exc_info=True)
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "ok"}


def broker_check() -> dict:
    """Connect to the broker once, bounded by the transport's socket timeouts
    (REDIS_TIMEOUT): a monitor must get its answer even when Redis hangs."""
    if celery_app.conf.task_always_eager:
        return {"status": "ok", "broker": "eager (none)"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001 - any failure means "down", logged for operators
        logger.warning("Health: broker unreachable", exc_info=True)
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "ok", "broker": str(transport)}


def summaries_check() -> dict:
    """Degraded when a change has waited for its summary longer than
    SUMMARY_MAX_AGE_SECONDS: the jobs are not keeping up (or not running). Old summaries
    with nothing stale are simply exact."""
    try:
        freshness = summaries_freshness()
    except Exception as exc:  # noqa: BLE001 - e.g. tables not migrated yet; still serving
        logger.warning("Health: summaries unreadable", exc_info=True)
        return {"status": "degraded", "error": type(exc).__name__}
    now = timezone.now()

    def seconds_since(moment):
        return None if moment is None else round((now - moment).total_seconds(), 1)

    stale_for = seconds_since(freshness.oldest_stale_at)
    limit = settings.SUMMARY_MAX_AGE_SECONDS
    return {
        "status": "degraded" if stale_for is not None and stale_for > limit else "ok",
        "age_seconds": seconds_since(freshness.newest_computed_at),
        "complete_seconds": seconds_since(freshness.complete_until),
        "stale_keys": freshness.stale_keys,
        "stale_for_seconds": stale_for,
        "max_age_seconds": limit,
    }


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """200 while the database and the broker answer ("degraded" summaries included: the
    portal still serves), 503 when either is down."""
    started = time.monotonic()
    checks = {"database": database_check(), "broker": broker_check()}
    if checks["database"]["status"] == "ok":
        checks["summaries"] = summaries_check()
    else:
        checks["summaries"] = {"status": "unknown"}
    states = {check["status"] for check in checks.values()}
    if "down" in states:
        status = "down"
    elif "degraded" in states:
        status = "degraded"
    else:
        status = "ok"
    body = {"status": status, **checks, "took_seconds": round(time.monotonic() - started, 3)}
    return JsonResponse(body, status=503 if status == "down" else 200)
