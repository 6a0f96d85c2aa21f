"""Summary tables of commitments (CommitmentSummary), kept by Celery jobs.

Every commitment change writes a SummaryDirtyKey row in its own transaction
(`summaries_touch`) and enqueues `refresh_summaries` after commit. The job recomputes each
dirty key with one INSERT ... SELECT ... GROUP BY over that key's commitments only. If the
broker is down the dirty rows wait (the summaries are stale) and the periodic run drains
them. `summaries_rebuild` recomputes everything with the same GROUP BY over all
commitments (on PostgreSQL writing only the rows that differ).

Both paths recompute from scratch inside one transaction, so a job run twice, or killed
half-way and run again, leaves exact rows.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Sum
from django.utils import timezone

from locations.models import Area, enclosing
from programs.models import Program

from ..jobs import REFRESH_SUMMARIES, job_after_commit
from ..models import (
    SUMMED_COLUMNS,
    Commitment,
    CommitmentRollup,
    CommitmentSummary,
    SummaryDirtyKey,
    SummaryKey,
)
from .rollups import (
    LEVELS,
    Level,
    level_select,
    rollup_recompute,
    rollups_rebuild,
    rollups_select,
)
from .totals import key_figures, program_totals_apply, programs_mark_computed

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
    job_after_commit(REFRESH_SUMMARIES)


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
    kecamatan_id = kecamatan_of(area_id)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Wait for a running rebuild first (before reading anything), which holds
                # the table in SHARE ROW EXCLUSIVE mode; recomputes share the table with
                # each other and take turns per key.
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
        before = key_figures(key=key)
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
            few_keys=True,
        )
        rollup_recompute(
            program_id=program_id,
            donation_form_id=donation_form_id,
            kecamatan_id=kecamatan_id,
            month=month,
            channel=channel,
        )
        # In the same transaction, so the program figures move exactly once per recompute.
        program_totals_apply(key=key, before=before)
        figures_moved([program_id])
        SummaryDirtyKey.objects.filter(pk__in=claimed).delete()
    return True


def summaries_rebuild(*, whole_rollup: bool = False) -> int:
    """Recompute all summaries and their roll-up from all commitments, in one transaction.
    Clears the stale marks it covers. Returns the number of summary rows written: on
    PostgreSQL normally 0, or the changes the minute's refresh had not taken in yet; more
    means something drifted.

    On PostgreSQL the GROUP BY over the commitments is compared with the table and only
    the rows that differ are written (_summaries_repair): the nightly run, which normally
    finds nothing to repair, then costs about the GROUP BY alone, and readers keep reading
    meanwhile (recomputes of single keys wait). The roll-up rows of the kecamatan whose
    summary rows changed are rolled up again, and the month and kecamatan rows above the
    roll-up rows that changed; `whole_rollup` compares every roll-up row with the GROUP BY
    of the summaries too, and every month and kecamatan row with the GROUP BY of the
    roll-up (they are written only together, in one transaction, so the nightly run does
    not need to).
    When most rows are missing (a first run, a bulk import) the table is reloaded in bulk
    instead (_reload_in_bulk; readers wait). Elsewhere (SQLite: development, small data)
    the table is emptied and filled again.
    """
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic():
        if postgresql:
            # Recomputes of single keys wait for the rebuild, and the rebuild for them.
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(CommitmentSummary._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        claimed = list(SummaryDirtyKey.objects.values_list("pk", flat=True))
        if postgresql and not _mostly_missing():
            written, programs = _summaries_repair(whole_rollup=whole_rollup)
            figures_moved(programs)
        else:
            if postgresql and _owns_summary_tables():
                written = _reload_in_bulk()  # the roll-up too
            else:
                CommitmentSummary.objects.all().delete()
                written = _insert_summaries("1 = 1", [])
                rollups_rebuild()
            figures_moved(None)
        SummaryDirtyKey.objects.filter(pk__in=claimed).delete()
        programs_mark_computed()
        return written


def figures_moved(program_ids) -> None:
    """Move the figures version of these programs (None: all), in the transaction that
    changed their summary rows."""
    programs = (
        Program.objects.all() if program_ids is None else Program.objects.filter(pk__in=program_ids)
    )
    programs.update(figures_version=F("figures_version") + 1)


def _mostly_missing() -> bool:
    """Whether the summaries miss a large share of the commitments (a first run, a bulk
    import): then writing every row in bulk beats comparing. From the planner's row
    estimates where the tables are large (no scan), else from two counts."""
    commitments, summaries = Commitment._meta.db_table, CommitmentSummary._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::regclass::oid = oid, reltuples FROM pg_class"
            " WHERE oid IN (%s::regclass, %s::regclass)",
            [commitments, commitments, summaries],
        )
        estimates = dict(cursor.fetchall())  # True: commitments, False: summary rows
    if estimates[True] > 100_000:
        # A summary row holds a few commitments; an empty or tiny table is a first run.
        return estimates[False] < estimates[True] / 20
    commitments = Commitment.objects.count()
    summarised = CommitmentSummary.objects.aggregate(n=Sum("count"))["n"] or 0
    return abs(commitments - summarised) > max(1000, commitments // 5)


def _owns_summary_tables() -> bool:
    """Whether this role may TRUNCATE the summary and roll-up tables and drop their
    indexes and constraints (_reload_in_bulk)."""
    tables = _reloaded_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class"
            f" WHERE oid IN ({', '.join(['%s::regclass'] * len(tables))})",
            tables,
        )
        return bool(cursor.fetchone()[0])


def _reloaded_tables() -> list[str]:
    """The summary table, the roll-up and the roll-up's LEVELS: what _reload_in_bulk
    empties and fills."""
    models = [CommitmentSummary, CommitmentRollup, *(level.model for level in LEVELS)]
    return [model._meta.db_table for model in models]


def _reload_in_bulk() -> int:
    """Empty the summary and roll-up tables (with the roll-up's LEVELS) and fill them with
    their secondary indexes and their key and foreign-key constraints dropped, then create
    them again from their own definitions, and ANALYZE them. Returns the number of summary
    rows written.

    PostgreSQL's advice for populating a table: at a million commitments the summary has
    hundreds of thousands of rows and the roll-up half as many, and keeping sixteen
    indexes up to date row by row (plus a deferred foreign-key check per row and
    constraint at commit) costs several times the GROUP BY itself; building each index
    once, and checking each constraint with one join, does not. The roll-up is the GROUP
    BY of the fresh summary rows (far fewer than the commitments). All of it is
    transactional: a failure leaves the old rows, indexes and constraints. The GROUP BY
    over the commitments runs before TRUNCATE; from TRUNCATE on, the DDL holds an ACCESS
    EXCLUSIVE lock on the tables until commit (readers wait).
    """
    tables = _reloaded_tables()
    quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
    with connection.cursor() as cursor:
        # TRUNCATE and ALTER TABLE refuse a table with pending deferred checks (rows this
        # transaction wrote earlier): run them now, and defer again at the end.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        # The GROUP BY into a temporary table first, while readers still read the old
        # rows; sorted (no hash aggregate), so its rows come in the order of the key.
        cursor.execute("SET LOCAL enable_hashagg = off")
        select, arguments = _summaries_select("1 = 1", [], few_keys=False)
        cursor.execute(
            f"CREATE TEMPORARY TABLE summary_fresh ON COMMIT DROP AS {select}", arguments
        )
        dropped = [_secondary_definitions(cursor, table) for table in tables]
        cursor.execute(f"TRUNCATE {quoted}")
        for table, (indexes, constraints) in zip(tables, dropped, strict=True):
            _secondary_drop(cursor, table, indexes, constraints)
        cursor.execute("SET LOCAL enable_hashagg TO DEFAULT")
        # Copied in the order written, the order of the key: the rebuild's comparison then
        # reads the table along its key index without jumping about (_summaries_repair).
        columns = ", ".join((*SUMMARY_KEY, *SUMMARY_VALUES, "computed_at"))
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(tables[0])} ({columns})"
            f" SELECT {columns} FROM summary_fresh"
        )
        written = cursor.rowcount
        cursor.execute("DROP TABLE summary_fresh")
        rollups_rebuild(emptied=True)  # and its levels
        for table, (indexes, constraints) in zip(tables, dropped, strict=True):
            _secondary_create(cursor, table, indexes, constraints)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Fresh statistics for the planner (dashboards, the next comparison).
        cursor.execute(f"ANALYZE {quoted}")
    return written


def _secondary_definitions(cursor, table: str) -> tuple[list, list]:
    """The table's secondary indexes (name, definition) and its foreign-key, unique and
    primary-key constraints (name, definition); the primary key only where no foreign key
    refers to it."""
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint c
        WHERE conrelid = %s::regclass AND (contype IN ('f', 'u') OR contype = 'p'
            AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.confrelid = c.conrelid))
        ORDER BY contype DESC""",
        [table],
    )
    return indexes, cursor.fetchall()


def _secondary_drop(cursor, table: str, indexes: list, constraints: list) -> None:
    quoted = connection.ops.quote_name(table)
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")  # already quoted by regclass::text


def _secondary_create(cursor, table: str, indexes: list, constraints: list) -> None:
    quoted = connection.ops.quote_name(table)
    for _name, definition in indexes:
        cursor.execute(definition)
    for name, definition in constraints:
        cursor.execute(
            f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
        )


def kecamatan_of(area_id: int) -> int | None:
    """The kecamatan of an area as the summary rows record it (kecamatan_id)."""
    return (
        Area.objects.filter(pk=area_id)
        .annotate(kecamatan=enclosing("kecamatan"))
        .values_list("kecamatan", flat=True)
        .get()
    )


SUMMARY_KEY = ("program_id", "donation_form_id", "area_id", "month", "channel", "status")
SUMMARY_VALUES = ("kelurahan_id", "kecamatan_id", "kota_id", *SUMMED_COLUMNS)
ROLLUP_KEY = ("program_id", "donation_form_id", "kecamatan_id", "month", "channel", "status")
ROLLUP_VALUES = ("kota_id", *SUMMED_COLUMNS)


def _summaries_repair(*, whole_rollup: bool) -> tuple[int, set[int]]:
    """Make the summary table equal to the GROUP BY over all commitments, then the roll-up
    (see summaries_rebuild); inside the rebuild's transaction. Returns the number of
    summary rows written and the programs of all rows written.

    The difference is found by one read-only statement, which PostgreSQL runs in parallel
    like a plain GROUP BY (a statement that writes runs on one core only): the GROUP BY on
    the key, sorted (no hash aggregate), merged with the table's key index; each area's
    places are looked up after the merge, once per row rather than once per commitment."""
    summaries = connection.ops.quote_name(CommitmentSummary._meta.db_table)
    rollups = connection.ops.quote_name(CommitmentRollup._meta.db_table)
    grouped, arguments = _summaries_grouped("1 = 1", [], few_keys=False)
    places, joins = _parents("f.area_id")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # Compiling the expressions (JIT) costs more than it saves here.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL enable_hashagg = off")
        changed = _difference_find(
            cursor,
            "summary_difference",
            f"({grouped})",
            summaries,
            SUMMARY_KEY,
            SUMMARY_VALUES,
            [now, *arguments],
            computed={**places, "computed_at": "%s"},
            joins=joins,
        )
        cursor.execute("SET LOCAL enable_hashagg TO DEFAULT")
        programs = set()
        if changed:
            programs = _difference_apply(
                cursor, "summary_difference", summaries, SUMMARY_KEY, SUMMARY_VALUES
            )
            if not whole_rollup:
                _rollups_of_difference(cursor, "summary_difference", now)
        if whole_rollup:
            fresh = f"({rollups_select('1 = 1')})"
            if _difference_find(
                cursor, "rollup_difference", fresh, rollups, ROLLUP_KEY, ROLLUP_VALUES, [now]
            ):
                programs |= _difference_apply(
                    cursor, "rollup_difference", rollups, ROLLUP_KEY, ROLLUP_VALUES
                )
            cursor.execute("DROP TABLE rollup_difference")
            programs |= _levels_repair(cursor, now, None)
        cursor.execute("DROP TABLE summary_difference")
        cursor.execute("SET LOCAL jit TO DEFAULT")
    return changed, programs


def _difference_find(
    cursor, name, fresh, table, key, values, arguments, *, computed=None, joins=""
) -> int:
    """Write the rows where `fresh` and `table` differ into the temporary table `name`:
    FULL JOIN on the key, keeping the fresh row's columns, the old row's id (old_id) and
    its key and kecamatan where the table has one (old_...). Returns their number.

    `computed`: fresh columns computed after the join (column -> SQL over f and `joins`)
    rather than read from `fresh`; `arguments` are those of `computed`, then of `fresh`."""
    computed = computed or {}
    joined = " AND ".join(f"s.{c} = f.{c}" for c in key)
    fresh_columns = [computed.get(c, f"f.{c}") for c in (*values, "computed_at")]
    selected = ", ".join(
        [
            *(f"f.{c}" for c in key),
            *(f"{e} AS {c}" for e, c in zip(fresh_columns, (*values, "computed_at"), strict=True)),
        ]
    )
    compared = ", ".join(computed.get(c, f"f.{c}") for c in values)
    kecamatan = ("kecamatan_id",) if "kecamatan_id" in (*key, *values) else ()
    old = ", ".join(f"s.{c} AS old_{c}" for c in dict.fromkeys((*key, *kecamatan)))
    cursor.execute(
        f"""CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS
        SELECT {selected}, s.id AS old_id, {old}
        FROM {fresh} f FULL JOIN {table} s ON {joined} {joins}
        WHERE s.id IS NULL OR f.program_id IS NULL
            OR ({compared}) IS DISTINCT FROM ({", ".join(f"s.{c}" for c in values)})""",
        arguments,
    )
    count = cursor.rowcount
    if count:
        cursor.execute(f"ANALYZE {name}")
    return count


def _difference_apply(cursor, name, table, key, values) -> set[int]:
    """UPDATE, DELETE and INSERT the rows of the difference `name` in `table`, in one
    statement. Returns their programs.

    The rows are found by id, one index look-up each: the difference is a small part of
    the table, which a hash or merge join would read whole."""
    columns = ", ".join((*key, *values, "computed_at"))
    updates = ", ".join(f"{c} = d.{c}" for c in (*values, "computed_at"))
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute(
        f"""WITH updated AS (
            UPDATE {table} t SET {updates} FROM {name} d
            WHERE t.id = d.old_id AND d.program_id IS NOT NULL RETURNING t.id
        ),
        deleted AS (
            DELETE FROM {table} t USING {name} d
            WHERE t.id = d.old_id AND d.program_id IS NULL RETURNING t.id
        ),
        inserted AS (
            INSERT INTO {table} ({columns}) SELECT {columns} FROM {name} d
            WHERE d.old_id IS NULL RETURNING id
        )
        SELECT DISTINCT COALESCE(program_id, old_program_id) FROM {name}"""
    )
    programs = {program_id for (program_id,) in cursor.fetchall()}
    cursor.execute("SET LOCAL enable_hashjoin TO DEFAULT")
    cursor.execute("SET LOCAL enable_mergejoin TO DEFAULT")
    return programs


def _rollups_of_difference(cursor, name: str, now) -> None:
    """Roll up again the roll-up row (program, form, kecamatan, month, channel and status)
    of every summary row in the difference `name`, before and after, writing only the
    roll-up rows that differ (often none: a summary row repaired back to what its roll-up
    already said); then the rows of the LEVELS above the roll-up rows written."""
    rollups = connection.ops.quote_name(CommitmentRollup._meta.db_table)
    key = ROLLUP_KEY
    cursor.execute(
        f"""CREATE TEMPORARY TABLE rollup_keys ON COMMIT DROP AS
        SELECT {", ".join(key)} FROM {name} WHERE program_id IS NOT NULL
        UNION SELECT {", ".join(f"old_{c}" for c in key)} FROM {name} WHERE old_id IS NOT NULL"""
    )
    cursor.execute("ANALYZE rollup_keys")
    of_keys = f"({', '.join(f'{{0}}.{c}' for c in key)}) IN (SELECT * FROM rollup_keys)"
    fresh = f"({rollups_select(of_keys.format('s'))})"
    old = f"(SELECT * FROM {rollups} r WHERE {of_keys.format('r')})"
    if _difference_find(cursor, "rollup_difference", fresh, old, ROLLUP_KEY, ROLLUP_VALUES, [now]):
        _difference_apply(cursor, "rollup_difference", rollups, ROLLUP_KEY, ROLLUP_VALUES)
        _levels_repair(cursor, now, "rollup_difference")
    cursor.execute("DROP TABLE rollup_difference")
    cursor.execute("DROP TABLE rollup_keys")


def _levels_repair(cursor, now, difference: str | None) -> set[int]:
    """Make each of the LEVELS (rollups.py) equal to the GROUP BY of the roll-up, writing
    only the rows that differ: the level rows above the roll-up rows in the difference
    `difference` (before and after), or every row (None). Returns their programs.

    The levels hold a few thousand rows: even whole, this is about one read of the roll-up.
    The nightly run that repaired nothing never comes here."""
    programs = set()
    for level in LEVELS:
        table = connection.ops.quote_name(level.model._meta.db_table)
        fresh, old = f"({level_select(level, '1 = 1')})", table
        if difference is not None:
            of_keys = _level_keys(cursor, level, difference)
            fresh = f"({level_select(level, of_keys.format('r'))})"
            old = f"(SELECT * FROM {table} t WHERE {of_keys.format('t')})"
        if _difference_find(cursor, "level_difference", fresh, old, level.key, level.values, [now]):
            programs |= _difference_apply(
                cursor, "level_difference", table, level.key, level.values
            )
        cursor.execute("DROP TABLE level_difference")
        if difference is not None:
            cursor.execute("DROP TABLE level_keys")
    return programs


def _level_keys(cursor, level: Level, difference: str) -> str:
    """The keys of `level` (without the status) of the roll-up rows in `difference`, before
    and after, into the temporary table level_keys; returns the SQL condition "a row's key
    is one of them", its alias left as {0}."""
    columns = [c for c in level.key if c != "status"]
    cursor.execute(
        f"""CREATE TEMPORARY TABLE level_keys ON COMMIT DROP AS
        SELECT {", ".join(columns)} FROM {difference} WHERE program_id IS NOT NULL
        UNION SELECT {", ".join(f"old_{c}" for c in columns)} FROM {difference}
        WHERE old_id IS NOT NULL"""
    )
    cursor.execute("ANALYZE level_keys")
    return f"({', '.join(f'{{0}}.{c}' for c in columns)}) IN (SELECT * FROM level_keys)"


class Freshness(NamedTuple):
    newest_computed_at: datetime.datetime | None
    stale_keys: int
    oldest_stale_at: datetime.datetime | None
    complete_until: datetime.datetime | None


def summaries_freshness() -> Freshness:
    """How far behind the summaries are, for the health endpoint: when the newest row was
    computed, how many stale marks wait since when, and up to when every program's
    summaries were last known complete (a rebuild that finds nothing to repair writes no
    row, but moves this)."""
    newest = CommitmentSummary.objects.aggregate(newest=Max("computed_at"))["newest"]
    stale = SummaryDirtyKey.objects.aggregate(count=Count("pk"), oldest=Min("created_at"))
    complete = Program.objects.aggregate(at=Min("live_updated_at"))["at"]
    return Freshness(newest, stale["count"], stale["oldest"], complete)


def _lock_id(key: Key) -> int:
    """A stable signed 64-bit number for the key (Python's hash() changes per process)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _month_sql() -> str:
    if connection.vendor == "postgresql":
        return "CAST(date_trunc('month', c.created_at AT TIME ZONE 'Asia/Jakarta') AS date)"
    # SQLite keeps datetimes as UTC text; Jakarta is UTC+7 all year (no daylight saving).
    return "date(c.created_at, '+7 hours', 'start of month')"


def _parents(area_id: str) -> tuple[dict[str, str], str]:
    """The kelurahan, kecamatan and kota holding the area whose id is the SQL `area_id`, as
    locations.models.enclosing says: their expressions by column, and the joins they need
    (aliases a, p, pp)."""
    areas = Commitment.area.field.related_model._meta.db_table
    joins = f"""
        LEFT JOIN {areas} a ON a.id = {area_id}
        LEFT JOIN {areas} p ON p.id = a.parent_id
        LEFT JOIN {areas} pp ON pp.id = p.parent_id"""
    columns = {
        "kelurahan_id": "CASE WHEN a.level = 'rw' THEN a.parent_id ELSE a.id END",
        "kecamatan_id": "CASE WHEN a.level = 'rw' THEN p.parent_id ELSE a.parent_id END",
        "kota_id": "CASE WHEN a.level = 'rw' THEN pp.parent_id ELSE p.parent_id END",
    }
    return columns, joins


def _summaries_grouped(where: str, params: list, *, few_keys: bool) -> tuple[str, list]:
    """SELECT ... GROUP BY the summary key over the commitments matching `where` (alias c):
    the key and the sums (no places, no computed_at), and the query's arguments.

    Confirmed deliveries are summed per commitment first (one GROUP BY, joined by
    commitment id), so they do not multiply its counts; for a few keys only those of the
    matching commitments are read. Grouped on the key alone (the places follow from the
    area), a sorted GROUP BY yields the rows in the order of the table's key index
    (_summaries_repair)."""
    commitments = Commitment._meta.db_table
    deliveries = Commitment.deliveries.rel.related_model._meta.db_table
    of_these = (
        ""
        if not few_keys
        else f"AND d.commitment_id IN (SELECT c.id FROM {commitments} c WHERE {where})"
    )
    select = f"""
        SELECT
            c.program_id, c.donation_form_id, c.area_id, {_month_sql()} AS month, c.channel,
            c.status, COUNT(*) AS count, SUM(c.quantity) AS quantity,
            COALESCE(SUM(c.value_idr), 0) AS value_idr,
            COALESCE(SUM(d.households), 0) AS households,
            COALESCE(SUM(d.persons), 0) AS persons
        FROM {commitments} c
        LEFT JOIN (
            SELECT d.commitment_id, SUM(d.recipients_households) AS households,
                SUM(d.recipients_persons) AS persons
            FROM {deliveries} d
            WHERE d.confirmed_at IS NOT NULL {of_these}
            GROUP BY d.commitment_id
        ) d ON d.commitment_id = c.id
        WHERE {where}
        GROUP BY 1, 2, 3, 4, 5, 6
    """  # noqa: S608 - table names come from the models, values are parameters
    return select, [*(params if few_keys else []), *params]


def _summaries_select(where: str, params: list, *, few_keys: bool) -> tuple[str, list]:
    """The summary rows of the commitments matching `where` (alias c), in the table's column
    order: _summaries_grouped with the places of each area and computed_at."""
    grouped, arguments = _summaries_grouped(where, params, few_keys=few_keys)
    places, joins = _parents("g.area_id")
    sums = ", ".join(f"g.{c}" for c in SUMMARY_VALUES if c not in places)
    select = f"""
        SELECT g.program_id, g.donation_form_id, g.area_id, g.month, g.channel, g.status,
            {", ".join(f"{e} AS {c}" for c, e in places.items())}, {sums}, %s AS computed_at
        FROM ({grouped}) g {joins}
    """  # noqa: S608 - table names come from the models, values are parameters
    computed_at = connection.ops.adapt_datetimefield_value(timezone.now())
    return select, [computed_at, *arguments]


def _insert_summaries(where: str, params: list, *, few_keys: bool = False) -> int:
    """INSERT the GROUP BY of _summaries_select into the summary table. Returns the number
    of rows."""
    table = CommitmentSummary._meta.db_table
    columns = ", ".join((*SUMMARY_KEY, *SUMMARY_VALUES, "computed_at"))
    select, arguments = _summaries_select(where, params, few_keys=few_keys)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", arguments)
        return cursor.rowcount
