"""The full summary rebuild as the nightly job runs it: on PostgreSQL it compares the GROUP BY
over the commitments with the table and writes only the rows that differ, then rolls up
again the kecamatan whose rows changed (or, asked for the whole roll-up, compares every
roll-up row). Pledges (with their eager recomputes) made while it runs are neither lost nor
deadlocked; SQLite takes its emptying path and must give the same rows."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from commitments.figures.summaries import _reload_in_bulk, summaries_rebuild, summaries_refresh
from commitments.models import (
    CommitmentKecamatanRollup,
    CommitmentMonthRollup,
    CommitmentRollup,
    CommitmentSummary,
    SummaryDirtyKey,
)

from .factories import collaborator_and_member
from .rollup_levels import assert_levels_equal_rollup, levels_computed_at, rollup_levels
from .world import (
    direct_group_by,
    pledge_directly,
    run_in_threads,
    small_world,
    summaries,
    summary_rows,
)

pytestmark = pytest.mark.django_db(transaction=True)


def pledged_in_four_kecamatan():
    needs = [small_world(quantity_needed=100) for _ in range(4)]
    collaborator, member = collaborator_and_member()
    for n, need in enumerate(needs):
        for quantity in (1, 2 + n):
            pledge_directly(need, collaborator, member, quantity)
    expected = direct_group_by()
    assert summaries() == expected
    assert_levels_equal_rollup()
    return needs, expected


def rollups_as_rows() -> set:
    return set(
        CommitmentRollup.objects.values_list(
            "program_id", "donation_form_id", "kecamatan_id", "month", "channel", "status",
            "kota_id", "count", "quantity", "value_idr", "households", "persons",
        )
    )  # fmt: skip


def test_a_rebuild_repairs_every_kind_of_drift_and_the_roll_up_of_what_it_changed():
    needs, expected = pledged_in_four_kecamatan()
    rolled_up = rollups_as_rows()
    rows = list(CommitmentSummary.objects.order_by("area_id", "status", "count"))
    first, second, *_, last = rows
    # A wrong row, a missing row, a surplus row, a row filed under another kecamatan, all
    # written by hand with their roll-up rows left as they were.
    CommitmentSummary.objects.filter(pk=first.pk).update(count=99, value_idr=1)
    CommitmentSummary.objects.filter(pk=last.pk).delete()
    surplus = second
    surplus.pk, surplus.status = None, "expired"
    surplus.save()
    CommitmentSummary.objects.filter(pk=rows[2].pk).update(kecamatan_id=last.kecamatan_id)
    assert summary_rows() != expected

    written = summaries_rebuild()

    assert summaries() == expected  # the roll-up too, every kecamatan
    assert rollups_as_rows() == rolled_up
    assert_levels_equal_rollup()
    # Nothing left to repair: a second run writes no row (SQLite writes them all again).
    if connection.vendor == "postgresql":
        assert written == 4  # two updates, an insert and a delete
        written = {r.pk: r.computed_at for r in CommitmentSummary.objects.all()}
        rolled = {r.pk: r.computed_at for r in CommitmentRollup.objects.all()}
        levels = levels_computed_at()
        assert summaries_rebuild() == 0
        assert {r.pk: r.computed_at for r in CommitmentSummary.objects.all()} == written
        assert {r.pk: r.computed_at for r in CommitmentRollup.objects.all()} == rolled
        assert levels_computed_at() == levels


def test_a_rebuild_repairs_the_month_and_kecamatan_rows_above_the_roll_up_rows_it_writes():
    needs, expected = pledged_in_four_kecamatan()
    levels = rollup_levels()
    first = CommitmentSummary.objects.filter(program=needs[0].program).first()
    untouched = {
        (r.model_name, r.pk): r.computed_at
        for r in rows_of_levels(CommitmentMonthRollup.objects.exclude(program=first.program))
    }
    # A summary row missing with its roll-up row and the month and kecamatan rows above it,
    # and another month row of that key wrong: all consistently wrong, written by hand.
    CommitmentSummary.objects.filter(pk=first.pk).delete()
    rollup_key = {f: getattr(first, f) for f in CommitmentRollup.KEY_FIELDS}
    CommitmentRollup.objects.filter(**rollup_key, status=first.status).delete()
    for model in (CommitmentMonthRollup, CommitmentKecamatanRollup):
        key = {f: getattr(first, f) for f in model.KEY_FIELDS}
        model.objects.filter(**key, status=first.status).delete()
        model.objects.filter(**key).update(persons=999)
    assert rollup_levels() != levels

    written = summaries_rebuild()

    assert summaries() == expected
    assert rollup_levels() == levels
    assert_levels_equal_rollup()
    if connection.vendor == "postgresql":
        assert written == 1
        # The level rows of other keys are left as they were (only the difference written).
        assert {
            (r.model_name, r.pk): r.computed_at
            for r in rows_of_levels(CommitmentMonthRollup.objects.exclude(program=first.program))
        } == untouched


def rows_of_levels(rows):
    for row in rows:
        row.model_name = type(row).__name__
        yield row


def test_the_whole_roll_up_is_compared_on_request():
    _needs, expected = pledged_in_four_kecamatan()
    rolled_up = rollups_as_rows()
    # Roll-up rows wrong, missing and surplus while their summary rows are right: written
    # by hand, since the services write both in one transaction.
    one, two, *_ = CommitmentRollup.objects.order_by("kecamatan_id", "status")
    CommitmentRollup.objects.filter(pk=one.pk).update(persons=12345)
    CommitmentRollup.objects.filter(pk=two.pk).delete()
    one.pk, one.status = None, "rejected"
    one.save()
    # And the month and kecamatan rows too, while the roll-up's other rows are right.
    levels = rollup_levels()
    month, *_ = CommitmentMonthRollup.objects.order_by("pk")
    CommitmentMonthRollup.objects.filter(pk=month.pk).update(count=777)
    CommitmentKecamatanRollup.objects.order_by("pk")[0].delete()
    month.pk, month.status = None, "expired" if month.status != "expired" else "rejected"
    month.save()

    out = io.StringIO()
    call_command("rebuild_summaries", "--whole-rollup", stdout=out)
    assert f"Summaries rebuilt: {len(expected)} rows" in out.getvalue()

    assert rollups_as_rows() == rolled_up
    assert summaries() == expected
    assert rollup_levels() == levels
    assert_levels_equal_rollup()


def test_pledges_while_a_rebuild_runs_are_kept_exact():
    needs = [small_world(quantity_needed=1000) for _ in range(4)]
    collaborator, member = collaborator_and_member()
    for need in needs:
        pledge_directly(need, collaborator, member)
    summaries_rebuild()
    # Drift, so that the rebuild has rows to write while the pledges recompute.
    CommitmentSummary.objects.update(persons=7)

    started = threading.Event()

    def rebuild():
        started.set()
        for _ in range(3):
            CommitmentSummary.objects.filter(persons=0).update(persons=7)
            summaries_rebuild()

    def pledges(need):
        def run():
            started.wait(5)
            for quantity in range(1, 7):
                pledge_directly(need, collaborator, member, quantity)

        return run

    results = run_in_threads([rebuild, rebuild, *(pledges(need) for need in needs)])

    assert [r for r in results if isinstance(r, Exception)] == []
    # A mark committed after the rebuild read its marks waits for the next refresh.
    summaries_refresh()
    assert not SummaryDirtyKey.objects.exists()
    assert summaries() == direct_group_by()
    assert_levels_equal_rollup()


RELOADED = (CommitmentSummary, CommitmentRollup, CommitmentMonthRollup, CommitmentKecamatanRollup)


def indexes_and_constraints() -> set:
    """Every index and constraint of the summary and roll-up tables (the month and kecamatan
    roll-ups too), by definition, and the tables' storage options (their fillfactor)."""
    tables = [model._meta.db_table for model in RELOADED]
    these = ", ".join(["%s::regclass"] * len(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
            WHERE indrelid IN ({these})
            UNION ALL SELECT conname, pg_get_constraintdef(oid) || convalidated::text
            FROM pg_constraint WHERE conrelid IN ({these})
            UNION ALL SELECT relname, array_to_string(reloptions, ',') FROM pg_class
            WHERE oid IN ({these})""",
            tables * 3,
        )
        return set(cursor.fetchall())


def test_the_summary_tables_leave_room_for_updates_in_place_and_no_redundant_index():
    if connection.vendor != "postgresql":
        pytest.skip("fillfactor is PostgreSQL's")
    schema = dict(indexes_and_constraints())
    tables = [model._meta.db_table for model in RELOADED]
    # Room on each page for the rebuild's repairs (HOT updates, no index entries).
    assert [schema[table] for table in tables] == ["fillfactor=90"] * len(tables)
    # No index on program_id alone: it leads the composite indexes. The areas' and the
    # form's own indexes serve the area pages and the summaries API; the kelurahan's leads
    # (kelurahan, month), whose groups the API counts from the index alone.
    single = {
        definition.rsplit("(", 1)[1].rstrip(")")
        for definition in schema.values()
        if definition.startswith("CREATE INDEX") and "," not in definition.rsplit("(", 1)[1]
    }
    assert "program_id" not in single
    assert {"area_id", "kota_id", "kecamatan_id", "donation_form_id"} <= single
    assert "kelurahan_id" not in single
    assert any(d.endswith("(kelurahan_id, month)") for d in schema.values())


def test_the_bulk_reload_writes_the_same_rows_and_gives_back_every_index_and_constraint():
    if connection.vendor != "postgresql":
        pytest.skip("the bulk reload is PostgreSQL's (SQLite empties and fills the tables)")
    _needs, expected = pledged_in_four_kecamatan()
    rolled_up = rollups_as_rows()
    levels = rollup_levels()
    schema = indexes_and_constraints()
    assert len(schema) > 30
    assert {name for name, _ in schema} >= {
        "commitment_month_rollup_key_unique",
        "commitment_kecamatan_rollup_key_unique",
    }
    # Rows already written in the reload's transaction (pending deferred checks), and
    # roll-up rows the summaries do not explain: the reload replaces the tables whole.
    CommitmentSummary.objects.all().delete()
    with transaction.atomic():
        CommitmentRollup.objects.update(persons=12345)
        CommitmentMonthRollup.objects.update(persons=12345)
        CommitmentKecamatanRollup.objects.order_by("pk")[0].delete()
        summary = CommitmentSummary(**{**rows_of_one_summary(expected), "count": 1})
        summary.save()
        written = _reload_in_bulk()

    assert written == len(expected)
    assert summaries() == expected  # the roll-up too
    assert rollups_as_rows() == rolled_up
    assert rollup_levels() == levels
    assert_levels_equal_rollup()
    assert indexes_and_constraints() == schema
    # The next nightly run finds nothing to repair.
    assert summaries_rebuild() == 0


def rows_of_one_summary(expected: dict) -> dict:
    """The fields of a summary row for the first key of `expected` (direct_group_by)."""
    key = sorted(expected)[0]
    names = ("program_id", "donation_form_id", "area_id", "month", "channel", "status")
    names = (*names, "kelurahan_id", "kecamatan_id", "kota_id")
    count, quantity, value_idr, households, persons = expected[key]
    return {
        **dict(zip(names, key, strict=True)),
        "count": count,
        "quantity": quantity,
        "value_idr": value_idr,
        "households": households,
        "persons": persons,
        "computed_at": timezone.now(),
    }
