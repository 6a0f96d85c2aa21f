"""Exports of dashboard data: CSV, HXL-tagged CSV, XLSX with the filtered figures, IATI-style
JSON; asked for over HTTP, built by the (eager) Celery job, downloaded by the requester only.

The seeded scenario: two programs (pangan, pendidikan), two kota (Jakarta Barat, Jakarta
Timur), every kind of state, both channels, months inside and outside the filtered period
(one of them a minute after midnight in Jakarta, which is still the previous day in UTC)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import threading
import uuid
from collections import defaultdict
from decimal import Decimal

import hxl
import openpyxl
import pytest
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from collaborators.models import Collaborator
from commitments.figures.summaries import JAKARTA, summaries_rebuild
from commitments.jobs import wait_for_background_jobs
from commitments.models import CONFIRMED_STATUSES, Commitment, CommitmentEvent, Delivery, Export
from commitments.reporting import exports as exports_module
from commitments.reporting.exports import (
    HASHTAGS,
    HEADER,
    busy_exports,
    export_build,
    export_enqueue,
)
from locations.models import Area
from programs.models import DonationForm, Program, ProgramLead

from .conftest import celery_broker
from .factories import CollaboratorFactory, UserFactory, lead_of, program
from .world import small_world

pytestmark = pytest.mark.django_db

RW_BARAT = "31.73.04.1002.001"
KELURAHAN_BARAT = "31.73.04.1002"
RW_TIMUR = "31.75.01.1001.001"
REAL_NAME = "Budi Rahasia"
FILTER = {"area": "31.73", "start": "2026-03", "end": "2026-05", "channel": "platform"}
# The HXL core hashtags this export may use (HXL 1.1 dictionary).
HXL_CORE = {
    "#adm1", "#adm2", "#adm3", "#adm4", "#loc", "#org", "#sector", "#activity", "#status",
    "#date", "#value", "#reached", "#output", "#meta",
}  # fmt: skip


def at(day: str, time: str = "10:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=JAKARTA)


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


class Scenario:
    def __init__(self) -> None:
        self.company = CollaboratorFactory(name="PT Terang Jaya")
        self.person = CollaboratorFactory(name=REAL_NAME, kind=Collaborator.Kind.INDIVIDUAL)
        self.by_name: dict[str, Commitment] = {}
        make = self.make
        # Inside the filter (Jakarta Barat, March-May 2026, platform).
        make(
            "c1",
            "groceries",
            RW_BARAT,
            "committed",
            "2026-03-05",
            value=3_000_000,
            events=[("committed", "2026-03-07")],
        )
        make(
            "c2",
            "groceries",
            RW_BARAT,
            "delivered",
            "2026-04-10",
            value=1_500_000,
            quantity=5,
            collaborator=self.person,
            anonymous=True,
            events=[("committed", "2026-04-11"), ("delivered", "2026-04-20")],
            deliveries=[(3, 3, 12, "2026-04-20", True), (2, 2, 8, "2026-04-25", False)],
        )
        make("c3", "instant-food", KELURAHAN_BARAT, "pledged", "2026-05-31", time="23:30")
        make(
            "c4",
            "groceries",
            RW_BARAT,
            "cancelled",
            "2026-03-20",
            value=900_000,
            events=[("committed", "2026-03-22"), ("cancelled", "2026-03-25")],
        )
        make(
            "c5",
            "student-gadget-pc-laptop-handphone",
            RW_BARAT,
            "completed",
            "2026-04-02",
            value=8_000_000,
            quantity=2,
            events=[
                ("committed", "2026-04-03"),
                ("delivered", "2026-04-09"),
                ("completed", "2026-04-12"),
            ],
            deliveries=[(2, 2, 2, "2026-04-09", True)],
        )
        # Outside it.
        make("o1", "groceries", RW_TIMUR, "committed", "2026-04-01")
        make("o2", "groceries", RW_BARAT, "committed", "2026-04-01", channel="offline")
        make("o3", "groceries", RW_BARAT, "expired", "2026-02-28")
        make("o4", "groceries", RW_BARAT, "pledged", "2026-06-01", time="00:30")
        make("o5", "student-gadget-pc-laptop-handphone", RW_TIMUR, "rejected", "2026-05-01",
             channel="offline")  # fmt: skip
        summaries_rebuild()

    def make(self, name, form_slug, area_code, status, day, *, time="10:00", value=None,
             quantity=10, channel="platform", collaborator=None, anonymous=False, events=(),
             deliveries=()):  # fmt: skip
        form = DonationForm.objects.get(slug=form_slug, program__slug__in=["pangan", "pendidikan"])
        created = at(day, time)
        commitment = Commitment.objects.create(
            collaborator=collaborator or self.company,
            area=Area.objects.get(code=area_code),
            program=form.program,
            donation_form=form,
            quantity=quantity,
            quantity_delivered=sum(d[0] for d in deliveries),
            value_idr=value,
            channel=channel,
            status=status,
            is_anonymous=anonymous,
            idempotency_key=uuid.uuid4().hex,
            created_at=created,
            status_changed_at=created,
            last_event_at=at(events[-1][1]) if events else created,
            note="catatan rahasia",
        )
        CommitmentEvent.objects.create(commitment=commitment, at=created, to_status="pledged")
        previous = "pledged"
        for to_status, event_day in events:
            CommitmentEvent.objects.create(
                commitment=commitment, at=at(event_day), from_status=previous, to_status=to_status
            )
            previous = to_status
        for qty, households, persons, delivered_on, confirmed in deliveries:
            Delivery.objects.create(
                commitment=commitment,
                quantity=qty,
                delivered_on=datetime.date.fromisoformat(delivered_on),
                recipients_households=households,
                recipients_persons=persons,
                recorded_at=at(delivered_on),
                confirmed_at=at(delivered_on, "15:00") if confirmed else None,
                note="nomor telepon penerima",
            )
        self.by_name[name] = commitment
        return commitment

    def ids(self, *names) -> set[int]:
        return {self.by_name[n].pk for n in names}


@pytest.fixture
def scenario(db) -> Scenario:
    return Scenario()


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True)


def ask(client, capture, **data):
    with capture(execute=True):
        return client.post(reverse("export-create"), data)


def export_as(client, capture, user, **data) -> Export:
    client.force_login(user)
    response = ask(client, capture, **data)
    assert response.status_code == 302, response.content.decode()[:2000]
    export = Export.objects.latest("pk")
    assert response.url == reverse("export-detail", args=[export.pk])
    assert export.status == Export.Status.DONE, export.error
    return export


def download(client, export) -> bytes:
    response = client.get(reverse("export-download", args=[export.pk]))
    assert response.status_code == 200
    assert export.file_name in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def direct_rows(**extra):
    """The filtered commitments, straight from the database (not through DashboardFilter)."""
    start, end = at("2026-03-01", "00:00"), at("2026-06-01", "00:00")
    return Commitment.objects.filter(
        area__path__startswith="31/31.73/",
        created_at__gte=start,
        created_at__lt=end,
        channel="platform",
        **extra,
    )


# --- formats -------------------------------------------------------------------------------


def test_csv_rows_are_the_filtered_commitments_with_their_places_and_reach(
    client, scenario, django_capture_on_commit_callbacks
):
    lead = lead_of("pangan")
    export = export_as(client, django_capture_on_commit_callbacks, lead, format="csv", **FILTER)
    response = client.get(reverse("export-download", args=[export.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert export.file_name.endswith(".csv") and "pangan" in export.file_name
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))

    expected = set(direct_rows(program__slug="pangan").values_list("pk", flat=True))
    assert expected == scenario.ids("c1", "c2", "c3", "c4")
    assert {int(r["id"]) for r in rows} == expected
    assert export.rows_total == export.rows_done == len(rows) == 4
    by_id = {int(r["id"]): r for r in rows}
    c2 = by_id[scenario.by_name["c2"].pk]
    assert (c2["province_code"], c2["kota_code"], c2["kecamatan_code"]) == (
        "31",
        "31.73",
        "31.73.04",
    )
    assert (c2["kelurahan_code"], c2["rw_code"]) == (KELURAHAN_BARAT, RW_BARAT)
    assert c2["kota"] == Area.objects.get(code="31.73").name
    assert (c2["households_reached"], c2["persons_reached"]) == ("3", "12")  # confirmed only
    assert (c2["status"], c2["channel"], c2["value_idr"], c2["unit"]) == (
        "delivered",
        "platform",
        "1500000",
        "package",
    )
    assert (c2["created_on"], c2["last_event_on"]) == ("2026-04-10", "2026-04-20")
    c3 = by_id[scenario.by_name["c3"].pk]
    assert (c3["kelurahan_code"], c3["rw_code"], c3["value_idr"]) == (KELURAHAN_BARAT, "", "")
    assert c3["created_on"] == "2026-05-31"  # Jakarta's date, not UTC's


def test_hxl_parses_with_libhxl_and_every_hashtag_is_valid(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    export = export_as(
        client, django_capture_on_commit_callbacks, admin_user, format="hxl", **FILTER
    )
    content = download(client, export)
    assert export.file_name.endswith(".hxl.csv")
    source = hxl.data(io.BytesIO(content))
    tags = [column.display_tag for column in source.columns]
    assert tags == HASHTAGS
    for tag in tags:
        pattern = hxl.model.TagPattern.parse(tag)  # raises on an invalid hashtag
        assert pattern.tag in HXL_CORE, tag
    assert {"#adm1+code", "#adm1+name", "#adm2+code", "#adm3+code", "#adm4+code", "#loc+code",
            "#org+name", "#org+type", "#sector+name", "#activity+name", "#value+idr",
            "#reached+households", "#reached+ind"} <= set(tags)  # fmt: skip
    rows = list(source)
    assert {int(row.get("#meta+id")) for row in rows} == scenario.ids("c1", "c2", "c3", "c4", "c5")
    assert {row.get("#adm2+code") for row in rows} == {"31.73"}
    assert sum(int(row.get("#reached+households")) for row in rows) == 5
    report = hxl.validate(io.BytesIO(content))  # the built-in schema: dates, numbers
    assert report["stats"]["error"] == 0, report["issues"]


def test_xlsx_opens_and_its_figure_sheets_equal_direct_counts_under_the_filter(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    export = export_as(
        client, django_capture_on_commit_callbacks, admin_user, format="xlsx", **FILTER
    )
    response = client.get(reverse("export-download", args=[export.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["Commitments", "By donation form", "By kota", "By month and state"]

    def table(title):
        rows = list(book[title].values)
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]

    filtered = list(direct_rows())
    assert {row["id"] for row in table("Commitments")} == {c.pk for c in filtered}
    reached = defaultdict(lambda: [0, 0])
    for delivery in Delivery.objects.filter(commitment__in=filtered, confirmed_at__isnull=False):
        reached[delivery.commitment_id][0] += delivery.recipients_households
        reached[delivery.commitment_id][1] += delivery.recipients_persons

    def figures(group):
        confirmed = [c for c in group if c.status in CONFIRMED_STATUSES]
        return {
            "commitments": len(group),
            "confirmed": len(confirmed),
            "quantity_confirmed": sum(c.quantity for c in confirmed),
            "value_idr_confirmed": int(sum(c.value_idr or 0 for c in confirmed)),
            "households": sum(reached[c.pk][0] for c in group),
            "persons": sum(reached[c.pk][1] for c in group),
        }

    def grouped(key):
        groups = defaultdict(list)
        for commitment in filtered:
            groups[key(commitment)].append(commitment)
        return {k: figures(v) for k, v in groups.items()}

    measures = list(figures([]))
    sheet = {
        r["donation_form_code"]: {m: r[m] for m in measures} for r in table("By donation form")
    }
    assert sheet == grouped(lambda c: c.donation_form.slug)
    assert sheet["groceries"]["value_idr_confirmed"] == 4_500_000  # c1 + c2, c4 cancelled
    sheet = {r["kota_code"]: {m: r[m] for m in measures} for r in table("By kota")}
    assert sheet == {"31.73": figures(filtered)}

    by_month = defaultdict(lambda: [0, 0, Decimal(0)])
    for commitment in filtered:
        entry = by_month[(commitment.created_at.astimezone(JAKARTA).strftime("%Y-%m"),
                          commitment.status)]  # fmt: skip
        entry[0] += 1
        entry[1] += commitment.quantity
        entry[2] += commitment.value_idr or 0
    sheet = {
        (r["month"], r["status"]): [r["commitments"], r["quantity"], r["value_idr"]]
        for r in table("By month and state")
    }
    assert sheet == {k: [a, b, int(c)] for k, (a, b, c) in by_month.items()}
    assert ("2026-05", "pledged") in sheet and ("2026-06", "pledged") not in sheet


def test_iati_json_has_the_transactions_of_each_commitment(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    export = export_as(
        client, django_capture_on_commit_callbacks, admin_user, format="iati", **FILTER
    )
    response = client.get(reverse("export-download", args=[export.pk]))
    assert response["Content-Type"] == "application/json"
    document = json.loads(b"".join(response.streaming_content))
    assert document["filter"] == FILTER
    assert document["reporting_org"]["secondary_reporter"] is True
    for named in document["programs"]:  # each program's names in both languages
        program = Program.objects.get(slug=named["code"])
        assert (named["name"], named["name_en"]) == (program.name_id, program.name_en)
        assert named["lead_agency_id"] == program.lead_agency_id
    assert document["programs"]
    activities = {int(a["iati_identifier"].rsplit("-", 1)[1]): a for a in document["activities"]}
    assert set(activities) == scenario.ids("c1", "c2", "c3", "c4", "c5")

    def transactions(name):
        return [
            (t["transaction_type"]["code"], t["transaction_date"], (t["value"] or {}).get("amount"))
            for t in activities[scenario.by_name[name].pk]["transactions"]
        ]

    assert transactions("c1") == [("12", "2026-03-05", 3_000_000), ("2", "2026-03-07", 3_000_000)]
    # One confirmed delivery of 3 of 5: its share of the value; the unconfirmed one is left out.
    assert transactions("c2") == [
        ("12", "2026-04-10", 1_500_000),
        ("2", "2026-04-11", 1_500_000),
        ("3", "2026-04-20", 900_000),
    ]
    assert transactions("c3") == [("12", "2026-05-31", None)]
    assert transactions("c4") == [("12", "2026-03-20", 900_000), ("2", "2026-03-22", 900_000)]
    c4 = activities[scenario.by_name["c4"].pk]
    assert c4["ended"] == {"status": "cancelled", "date": "2026-03-25"}
    assert c4["activity_status"]["code"] == "5"
    c2 = activities[scenario.by_name["c2"].pk]
    disbursement = c2["transactions"][2]
    assert disbursement["provider_org"] == {"narrative": "anonymous"}
    assert disbursement["receiver_org"] == {
        "ref": RW_BARAT,
        "narrative": Area.objects.get(code=RW_BARAT).name,
    }
    assert (disbursement["households_reached"], disbursement["persons_reached"]) == (3, 12)
    assert c2["recipient_area"]["kota"]["code"] == "31.73"


# --- rights and personal data -------------------------------------------------------------


def test_a_lead_cannot_export_another_program_and_sees_only_their_own_rows(
    client, scenario, django_capture_on_commit_callbacks
):
    lead = lead_of("pangan")
    client.force_login(lead)
    response = ask(client, django_capture_on_commit_callbacks, format="csv", program="pendidikan")
    assert response.status_code == 403
    assert not Export.objects.exists()

    export = export_as(client, django_capture_on_commit_callbacks, lead, format="csv")
    rows = list(csv.DictReader(io.StringIO(download(client, export).decode())))
    assert {r["program_code"] for r in rows} == {"pangan"}
    assert {int(r["id"]) for r in rows} == set(
        Commitment.objects.filter(program__slug="pangan").values_list("pk", flat=True)
    )
    assert export.filters["programs"] == ["pangan"]


def test_people_without_a_dashboard_cannot_export(
    client, scenario, django_capture_on_commit_callbacks
):
    client.force_login(UserFactory())
    assert ask(client, django_capture_on_commit_callbacks, format="csv").status_code == 403
    client.logout()
    assert ask(client, django_capture_on_commit_callbacks, format="csv").status_code == 302
    assert not Export.objects.exists()


def test_only_the_requester_and_administrators_see_an_export(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    lead = lead_of("pangan")
    export = export_as(client, django_capture_on_commit_callbacks, lead, format="csv")
    urls = [
        reverse(name, args=[export.pk])
        for name in ("export-detail", "export-status", "export-download")
    ]
    for other in (lead_of("pangan"), UserFactory()):
        client.force_login(other)
        assert [client.get(url).status_code for url in urls] == [404, 404, 404]
        assert client.post(reverse("export-retry", args=[export.pk])).status_code == 404
    client.force_login(admin_user)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]


def test_a_lead_who_lost_the_program_can_no_longer_download(
    client, scenario, django_capture_on_commit_callbacks
):
    lead = lead_of("pangan")
    export = export_as(client, django_capture_on_commit_callbacks, lead, format="csv")
    ProgramLead.objects.filter(user=lead).delete()
    client.force_login(lead)  # a new request: roles are worked out again
    assert client.get(reverse("export-download", args=[export.pk])).status_code == 403
    page = client.get(reverse("export-detail", args=[export.pk]))
    assert page.status_code == 200
    assert reverse("export-download", args=[export.pk]) not in page.content.decode()

    # And a job run after the loss writes nothing.
    export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED and export.error


def test_a_lead_of_two_programs_who_lost_one_cannot_download_the_all_programs_file(
    client, scenario, django_capture_on_commit_callbacks
):
    lead = lead_of("pangan")
    ProgramLead.objects.create(user=lead, program=program("pendidikan"))
    export = export_as(client, django_capture_on_commit_callbacks, lead, format="csv")
    assert sorted(export.filters["programs"]) == ["pangan", "pendidikan"]
    ProgramLead.objects.filter(user=lead, program__slug="pendidikan").delete()
    client.force_login(lead)
    assert client.get(reverse("export-download", args=[export.pk])).status_code == 403


@pytest.mark.parametrize("file_format", ["csv", "hxl", "xlsx", "iati"])
def test_anonymous_gifts_stay_anonymous_and_no_notes_leave(
    client, scenario, django_capture_on_commit_callbacks, admin_user, file_format
):
    export = export_as(client, django_capture_on_commit_callbacks, admin_user, format=file_format)
    content = download(client, export)
    if file_format == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(content))
        text = "\n".join(
            str(cell) for sheet in book for row in sheet.values for cell in row if cell is not None
        )
    else:
        text = content.decode("utf-8")
    assert "anonymous" in text
    for secret in (REAL_NAME, "catatan rahasia", "nomor telepon penerima", "@example.org"):
        assert secret not in text


def test_formula_like_names_do_not_run_in_a_spreadsheet(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    scenario.company.name = '=HYPERLINK("http://evil.example")'
    scenario.company.save()
    export = export_as(client, django_capture_on_commit_callbacks, admin_user, format="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download(client, export)))
    column = HEADER.index("collaborator")
    names = {row[column] for row in book["Commitments"].iter_rows(min_row=2, values_only=True)}
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert not any(str(name).startswith("=") for name in names)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"format": "pdf"},
        {"format": ""},
        {},
        {"format": "csv", "start": "2026-13"},
        {"format": "csv", "start": "2026-05", "end": "2026-03"},
        {"format": "csv", "area": "99.99"},
        {"format": "csv", "channel": "pigeon"},
        {"format": "csv", "program": "nope"},
        {"format": "csv", "start": "9" * 5000},
    ],
)
def test_bad_format_or_filter_gets_a_clear_message_and_writes_nothing(
    client, scenario, django_capture_on_commit_callbacks, admin_user, data
):
    client.force_login(admin_user)
    response = ask(client, django_capture_on_commit_callbacks, **data)
    assert response.status_code == 400
    assert (
        "No export was made." in response.content.decode()
        or "Tidak ada" in response.content.decode()
    )
    assert response.context["problem"]
    assert not Export.objects.exists()


def test_no_more_than_three_exports_under_way_per_user(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    for _ in range(3):
        Export.objects.create(requested_by=admin_user, format="csv")
    client.force_login(admin_user)
    response = ask(client, django_capture_on_commit_callbacks, format="csv")
    assert response.status_code == 400
    assert "3" in response.context["problem"]
    assert Export.objects.count() == 3


# --- the job --------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "hxl", "xlsx", "iati"])
def test_the_job_run_twice_gives_the_same_file(
    client, scenario, django_capture_on_commit_callbacks, admin_user, file_format
):
    export = export_as(client, django_capture_on_commit_callbacks, admin_user, format=file_format)
    first_name, first = export.file.name, download(client, export)
    export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.DONE
    assert export.file.name == first_name
    second = download(client, export)
    if file_format == "xlsx":  # the workbook's own metadata carries the time it was written

        def cells(content):
            book = openpyxl.load_workbook(io.BytesIO(content))
            return {sheet.title: list(sheet.values) for sheet in book}

        assert cells(second) == cells(first)
    else:
        assert second == first


def test_progress_fields_move_while_the_job_runs(
    client, scenario, django_capture_on_commit_callbacks, admin_user, monkeypatch
):
    monkeypatch.setattr(exports_module, "PROGRESS_EVERY", 2)
    seen = []
    row_values = exports_module._row_values

    def watching(flt, *extra):
        for values in row_values(flt, *extra):
            export = Export.objects.get()
            seen.append((export.status, export.rows_done, export.rows_total))
            yield values

    monkeypatch.setattr(exports_module, "_row_values", watching)
    export = export_as(client, django_capture_on_commit_callbacks, admin_user, format="csv")
    total = Commitment.objects.count()
    assert [s for s in seen] == [("running", 2 * (i // 2), total) for i in range(total)]
    status = client.get(reverse("export-status", args=[export.pk])).json()
    assert status == {
        "status": "done",
        "status_label": status["status_label"],
        "rows_total": total,
        "rows_done": total,
        "percent_done": 100,
        "busy": False,
    }


def test_with_the_broker_down_the_export_waits_with_a_retry_button(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    client.force_login(admin_user)
    with celery_broker("redis://127.0.0.1:1/0", eager=False):
        response = ask(client, django_capture_on_commit_callbacks, format="csv")
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.status == Export.Status.QUEUED and export.error
    page = client.get(response.url).content.decode()
    assert export.error in page.replace("&#x27;", "'")
    assert reverse("export-retry", args=[export.pk]) in page
    assert reverse("export-download", args=[export.pk]) not in page

    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(reverse("export-retry", args=[export.pk]))
    assert retried.status_code == 302
    export.refresh_from_db()
    assert export.status == Export.Status.DONE and not export.error
    assert reverse("export-download", args=[export.pk]) in client.get(retried.url).content.decode()


def test_the_export_list_shows_ones_own_exports(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    lead = lead_of("pangan")
    mine = export_as(client, django_capture_on_commit_callbacks, lead, format="csv")
    Export.objects.create(requested_by=admin_user, format="xlsx")
    page = client.get(reverse("export-list")).content.decode()
    assert reverse("export-detail", args=[mine.pk]) in page
    assert f'href="{reverse("export-detail", args=[mine.pk + 1])}"' not in page


def test_the_dashboard_buttons_post_the_filter_to_the_export(
    client, scenario, django_capture_on_commit_callbacks
):
    request = RequestFactory().get("/")
    html = render_to_string(
        "commitments/_export_buttons.html",
        {"filter_query": {"program": "pangan", **FILTER}},
        request=request,
    )
    assert html.count('action="/ruang-kerja/ekspor/"') == 4
    for value in ("csv", "xlsx", "hxl", "iati", "pangan", "31.73", "2026-03", "platform"):
        assert f'value="{value}"' in html
    lead = lead_of("pangan")
    export = export_as(
        client, django_capture_on_commit_callbacks, lead, format="hxl", program="pangan", **FILTER
    )
    assert export.filters == {"program": "pangan", **FILTER, "programs": ["pangan"]}


# --- the set-based rows, against the rows as they were built one commitment at a time ------


def reference_rows() -> list[list]:
    """Every commitment's row as the exports wrote it before the set-based rewrite: from the
    ORM objects one at a time, reach summed from the confirmed deliveries in Python."""
    names = dict(Area.objects.exclude(level=Area.Level.RW).values_list("code", "name"))
    places = ["province", "kota", "kecamatan", "kelurahan", "rw"]
    rows = []
    for commitment in Commitment.objects.select_related(
        "program", "donation_form", "collaborator", "area"
    ).order_by("pk"):
        row = dict.fromkeys(HEADER, "")
        area = commitment.area
        for place, code in zip(places, area.path.split("/"), strict=False):
            row[f"{place}_code"] = code
            row[place] = area.name if code == area.code else names.get(code, "")
        confirmed = commitment.deliveries.filter(confirmed_at__isnull=False)
        row.update(
            id=commitment.pk,
            created_on=commitment.created_at.astimezone(JAKARTA).date().isoformat(),
            program_code=commitment.program.slug,
            program=commitment.program.name_id,
            donation_form_code=commitment.donation_form.slug,
            donation_form=commitment.donation_form.name_id,
            collaborator="anonymous" if commitment.is_anonymous else commitment.collaborator.name,
            collaborator_kind=commitment.collaborator.kind,
            # Not pooled, not channelled: the collaborator funds and carries it out.
            funding_org="anonymous" if commitment.is_anonymous else commitment.collaborator.name,
            implementing_org=(
                "anonymous" if commitment.is_anonymous else commitment.collaborator.name
            ),
            channel=commitment.channel,
            status=commitment.status,
            quantity=commitment.quantity,
            unit=commitment.donation_form.unit,
            value_idr="" if commitment.value_idr is None else int(commitment.value_idr),
            households_reached=sum(d.recipients_households or 0 for d in confirmed),
            persons_reached=sum(d.recipients_persons or 0 for d in confirmed),
            last_event_on=commitment.last_event_at.astimezone(JAKARTA).date().isoformat(),
        )
        rows.append([guarded(row[name]) for name in HEADER])
    return rows


def guarded(value):
    starts_a_formula = isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")
    return "'" + value if starts_a_formula else value


def as_csv(*rows) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode()


def test_every_format_says_what_the_rows_said_one_by_one(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    # Besides the scenario: a gift to a whole kecamatan, by a collaborator whose name would
    # be a formula and holds a control character, without value, delivered twice (one
    # delivery without counts), and an anonymous offline one.
    tricky = CollaboratorFactory(name='-2+3 "Yayasan", Jakarta\x0b')
    kecamatan = Area.objects.get(code="31.73.04")
    Area.objects.filter(code="31.73.04.1002").update(name='=Kelurahan, "kutip"')
    deliveries = [(4, None, None, "2026-04-07", True), (3, 2, 7, "2026-04-08", True)]
    made = scenario.make("k1", "groceries", "31.73.04.1002.001", "delivered", "2026-04-05",
                         collaborator=tricky, deliveries=deliveries)  # fmt: skip
    Commitment.objects.filter(pk=made.pk).update(area=kecamatan)
    scenario.make("k2", "groceries", RW_TIMUR, "committed", "2026-04-06", channel="offline",
                  anonymous=True, value=250_000)  # fmt: skip
    expected = reference_rows()
    by_id = {row[0]: row for row in expected}
    assert by_id[made.pk][HEADER.index("rw_code")] == ""
    assert by_id[made.pk][HEADER.index("collaborator")] == "'" + tricky.name
    assert by_id[made.pk][HEADER.index("households_reached")] == 2

    csv_export = export_as(client, django_capture_on_commit_callbacks, admin_user, format="csv")
    assert download(client, csv_export) == as_csv(HEADER, *expected)
    hxl_export = export_as(client, django_capture_on_commit_callbacks, admin_user, format="hxl")
    assert download(client, hxl_export) == as_csv(HEADER, HASHTAGS, *expected)

    xlsx = export_as(client, django_capture_on_commit_callbacks, admin_user, format="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download(client, xlsx)))
    cells = [["" if v is None else v for v in row] for row in book["Commitments"].values]
    for column in ("collaborator", "funding_org", "implementing_org"):
        name = HEADER.index(column)
        by_id[made.pk][name] = by_id[made.pk][name].replace("\x0b", "")  # XML cannot hold it
    assert cells == [HEADER, *expected]
    assert book["Commitments"].freeze_panes == "A2" and book["Commitments"]["A1"].font.bold

    iati = export_as(client, django_capture_on_commit_callbacks, admin_user, format="iati")
    activities = {
        int(a["iati_identifier"].rsplit("-", 1)[1]): a
        for a in json.loads(download(client, iati))["activities"]
    }
    assert list(activities) == [row[0] for row in expected]
    k1 = activities[made.pk]  # JSON is no spreadsheet: names as they are
    assert k1["participating_org"]["narrative"] == tricky.name
    assert k1["recipient_area"]["kecamatan"] == {"code": "31.73.04", "name": kecamatan.name}
    assert "rw" not in k1["recipient_area"]
    c1 = activities[scenario.by_name["c1"].pk]
    assert c1["recipient_area"]["kelurahan"]["name"] == '=Kelurahan, "kutip"'
    assert [(t["transaction_type"]["code"], t["value"], t.get("households_reached"))
            for t in k1["transactions"]] == [("12", None, None), ("2", None, None),
                                             ("3", None, None), ("3", None, 2)]  # fmt: skip
    assert k1["transactions"][1]["transaction_date"] == "2026-04-05"  # no event: its state's day
    k2 = activities[scenario.by_name["k2"].pk]
    assert k2["participating_org"]["narrative"] == "anonymous" and k2["channel"] == "offline"


# --- without workers: the file is written in a thread ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_without_workers_the_page_answers_at_once_and_follows_the_file(client, monkeypatch):
    """Eager Celery (the embedded default): the POST commits and redirects while the file is
    still being written; the page polls its progress, and once done offers the download."""
    need = small_world()
    giver = CollaboratorFactory(name="PT Latar Belakang")
    for day in ("2026-04-01", "2026-04-02", "2026-04-03"):
        Commitment.objects.create(
            collaborator=giver, need=need, area=need.area, program=need.program,
            donation_form=need.donation_form, quantity=2, idempotency_key=uuid.uuid4().hex,
            created_at=at(day), status_changed_at=at(day), last_event_at=at(day),
        )  # fmt: skip
    started, release = threading.Event(), threading.Event()
    rows = exports_module._rows

    def held(*args, **kwargs):  # the writer waits until the test has looked at the page
        started.set()
        assert release.wait(30)
        yield from rows(*args, **kwargs)

    monkeypatch.setattr(exports_module, "_rows", held)
    client.force_login(UserFactory(is_staff=True))
    try:
        response = client.post(reverse("export-create"), {"format": "csv"})
        assert response.status_code == 302
        export = Export.objects.get()
        assert response.url == reverse("export-detail", args=[export.pk])
        assert started.wait(30)
        page = client.get(response.url)
        html = page.content.decode()
        assert page.context["polls"] and 'data-busy="true"' in html
        assert reverse("export-status", args=[export.pk]) in html
        assert reverse("export-download", args=[export.pk]) not in html
        status = client.get(reverse("export-status", args=[export.pk])).json()
        assert (status["status"], status["busy"], status["rows_total"]) == ("running", True, 3)
        assert client.get(reverse("export-download", args=[export.pk])).status_code == 404
    finally:
        release.set()
        assert wait_for_background_jobs(30)
    status = client.get(reverse("export-status", args=[export.pk])).json()
    assert (status["status"], status["rows_done"], status["busy"]) == ("done", 3, False)
    html = client.get(response.url).content.decode()
    assert reverse("export-download", args=[export.pk]) in html and 'data-busy="false"' in html
    export.refresh_from_db()
    rows = list(csv.DictReader(io.StringIO(download(client, export).decode())))
    assert [r["collaborator"] for r in rows] == ["PT Latar Belakang"] * 3


@pytest.mark.django_db(transaction=True)
def test_a_job_asked_inside_a_transaction_runs_in_place(monkeypatch):
    """A thread would not see the uncommitted export: inside a transaction the job runs in
    the caller, as before."""
    small_world()  # a program to export
    user = UserFactory(is_staff=True)
    with transaction.atomic():
        export = Export.objects.create(requested_by=user, format="csv", filters={})
        assert export_enqueue(export_id=export.pk)
        export.refresh_from_db()
        assert export.status == Export.Status.DONE and export.rows_total == 0
    assert wait_for_background_jobs(0)


def test_a_run_lost_half_way_may_be_retried_and_stops_counting_as_busy(
    client, scenario, django_capture_on_commit_callbacks, admin_user
):
    """The process that built it stopped (a worker, or the web process's thread without
    workers): the page stops waiting and offers the retry; a fresh run is not offered one."""
    client.force_login(admin_user)
    now = timezone.now()
    running = Export.objects.create(
        requested_by=admin_user, format="csv", status=Export.Status.RUNNING, started_at=now
    )
    page = client.get(reverse("export-detail", args=[running.pk])).content.decode()
    assert reverse("export-retry", args=[running.pk]) not in page
    assert client.post(reverse("export-retry", args=[running.pk])).status_code == 302
    running.refresh_from_db()
    assert running.status == Export.Status.RUNNING  # not taken from under a live run

    Export.objects.filter(pk=running.pk).update(started_at=now - datetime.timedelta(hours=1))
    page = client.get(reverse("export-detail", args=[running.pk])).content.decode()
    assert reverse("export-retry", args=[running.pk]) in page
    assert 'data-busy="false"' in page
    assert not busy_exports(admin_user).exists()
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(reverse("export-retry", args=[running.pk]))
    running.refresh_from_db()
    assert running.status == Export.Status.DONE
    assert reverse("export-download", args=[running.pk]) in client.get(retried.url).content.decode()
