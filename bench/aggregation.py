"""Aggregation at scale on PostgreSQL, measured on the paths users and the nightly job meet.

    .venv/bin/python bench/aggregation.py [--rows 1000000] [--small 10000] [--keep]

Creates its own database on postgres://postgres@127.0.0.1:5432 (BENCH_POSTGRES), loads the
programs and the Jakarta areas, and generates collaborators, needs, commitments and
deliveries with set-based SQL; one collaborator holds 1% of the commitments and an
unverified one about 0.5%. Celery runs eagerly and the cache is local memory, as under
`make run`, so a pledge includes its summary recompute. Progress goes to stderr; stdout
ends with one line:

rows= rows_written= repair0_ratio= repair1pct_ratio= bulk_reload_ratio=
dashboard_uncached_p50_ms= dashboard_uncached_p95_ms= dashboard_cold_p50_ms= live_speedup=
pledge_busiest_ratio= pledge_unverified_ratio=

- repair0 / repair1pct / bulk_reload: the nightly rebuild with nothing to repair, with 1% of
  the summary rows wrong, and into an empty table (the bulk reload), each over the raw
  GROUP BY (the same figures, nothing written) measured right after it: the median of
  --repeat pairs. rows_written: what each of the three rebuilds wrote, in that order.
- dashboard_*: the program dashboard for its lead through the test client (server time,
  page rendered in full): uncached (every cache cleared before each request, so the
  figures are read from the summary tables every time) p50 and p95, and cold right after
  a pledge in the program (its figures version moved). live_speedup: a live set-based
  query for the same figures (one GROUP BY of the program's commitments with deliveries
  pre-aggregated and joined) over the dashboard's own figures computed from the summary
  tables (dashboard_data, uncached: like against like, neither side renders a page).
- pledge_*_ratio: the median pledge at --rows over the median at --small, by the busiest
  collaborator and by the unverified one (its hoarding limits checked on every pledge).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN_URL, database_create, database_drop, progress  # noqa: E402

# Shares of the generated commitments by status, and of deliveries confirmed.
STATUS_SHARES = [
    ("pledged", 0.10),
    ("committed", 0.15),
    ("delivered", 0.15),
    ("completed", 0.45),
    ("cancelled", 0.05),
    ("rejected", 0.03),
    ("expired", 0.07),
]
OFFLINE_SHARE = 0.15
# The busiest collaborator holds 1% of all commitments (10,000 at 1M), a busy unverified one
# about 0.5%: pledges are timed for them.
BUSIEST_SHARE = 0.01
BUSY_UNVERIFIED_SHARE = 0.005
NEEDS_PER_RW = 3


def setup(name: str) -> None:
    os.environ["DATABASE_URL"] = f"{ADMIN_URL}/{name}"
    # Eager Celery and a local-memory cache, as under `make run`.
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.core.management import call_command

    out = io.StringIO()
    call_command("migrate", verbosity=0, stdout=out)
    call_command("load_programs", stdout=out)
    call_command("load_jakarta", stdout=out, stderr=out)


def execute(sql: str, params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def scalar(sql: str, params: list | None = None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def collaborators_generate(count: int) -> None:
    """Organisations of every kind; most verified, some not yet."""
    execute(
        """
        INSERT INTO collaborators_collaborator (
            name, slug, kind, verification_status, description, website, logo,
            is_aggregator, live_commitments, live_value_idr, is_demo, created_at
        )
        SELECT 'Bench collaborator ' || g, 'bench-collaborator-' || g,
            (ARRAY['individual', 'company', 'state_enterprise', 'humanitarian', 'philanthropy',
                   'university', 'international', 'community'])[1 + g %% 8],
            CASE WHEN g %% 10 < 7 THEN 'verified' ELSE 'unverified' END,
            '', '', '', g %% 50 = 0, 0, 0, false, now() - interval '800 days'
        FROM generate_series(1, %s) g
        """,
        [count],
    )


def needs_generate() -> None:
    """A few needs in every residential RW, each for a program's own donation form."""
    execute(
        f"""
        WITH forms AS (
            SELECT id, program_id, row_number() OVER (ORDER BY id) - 1 AS n
            FROM programs_donationform
        ), picks AS (
            SELECT a.id AS area_id,
                floor(random() * (SELECT count(*) FROM forms))::int AS n
            FROM locations_area a, generate_series(1, {NEEDS_PER_RW}) k
            WHERE a.level = 'rw' AND a.is_residential
        )
        INSERT INTO locations_need (
            quantity_needed, quantity_claimed, quantity_delivered, unit_value_idr, priority,
            households, persons, description, assessed_by_role, assessed_at, valid_until,
            status, is_demo, created_at, updated_at, area_id, donation_form_id, program_id,
            version
        )
        SELECT 1000000, 0, 0, (ARRAY[50000, 150000, 300000, 2500000])[1 + f.n % 4],
            1 + f.n % 3, 100 + f.n * 7, 400 + f.n * 28, 'bench', 'Ketua RW',
            now() - interval '800 days', DATE '2099-01-01', 'open', false,
            now() - interval '800 days', now(), picks.area_id, f.id, f.program_id, 1
        FROM picks JOIN forms f ON f.n = picks.n
        """
    )


def commitments_generate(first: int, last: int) -> None:
    """Commitments numbered first..last against the bench needs (busier needs more often),
    over the last two years, in every state and both channels, BUSIEST_SHARE of them by
    one collaborator and about BUSY_UNVERIFIED_SHARE by an unverified one; one confirmed
    delivery (or, for a tenth, two) for delivered and completed ones."""
    bounds, total = [], 0.0
    for status, share in STATUS_SHARES:
        total += share
        bounds.append(f"WHEN r.s < {total:.4f} THEN '{status}'")
    status_case = "CASE " + " ".join(bounds) + " ELSE 'completed' END"
    # Bulk load as pg_restore does: the foreign keys are right by construction, so skip
    # their per-row checks (this session only; superuser on the bench's own database).
    execute("SET session_replication_role = replica")
    low = scalar("SELECT min(id) FROM collaborators_collaborator")
    high = scalar("SELECT max(id) FROM collaborators_collaborator")
    start = scalar("SELECT coalesce(max(id), 0) FROM commitments_commitment")
    execute(
        f"""
        WITH needs AS (
            SELECT id, area_id, program_id, donation_form_id, unit_value_idr,
                row_number() OVER (ORDER BY id) - 1 AS n
            FROM locations_need WHERE description = 'bench'
        ), r AS (
            SELECT g,
                floor(power(random(), 1.5) * (SELECT count(*) FROM needs))::int AS n,
                random() AS s, random() AS ch,
                1 + floor(power(random(), 3) * 200)::int AS quantity,
                now() - random() * interval '730 days' AS at,
                CASE WHEN random() < %s THEN %s
                    WHEN random() < %s THEN %s + 6
                    ELSE %s + floor(random() * (%s - %s + 1))::bigint END AS collaborator_id
            FROM generate_series(%s, %s) g
        )
        INSERT INTO commitments_commitment (
            quantity, quantity_delivered, value_idr, channel, status, planned_delivery_on,
            is_anonymous, statement_letter, note, idempotency_key, created_at,
            status_changed_at, last_event_at, is_demo, area_id, collaborator_id,
            donation_form_id, need_id, program_id
        )
        SELECT c.quantity,
            CASE WHEN c.status IN ('delivered', 'completed') THEN c.quantity ELSE 0 END,
            c.quantity * c.unit_value_idr, c.channel, c.status, (c.at + interval '14 days')::date,
            c.g %% 20 = 0, '', '', 'bench-' || c.g, c.at, c.at, c.at, false,
            c.area_id, c.collaborator_id, c.donation_form_id,
            CASE WHEN c.channel = 'platform' THEN c.need_id END, c.program_id
        FROM (
            SELECT r.g, r.quantity, r.at, r.collaborator_id, {status_case} AS status,
                CASE WHEN r.ch < {OFFLINE_SHARE} THEN 'offline' ELSE 'platform' END AS channel,
                needs.area_id, needs.program_id, needs.donation_form_id, needs.unit_value_idr,
                needs.id AS need_id
            FROM r JOIN needs ON needs.n = r.n
        ) c
        """,
        [BUSIEST_SHARE, low, BUSY_UNVERIFIED_SHARE, low, low, high, low, first, last],
    )
    # Delivered: recorded, half of them confirmed; completed: confirmed.
    execute(
        """
        INSERT INTO commitments_delivery (
            quantity, delivered_on, recipients_households, recipients_persons, note,
            recorded_at, confirmed_at, commitment_id
        )
        SELECT
            CASE WHEN part = 1 AND two THEN greatest(c.quantity / 2, 1) ELSE c.quantity END,
            (c.created_at + interval '10 days')::date, 1 + c.quantity / 4, c.quantity,
            '', c.created_at + interval '10 days',
            CASE WHEN c.status = 'completed' OR c.id %% 2 = 0
                THEN c.created_at + interval '12 days' END,
            c.id
        FROM (
            SELECT *, id %% 10 = 0 AND quantity > 1 AS two FROM commitments_commitment
            WHERE id > %s AND status IN ('delivered', 'completed')
        ) c
        CROSS JOIN LATERAL generate_series(1, CASE WHEN c.two THEN 2 ELSE 1 END) part
        """,
        [start],
    )
    execute("SET session_replication_role = DEFAULT")
    execute("ANALYZE")


def raw_group_by_sqls() -> list[str]:
    """The summary figures by plain SELECT ... GROUP BY over the commitments, with the same
    joins and sums as the rebuild, nothing written: grouped flat on all nine columns, and
    grouped by the commitment's key first with the areas joined to the groups (the
    rebuild's own shape). The faster of the two is the baseline."""
    month = "CAST(date_trunc('month', c.created_at AT TIME ZONE 'Asia/Jakarta') AS date)"
    delivered = """
        LEFT JOIN (
            SELECT commitment_id, SUM(recipients_households) AS households,
                SUM(recipients_persons) AS persons
            FROM commitments_delivery WHERE confirmed_at IS NOT NULL
            GROUP BY commitment_id
        ) d ON d.commitment_id = c.id"""
    parents = """
        CASE WHEN a.level = 'rw' THEN a.parent_id ELSE a.id END,
        CASE WHEN a.level = 'rw' THEN p.parent_id ELSE a.parent_id END,
        CASE WHEN a.level = 'rw' THEN pp.parent_id ELSE p.parent_id END"""
    area_joins = """
        LEFT JOIN locations_area p ON p.id = a.parent_id
        LEFT JOIN locations_area pp ON pp.id = p.parent_id"""
    sums = """COUNT(*) AS count, SUM(c.quantity) AS quantity,
        COALESCE(SUM(c.value_idr), 0) AS value_idr,
        COALESCE(SUM(d.households), 0) AS households, COALESCE(SUM(d.persons), 0) AS persons"""
    flat = f"""
        SELECT c.program_id, c.donation_form_id, c.area_id, {month}, c.channel, c.status,
            {parents}, {sums}
        FROM commitments_commitment c
        JOIN locations_area a ON a.id = c.area_id {area_joins} {delivered}
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"""
    key_first = f"""
        SELECT s.*, {parents}
        FROM (
            SELECT c.program_id, c.donation_form_id, c.area_id, {month} AS month, c.channel,
                c.status, {sums}
            FROM commitments_commitment c {delivered}
            GROUP BY 1, 2, 3, 4, 5, 6
        ) s
        JOIN locations_area a ON a.id = s.area_id {area_joins}"""
    return [flat, key_first]


def raw_group_by_s(sql: str, *, jit: bool) -> float:
    """The database's own execution time of the query (EXPLAIN ANALYZE without per-node
    timing): the rows are computed in full but not sent, so no client cost is counted.
    Measured with the database's JIT compilation on and off (the rebuild turns it off):
    the faster counts."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SET jit = {'on' if jit else 'off'}")
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
        cursor.execute("RESET jit")
    plan = plan[0] if isinstance(plan, list) else __import__("json").loads(plan)[0]
    return plan["Execution Time"] / 1000


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


class Pledger:
    """A member of one collaborator pledging 1 unit at a time to one large need of the
    program: the busiest verified collaborator, or a busy unverified one (whose pledges go
    through the hoarding limits, lifted far enough here to never refuse: the work of
    checking them is the same)."""

    def __init__(self, collaborator, program) -> None:
        from django.contrib.auth import get_user_model

        from collaborators.models import Membership
        from locations.models import Facilitator, Need

        self.need = (
            Need.objects.filter(description="bench", area__level="rw", program=program)
            .select_related("area", "program", "donation_form", "site")
            .order_by("pk")
            .first()
        )
        self.collaborator = collaborator
        email = f"pledger-{collaborator.pk}@bench.example"
        self.user = get_user_model().objects.create_user(email, email)
        Membership.objects.create(user=self.user, collaborator=collaborator, role="owner")
        facilitator = f"rw-{collaborator.pk}@bench.example"
        facilitator = get_user_model().objects.create_user(facilitator, facilitator)
        Facilitator.objects.create(user=facilitator, area=self.need.area)

    def pledge(self) -> None:
        from commitments.lifecycle.pledges import commitment_pledge

        result = commitment_pledge(
            user=self.user,
            collaborator=self.collaborator,
            need=self.need,
            quantity=1,
            idempotency_key=uuid.uuid4().hex,
        )
        assert result.created

    def median_ms(self, count: int) -> float:
        return _percentiles_ms(count, self.pledge, warm=3)[0]


def pledgers(program) -> tuple[Pledger, Pledger]:
    """The busiest verified collaborator and the busiest unverified one, each pledging in
    `program` (whose limits for unverified collaborators are lifted, see Pledger)."""
    from collaborators.models import Collaborator
    from commitments.models import Commitment
    from programs.models import Program

    Program.objects.filter(pk=program.pk).update(
        unverified_pledges_per_hour=30000,
        unverified_max_share_percent=100,
        unverified_max_open_value_idr=10**13,
    )
    ids = busy_collaborator_ids()
    busiest, unverified = (Collaborator.objects.get(pk=pk) for pk in ids)
    assert unverified.verification_status == "unverified"
    for collaborator in (busiest, unverified):
        held = Commitment.objects.filter(collaborator=collaborator).count()
        progress(f"{collaborator.name} ({collaborator.verification_status}) holds {held}")
    return Pledger(busiest, program), Pledger(unverified, program)


def busy_collaborator_ids() -> tuple[int, int]:
    """The collaborators commitments_generate gives BUSIEST_SHARE and BUSY_UNVERIFIED_SHARE."""
    low = scalar("SELECT min(id) FROM collaborators_collaborator")
    return low, low + 6  # generated number 1 is verified, number 7 unverified


def dashboard_program():
    from programs.models import Program

    return max(Program.objects.all(), key=lambda p: p.commitments.count())


def dashboard_measure(program, pledger: Pledger, repeat: int) -> dict:
    """The program dashboard page for its lead, server time over the test client:
    uncached (every cache cleared before each request: the figures are computed from the
    summary tables each time) and cold after a pledge in the program (which moves the
    program's figures version); and the dashboard's figures computed from the summary
    tables against the same figures computed live by one set-based query over the
    program's commitments (like against like: both compute figures, neither renders)."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from collaborators.roles import scopes_for
    from commitments.reporting.dashboard import dashboard_data, dashboard_filter
    from programs.models import ProgramLead

    lead = get_user_model().objects.create_user("lead@bench.example", "lead@bench.example")
    ProgramLead.objects.create(program=program, user=lead)
    client = Client()
    client.force_login(lead)
    url = reverse("program-dashboard", args=[program.slug])

    def page() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        response.content  # noqa: B018 - rendered in full

    def uncached() -> None:
        cache.clear()
        page()

    def after_pledge() -> float:
        pledger.pledge()
        started = time.perf_counter()
        page()
        return time.perf_counter() - started

    def figures() -> None:
        scope, _form = dashboard_filter(scopes_for(lead), {}, program=program)
        repr(dashboard_data(scope))  # from the summary tables, nothing cached

    cold = sorted(after_pledge() for _ in range(repeat))
    return {
        "uncached": _percentiles_ms(repeat, uncached),
        "cold_p50": statistics.median(cold) * 1000,
        "figures": _percentiles_ms(max(3, repeat // 4), figures),
        "live": _percentiles_ms(max(3, repeat // 4), lambda: live_figures(program.pk)),
    }


def live_figures(program_id: int) -> list:
    """Every figure the dashboard shows for a program (by donation form, month, kecamatan,
    kota and state) computed live: one GROUP BY over its commitments with the deliveries
    pre-aggregated and joined, as the raw GROUP BY of the rebuild does."""
    month = "CAST(date_trunc('month', c.created_at AT TIME ZONE 'Asia/Jakarta') AS date)"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.donation_form_id, {month},
                CASE WHEN a.level = 'rw' THEN p.parent_id ELSE a.parent_id END,
                CASE WHEN a.level = 'rw' THEN pp.parent_id ELSE p.parent_id END,
                c.status, COUNT(*), SUM(c.quantity), SUM(c.value_idr),
                COALESCE(SUM(d.households), 0), COALESCE(SUM(d.persons), 0)
            FROM commitments_commitment c
            JOIN locations_area a ON a.id = c.area_id
            LEFT JOIN locations_area p ON p.id = a.parent_id
            LEFT JOIN locations_area pp ON pp.id = p.parent_id
            LEFT JOIN (
                SELECT commitment_id, SUM(recipients_households) AS households,
                    SUM(recipients_persons) AS persons
                FROM commitments_delivery WHERE confirmed_at IS NOT NULL
                GROUP BY commitment_id
            ) d ON d.commitment_id = c.id
            WHERE c.program_id = %s
            GROUP BY 1, 2, 3, 4, 5
            """,
            [program_id],
        )
        return cursor.fetchall()


def _percentiles_ms(repeat: int, work, warm: int = 1) -> tuple[float, float]:
    """Median and 95th percentile of `work`'s wall time over `repeat` runs, in ms."""
    for _ in range(warm):
        work()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings) * 1000, p95 * 1000


def rebuild_cases(repeat: int) -> dict:
    """The nightly rebuild in its three cases, each against the raw GROUP BY measured right
    after it (so load from elsewhere hits both alike): nothing to repair, 1% of the summary
    rows wrong, and the bulk reload into an empty table. Each ratio is the median of its
    pairs; rows_written is what the rebuild of each case wrote (last run)."""
    from commitments.figures.summaries import summaries_rebuild

    def corrupt_one_percent() -> None:
        execute("UPDATE commitments_commitmentsummary SET count = count + 1 WHERE id % 100 = 0")

    def empty() -> None:
        execute("TRUNCATE commitments_commitmentsummary, commitments_commitmentrollup")

    cases = {"repair0": lambda: None, "repair1pct": corrupt_one_percent, "bulk_reload": empty}
    results = {}
    for case, prepare in cases.items():
        ratios, written = [], 0
        for attempt in range(repeat):
            prepare()
            seconds, written = timed(summaries_rebuild)
            raw = min(raw_group_by_s(sql, jit=jit) for sql in raw_group_by_sqls() for jit in (1, 0))
            ratios.append(seconds / raw)
            progress(
                f"{case} run {attempt + 1}: rebuild {seconds:.2f} s ({written} rows written), "
                f"raw GROUP BY {raw:.2f} s"
            )
        results[case] = (statistics.median(ratios), written)
    expected = scalar(f"SELECT count(*) FROM ({raw_group_by_sqls()[1]}) raw")
    summary_rows = scalar("SELECT count(*) FROM commitments_commitmentsummary")
    if expected != summary_rows:
        progress(f"MISMATCH: the raw GROUP BY has {expected} rows, the rebuild {summary_rows}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="rows of the small run")
    parser.add_argument("--collaborators", type=int, default=5000)
    parser.add_argument("--pledges", type=int, default=40, help="pledges per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each rebuild case")
    parser.add_argument("--requests", type=int, default=20, help="dashboard requests")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    name = database_create()
    progress(f"database {name}")
    try:
        results = run(args, name)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            progress(f"kept database {name}")
        else:
            database_drop(name)
    print(LINE.format(**results))


LINE = (
    "rows={rows} rows_written={rows_written} repair0_ratio={repair0:.2f} "
    "repair1pct_ratio={repair1pct:.2f} bulk_reload_ratio={bulk_reload:.2f} "
    "dashboard_uncached_p50_ms={uncached_p50:.1f} dashboard_uncached_p95_ms={uncached_p95:.1f} "
    "dashboard_cold_p50_ms={cold_p50:.1f} live_speedup={live_speedup:.1f} "
    "pledge_busiest_ratio={busiest_ratio:.2f} pledge_unverified_ratio={unverified_ratio:.2f}"
)


def run(args, name: str) -> dict:
    setup(name)
    progress("programs and Jakarta areas loaded")
    from commitments.figures.summaries import summaries_rebuild

    collaborators_generate(args.collaborators)
    needs_generate()
    small = min(args.small, args.rows)
    commitments_generate(1, small)
    summaries_rebuild()
    progress(f"{small} commitments")
    program = dashboard_program()
    busiest, unverified = pledgers(program)
    small_ms = [busiest.median_ms(args.pledges), unverified.median_ms(args.pledges)]
    progress(f"pledges at {small}: busiest {small_ms[0]:.1f} ms, unverified {small_ms[1]:.1f} ms")

    step = 500_000
    for first in range(small + 1, args.rows + 1, step):
        commitments_generate(first, min(first + step - 1, args.rows))
        progress(f"{min(first + step - 1, args.rows)} commitments")
    rows = scalar("SELECT count(*) FROM commitments_commitment")
    summaries_rebuild()  # as the minute's refresh would have: the first case starts right
    cases = rebuild_cases(args.repeat)
    large_ms = [busiest.median_ms(args.pledges), unverified.median_ms(args.pledges)]
    progress(f"pledges at {rows}: busiest {large_ms[0]:.1f} ms, unverified {large_ms[1]:.1f} ms")
    # The generated commitments bypass the services that keep each collaborator's figures
    # (the dashboard's top collaborators read them): the periodic full repair fills them.
    from commitments.figures.totals import totals_refresh

    totals_refresh()
    dashboard = dashboard_measure(program, busiest, args.requests)
    progress(f"dashboard {dashboard}")
    return {
        "rows": rows,
        "rows_written": "/".join(str(written) for _ratio, written in cases.values()),
        **{case: ratio for case, (ratio, _written) in cases.items()},
        "uncached_p50": dashboard["uncached"][0],
        "uncached_p95": dashboard["uncached"][1],
        "cold_p50": dashboard["cold_p50"],
        "live_speedup": dashboard["live"][0] / dashboard["figures"][0],
        "busiest_ratio": large_ms[0] / small_ms[0],
        "unverified_ratio": large_ms[1] / small_ms[1],
    }


if __name__ == "__main__":
    main()
