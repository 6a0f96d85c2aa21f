"""Program leads' dashboards: every figure equals a direct count over the database, the
summaries and a live computation agree, filters narrow the figures, leads see only their
programs, bad filters are answered with form errors, and the number of queries does not
grow with the data."""

import datetime
import re
import uuid
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collaborators.roles import scopes_for
from commitments.figures.summaries import JAKARTA, summaries_rebuild
from commitments.figures.totals import totals_refresh
from commitments.models import (
    CONFIRMED_STATUSES,
    Commitment,
    CommitmentKecamatanRollup,
    CommitmentMonthRollup,
    CommitmentRollup,
    Delivery,
    Status,
)
from commitments.reporting.dashboard import (
    Figures,
    dashboard_data,
    dashboard_filter,
    pipeline,
    quiet_commitments,
    stale_needs,
    top_collaborators,
)
from locations.models import Area, Need
from programs.models import DonationForm

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    facilitator_of,
    lead_of,
    member_of,
    program,
)
from .rollup_levels import assert_levels_equal_rollup

pytestmark = pytest.mark.django_db

# RWs in two kota (Jakarta Barat: two kecamatan; Jakarta Pusat) and one kelurahan.
BARAT_RW = "31.73.04.1002.001"  # kecamatan 31.73.04
BARAT_RW_2 = "31.73.04.1002.002"
PUSAT_KOTA = "31.71"
BARAT_KOTA = "31.73"
BARAT_KECAMATAN = "31.73.04"


def jakarta(year, month, day, hour=12):
    return datetime.datetime(year, month, day, hour, tzinfo=JAKARTA)


# A commitment's month is counted in Jakarta: 1 April 03:00 there is still 31 March in UTC.
MONTHS = [jakarta(2026, 2, 10), jakarta(2026, 3, 15), jakarta(2026, 4, 1, 3)]
STATUSES = list(Status.values)


def _areas():
    barat_other_kecamatan = (
        Area.objects.filter(level="rw", path__startswith="31/31.73/")
        .exclude(path__startswith="31/31.73/31.73.04/")
        .order_by("code")
        .first()
    )
    pusat = Area.objects.filter(level="rw", path__startswith="31/31.71/").order_by("code").first()
    pusat_kelurahan = pusat.parent
    return [
        Area.objects.get(code=BARAT_RW),
        Area.objects.get(code=BARAT_RW_2),
        barat_other_kecamatan,
        pusat,
        pusat_kelurahan,
    ]


def seed(n: int = 1) -> list[Commitment]:
    """n rounds of commitments over two programs, every state, both channels, three months,
    four RWs and a kelurahan; some anonymous, some with confirmed deliveries, some quiet."""
    areas = _areas()
    forms = list(DonationForm.objects.filter(program__slug="pangan").order_by("pk")[:2]) + list(
        DonationForm.objects.filter(program__slug="umkm").order_by("pk")[:1]
    )
    collaborators = [CollaboratorFactory() for _ in range(3)]
    made = []
    i = 0
    for _round in range(n):
        for status in STATUSES:
            for form in forms:
                i += 1
                area = areas[i % len(areas)]
                created = MONTHS[i % len(MONTHS)]
                quiet = i % 2 == 0
                commitment = Commitment.objects.create(
                    collaborator=collaborators[i % len(collaborators)],
                    area=area,
                    program=form.program,
                    donation_form=form,
                    quantity=1 + i % 7,
                    value_idr=None if i % 5 == 0 else Decimal(100_000 * (1 + i % 9)),
                    channel=Commitment.Channel.OFFLINE if i % 3 == 0 else "platform",
                    status=status,
                    is_anonymous=i % 6 == 1,
                    created_at=created,
                    last_event_at=(
                        timezone.now() - datetime.timedelta(days=40)
                        if quiet
                        else timezone.now() - datetime.timedelta(days=i % 5)
                    ),
                    idempotency_key=uuid.uuid4().hex,
                )
                if status in ("delivered", "completed"):
                    for k in range(2):
                        Delivery.objects.create(
                            commitment=commitment,
                            quantity=1,
                            delivered_on=datetime.date(2026, 4, 2),
                            recipients_households=3 + k,
                            recipients_persons=10 + k,
                            confirmed_at=timezone.now() + datetime.timedelta(seconds=1)
                            if k == 0
                            else None,
                        )
                made.append(commitment)
    # Open needs: in one served RW and in one RW nobody gave to; a stale one too.
    NeedFactory(area=areas[1])
    NeedFactory(area=Area.objects.get(code="31.73.04.1002.003"))
    NeedFactory(
        area=areas[3],
        assessed_at=timezone.now() - datetime.timedelta(days=Need.STALE_AFTER_DAYS + 5),
    )
    summaries_rebuild()
    totals_refresh()  # the rows were written directly: the periodic repair keeps the rest
    return made


# --- direct counts -------------------------------------------------------------------------


def kota_code(area: Area) -> str:
    return area.path.split("/")[1]


def kecamatan_code(area: Area) -> str:
    return area.path.split("/")[2]


def reached(commitment: Commitment) -> tuple[int, int]:
    delivered = commitment.deliveries.filter(confirmed_at__isnull=False)
    return (
        sum(d.recipients_households or 0 for d in delivered),
        sum(d.recipients_persons or 0 for d in delivered),
    )


def figures_of(commitments) -> Figures:
    total = Figures()
    for c in commitments:
        hh, ps = reached(c)
        total += Figures(
            count=1,
            quantity=c.quantity,
            value_idr=Decimal(c.value_idr or 0),
            households=hh,
            persons=ps,
        )
    return total


def month_of(c: Commitment) -> datetime.date:
    return c.created_at.astimezone(JAKARTA).date().replace(day=1)


def select(programs, *, start=None, end=None, area=None, channel=None):
    """The commitments a filter should count, picked in Python, one by one."""
    rows = Commitment.objects.filter(program__slug__in=programs).select_related("area")
    chosen = []
    for c in rows:
        if start and month_of(c) < start:
            continue
        if end and month_of(c) > end:
            continue
        if area and not (c.area.path == area.path or c.area.path.startswith(area.path + "/")):
            continue
        if channel and c.channel != channel:
            continue
        chosen.append(c)
    return chosen


def assert_figures_match(data, commitments, programs, area=None):
    assert data.totals == figures_of(commitments)
    for status in STATUSES:
        mine = [c for c in commitments if c.status == status]
        assert data.by_status.get(status, Figures()) == figures_of(mine), status
    confirmed = [c for c in commitments if c.status in CONFIRMED_STATUSES]
    assert data.confirmed == figures_of(confirmed)
    forms = DonationForm.objects.filter(program__slug__in=programs)
    assert {r.donation_form.pk for r in data.forms} == {f.pk for f in forms}
    for row in data.forms:
        mine = [c for c in confirmed if c.donation_form_id == row.donation_form.pk]
        assert row.confirmed == figures_of(mine)
        assert row.reported_value_idr == row.donation_form.reported_value_idr
    by_month = defaultdict(Counter)
    for c in commitments:
        by_month[month_of(c)][c.status] += 1
    assert {m.month: dict(m.by_status) for m in data.months} == {
        k: dict(v) for k, v in by_month.items()
    }
    for rows, code_of in ((data.by_kota, kota_code), (data.by_kecamatan, kecamatan_code)):
        expected = defaultdict(list)
        for c in commitments:
            expected[code_of(c.area)].append(c)
        assert {r.area.code: r.all for r in rows} == {
            code: figures_of(cs) for code, cs in expected.items()
        }
        assert {r.area.code: r.confirmed for r in rows} == {
            code: figures_of([c for c in cs if c.status in CONFIRMED_STATUSES])
            for code, cs in expected.items()
        }
    served = {c.area.code for c in confirmed if c.area.level == "rw"}
    needs = Need.objects.open().filter(program__slug__in=programs, area__level="rw")
    if area is not None:
        needs = needs.filter(area__path__startswith=area.path + "/")
    needing = {n.area.code for n in needs}
    assert data.coverage.served == served
    assert data.coverage.needing == needing
    assert data.coverage.both == served & needing


def every_program() -> list[str]:
    from programs.models import Program

    return list(Program.objects.values_list("slug", flat=True))


def the_filter(user, **query):
    dashboard, form = dashboard_filter(scopes_for(user), query)
    assert dashboard is not None, form.errors
    return dashboard


@pytest.fixture
def admin():
    return UserFactory(is_staff=True)


@pytest.fixture
def seeded():
    return seed()


# --- the figures ---------------------------------------------------------------------------


def test_every_figure_on_the_page_equals_a_direct_count(client, admin, seeded):
    client.force_login(admin)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    data = response.context["data"]
    assert_figures_match(data, select(every_program()), every_program())
    html = response.content.decode()
    total = len(Commitment.objects.all())
    assert re.search(rf'data-figure="count">{total}<', html)
    confirmed = Commitment.objects.filter(status__in=CONFIRMED_STATUSES).count()
    assert re.search(rf'data-figure="confirmed-count">{confirmed}<', html)
    # The figures are in tables for screen readers, beside the charts.
    for table in ("status-table", "forms-table", "months-table", "kota-table", "coverage-table"):
        assert f'id="{table}"' in html
    assert html.count("<svg") >= 3
    assert data.computed_at is not None
    assert "Angka dihitung pada" in html  # Indonesian, the default language


def test_a_leads_program_page_counts_only_that_program(client, seeded):
    lead = lead_of("pangan")
    client.force_login(lead)
    response = client.get(reverse("program-dashboard", kwargs={"slug": "pangan"}))
    assert response.status_code == 200
    assert_figures_match(response.context["data"], select(["pangan"]), ["pangan"])


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"start": "2026-03"},
        {"end": "2026-03"},
        {"start": "2026-03", "end": "2026-03"},
        {"area": BARAT_KOTA},
        {"area": BARAT_KECAMATAN},
        {"area": PUSAT_KOTA},
        {"channel": "offline"},
        {"channel": "platform", "area": BARAT_KOTA, "start": "2026-04"},
        {"program": "umkm"},
    ],
)
def test_filters_change_the_figures_as_a_direct_count_says(admin, seeded, query):
    dashboard = the_filter(admin, **query)
    month = lambda s: datetime.date(int(s[:4]), int(s[5:]), 1)  # noqa: E731
    programs = [query["program"]] if "program" in query else every_program()
    area = Area.objects.get(code=query["area"]) if "area" in query else None
    expected = select(
        programs,
        start=month(query["start"]) if "start" in query else None,
        end=month(query["end"]) if "end" in query else None,
        area=area,
        channel=query.get("channel"),
    )
    data = dashboard_data(dashboard)
    assert_figures_match(data, expected, programs, area=area)
    assert dashboard_data(dashboard, live=True) == data


ROLL_UPS = {
    "rollup": CommitmentRollup,
    "month": CommitmentMonthRollup,
    "kecamatan": CommitmentKecamatanRollup,
}


@pytest.mark.parametrize(
    ("query", "read"),
    [
        ({}, {"month", "kecamatan"}),
        ({"channel": "offline"}, {"month", "kecamatan"}),
        ({"program": "umkm"}, {"month", "kecamatan"}),
        ({"start": "2026-03"}, {"month", "rollup"}),
        ({"start": "2026-03", "end": "2026-04", "channel": "platform"}, {"month", "rollup"}),
        ({"area": BARAT_KOTA}, {"rollup", "kecamatan"}),
        ({"area": BARAT_KECAMATAN, "channel": "offline"}, {"rollup", "kecamatan"}),
        ({"area": BARAT_KOTA, "end": "2026-03"}, {"rollup"}),
    ],
)
def test_the_month_and_kecamatan_roll_ups_give_the_live_figures(admin, seeded, query, read):
    """By form and month from the month roll-up unless an area narrows them, by area from
    the kecamatan roll-up unless a period does: the same figures as the live GROUP BY."""
    assert_levels_equal_rollup()
    dashboard = the_filter(admin, **query)
    with CaptureQueriesContext(connection) as queries:
        data = dashboard_data(dashboard)
    sql = " ".join(q["sql"] for q in queries)
    assert {name for name, model in ROLL_UPS.items() if model._meta.db_table in sql} == read
    assert data == dashboard_data(dashboard, live=True)
    assert data.totals.count > 0


def test_narrowing_to_a_kota_changes_what_the_page_shows(client, admin, seeded):
    client.force_login(admin)
    everything = client.get(reverse("dashboard")).context["data"]
    barat = client.get(reverse("dashboard"), {"area": BARAT_KOTA}).context["data"]
    assert 0 < barat.totals.count < everything.totals.count
    assert {r.area.code for r in barat.by_kota} == {BARAT_KOTA}


def test_the_live_computation_equals_the_summaries(admin, seeded):
    dashboard = the_filter(admin)
    assert dashboard_data(dashboard, live=True) == dashboard_data(dashboard)


def test_stale_summaries_are_said_to_be_waiting(
    client, admin, seeded, django_capture_on_commit_callbacks
):
    from commitments.models import SummaryDirtyKey

    c = seeded[0]
    SummaryDirtyKey.objects.create(
        program=c.program,
        donation_form=c.donation_form,
        area=c.area,
        month=month_of(c),
        channel=c.channel,
    )
    client.force_login(admin)
    response = client.get(reverse("dashboard"))
    assert response.context["data"].waiting_for_recompute


# --- lists ---------------------------------------------------------------------------------


def test_top_collaborators_hide_anonymous_givers_from_leads_not_from_administrators(admin, seeded):
    dashboard = the_filter(admin)
    confirmed = [c for c in seeded if c.status in CONFIRMED_STATUSES]
    for_lead = top_collaborators(dashboard, limit=100)
    anonymous = [c for c in confirmed if c.is_anonymous]
    assert anonymous, "the scenario has anonymous confirmed commitments"
    row = next(r for r in for_lead if r.collaborator_id is None)
    assert row.count == len(anonymous)
    assert row.value_idr == sum(Decimal(c.value_idr or 0) for c in anonymous)
    assert sum(r.count for r in for_lead) == len(confirmed)
    for_admin = top_collaborators(dashboard, limit=100, reveal_anonymous=True)
    assert all(r.collaborator_id is not None for r in for_admin)
    by_collaborator = Counter(c.collaborator_id for c in confirmed)
    assert {r.collaborator_id: r.count for r in for_admin} == dict(by_collaborator)
    values = [r.value_idr for r in for_admin]
    assert values == sorted(values, reverse=True)


def test_the_pipeline_lists_work_under_way_oldest_first_with_who_it_waits_on(admin, seeded):
    dashboard = the_filter(admin)
    rows = pipeline(dashboard, limit=500)
    under_way = [c for c in seeded if c.status in ("pledged", "committed", "delivered")]
    assert {r.commitment.pk for r in rows} == {c.pk for c in under_way}
    moments = [r.commitment.last_event_at for r in rows]
    assert moments == sorted(moments)
    assert all(r.waiting_on for r in rows)
    assert len(pipeline(dashboard, limit=2)) == 2


def test_commitments_without_news_for_n_days_are_listed_and_counted(admin, seeded):
    dashboard = the_filter(admin)
    rows, total = quiet_commitments(dashboard, limit=3)
    expected = [
        c
        for c in seeded
        if c.status in ("pledged", "committed", "delivered")
        and c.last_event_at < timezone.now() - datetime.timedelta(days=c.program.no_news_days)
    ]
    assert total == len(expected) > 3
    assert len(rows) == 3
    assert {r.commitment.pk for r in rows} <= {c.pk for c in expected}
    # A list that is not full is its own count.
    rows, total = quiet_commitments(dashboard, limit=500)
    assert total == len(rows) == len(expected)


def test_stale_needs_are_listed(admin, seeded):
    rows, total = stale_needs(the_filter(admin))
    assert total == 1 and rows[0].assessed_at < timezone.now() - datetime.timedelta(days=90)
    assert stale_needs(the_filter(admin, area=BARAT_KOTA))[1] == 0


# --- who sees what -------------------------------------------------------------------------


def test_a_lead_gets_403_on_another_programs_dashboard(client, seeded):
    client.force_login(lead_of("pangan"))
    assert client.get(reverse("program-dashboard", kwargs={"slug": "umkm"})).status_code == 403
    assert client.get(reverse("program-dashboard", kwargs={"slug": "nope"})).status_code == 404


def test_a_lead_of_one_program_is_sent_to_its_page_and_sees_nothing_of_others(client, seeded):
    client.force_login(lead_of("pangan"))
    response = client.get(reverse("dashboard"), {"area": BARAT_KOTA})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("program-dashboard", kwargs={"slug": "pangan"}))
    assert "area=31.73" in response["Location"]
    page = client.get(response["Location"])
    umkm_forms = DonationForm.objects.filter(program__slug="umkm")
    assert not any(r.donation_form in umkm_forms for r in page.context["data"].forms)
    assert all(r.commitment.program.slug == "pangan" for r in page.context["pipeline"])
    # Asking for another program through the filter is refused as an invalid choice.
    refused = client.get(
        reverse("program-dashboard", kwargs={"slug": "pangan"}), {"program": "umkm"}
    )
    assert refused.context["data"].totals.count == len(select(["pangan"]))


def test_a_lead_of_several_programs_sees_them_together_and_no_other(client, seeded):
    from programs.models import ProgramLead

    lead = lead_of("pangan")
    ProgramLead.objects.create(user=lead, program=program("pendidikan"))
    client.force_login(lead)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert {p.slug for p in response.context["filter"].programs} == {"pangan", "pendidikan"}
    assert response.context["data"].totals == figures_of(select(["pangan"]))
    not_mine = client.get(reverse("dashboard"), {"program": "umkm"})
    assert not_mine.status_code == 400
    assert "program" in not_mine.context["form"].errors
    assert 'value="umkm"' not in not_mine.content.decode()


def test_others_may_not_see_dashboards(client, seeded):
    url = reverse("dashboard")
    program_url = reverse("program-dashboard", kwargs={"slug": "pangan"})
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    assert reverse("login") in client.get(program_url)["Location"]
    for user in (member_of(CollaboratorFactory()), facilitator_of(BARAT_RW)):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.get(program_url).status_code == 403


def test_the_workspace_links_leads_and_administrators_to_the_dashboard(client, admin):
    client.force_login(lead_of("pangan"))
    assert reverse("dashboard") in client.get(reverse("workspace")).content.decode()
    client.force_login(member_of(CollaboratorFactory()))
    assert reverse("dashboard") not in client.get(reverse("workspace")).content.decode()


@pytest.mark.parametrize(
    "query, field",
    [
        ({"start": "2026-13"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"end": "1900-01"}, "end"),
        ({"start": "2026-04", "end": "2026-02"}, "end"),
        ({"area": "99.99"}, "area"),
        ({"area": "<script>"}, "area"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"program": "tenaga-kerja-not-a-program"}, "program"),
    ],
)
def test_invalid_filters_show_form_errors_not_a_500(client, admin, query, field):
    client.force_login(admin)
    response = client.get(reverse("dashboard"), query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'class="errorlist"' in response.content.decode()


# --- cost ----------------------------------------------------------------------------------


def queries_for(client, url) -> int:
    """Queries of one request on the uncached path: the figures are read from the summary
    tables, not from the cache."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["data"].by_status, "figures were computed"
    return len(queries)


def test_the_uncached_dashboard_makes_no_query_per_row(client, admin):
    """Against N+1 queries only: the number of queries stays the same for three times the
    data. How the time grows with the data is the aggregation bench's to show."""
    seed(1)
    lead = lead_of("pangan")
    pages = [
        (admin, reverse("dashboard")),
        (admin, reverse("dashboard") + f"?area={BARAT_KOTA}&channel=offline"),
        (lead, reverse("program-dashboard", kwargs={"slug": "pangan"})),
    ]
    before = []
    for user, url in pages:
        client.force_login(user)
        queries_for(client, url)  # warm: sessions, caches
        before.append(queries_for(client, url))
    seed(2)
    after = []
    for user, url in pages:
        client.force_login(user)
        queries_for(client, url)
        after.append(queries_for(client, url))
    assert Commitment.objects.count() == 3 * len(STATUSES) * 3
    assert after == before


def test_charts_carry_nothing_the_content_security_policy_blocks(client, admin, seeded):
    client.force_login(admin)
    html = client.get(reverse("dashboard")).content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 4  # the forms chart is two panels (issue 25), months, areas
    for svg in svgs:
        assert "<script" not in svg and "<style" not in svg
        assert not re.search(r"""\sstyle\s*=""", svg)


def top_rows(html: str) -> list[tuple[str, str]]:
    """The top collaborators table as the page shows it: (name, confirmed commitments)."""
    table = re.search(r'id="top-table".*?</table>', html, re.S).group(0)
    return re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td>', table)


def test_top_collaborators_of_whole_programs_equal_those_of_the_commitments(admin, seeded):
    """Whole programs read the collaborators' kept figures; any period reads the
    commitments: both say the same."""
    for user, reveal in ((admin, True), (lead_of("pangan"), False)):
        whole = the_filter(user)
        since_ever = the_filter(user, start="2000-01")  # the same rows, counted live
        assert top_collaborators(whole, limit=100, reveal_anonymous=reveal) == (
            top_collaborators(since_ever, limit=100, reveal_anonymous=reveal)
        )


def test_a_cancelled_commitment_leaves_the_top_collaborators_it_was_in(
    client, seeded, django_capture_on_commit_callbacks
):
    from commitments.lifecycle.transitions import commitment_transition

    lead = lead_of("pangan")
    client.force_login(lead)
    url = reverse("program-dashboard", kwargs={"slug": "pangan"})
    before = dict(top_rows(client.get(url).content.decode()))
    giver = next(
        c
        for c in seeded
        if c.status == "committed" and c.program.slug == "pangan" and not c.is_anonymous
    )
    with django_capture_on_commit_callbacks(execute=True):
        commitment_transition(
            commitment_id=giver.pk,
            target="cancelled",
            actor=member_of(giver.collaborator),
            reason="changed plans",
        )
    after = dict(top_rows(client.get(url).content.decode()))
    name = giver.collaborator.name
    assert int(after.get(name, "0")) == int(before[name]) - 1


def test_a_long_list_of_quiet_commitments_is_counted_up_to_a_cap(client, admin, monkeypatch):
    from commitments.reporting import dashboard as reporting
    from commitments.web import dashboard_views

    seed(2)
    client.force_login(admin)
    quiet, total = quiet_commitments(the_filter(admin), limit=2)
    assert total > 3
    for module in (reporting, dashboard_views):
        monkeypatch.setattr(module, "QUIET_COUNT_CAP", 3)
    assert quiet_commitments(the_filter(admin), limit=2)[1] == 4  # the cap and one more
    html = client.get(reverse("dashboard")).content.decode()
    heading = re.search(r'<h2 id="quiet-heading">(.*?)</h2>', html).group(1)
    assert heading.startswith("&gt; 3 ")
    assert len(quiet) == 2


def test_the_months_chart_draws_a_bar_for_every_state_of_every_month(client, admin, seeded):
    client.force_login(admin)
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    (months_svg,) = [svg for svg in svgs if "stackedbar-graph" in svg]
    bars = sum(1 for m in response.context["data"].months for n in m.by_status.values() if n)
    assert months_svg.count('class="rect"') == bars
    for _value, label in Status.choices:
        assert f">{label}<" in months_svg or f">{str(label)[:13]}\u2026<" in months_svg


def test_the_quiet_list_of_one_program_is_the_quiet_start_of_its_pipeline(client, seeded):
    lead = lead_of("pangan")
    dashboard = the_filter(lead, program="pangan")
    for limit in (2, 3, 50):
        read, read_total = quiet_commitments(dashboard, limit=limit)
        under_way = pipeline(dashboard, limit=limit)
        reused, reused_total = quiet_commitments(dashboard, limit=limit, under_way=under_way)
        assert [r.commitment.pk for r in reused] == [r.commitment.pk for r in read]
        assert reused_total == read_total
    client.force_login(lead)
    page = client.get(reverse("program-dashboard", kwargs={"slug": "pangan"}))
    rows, total = quiet_commitments(dashboard)
    assert [r.commitment.pk for r in page.context["quiet"]] == [r.commitment.pk for r in rows]
    assert page.context["quiet_total"] == total > 0
