"""Summary tables of commitments (CommitmentSummary), kept by Celery jobs.

Every commitment change writes a SummaryDirtyKey row in its own transaction
(`summaries_touch`) and enqueues `refresh_summaries` after commit. The job recomputes each
dirty key with one INSERT ... SELECT ... GROUP BY over that key's commitments only. If the
broker is down the dirty rows wait (the summaries are stale) and the periodic run drains
them. `summaries_rebuild` recomputes everything the same way, in one statement.

Both paths recompute from scratch inside one transaction, so a job run twice, or killed
half-way and run again, leaves exact rows.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from .models import Commitment, CommitmentSummary, SummaryDirtyKey, SummaryKey

logger = logging.getLogger(__name__)

# Months are counted in Jakarta, whatever the server's time zone.
JAKARTA = ZoneInfo("Asia/Jakarta")

Key = tuple[int, int, int, datetime.date, str]  # program, donation form, area, month, channel


def month_of(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(JAKARTA).date().replace(day=1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime(month.year, month.month, 1, tzinfo=JAKARTA)
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    end = datetime.datetime(following.year, following.month, 1, tzinfo=JAKARTA)
    return start, end


def summaries_touch(commitment: Commitment) -> None:
    """Mark the commitment's summary key stale and ask for a recompute after commit. Call
    inside the transaction that changes the commitment, so the mark commits with it."""
    SummaryDirtyKey.objects.create(
        program_id=commitment.program_id,
        donation_form_id=commitment.donation_form_id,
        area_id=commitment.area_id,
        month=month_of(commitment.created_at),
        channel=commitment.channel,
    )
    transaction.on_commit(_refresh_summaries_later)


def _refresh_summaries_later() -> None:
    from .tasks import refresh_summaries

    try:
        refresh_summaries.delay()
    except Exception:  # noqa: BLE001 - the dirty rows stay; the periodic run drains them
        logger.warning(
            "Broker unavailable; summaries refresh on the next periodic run", exc_info=True
        )


def summaries_refresh() -> int:
    """Recompute every summary key marked stale, each in its own transaction. Returns the
    number of keys recomputed."""
    keys = list(SummaryDirtyKey.objects.values_list(*SummaryKey.KEY_FIELDS).distinct())
    return sum(summary_key_recompute(key=key) for key in keys)


def summary_key_recompute(*, key: Key) -> bool:
    """Recompute the summary rows of one key from its commitments, if it is still stale.

    Concurrent recomputes of one key take turns on a lock (PostgreSQL: an advisory lock
    on a hash of the key; SQLite's IMMEDIATE transactions serialise writers). The dirty
    rows are read after the lock and deleted by id at the end: a change committed after
    that read keeps its own row and is recomputed again. Returns whether it recomputed.
    """
    program_id, donation_form_id, area_id, month, channel = key
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Wait for a running rebuild first (before reading anything): the lock
                # this DELETE would take anyway, which recomputes do not take from each other.
                table = connection.ops.quote_name(CommitmentSummary._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])
        dirty = SummaryDirtyKey.objects.filter(
            program_id=program_id,
            donation_form_id=donation_form_id,
            area_id=area_id,
            month=month,
            channel=channel,
        )
        claimed = list(dirty.values_list("pk", flat=True))
        if not claimed:
            return False  # another run recomputed it meanwhile
        CommitmentSummary.objects.filter(
            program_id=program_id,
            donation_form_id=donation_form_id,
            area_id=area_id,
            month=month,
            channel=channel,
        ).delete()
        start, end = month_bounds(month)
        _insert_summaries(
            "c.program_id = %s AND c.donation_form_id = %s AND c.area_id = %s"
            " AND c.channel = %s AND c.created_at >= %s AND c.created_at < %s",
            [
                program_id,
                donation_form_id,
                area_id,
                channel,
                connection.ops.adapt_datetimefield_value(start),
                connection.ops.adapt_datetimefield_value(end),
            ],
        )
        SummaryDirtyKey.objects.filter(pk__in=claimed).delete()
    return True


def summaries_rebuild() -> int:
    """Recompute all summaries from all commitments in one transaction (readers see the
    old rows until it commits). Clears the stale marks it covers. Returns the row count."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Recomputes of single keys wait for the rebuild, and the rebuild for them.
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(CommitmentSummary._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        claimed = list(SummaryDirtyKey.objects.values_list("pk", flat=True))
        CommitmentSummary.objects.all().delete()
        _insert_summaries("1 = 1", [])
        SummaryDirtyKey.objects.filter(pk__in=claimed).delete()
        return CommitmentSummary.objects.count()


def _lock_id(key: Key) -> int:
    """A stable signed 64-bit number for the key (Python's hash() changes per process)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _month_sql() -> str:
    if connection.vendor == "postgresql":
        return "CAST(date_trunc('month', c.created_at AT TIME ZONE 'Asia/Jakarta') AS date)"
    # SQLite keeps datetimes as UTC text; Jakarta is UTC+7 all year (no daylight saving).
    return "date(c.created_at, '+7 hours', 'start of month')"


def _insert_summaries(where: str, params: list) -> None:
    """INSERT ... SELECT ... GROUP BY over the commitments matching `where` (alias c).
    Deliveries are summed per commitment first, so they do not multiply its counts."""
    table = CommitmentSummary._meta.db_table
    commitments = Commitment._meta.db_table
    deliveries = Commitment.deliveries.rel.related_model._meta.db_table
    areas = Commitment.area.field.related_model._meta.db_table
    month = _month_sql()
    sql = f"""
        INSERT INTO {table} (
            program_id, donation_form_id, area_id, month, channel, status,
            kelurahan_id, kecamatan_id, kota_id,
            count, quantity, value_idr, households, persons, computed_at
        )
        SELECT
            program_id, donation_form_id, area_id, month, channel, status,
            kelurahan_id, kecamatan_id, kota_id,
            COUNT(*), SUM(quantity), COALESCE(SUM(value_idr), 0),
            COALESCE(SUM(households), 0), COALESCE(SUM(persons), 0), %s
        FROM (
            SELECT
                c.program_id, c.donation_form_id, c.area_id, {month} AS month, c.channel,
                c.status, c.quantity, c.value_idr,
                CASE WHEN a.level = 'rw' THEN a.parent_id ELSE a.id END AS kelurahan_id,
                CASE WHEN a.level = 'rw' THEN p.parent_id ELSE a.parent_id END
                    AS kecamatan_id,
                CASE WHEN a.level = 'rw' THEN pp.parent_id ELSE p.parent_id END AS kota_id,
                (SELECT SUM(d.recipients_households) FROM {deliveries} d
                 WHERE d.commitment_id = c.id AND d.confirmed_at IS NOT NULL) AS households,
                (SELECT SUM(d.recipients_persons) FROM {deliveries} d
                 WHERE d.commitment_id = c.id AND d.confirmed_at IS NOT NULL) AS persons
            FROM {commitments} c
            JOIN {areas} a ON a.id = c.area_id
            LEFT JOIN {areas} p ON p.id = a.parent_id
            LEFT JOIN {areas} pp ON pp.id = p.parent_id
            WHERE {where}
        ) per_commitment
        GROUP BY program_id, donation_form_id, area_id, month, channel, status,
            kelurahan_id, kecamatan_id, kota_id
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(timezone.now()), *params])
