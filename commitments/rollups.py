"""CommitmentRollup: the summary rows rolled up to kecamatan, for dashboards.

Written only from commitments.summaries, inside the transaction that rewrites the summary
rows they come from: a key's recompute rolls up its kecamatan again (from the summary
table, a few hundred rows at most), the full rebuild rolls up everything after it. So the
roll-up is exactly the GROUP BY of the summaries whenever they commit, and inherits their
idempotence.
"""

from __future__ import annotations

import hashlib

from django.db import connection
from django.utils import timezone

from locations.models import Area

from .models import CommitmentRollup, CommitmentSummary


def rollup_recompute(
    *, program_id: int, donation_form_id: int, area_id: int, month, channel: str
) -> None:
    """Roll up one kecamatan's summary rows of a program, form, month and channel.

    Two keys of the same kecamatan recomputed at once take turns on a PostgreSQL advisory
    lock taken after each wrote its own summary rows; the second then reads the first's
    committed rows with its next statement (READ COMMITTED), so neither is lost. SQLite
    serialises writers anyway."""
    level, parent_id, grandparent_id = Area.objects.values_list(
        "level", "parent_id", "parent__parent_id"
    ).get(pk=area_id)
    kecamatan_id = grandparent_id if level == Area.Level.RW else parent_id
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


def rollups_rebuild() -> None:
    """Every roll-up from the summary table; call inside the rebuild's transaction."""
    CommitmentRollup.objects.all().delete()
    _insert_rollups("1 = 1", [])


def rollups_repair() -> list[int]:
    """PostgreSQL, inside the full rebuild after the summaries: make the roll-up equal to
    the GROUP BY of the summary table, writing only the rows that differ (one statement,
    as commitments.summaries._apply_difference). Returns the programs of rows written."""
    rollups = connection.ops.quote_name(CommitmentRollup._meta.db_table)
    summaries = connection.ops.quote_name(CommitmentSummary._meta.db_table)
    key = ("program_id", "donation_form_id", "kecamatan_id", "month", "channel", "status")
    figures = ("kota_id", "count", "quantity", "value_idr", "households", "persons")
    columns = ", ".join((*key, *figures, "computed_at"))
    joined = " AND ".join(f"r.{c} = f.{c}" for c in key)
    compared = ", ".join(f"{{0}}.{c}" for c in figures)
    updates = ", ".join(f"{c} = d.{c}" for c in (*figures, "computed_at"))
    sql = f"""
        WITH fresh AS (
            SELECT s.program_id, s.donation_form_id, s.kecamatan_id, s.month, s.channel,
                s.status, MIN(s.kota_id) AS kota_id, SUM(s.count) AS count,
                SUM(s.quantity) AS quantity, SUM(s.value_idr) AS value_idr,
                SUM(s.households) AS households, SUM(s.persons) AS persons,
                %s::timestamptz AS computed_at
            FROM {summaries} s WHERE s.kecamatan_id IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5, 6
        ),
        diff AS MATERIALIZED (
            SELECT f.*, r.id AS old_id, r.program_id AS old_program_id
            FROM fresh f FULL JOIN {rollups} r ON {joined}
            WHERE r.id IS NULL OR f.program_id IS NULL
                OR ({compared.format("f")}) IS DISTINCT FROM ({compared.format("r")})
        ),
        updated AS (
            UPDATE {rollups} t SET {updates} FROM diff d
            WHERE t.id = d.old_id AND d.program_id IS NOT NULL RETURNING t.id
        ),
        deleted AS (
            DELETE FROM {rollups} t USING diff d
            WHERE t.id = d.old_id AND d.program_id IS NULL RETURNING t.id
        ),
        inserted AS (
            INSERT INTO {rollups} ({columns}) SELECT {columns} FROM diff d
            WHERE d.old_id IS NULL RETURNING id
        )
        SELECT DISTINCT COALESCE(program_id, old_program_id) FROM diff
    """  # noqa: S608 - table and column names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(timezone.now())])
        return [program_id for (program_id,) in cursor.fetchall()]


def _insert_rollups(where: str, params: list) -> None:
    rollups = CommitmentRollup._meta.db_table
    summaries = CommitmentSummary._meta.db_table
    sql = f"""
        INSERT INTO {rollups} (
            program_id, donation_form_id, kecamatan_id, kota_id, month, channel, status,
            count, quantity, value_idr, households, persons, computed_at
        )
        SELECT
            s.program_id, s.donation_form_id, s.kecamatan_id, MIN(s.kota_id), s.month,
            s.channel, s.status, SUM(s.count), SUM(s.quantity), SUM(s.value_idr),
            SUM(s.households), SUM(s.persons), %s
        FROM {summaries} s
        WHERE s.kecamatan_id IS NOT NULL AND {where}
        GROUP BY s.program_id, s.donation_form_id, s.kecamatan_id, s.month, s.channel,
            s.status
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(timezone.now()), *params])


def _lock_id(key: tuple) -> int:
    digest = hashlib.blake2b(repr(("rollup", *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
