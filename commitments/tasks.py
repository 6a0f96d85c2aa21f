"""Thin Celery tasks: take ids, call one domain function; safe to run twice."""

from celery import shared_task

from .need_freshness import needs_freshen
from .notifications import notifications_send
from .services import commitments_expire
from .summaries import summaries_rebuild, summaries_refresh
from .totals import totals_refresh


@shared_task(ignore_result=True)
def send_notifications(ids: list[int]) -> int:
    return notifications_send(ids)


@shared_task(ignore_result=True)
def send_pending_notifications() -> int:
    return notifications_send()


@shared_task(ignore_result=True)
def expire_commitments() -> int:
    return commitments_expire()


@shared_task(ignore_result=True)
def refresh_totals() -> None:
    totals_refresh()


# acks_late holds for both: each run recomputes its keys from scratch in one transaction,
# so a run killed half-way rolls back and the redelivered run does it all again.
@shared_task(ignore_result=True, acks_late=True)
def refresh_summaries() -> int:
    return summaries_refresh()


@shared_task(ignore_result=True, acks_late=True)
def rebuild_summaries() -> int:
    return summaries_rebuild()


@shared_task(ignore_result=True)
def freshen_needs() -> None:
    needs_freshen()


@shared_task(ignore_result=True)
def check_need_import(import_id: int) -> None:
    from .needs_import import need_import_check

    need_import_check(import_id=import_id)


@shared_task(ignore_result=True)
def apply_need_import(import_id: int) -> None:
    from .needs_import import need_import_apply

    need_import_apply(import_id=import_id)
