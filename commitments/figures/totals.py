"""The figures other apps display: the live totals on program, donation form and
collaborator pages, and the claimed / delivered counters of needs.

A change touches only what it changed: its collaborator's own figures
(`collaborator_totals_refresh`, from that collaborator's commitments) and, through the
summary job, its program's and donation form's figures (`program_totals_apply`, by what its
summary key changed). `program_totals_from_summaries` recomputes all program and donation
form figures from the summaries (after a rebuild), and `totals_refresh` is the periodic full
repair, in a few set-based statements. Running any of them twice or concurrently does no
harm.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from collaborators.models import Collaborator
from locations.models import Area, Need
from programs.models import DonationForm, Program

from ..models import (
    ACTIVE_STATUSES,
    CONFIRMED_STATUSES,
    CollaboratorFigures,
    Commitment,
    CommitmentSummary,
    Delivery,
    SummaryDirtyKey,
)

Through = Collaborator.programs.through


def needs_recount(*, need_ids: Iterable[int] | None = None) -> int:
    """Recompute quantity_claimed / quantity_delivered of needs from their commitments.

    Idempotent repair: the pledge path keeps these counters with conditional UPDATEs; this
    rebuilds them from scratch. Runs in its own transaction; concurrent pledges on the same
    needs should not run at the same time (use it from maintenance tasks and loaders).
    Returns the number of needs whose counters changed.
    """
    needs = Need.objects.all()
    if need_ids is not None:
        needs = needs.filter(pk__in=list(need_ids))
    claimed = dict(
        Commitment.objects.filter(need__in=needs, status__in=ACTIVE_STATUSES)
        .values("need")
        .annotate(total=Sum("quantity"))
        .values_list("need", "total")
    )
    delivered = dict(
        Delivery.objects.filter(
            commitment__need__in=needs,
            commitment__status__in=ACTIVE_STATUSES,
            confirmed_at__isnull=False,
        )
        .values("commitment__need")
        .annotate(total=Sum("quantity"))
        .values_list("commitment__need", "total")
    )
    changed = []
    with transaction.atomic():
        for need in needs.select_for_update().only("pk", "quantity_claimed", "quantity_delivered"):
            new = (claimed.get(need.pk, 0), delivered.get(need.pk, 0))
            if (need.quantity_claimed, need.quantity_delivered) != new:
                need.quantity_claimed, need.quantity_delivered = new
                changed.append(need)
        Need.objects.bulk_update(
            changed, ["quantity_claimed", "quantity_delivered"], batch_size=500
        )
    return len(changed)


def collaborator_totals_refresh(*, collaborator_ids: Iterable[int]) -> None:
    """Recompute the live figures and program links of these collaborators from their own
    commitments only, so a change costs the same however many commitments others have.

    The collaborator row is locked before its commitments are read: concurrent runs for
    one collaborator take turns, and the last one sees every committed change (last
    writer complete). Several collaborators are taken one at a time in id order.
    """
    for collaborator_id in sorted(set(collaborator_ids)):
        with transaction.atomic():
            locked = Collaborator.objects.select_for_update().filter(pk=collaborator_id)
            if not list(locked.values_list("pk", flat=True)):
                continue  # deleted meanwhile
            # One GROUP BY of its confirmed commitments by program and anonymity: its
            # dashboard figures, its totals and its programs.
            grouped = {
                (row["program_id"], row["is_anonymous"]): (
                    row["n"],
                    row["qty"] or 0,
                    row["value"] or Decimal(0),
                )
                for row in Commitment.objects.filter(
                    collaborator_id=collaborator_id, status__in=CONFIRMED_STATUSES
                )
                .order_by()
                .values("program_id", "is_anonymous")
                .annotate(n=Count("*"), qty=Sum("quantity"), value=Sum("value_idr"))
            }
            locked.update(
                live_commitments=sum(n for n, _qty, _value in grouped.values()),
                live_value_idr=sum((value for _n, _qty, value in grouped.values()), Decimal(0)),
            )
            moved = _collaborator_figures_sync(collaborator_id, grouped)
            programs = {program_id for program_id, _anonymous in grouped}
            links = Through.objects.filter(collaborator_id=collaborator_id)
            current = set(links.values_list("program_id", flat=True))
            if current - programs:
                links.filter(program_id__in=current - programs).delete()
            if programs - current:
                Through.objects.bulk_create(
                    [
                        Through(collaborator_id=collaborator_id, program_id=p)
                        for p in programs - current
                    ],
                    ignore_conflicts=True,
                )
        # Its programs' dashboards show other top collaborators now: their cached figures
        # (keyed on this version) are not read again. As below, after the commit.
        for program_id in sorted(moved):
            Program.objects.filter(pk=program_id).update(figures_version=F("figures_version") + 1)
        # One row per statement, outside the collaborator's lock: no lock-order deadlocks.
        for program_id in sorted(programs ^ current):
            Program.objects.filter(pk=program_id).update(live_collaborators=_collaborators_of())


def _collaborator_figures_sync(collaborator_id: int, grouped: dict) -> set[int]:
    """Make the collaborator's CollaboratorFigures rows equal `grouped` ((program,
    anonymous) -> (count, quantity, value)), writing only what differs. Returns the
    programs whose rows changed."""
    rows = CollaboratorFigures.objects.filter(collaborator_id=collaborator_id)
    current = {
        (r.program_id, r.is_anonymous): (r.count, r.quantity, r.value_idr, r.pk) for r in rows
    }
    stale = [key for key in current if current[key][:3] != grouped.get(key)]
    if stale:
        rows.filter(pk__in=[current[key][3] for key in stale]).delete()
    added = [key for key in grouped if current.get(key, (None,) * 3)[:3] != grouped[key]]
    CollaboratorFigures.objects.bulk_create(
        [
            CollaboratorFigures(
                collaborator_id=collaborator_id,
                program_id=program_id,
                is_anonymous=anonymous,
                count=grouped[program_id, anonymous][0],
                quantity=grouped[program_id, anonymous][1],
                value_idr=grouped[program_id, anonymous][2],
            )
            for program_id, anonymous in added
        ]
    )
    return {program_id for program_id, _anonymous in (*stale, *added)}


def _collaborators_of():
    """Distinct collaborators of the program (OuterRef pk) with a confirmed commitment: the
    program links, kept by collaborator_totals_refresh."""
    return Coalesce(
        Subquery(
            Through.objects.filter(program_id=OuterRef("pk"))
            .order_by()
            .values("program_id")
            .annotate(n=Count("collaborator_id"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


# Which CommitmentSummary column holds an area of each level (a province: every row).
_SUMMARY_COLUMN = {
    Area.Level.RW: "area_id",
    Area.Level.KELURAHAN: "kelurahan_id",
    Area.Level.KECAMATAN: "kecamatan_id",
    Area.Level.KOTA: "kota_id",
}


def area_figures(*, area: Area) -> dict:
    """Confirmed commitments in the area and below (count, value, households and persons
    reached), from the summaries: one indexed lookup of the area's own rows."""
    rows = CommitmentSummary.objects.filter(status__in=CONFIRMED_STATUSES)
    column = _SUMMARY_COLUMN.get(area.level)
    if column is not None:
        rows = rows.filter(Q((column, area.pk)))
    return rows.figures()


def key_figures(*, key: tuple) -> dict:
    """The confirmed figures of one summary key, and whether its area (if an RW) counts as
    covered by its program: what program_totals_apply compares before and after."""
    program_id, donation_form_id, area_id, month, channel = key
    confirmed = CommitmentSummary.objects.filter(status__in=CONFIRMED_STATUSES)
    figures = confirmed.filter(
        program_id=program_id,
        donation_form_id=donation_form_id,
        area_id=area_id,
        month=month,
        channel=channel,
    ).figures()
    figures["rw"] = int(
        confirmed.filter(program_id=program_id, area_id=area_id, area__level=Area.Level.RW).exists()
    )
    return figures


def program_totals_apply(*, key: tuple, before: dict) -> None:
    """Move the program and donation form figures by what one summary key's recompute
    changed. Call inside that recompute's transaction (summary_key_recompute), which runs
    once per change under its lock: the cost is that key's rows, whatever the table holds.
    Never below zero; the periodic full repair (totals_refresh) corrects any drift."""
    after = key_figures(key=key)
    delta = {name: after[name] - before[name] for name in after}
    if not any(delta.values()):
        return
    program_id, donation_form_id = key[0], key[1]

    def moved(field: str, by: int):
        return Greatest(F(field) + by, Value(0))

    Program.objects.filter(pk=program_id).update(
        live_commitments=moved("live_commitments", delta["commitments"]),
        live_value_idr=moved("live_value_idr", delta["value"]),
        live_households=moved("live_households", delta["households"]),
        live_persons=moved("live_persons", delta["persons"]),
        live_rw_covered=moved("live_rw_covered", delta["rw"]),
    )
    DonationForm.objects.filter(pk=donation_form_id).update(
        live_commitments=moved("live_commitments", delta["commitments"]),
        live_quantity=moved("live_quantity", delta["quantity"]),
        live_value_idr=moved("live_value_idr", delta["value"]),
    )


def programs_mark_computed() -> None:
    """After a summaries run: the program figures are complete up to now, or up to the
    oldest change the summaries have not taken in yet (broker down, job still queued)."""
    Program.objects.update(live_updated_at=_complete_until())


def _complete_until():
    now = timezone.now()
    return min(SummaryDirtyKey.objects.aggregate(at=Min("created_at"))["at"] or now, now)


def program_totals_from_summaries() -> None:
    """Program and donation form live figures from CommitmentSummary (confirmed statuses
    only), collaborators from the program links. Program.live_updated_at becomes the time
    the summaries were complete. One GROUP BY pass over the summary table per target
    table, written by one UPDATE ... FROM each (the cost follows the summary rows, not the
    commitments)."""
    q = connection.ops.quote_name
    summaries = q(CommitmentSummary._meta.db_table)
    areas = q(Area._meta.db_table)
    programs = q(Program._meta.db_table)
    forms = q(DonationForm._meta.db_table)
    links = q(Through._meta.db_table)
    count = q("count")
    statuses = [str(s) for s in CONFIRMED_STATUSES]
    confirmed = "status IN ({})".format(", ".join(["%s"] * len(statuses)))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Key recomputes (which move these figures by their own change) wait, so none
            # commits between this read of the summaries and the write of the totals.
            cursor.execute(f"LOCK TABLE {summaries} IN SHARE ROW EXCLUSIVE MODE")
        computed_at = _complete_until()
        cursor.execute(
            f"""
            UPDATE {programs}
            SET live_commitments = f.commitments, live_value_idr = f.value,
                live_households = f.households, live_persons = f.persons,
                live_rw_covered = f.rw, live_collaborators = f.collaborators,
                live_updated_at = %s
            FROM (
                SELECT p.id AS id, COALESCE(s.commitments, 0) AS commitments,
                    COALESCE(s.value, 0) AS value, COALESCE(s.households, 0) AS households,
                    COALESCE(s.persons, 0) AS persons, COALESCE(r.rw, 0) AS rw,
                    COALESCE(l.collaborators, 0) AS collaborators
                FROM {programs} p
                LEFT JOIN (
                    SELECT program_id, SUM({count}) AS commitments, SUM(value_idr) AS value,
                        SUM(households) AS households, SUM(persons) AS persons
                    FROM {summaries} WHERE {confirmed} GROUP BY program_id
                ) s ON s.program_id = p.id
                LEFT JOIN (
                    -- An RW is counted once however many forms, months, channels it has.
                    SELECT x.program_id, COUNT(DISTINCT x.area_id) AS rw
                    FROM {summaries} x JOIN {areas} a ON a.id = x.area_id AND a.level = %s
                    WHERE x.{confirmed} GROUP BY x.program_id
                ) r ON r.program_id = p.id
                LEFT JOIN (
                    SELECT program_id, COUNT(*) AS collaborators FROM {links}
                    GROUP BY program_id
                ) l ON l.program_id = p.id
            ) AS f
            WHERE {programs}.id = f.id
            """,  # noqa: S608 - table names come from the models, values are parameters
            [
                connection.ops.adapt_datetimefield_value(computed_at),
                *statuses,
                str(Area.Level.RW),
                *statuses,
            ],
        )
        cursor.execute(
            f"""
            UPDATE {forms}
            SET live_commitments = f.commitments, live_quantity = f.quantity,
                live_value_idr = f.value
            FROM (
                SELECT d.id AS id, COALESCE(s.commitments, 0) AS commitments,
                    COALESCE(s.quantity, 0) AS quantity, COALESCE(s.value, 0) AS value
                FROM {forms} d
                LEFT JOIN (
                    SELECT donation_form_id, SUM({count}) AS commitments,
                        SUM(quantity) AS quantity, SUM(value_idr) AS value
                    FROM {summaries} WHERE {confirmed} GROUP BY donation_form_id
                ) s ON s.donation_form_id = d.id
            ) AS f
            WHERE {forms}.id = f.id
                AND ({forms}.live_commitments <> f.commitments
                    OR {forms}.live_quantity <> f.quantity OR {forms}.live_value_idr <> f.value)
            """,  # noqa: S608
            statuses,
        )


def totals_refresh() -> None:
    """Full repair, for the periodic task and loaders: every collaborator's figures and
    program links from all commitments in three set-based statements, then the program and
    donation form figures from the summaries. Idempotent; writes only rows that differ."""
    collaborators = connection.ops.quote_name(Collaborator._meta.db_table)
    commitments = connection.ops.quote_name(Commitment._meta.db_table)
    links = connection.ops.quote_name(Through._meta.db_table)
    statuses = [str(s) for s in CONFIRMED_STATUSES]
    placeholders = ", ".join(["%s"] * len(statuses))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {collaborators}
            SET live_commitments = figures.commitments, live_value_idr = figures.value
            FROM (
                SELECT col.id AS id, COUNT(c.id) AS commitments,
                    COALESCE(SUM(c.value_idr), 0) AS value
                FROM {collaborators} col
                LEFT JOIN {commitments} c
                    ON c.collaborator_id = col.id AND c.status IN ({placeholders})
                GROUP BY col.id
            ) AS figures
            WHERE {collaborators}.id = figures.id
                AND ({collaborators}.live_commitments <> figures.commitments
                    OR {collaborators}.live_value_idr <> figures.value)
            """,  # noqa: S608 - table names come from the models, values are parameters
            statuses,
        )
        cursor.execute(
            f"""
            DELETE FROM {links}
            WHERE NOT EXISTS (
                SELECT 1 FROM {commitments} c
                WHERE c.collaborator_id = {links}.collaborator_id
                    AND c.program_id = {links}.program_id AND c.status IN ({placeholders})
            )
            """,  # noqa: S608
            statuses,
        )
        cursor.execute(
            f"""
            INSERT INTO {links} (collaborator_id, program_id)
            SELECT DISTINCT c.collaborator_id, c.program_id FROM {commitments} c
            WHERE c.status IN ({placeholders}) AND NOT EXISTS (
                SELECT 1 FROM {links} l
                WHERE l.collaborator_id = c.collaborator_id AND l.program_id = c.program_id
            )
            ON CONFLICT DO NOTHING
            """,  # noqa: S608
            statuses,
        )
        collaborator_figures_rebuild(cursor)
    program_totals_from_summaries()


def collaborator_figures_rebuild(cursor) -> None:
    """Every CollaboratorFigures row from all confirmed commitments (one GROUP BY), inside
    the caller's transaction; readers see the old rows until it commits."""
    figures = connection.ops.quote_name(CollaboratorFigures._meta.db_table)
    commitments = connection.ops.quote_name(Commitment._meta.db_table)
    count = connection.ops.quote_name("count")
    statuses = [str(s) for s in CONFIRMED_STATUSES]
    cursor.execute(f"DELETE FROM {figures}")  # noqa: S608 - the model's own table
    cursor.execute(
        f"""
        INSERT INTO {figures} (program_id, collaborator_id, is_anonymous, {count}, quantity,
            value_idr)
        SELECT program_id, collaborator_id, is_anonymous, COUNT(*), SUM(quantity),
            COALESCE(SUM(value_idr), 0)
        FROM {commitments} WHERE status IN ({", ".join(["%s"] * len(statuses))})
        GROUP BY program_id, collaborator_id, is_anonymous
        """,  # noqa: S608 - table names come from the models, values are parameters
        statuses,
    )
