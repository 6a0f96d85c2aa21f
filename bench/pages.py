"""Every role's pages and API lists at a small and a large number of commitments.

    .venv/bin/python bench/pages.py [--rows 1000000] [--small 10000] [--requests 5] [--keep]

Creates its own database on postgres://postgres@127.0.0.1:5432 (BENCH_POSTGRES) and fills
it with bench/aggregation.py's generator (the busiest collaborator holds 1% of the
commitments) up to --small commitments; picks who walks the pages and what they look at;
copies that database (the small size, kept as it is); then grows the first one to --rows
commitments. The walkers: the public (home, map, map data, the area page of the busiest
and of a quiet RW, the busiest collaborator's page...), a donor (member of the busiest
collaborator), a facilitator (head of the busiest RW's kelurahan), the lead of the biggest
program, an administrator, the API lists, a pledge and its confirmation, and the expiry job
with three commitments due (everything else it would expire expired first).

Each page is timed on both databases in turn (two open connections, swapped), so that load
from elsewhere on a shared machine falls on both sizes alike: server time (request to
rendered body) through the Django test client, the median of --requests requests on each
after one warm-up, every cache cleared before each (nothing is a cache hit); the program
dashboard also cold, right after a pledge in its program. Last, a whole-program export of
the biggest program at --rows in each format (CSV, HXL, XLSX, IATI), timed.

A page passes if its time at --rows is within 1.5x of its time at --small, or under
150 ms. stderr gets progress and the table (page, ms small, ms large, ratio, pass/MISS);
stdout ends with one line:

pages=<pages measured> pages_grown=<pages that miss> export_1m_s=<seconds of the slowest
format's export>
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregation import (  # noqa: E402
    Pledger,
    busy_collaborator_ids,
    collaborators_generate,
    commitments_generate,
    dashboard_program,
    execute,
    needs_generate,
    scalar,
    setup,
)
from common import ADMIN_URL, database_create, database_drop, progress  # noqa: E402

GROWTH_LIMIT = 1.5  # a page may take this many times its time at --small...
FLAT_MS = 150.0  # ...or any time under this
EXPIRING = 3  # commitments due when the expiry job is timed


def caches_clear() -> None:
    """Every cache the pages read: Django's caches and the in-process memo of the API."""
    from django.core.cache import caches

    import api.need_state

    for cache in caches.all():
        cache.clear()
    for value in vars(api.need_state).values():
        if hasattr(value, "cache_clear"):  # its lru_cache memos
            value.cache_clear()


@dataclass
class Page:
    """One page (or action): `act` is timed, `prepare` runs before each, untimed."""

    name: str
    act: object
    prepare: object = caches_clear
    before_walk: object = None  # untimed, on each database before the page is measured
    ms: dict = field(default_factory=dict)

    def measure(self, sides: dict, requests: int) -> None:
        """The median of `requests` timed runs on each side ({size: switch to its database}),
        one side after the other in turn (first one, then the other first), so that load
        from elsewhere falls on both alike; one warm-up run on each first."""
        timings = {size: [] for size in sides}
        for use in sides.values():
            use()
            self.prepare()
            self.act()
        for turn in range(requests):
            for size, use in list(sides.items())[:: 1 if turn % 2 == 0 else -1]:
                use()
                self.prepare()
                started = time.perf_counter()
                self.act()
                timings[size].append(time.perf_counter() - started)
        for size, runs in timings.items():
            self.ms[size] = statistics.median(runs) * 1000


def get(client, url: str, status: int = 200):
    def act() -> None:
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        b"".join(response) if response.streaming else response.content  # noqa: B018

    return act


@dataclass
class World:
    """Who walks the pages, and what they look at (chosen once, at the small size)."""

    program: object
    pledger: Pledger
    busiest: object
    donor: object
    facilitator: object
    lead: object
    admin: object
    busy_rw: object
    quiet_rw: object
    busy_need: object
    detail_id: int
    clients: dict = field(default_factory=dict)
    notified_up_to: int = 0
    adoption_id: int = 0


def world_make() -> World:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from collaborators.models import Collaborator
    from locations.models import Area, Facilitator, Need
    from programs.models import ProgramLead

    users = get_user_model().objects
    program = dashboard_program()
    busiest = Collaborator.objects.get(pk=busy_collaborator_ids()[0])
    pledger = Pledger(busiest, program)
    busy_need = Need.objects.select_related("area", "area__parent").get(
        pk=scalar(
            "SELECT need_id FROM commitments_commitment WHERE need_id IS NOT NULL "
            "GROUP BY need_id ORDER BY count(*) DESC, need_id LIMIT 1"
        )
    )
    quiet_rw = Area.objects.get(
        pk=scalar(
            """
            SELECT a.id FROM locations_area a
            JOIN locations_need n ON n.area_id = a.id AND n.description = 'bench'
            LEFT JOIN commitments_commitment c ON c.area_id = a.id
            WHERE a.level = 'rw' GROUP BY a.id ORDER BY count(c.id), a.id LIMIT 1
            """
        )
    )
    facilitator = users.create_user("kelurahan@bench.example", "kelurahan@bench.example")
    Facilitator.objects.create(user=facilitator, area=busy_need.area.parent, title="Lurah")
    lead = users.create_user("lead@bench.example", "lead@bench.example")
    ProgramLead.objects.create(program=program, user=lead)
    admin = users.create_user("admin@bench.example", "admin@bench.example", is_staff=True)
    world = World(
        program=program,
        pledger=pledger,
        busiest=busiest,
        donor=pledger.user,
        facilitator=facilitator,
        lead=lead,
        admin=admin,
        busy_rw=busy_need.area,
        quiet_rw=quiet_rw,
        busy_need=busy_need,
        detail_id=scalar(
            "SELECT min(id) FROM commitments_commitment WHERE collaborator_id = %s "
            "AND status = 'delivered'",
            [busiest.pk],
        ),
    )
    world.adoption_id = adoption_make(world)
    world.clients["public"] = Client()
    for role in ("donor", "facilitator", "lead", "admin"):
        world.clients[role] = Client()
        world.clients[role].force_login(getattr(world, role))
    return world


def adoption_make(world: World) -> int:
    """The busiest collaborator adopts the busy RW's kelurahan (it and its RWs claimed), and
    up to 20 of its commitments there become the adoption's works: the adoption page, the
    adopted-areas map data, the API list and the dashboard's adoptions then read real rows
    beside a growing commitments table."""
    import datetime

    from django.utils import timezone

    from commitments.adoption.models import (
        Adoption,
        AdoptionArea,
        AdoptionWork,
        Phase,
        PhaseItem,
    )
    from locations.models import Area

    kelurahan = world.busy_rw.parent
    today = timezone.localdate()
    adoption = Adoption.objects.create(
        collaborator=world.busiest,
        program=world.program,
        name="Kampung bench",
        status=Adoption.Status.ACTIVE,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=365),
        agreed_at=timezone.now(),
    )
    areas = [kelurahan, *Area.objects.filter(parent=kelurahan)]
    AdoptionArea.objects.bulk_create(
        AdoptionArea(adoption=adoption, area=a, program=world.program, is_chosen=a == kelurahan)
        for a in areas
    )
    phase = Phase.objects.create(adoption=adoption, order=1, title="Tahap 1", target_on=today)
    works = world.busiest.commitments.filter(
        program=world.program, area__in=areas, need__isnull=False
    ).order_by("id")[:20]
    for form_id in {c.donation_form_id for c in works}:
        PhaseItem.objects.create(phase=phase, donation_form_id=form_id, quantity=1000)
    AdoptionWork.objects.bulk_create(
        AdoptionWork(adoption=adoption, phase=phase, commitment=c) for c in works
    )
    return adoption.pk


def notifications_generate(world: World) -> None:
    """A notification to the donor for each commitment of their collaborator (its pledge,
    confirmation, delivery...), for those generated since the last call."""
    upto = scalar("SELECT max(id) FROM commitments_commitment")
    execute(
        """
        INSERT INTO commitments_notification (
            user_id, commitment_id, subject, body, url, created_at, read_at, emailed_at,
            email_attempts
        )
        SELECT %s, c.id, 'Komitmen #' || c.id, 'Status: ' || c.status,
            '/komitmen/' || c.id || '/', c.status_changed_at,
            CASE WHEN c.id %% 3 = 0 THEN NULL ELSE c.status_changed_at END,
            c.status_changed_at, 1
        FROM commitments_commitment c
        WHERE c.collaborator_id = %s AND c.id > %s AND c.id <= %s
        """,
        [world.donor.pk, world.busiest.pk, world.notified_up_to, upto],
    )
    world.notified_up_to = upto


def public_pages(world: World) -> list[Page]:
    from django.urls import reverse

    client = world.clients["public"]
    rw, quiet = world.busy_rw, world.quiet_rw
    return [
        Page("public home", get(client, reverse("home"))),
        Page("public needs map", get(client, reverse("needs-map"))),
        Page("public map data rw", get(client, reverse("map-need-state", args=["rw"]))),
        Page(
            "public map data kelurahan",
            get(client, reverse("map-need-state", args=["kelurahan"])),
        ),
        Page("public map sites", get(client, reverse("map-sites"))),
        Page("public area busy rw", get(client, reverse("area-detail", args=[rw.code]))),
        Page("public area panel busy rw", get(client, reverse("area-panel", args=[rw.code]))),
        Page("public area quiet rw", get(client, reverse("area-detail", args=[quiet.code]))),
        Page(
            "public area kelurahan",
            get(client, reverse("area-detail", args=[rw.parent.code])),
        ),
        Page(
            "public program page",
            get(client, reverse("program-detail", args=[world.program.slug])),
        ),
        Page("public collaborators", get(client, reverse("collaborator-gallery"))),
        Page("public adoptions", get(client, reverse("adoption-list"))),
        Page(
            "public adoption page",
            get(client, reverse("adoption-detail", args=[world.adoption_id])),
        ),
        Page("public map data adopted", get(client, reverse("map-adopted"))),
        Page(
            "public program asset register",
            get(client, reverse("asset-register-program", args=[world.program.slug])),
        ),
        Page(
            "public collaborator busiest",
            get(client, reverse("collaborator-detail", args=[world.busiest.slug])),
        ),
    ]


def donor_pages(world: World) -> list[Page]:
    from django.urls import reverse

    client = world.clients["donor"]
    mine = reverse("my-commitments")
    return [
        Page("donor workspace", get(client, reverse("workspace"))),
        Page("donor my commitments", get(client, mine)),
        Page("donor my commitments pledged", get(client, mine + "?status=pledged")),
        Page("donor my commitments page 20", get(client, mine + "?page=20")),
        Page(
            "donor commitment detail",
            get(client, reverse("commitment-detail", args=[world.detail_id])),
        ),
        Page(
            "donor pledge form",
            get(client, reverse("pledge-create", args=[world.busy_need.pk])),
        ),
        Page("donor notifications", get(client, reverse("notifications"))),
        Page("donor gifts through aggregators", get(client, reverse("pooling-my-gifts"))),
        Page("donor adoptions", get(client, reverse("my-adoptions"))),
    ]


def keeper_pages(world: World) -> list[Page]:
    """The facilitator's, the program lead's and the administrator's pages."""
    from django.urls import reverse

    def cold_dashboard_prepare() -> None:
        world.pledger.pledge()  # moves the program's figures version

    f, lead, admin = (world.clients[role] for role in ("facilitator", "lead", "admin"))
    dashboard = reverse("program-dashboard", args=[world.program.slug])
    return [
        Page("facilitator workspace", get(f, reverse("workspace"))),
        Page("facilitator needs", get(f, reverse("my-needs"))),
        Page("facilitator inbox", get(f, reverse("facilitator-inbox"))),
        Page("facilitator to distribute", get(f, reverse("pooling-to-distribute"))),
        Page(
            "facilitator asset register",
            get(f, reverse("asset-register-area", args=[world.busy_rw.parent.code])),
        ),
        Page("lead workspace", get(lead, reverse("workspace"))),
        Page("lead inbox", get(lead, reverse("facilitator-inbox"))),
        Page("lead needs", get(lead, reverse("my-needs"))),
        Page("lead offline commitments", get(lead, reverse("offline-commitments"))),
        Page("lead verification queue", get(lead, reverse("verification-queue"))),
        Page("lead exports", get(lead, reverse("export-list"))),
        Page("lead adoptions", get(lead, reverse("my-adoptions"))),
        Page("lead dashboard uncached", get(lead, dashboard)),
        Page("lead dashboard cold", get(lead, dashboard), prepare=cold_dashboard_prepare),
        Page("admin workspace", get(admin, reverse("workspace"))),
        Page("admin inbox", get(admin, reverse("facilitator-inbox"))),
        Page("admin dashboard", get(admin, reverse("dashboard"))),
        Page("admin verification queue", get(admin, reverse("verification-queue"))),
    ]


def api_pages(world: World) -> list[Page]:
    public = world.clients["public"]
    api = "/api/v1/"
    summaries = api + "summaries/"
    pages = [
        Page("api programs", get(public, api + "programs/")),
        Page("api areas", get(public, api + "areas/")),
        Page("api sites", get(public, api + "sites/")),
        Page("api needs", get(public, api + "needs/")),
        Page("api needs of busy rw", get(public, api + f"needs/?area={world.busy_rw.code}")),
        Page("api collaborators", get(public, api + "collaborators/")),
        Page("api adoptions", get(public, api + "adoptions/")),
        Page("api need state rw", get(public, api + "need-state/rw/")),
        Page("api summaries", get(public, summaries)),
        Page("api summaries by area", get(public, summaries + "?group_by=area")),
        Page(
            "api summaries by kelurahan, month",
            get(public, summaries + "?group_by=kelurahan,month"),
        ),
        Page(
            "api summaries of program by area",
            get(public, summaries + f"?group_by=area,status&program={world.program.slug}"),
        ),
        Page("api notifications (donor)", get(world.clients["donor"], api + "notifications/")),
    ]
    for role in ("donor", "facilitator", "lead", "admin"):
        pages.append(
            Page(f"api commitments ({role})", get(world.clients[role], api + "commitments/"))
        )
    return pages


def action_pages(world: World) -> list[Page]:
    """A pledge through the form, and a facilitator confirming a fresh pledge."""
    import datetime

    from django.urls import reverse
    from django.utils import timezone

    from commitments.lifecycle.pledges import commitment_pledge

    need, pending = world.busy_need, []

    def pledge() -> None:
        response = world.clients["donor"].post(
            reverse("pledge-create", args=[need.pk]),
            {
                "key": uuid.uuid4().hex,
                "collaborator": world.busiest.pk,
                "quantity": 1,
                "planned_delivery_on": (timezone.localdate() + datetime.timedelta(7)).isoformat(),
            },
        )
        assert response.status_code == 302, response.status_code

    def pledge_one() -> None:
        result = commitment_pledge(
            user=world.donor,
            collaborator=world.busiest,
            need=need,
            quantity=1,
            idempotency_key=uuid.uuid4().hex,
        )
        pending.append(result.commitment.pk)
        caches_clear()

    def confirm() -> None:
        url = reverse("commitment-status", args=[pending.pop()])
        response = world.clients["facilitator"].post(url, {"target": "committed"})
        assert response.status_code == 302, response.status_code

    return [
        Page("donor pledge (POST)", pledge),
        Page("facilitator confirm (POST)", confirm, prepare=pledge_one),
    ]


def expiry_page(world: World) -> Page:
    """The expiry job with EXPIRING commitments due and nothing else: the pledges and
    commitments the job would expire are expired first, set-based (as the hourly job would
    have left them), then before each run EXPIRING new pledges are backdated."""
    from commitments.figures.summaries import summaries_rebuild
    from commitments.lifecycle.pledges import commitment_pledge
    from commitments.lifecycle.transitions import commitments_expire

    def steady() -> None:
        execute(
            """
            UPDATE commitments_commitment c SET status = 'expired', status_changed_at = now()
            FROM programs_program p WHERE c.program_id = p.id AND (
                (c.status = 'pledged' AND c.created_at
                    < now() - least(p.confirm_within_days, p.unverified_confirm_within_days)
                    * interval '1 day')
                OR (c.status = 'committed' AND (c.planned_delivery_on
                    <= (now() AT TIME ZONE 'Asia/Jakarta')::date - p.deliver_within_days
                    OR (c.planned_delivery_on IS NULL AND c.status_changed_at
                    < now() - p.deliver_within_days * interval '1 day'))))
            """
        )
        summaries_rebuild()
        # As autovacuum would have, meanwhile: the expired rows' old index entries gone.
        execute("VACUUM ANALYZE commitments_commitment")
        execute("VACUUM ANALYZE commitments_commitmentsummary")

    def due() -> None:
        ids = [
            commitment_pledge(
                user=world.donor,
                collaborator=world.busiest,
                need=world.busy_need,
                quantity=1,
                idempotency_key=uuid.uuid4().hex,
            ).commitment.pk
            for _ in range(EXPIRING)
        ]
        execute(
            "UPDATE commitments_commitment SET created_at = now() - interval '400 days' "
            "WHERE id = ANY(%s)",
            [ids],
        )
        caches_clear()

    def expire() -> None:
        assert commitments_expire() == EXPIRING

    return Page(f"expiry job ({EXPIRING} due)", expire, prepare=due, before_walk=steady)


def walk(pages: list[Page], sides: dict, requests: int) -> None:
    """Every page once untimed on each database (their first touches), then each page
    measured on both."""
    for use in sides.values():
        use()
        for page in pages:
            if page.before_walk is None:
                page.prepare()
                page.act()
    for page in pages:
        if page.before_walk is not None:
            for use in sides.values():
                use()
                page.before_walk()
        page.measure(sides, requests)
        progress(" ".join(f"{page.name} at {size}: {ms:.1f} ms;" for size, ms in page.ms.items()))


def sides_open(small_name: str, small: int, large: int) -> dict:
    """{size: a function that points the ORM at that size's database}: two connections,
    each kept open, swapped in as the default one."""
    from django.db import connections

    large_connection = connections["default"]
    small_connection = large_connection.__class__(
        {**large_connection.settings_dict, "NAME": small_name}, "default"
    )

    def using(connection):
        def use() -> None:
            connections["default"] = connection

        return use

    return {small: using(small_connection), large: using(large_connection)}


def database_copy(source: str, copy: str) -> None:
    """A copy of the database `source` (no connection to it may be open)."""
    import psycopg

    with psycopg.connect(f"{ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')


def export_s(world: World) -> float:
    """Seconds of the slowest whole-program export of the biggest program, for its lead, in
    each format (CSV, HXL, XLSX, IATI)."""
    from commitments.models import Export
    from commitments.reporting.exports import export_build, export_request

    slowest = 0.0
    for file_format in Export.Format.values:
        export = export_request(
            user=world.lead, data={"program": world.program.slug}, format=file_format
        )
        started = time.perf_counter()
        export_build(export_id=export.pk)
        seconds = time.perf_counter() - started
        export.refresh_from_db()
        assert export.status == Export.Status.DONE, (export.status, export.error)
        progress(f"{file_format} export of {export.rows_total} rows: {seconds:.1f} s")
        slowest = max(slowest, seconds)
    return slowest


def table(pages: list[Page], small: int, large: int) -> int:
    """Print the table to stderr; returns how many pages miss."""
    missed = 0
    width = max(len(page.name) for page in pages)
    print(
        f"{'page':<{width}} {'ms@' + str(small):>10} {'ms@' + str(large):>12} ratio",
        file=sys.stderr,
    )
    for page in pages:
        before, after = page.ms[small], page.ms[large]
        ok = after <= GROWTH_LIMIT * before or after < FLAT_MS
        missed += not ok
        print(
            f"{page.name:<{width}} {before:>10.1f} {after:>12.1f} {after / before:>5.2f} "
            f"{'pass' if ok else 'MISS'}",
            file=sys.stderr,
        )
    return missed


def run(args, name: str, small_name: str, private_root: str) -> dict:
    from django.conf import settings
    from django.db import connections

    setup(name)
    logging.getLogger("celery").setLevel(logging.WARNING)  # no line per eager task
    settings.DEBUG = False  # no query log: the pages as served
    settings.PRIVATE_MEDIA_ROOT = Path(private_root)  # the export's file
    progress("programs and Jakarta areas loaded")
    from commitments.figures.summaries import summaries_rebuild

    collaborators_generate(args.collaborators)
    needs_generate()
    small = min(args.small, args.rows - 1)
    commitments_generate(1, small)
    summaries_rebuild()
    world = world_make()
    notifications_generate(world)
    # The visibility map set, as autovacuum sets it on a table that grew by inserts (PG 13+).
    execute("VACUUM ANALYZE")
    pages = [
        *public_pages(world),
        *donor_pages(world),
        *keeper_pages(world),
        *api_pages(world),
        *action_pages(world),
        expiry_page(world),
    ]
    connections.close_all()
    database_copy(name, small_name)  # the small size, kept as it is
    progress(f"{small} commitments (copied to {small_name})")

    step = 500_000
    for first in range(small + 1, args.rows + 1, step):
        commitments_generate(first, min(first + step - 1, args.rows))
        progress(f"{min(first + step - 1, args.rows)} commitments")
    notifications_generate(world)
    summaries_rebuild()
    execute("VACUUM ANALYZE")
    large = args.rows
    sides = sides_open(small_name, small, large)
    walk(pages, sides, args.requests)
    for use in sides.values():
        use()
        connections["default"].close()
    export = export_s(world)  # on the large database, the last one used
    return {"pages": len(pages), "pages_grown": table(pages, small, large), "export": export}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="rows of the small run")
    parser.add_argument("--collaborators", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=5, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    name = database_create()
    small_name = f"{name}_small"
    private_root = tempfile.mkdtemp(prefix="ksbb-bench-pages-")
    progress(f"databases {name} and {small_name}")
    try:
        results = run(args, name, small_name, private_root)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            progress(f"kept databases {name} and {small_name}")
        else:
            database_drop(name)
            database_drop(small_name)
        shutil.rmtree(private_root, ignore_errors=True)
    print(
        f"pages={results['pages']} pages_grown={results['pages_grown']} "
        f"export_1m_s={results['export']:.1f}"
    )


if __name__ == "__main__":
    main()
