"""Aggregation at scale on PostgreSQL: the full summary rebuild against a raw GROUP BY, a
pledge at 10k and at 1M commitments, and the program dashboard from the summaries against
the same figures computed live.

    .venv/bin/python bench/aggregation.py [--rows 1000000] [--small 10000] [--keep]

Creates its own database on postgres://postgres@127.0.0.1:5432 (BENCH_POSTGRES), loads the
programs and the Jakarta areas, and generates collaborators, needs, commitments and
deliveries with set-based SQL. Celery runs eagerly, as under `make run`, so a pledge
includes its summary recompute. The rebuild (as the nightly job runs it) and the raw GROUP
BY may both use the database's own parallel plans. Timings of the rebuild and the raw GROUP
BY are the best of --repeat warm runs; pledge and dashboard timings are medians. Progress
goes to stderr; stdout ends with one line:
rows=... full_rebuild_s=... raw_group_by_s=... ratio=... pledge_ms_10k=... pledge_ms_1m=...
dashboard_ms=... dashboard_live_ms=... speedup=...
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
    over the last two years, in every state and both channels; one confirmed delivery
    (or, for a tenth, two) for delivered and completed ones."""
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
                %s + floor(random() * (%s - %s + 1))::bigint AS collaborator_id
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
        [low, high, low, first, last],
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
    """A verified collaborator's member pledging 1 unit at a time to one large need."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        from collaborators.models import Collaborator, Membership
        from locations.models import Facilitator, Need

        self.need = (
            Need.objects.filter(description="bench", area__level="rw")
            .select_related("area", "program", "donation_form", "site")
            .order_by("pk")
            .first()
        )
        # The busiest collaborator (it holds its share of every generated commitment).
        self.collaborator = Collaborator.objects.filter(verification_status="verified").first()
        User = get_user_model()
        self.user = User.objects.create_user("pledger@bench.example", "pledger@bench.example")
        Membership.objects.create(user=self.user, collaborator=self.collaborator, role="owner")
        facilitator = User.objects.create_user("rw@bench.example", "rw@bench.example")
        Facilitator.objects.create(user=facilitator, area=self.need.area)

    def median_ms(self, count: int) -> float:
        from commitments.lifecycle.pledges import commitment_pledge

        timings = []
        for _ in range(count + 3):  # the first few warm the caches
            started = time.perf_counter()
            result = commitment_pledge(
                user=self.user,
                collaborator=self.collaborator,
                need=self.need,
                quantity=1,
                idempotency_key=uuid.uuid4().hex,
            )
            timings.append(time.perf_counter() - started)
            assert result.created
        return statistics.median(timings[3:]) * 1000


def dashboard_measure(repeat: int) -> tuple[float, float]:
    """Median server time of the program dashboard page for its lead, and of the same
    figures computed live from the commitments."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from collaborators.roles import scopes_for
    from commitments.reporting.dashboard import dashboard_data, dashboard_filter
    from programs.models import Program, ProgramLead

    program = max(Program.objects.all(), key=lambda p: p.commitments.count())
    lead = get_user_model().objects.create_user("lead@bench.example", "lead@bench.example")
    ProgramLead.objects.create(program=program, user=lead)
    client = Client()
    client.force_login(lead)
    url = reverse("program-dashboard", args=[program.slug])

    def page() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        response.content  # noqa: B018 - rendered in full

    def live() -> None:
        scope, form = dashboard_filter(scopes_for(lead), {}, program=program)
        data = dashboard_data(scope, live=True)
        repr(data)  # evaluate whatever it left lazy

    return _median_ms(repeat, page), _median_ms(repeat, live)


def _median_ms(repeat: int, work) -> float:
    work()  # warm
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="rows for pledge_ms_10k")
    parser.add_argument("--collaborators", type=int, default=5000)
    parser.add_argument("--pledges", type=int, default=40, help="pledges per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed query")
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
    print(
        "rows={rows} full_rebuild_s={full_rebuild_s:.2f} raw_group_by_s={raw_group_by_s:.2f} "
        "ratio={ratio:.2f} pledge_ms_10k={pledge_ms_10k:.1f} pledge_ms_1m={pledge_ms_1m:.1f} "
        "dashboard_ms={dashboard_ms} dashboard_live_ms={dashboard_live_ms} "
        "speedup={speedup}".format(**results)
    )


def run(args, name: str) -> dict:
    setup(name)
    progress("programs and Jakarta areas loaded")
    from django.urls import NoReverseMatch

    from commitments.figures.summaries import summaries_rebuild

    collaborators_generate(args.collaborators)
    needs_generate()
    small = min(args.small, args.rows)
    commitments_generate(1, small)
    summaries_rebuild()
    progress(f"{small} commitments")
    pledger = Pledger()
    pledge_small = pledger.median_ms(args.pledges)
    progress(f"pledge at {small}: {pledge_small:.1f} ms")

    step = 500_000
    for first in range(small + 1, args.rows + 1, step):
        commitments_generate(first, min(first + step - 1, args.rows))
        progress(f"{min(first + step - 1, args.rows)} commitments")
    rows = scalar("SELECT count(*) FROM commitments_commitment")

    # Rebuild and raw GROUP BYs take turns, so load from elsewhere hits both alike.
    rebuilds, raws = [], []
    for attempt in range(args.repeat):
        seconds, written = timed(summaries_rebuild)
        rebuilds.append(seconds)
        raws.append(
            min(raw_group_by_s(sql, jit=jit) for sql in raw_group_by_sqls() for jit in (1, 0))
        )
        progress(
            f"run {attempt + 1}: rebuild {seconds:.2f} s ({written} rows written), "
            f"raw GROUP BY {raws[-1]:.2f} s"
        )
    rebuild_s, raw_s = min(rebuilds), min(raws)
    expected = scalar(f"SELECT count(*) FROM ({raw_group_by_sqls()[1]}) raw")
    summary_rows = scalar("SELECT count(*) FROM commitments_commitmentsummary")
    if expected != summary_rows:
        progress(f"MISMATCH: the raw GROUP BY has {expected} rows, the rebuild {summary_rows}")
    progress(
        f"best of {args.repeat}: rebuild {rebuild_s:.2f} s ({summary_rows} rows), raw {raw_s:.2f} s"
    )

    pledge_large = pledger.median_ms(args.pledges)
    progress(f"pledge at {rows}: {pledge_large:.1f} ms")

    try:
        dashboard_ms, live_ms = dashboard_measure(max(args.repeat, 5))
    except (ImportError, NoReverseMatch) as error:  # the dashboard is not there yet
        progress(f"dashboard not measured: {error!r}")
        dashboard = live = speedup = "n/a"
    else:
        dashboard, live = f"{dashboard_ms:.1f}", f"{live_ms:.1f}"
        speedup = f"{live_ms / dashboard_ms:.1f}"
        progress(f"dashboard {dashboard} ms, live {live} ms")
    return {
        "rows": rows,
        "full_rebuild_s": rebuild_s,
        "raw_group_by_s": raw_s,
        "ratio": rebuild_s / raw_s,
        "pledge_ms_10k": pledge_small,
        "pledge_ms_1m": pledge_large,
        "dashboard_ms": dashboard,
        "dashboard_live_ms": live,
        "speedup": speedup,
    }


if __name__ == "__main__":
    main()
