"""CommitmentRollup: the summary rows rolled up to kecamatan, for dashboards.

Written only from commitments.figures.summaries, inside the transaction that rewrites the summary
rows they come from: a key's recompute rolls up its kecamatan again (from the summary
table, a few hundred rows at most); the full rebuild rolls up again the kecamatan whose
summary rows it changed, or everything (rollups_rebuild after a bulk reload; a compared
`whole_rollup`). So the roll-up is exactly the GROUP BY of the summaries whenever they
commit, and inherits their idempotence.
"""

from __future__ import annotations

import hashlib

from django.db import connection
from django.utils import timezone

from ..models import CommitmentRollup, CommitmentSummary


def rollup_recompute(
    *, program_id: int, donation_form_id: int, kecamatan_id: int | None, month, channel: str
) -> None:
    """Roll up one kecamatan's summary rows of a program, form, month and channel.

    Two keys of the same kecamatan recomputed at once take turns on a PostgreSQL advisory
    lock taken after each wrote its own summary rows; the second then reads the first's
    committed rows with its next statement (READ COMMITTED), so neither is lost. SQLite
    serialises writers anyway."""
    key = (program_id, donation_form_id, kecamatan_id, month, channel)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])
    CommitmentRollup.objects.filter(
        program_id=program_id,
        donation_form_id=donation_form_id,
        kecamatan_id=kecamatan_id,
        month=month,
        channel=channel,
    ).delete()
    _insert_rollups(
        "s.program_id = %s AND s.donation_form_id = %s AND s.kecamatan_id = %s"
        " AND s.month = %s AND s.channel = %s",
        [
            program_id,
            donation_form_id,
            kecamatan_id,
            connection.ops.adapt_datefield_value(month),
            channel,
        ],
    )


def rollups_rebuild(*, emptied: bool = False) -> None:
    """Every roll-up from the summary table; call inside the rebuild's transaction.
    `emptied`: the roll-up table was emptied already (TRUNCATE)."""
    if not emptied:
        CommitmentRollup.objects.all().delete()
    _insert_rollups("1 = 1", [])


def rollups_select(where: str) -> str:
    """SELECT ... GROUP BY of the summary rows matching `where` (alias s) into roll-up
    rows, in the column order of ROLLUP_COLUMNS; its first argument is computed_at."""
    summaries = CommitmentSummary._meta.db_table
    return f"""
        SELECT
            s.program_id, s.donation_form_id, s.kecamatan_id, s.month, s.channel, s.status,
            MIN(s.kota_id) AS kota_id, SUM(s.count) AS count, SUM(s.quantity) AS quantity,
            SUM(s.value_idr) AS value_idr, SUM(s.households) AS households,
            SUM(s.persons) AS persons, %s AS computed_at
        FROM {summaries} s
        WHERE s.kecamatan_id IS NOT NULL AND {where}
        GROUP BY s.program_id, s.donation_form_id, s.kecamatan_id, s.month, s.channel,
            s.status
    """  # noqa: S608 - table names come from the models, values are parameters


ROLLUP_COLUMNS = """program_id, donation_form_id, kecamatan_id, month, channel, status,
    kota_id, count, quantity, value_idr, households, persons, computed_at"""


def _insert_rollups(where: str, params: list) -> None:
    rollups = CommitmentRollup._meta.db_table
    sql = f"INSERT INTO {rollups} ({ROLLUP_COLUMNS}) {rollups_select(where)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(timezone.now()), *params])


def _lock_id(key: tuple) -> int:
    digest = hashlib.blake2b(repr(("rollup", *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
