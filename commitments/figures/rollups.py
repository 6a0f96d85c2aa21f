"""CommitmentRollup: the summary rows rolled up to kecamatan, for dashboards.

Written only from commitments.figures.summaries, inside the transaction that rewrites the summary
rows they come from: a key's recompute rolls up its kecamatan again (from the summary
table, a few hundred rows at most); the full rebuild rolls up again the kecamatan whose
summary rows it changed, or everything (rollups_rebuild after a bulk reload; a compared
`whole_rollup`). So the roll-up is exactly the GROUP BY of the summaries whenever they
commit, and inherits their idempotence.

CommitmentMonthRollup and CommitmentKecamatanRollup are, in the same way, the GROUP BY of the
roll-up without its area and without its month (LEVELS): each roll-up recompute recomputes
the one month row set and the one kecamatan row set it can change, in the same
transaction; the rebuilds fill them from the roll-up or repair the rows that differ.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from ..models import (
    SUMMED_COLUMNS,
    CommitmentKecamatanRollup,
    CommitmentMonthRollup,
    CommitmentRollup,
    CommitmentSummary,
)


def rollup_recompute(
    *, program_id: int, donation_form_id: int, kecamatan_id: int | None, month, channel: str
) -> None:
    """Roll up one kecamatan's summary rows of a program, form, month and channel; then
    the month's rows (all kecamatan) and the kecamatan's rows (all months) from the roll-up.

    Two keys of the same kecamatan recomputed at once take turns on a PostgreSQL advisory
    lock taken after each wrote its own summary rows; the second then reads the first's
    committed rows with its next statement (READ COMMITTED), so neither is lost. Likewise
    for the month and kecamatan levels, whose locks are taken after the roll-up's, month
    first, by every recompute (one lock of each kind, always in that order: no deadlock).
    SQLite serialises writers anyway."""
    key = (program_id, donation_form_id, kecamatan_id, month, channel)
    _lock(key)
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
    if kecamatan_id is None:
        return  # no roll-up row has no kecamatan: nothing above it changed
    values = {
        "program_id": program_id,
        "donation_form_id": donation_form_id,
        "kecamatan_id": kecamatan_id,
        "month": month,
        "channel": channel,
    }
    for level in LEVELS:
        level_recompute(level, {c: values[c] for c in level.model.KEY_FIELDS})


class Level(NamedTuple):
    """A roll-up of the roll-up: its model, key (with the status) and summed columns."""

    name: str
    model: type
    key: tuple[str, ...]
    values: tuple[str, ...]


SUMS = SUMMED_COLUMNS
LEVELS = (
    Level(
        "month",
        CommitmentMonthRollup,
        ("program_id", "donation_form_id", "month", "channel", "status"),
        SUMS,
    ),
    Level(
        "kecamatan",
        CommitmentKecamatanRollup,
        ("program_id", "donation_form_id", "kecamatan_id", "channel", "status"),
        ("kota_id", *SUMS),
    ),
)


def level_recompute(level: Level, key: dict) -> None:
    """The rows of `level` of one key (its KEY_FIELDS: column -> value) from the roll-up,
    after that level's lock for the key."""
    _lock((level.name, *key.values()))
    level.model.objects.filter(**key).delete()
    where = " AND ".join(f"r.{column} = %s" for column in key)
    params = [
        connection.ops.adapt_datefield_value(v) if column == "month" else v
        for column, v in key.items()
    ]
    _insert_level(level, where, params)


def level_select(level: Level, where: str) -> str:
    """SELECT ... GROUP BY of the roll-up rows matching `where` (alias r) into rows of
    `level`, in the column order of level_columns(level); its first argument is
    computed_at."""
    rollups = CommitmentRollup._meta.db_table
    sums = ", ".join(f"SUM(r.{c}) AS {c}" for c in SUMS)
    kota = "MIN(r.kota_id) AS kota_id, " if "kota_id" in level.values else ""
    return f"""
        SELECT {", ".join(f"r.{c}" for c in level.key)}, {kota}{sums}, %s AS computed_at
        FROM {rollups} r
        WHERE {where}
        GROUP BY {", ".join(f"r.{c}" for c in level.key)}
    """  # noqa: S608 - table names come from the models, values are parameters


def level_columns(level: Level) -> str:
    return ", ".join((*level.key, *level.values, "computed_at"))


def _insert_level(level: Level, where: str, params: list) -> None:
    table = level.model._meta.db_table
    sql = f"INSERT INTO {table} ({level_columns(level)}) {level_select(level, where)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(timezone.now()), *params])


def rollups_rebuild(*, emptied: bool = False) -> None:
    """Every roll-up from the summary table, and every row of the LEVELS from the roll-up;
    call inside the rebuild's transaction. `emptied`: the roll-up tables were emptied
    already (TRUNCATE)."""
    if not emptied:
        for level in LEVELS:
            level.model.objects.all().delete()
        CommitmentRollup.objects.all().delete()
    _insert_rollups("1 = 1", [])
    for level in LEVELS:
        _insert_level(level, "1 = 1", [])


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


def _lock(key: tuple) -> None:
    """PostgreSQL: wait for, and hold until commit, the advisory lock of `key`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])


def _lock_id(key: tuple) -> int:
    digest = hashlib.blake2b(repr(("rollup", *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
