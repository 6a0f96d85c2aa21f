"""Thin Celery tasks: take ids, call one domain function; safe to run twice.

acks_late (redelivery after a worker dies) only where a rerun is harmless: every task here
recomputes from scratch or skips what is done, except sending emails, acknowledged on
receipt: a rerun could email twice, and the outbox's periodic run sends what a lost run
left."""

import logging

from celery import shared_task

from .adoption.expiry import adoptions_end_expired
from .feedback.escalation import escalate_overdue
from .figures.summaries import summaries_rebuild, summaries_refresh
from .figures.totals import (
    collaborator_totals_refresh,
    program_totals_from_summaries,
    programs_mark_computed,
    totals_refresh,
)
from .housekeeping.retention import stored_files_forget
from .lifecycle.transitions import commitments_expire
from .needs.freshness import needs_freshen
from .notify.digest import digests_send
from .notify.notifications import notifications_send
from .notify.quarterly import quarterly_summaries_send
from .privacy.erasure import erasure_run, erasures_run
from .privacy.retention import personal_data_forget

logger = logging.getLogger(__name__)


# Kept for messages queued by earlier versions; changes now queue send_pending_notifications.
@shared_task(ignore_result=True)
def send_notifications(ids: list[int]) -> int:
    return notifications_send(ids)


@shared_task(ignore_result=True)
def send_pending_notifications() -> int:
    return notifications_send()


# acks_late: a worker killed half-way is redelivered; the digests already sent are skipped.
@shared_task(ignore_result=True, acks_late=True)
def send_weekly_digests() -> int:
    return digests_send()


# acks_late: as the weekly digests, a summary already sent this quarter is skipped.
@shared_task(ignore_result=True, acks_late=True)
def send_quarterly_summaries() -> int:
    return quarterly_summaries_send()


@shared_task(ignore_result=True, acks_late=True)
def expire_commitments() -> int:
    return commitments_expire()


# acks_late holds: the job moves only adoptions still past their end, so a rerun does nothing.
@shared_task(ignore_result=True, acks_late=True)
def end_adoptions() -> int:
    return adoptions_end_expired()


@shared_task(ignore_result=True, acks_late=True)
def refresh_totals() -> None:
    totals_refresh()


@shared_task(ignore_result=True, acks_late=True)
def refresh_collaborator_totals(collaborator_ids: list[int]) -> None:
    collaborator_totals_refresh(collaborator_ids=collaborator_ids)


# acks_late holds for both: each run recomputes its keys from scratch in one transaction,
# so a run killed half-way rolls back and the redelivered run does it all again.
@shared_task(ignore_result=True, acks_late=True)
def refresh_summaries() -> int:
    recomputed = summaries_refresh()  # moves the program figures key by key
    if recomputed:
        programs_mark_computed()
    return recomputed


@shared_task(ignore_result=True, acks_late=True)
def rebuild_summaries() -> int:
    written = summaries_rebuild()
    # Above 0 only for changes the minute's refresh had not taken in yet, or after drift.
    logger.info("Summaries rebuilt: %s rows written", written)
    program_totals_from_summaries()
    return written


@shared_task(ignore_result=True, acks_late=True)
def freshen_needs() -> None:
    needs_freshen()


@shared_task(ignore_result=True, acks_late=True)
def forget_stored_files() -> int:
    return stored_files_forget()


# acks_late: each report is claimed once (escalated_at), so a rerun escalates none twice.
@shared_task(ignore_result=True, acks_late=True)
def escalate_overdue_reports() -> int:
    return escalate_overdue()


@shared_task(ignore_result=True, acks_late=True)
def check_need_import(import_id: int) -> None:
    from .needs.bulk_import import need_import_check

    need_import_check(import_id=import_id)


@shared_task(ignore_result=True, acks_late=True)
def apply_need_import(import_id: int) -> None:
    from .needs.bulk_import import need_import_apply

    need_import_apply(import_id=import_id)


# acks_late holds: the job rebuilds the whole file under the same name from any state, so a
# run killed half-way and redelivered writes the same file again.
@shared_task(ignore_result=True, acks_late=True)
def build_export(export_id: int) -> None:
    from .reporting.exports import export_build

    export_build(export_id=export_id)


# acks_late holds for the three below: an erasure proves itself and a rerun finds neutral
# values; retention deletes or blanks only what is still past its time.
@shared_task(ignore_result=True, acks_late=True)
def erase_personal_data(request_id: int) -> bool:
    return erasure_run(request_id=request_id)


@shared_task(ignore_result=True, acks_late=True)
def run_erasures() -> int:
    return erasures_run()


@shared_task(ignore_result=True, acks_late=True)
def forget_personal_data() -> dict:
    return personal_data_forget()
