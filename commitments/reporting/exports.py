"""Exports of what a dashboard shows: the commitments under the dashboard's filter, as CSV,
HXL-tagged CSV, XLSX (with the filtered figures beside them) or IATI-style JSON.

A user asks (`export_request`, checked against the dashboard's rules in
commitments.reporting.dashboard), a Celery job writes the file (`export_build`; without
workers, in a thread: commitments.jobs.IN_BACKGROUND), and only the requester (or an
administrator) downloads it (`export_may_download`). Rights are checked
three times: when asked, when built, when downloaded; the programs a file covers are kept
in `Export.filters["programs"]` so that a lead who has since lost a program cannot fetch it.

Personal data: a row names the collaborator by its public name only ("anonymous" for
anonymous gifts, for administrators too: a file travels further than the admin site, where
they can see the real name). Never contacts, emails, notes, reasons or proof files.

Machine-facing values (column names, states, channels, kinds) are stable English codes and
names are the official Indonesian ones, whatever the requester's language, so that the same
export built twice gives the same file.

The work of one export, timed by a benchmark, without HTTP or Celery:

    export = Export.objects.create(
        requested_by=lead_or_admin, format="csv", filters={"program": "pangan"}
    )
    export_build(export_id=export.pk)  # synchronous; the file is in export.file after

(filters as the dashboard's query: program, start, end, area, channel; `{}` is every program
the user sees). Rows come from one set-based query read in chunks (see "rows" below).
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import itertools
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS
from django.db.models import BigIntegerField, CharField, Min, Q, Sum
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.db.models.sql.constants import MULTI
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaborators.roles import scopes_for
from locations.models import Area
from programs.models import DonationForm, Program

from ..adoption.models import Adoption, AdoptionStatus, AdoptionWork
from ..figures.summaries import JAKARTA
from ..jobs import BUILD_EXPORT, job_request
from ..models import (
    CONFIRMED_STATUSES,
    CommitmentEvent,
    Delivery,
    Export,
    Status,
    figure_sums,
)
from ..pooling.models import Allocation
from .dashboard import DashboardFilter, DashboardFilterForm, dashboard_filter, dashboard_programs
from .xlsx import write_xlsx

logger = logging.getLogger(__name__)

BATCH = 500
# A user may have this many exports queued or running at once; older busy ones (a job lost
# with a broker that was down) stop counting after STALE_AFTER, so nobody is locked out.
MAX_BUSY = 3
STALE_AFTER = datetime.timedelta(hours=6)
# A run started this long ago and not finished was lost (its worker, or the web process
# that ran it in a thread, stopped): a whole program takes seconds, so it may be retried.
LOST_AFTER = datetime.timedelta(minutes=30)
ANONYMOUS = "anonymous"

CONTENT_TYPES = {
    Export.Format.CSV: "text/csv; charset=utf-8",
    Export.Format.HXL: "text/csv; charset=utf-8",
    Export.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Export.Format.IATI: "application/json",
}
EXTENSIONS = {
    Export.Format.CSV: "csv",
    Export.Format.HXL: "hxl.csv",
    Export.Format.XLSX: "xlsx",
    Export.Format.IATI: "iati.json",
}

# (column, HXL hashtag): one row per commitment, in this order, in CSV, HXL and XLSX.
COLUMNS: list[tuple[str, str]] = [
    ("id", "#meta+id"),
    ("created_on", "#date+created"),
    ("program_code", "#sector+code"),
    ("program", "#sector+name"),
    ("donation_form_code", "#activity+code"),
    ("donation_form", "#activity+name"),
    ("province_code", "#adm1+code"),
    ("province", "#adm1+name"),
    ("kota_code", "#adm2+code"),
    ("kota", "#adm2+name"),
    ("kecamatan_code", "#adm3+code"),
    ("kecamatan", "#adm3+name"),
    ("kelurahan_code", "#adm4+code"),
    ("kelurahan", "#adm4+name"),
    ("rw_code", "#loc+code"),
    ("rw", "#loc+name"),
    ("collaborator", "#org+name"),
    ("collaborator_kind", "#org+type"),
    # Who funded and who carried out each commitment: the sources whose pooled gifts fund
    # it (else the collaborator itself), and the collaborator or the agency it named as
    # channel (commitments.pooling; a pooled commitment is made by its aggregator).
    ("funding_org", "#org+funding"),
    ("implementing_org", "#org+impl"),
    ("channel", "#meta+channel"),
    # The area adoption a commitment is a work of (commitments.adoption), else empty.
    ("adoption_id", "#activity+adoption+id"),
    ("adoption", "#activity+adoption+name"),
    ("status", "#status"),
    ("quantity", "#output+num"),
    ("unit", "#output+unit"),
    ("value_idr", "#value+idr"),
    ("households_reached", "#reached+households"),
    ("persons_reached", "#reached+ind"),
    ("last_event_on", "#date+updated"),
]
HEADER = [name for name, _tag in COLUMNS]
HASHTAGS = [tag for _name, tag in COLUMNS]
LEVEL_COLUMNS = {  # position in an area's path -> its columns
    0: ("province_code", "province"),
    1: ("kota_code", "kota"),
    2: ("kecamatan_code", "kecamatan"),
    3: ("kelurahan_code", "kelurahan"),
    4: ("rw_code", "rw"),
}

# IATI TransactionType codes. The portal reports each gift on behalf of its collaborator
# (reporting-org with secondary-reporter="1"), so the flows are the collaborator's outgoing
# ones: 12 Outgoing Pledge when pledged, 2 Outgoing Commitment when confirmed, 3
# Disbursement for each delivery the facilitator confirmed (provider: the collaborator,
# receiver: the area).
PLEDGE, COMMITMENT, DISBURSEMENT = "12", "2", "3"
# A commitment funded from an aggregator's pool also carries the hop before it: each share
# of a source's gift as 1 Incoming Funds (provider: the source, receiver: the aggregator).
INCOMING = "1"
TRANSACTION_NAMES = {
    INCOMING: "Incoming Funds",
    PLEDGE: "Outgoing Pledge",
    COMMITMENT: "Outgoing Commitment",
    DISBURSEMENT: "Disbursement",
}
# IATI ActivityStatus: pledged 1 pipeline, committed 2 implementation, delivered 3
# finalisation, completed 4 closed, cancelled / rejected / expired 5 cancelled.
ACTIVITY_STATUS = {
    Status.PLEDGED: "1",
    Status.COMMITTED: "2",
    Status.DELIVERED: "3",
    Status.COMPLETED: "4",
    Status.CANCELLED: "5",
    Status.REJECTED: "5",
    Status.EXPIRED: "5",
}
ENDED_STATUSES = (Status.CANCELLED, Status.REJECTED, Status.EXPIRED)
# An area adoption is an activity of its own (hierarchy 1), the parent of its works'
# activities (hierarchy 2, each naming it in related-activity type 1): IATI's
# related-activity refs name published activities, so the export carries the parents too.
PARENT, CHILD = "1", "2"
ADOPTION_STATUS = {AdoptionStatus.ACTIVE: "2", AdoptionStatus.ENDED: "4"}
REPORTING_ORG = {
    "ref": settings.IATI_REPORTING_ORG_REF,
    "type": "10",  # government
    "secondary_reporter": True,
    "narrative": "Kolaborasi Sosial Skala Besar (KSBB), Pemerintah Provinsi DKI Jakarta",
}


class ExportRefused(Exception):
    """An export that cannot be made as asked; the message says why (and the form, if any,
    which filter was wrong)."""

    def __init__(self, message, form: DashboardFilterForm | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.form = form


# --- asking -------------------------------------------------------------------------------


def _query_of(data) -> dict[str, str]:
    """The filter fields of a POST or dict, as plain strings (what dashboard_filter reads)."""
    return {
        name: str(data.get(name) or "") for name in ("program", "start", "end", "area", "channel")
    }


def busy_exports(user):
    since = timezone.now() - STALE_AFTER
    return Export.objects.filter(
        requested_by=user,
        status__in=[Export.Status.QUEUED, Export.Status.RUNNING],
        created_at__gte=since,
    ).exclude(status=Export.Status.RUNNING, started_at__lt=timezone.now() - LOST_AFTER)


def export_request(*, user, data, format: str) -> Export:  # noqa: A002 - the brief's name
    """Record a queued export of the dashboard rows `data` selects, for `user`. Raises
    PermissionDenied (no dashboard, or a program not theirs) or ExportRefused (bad format,
    bad filter, too many exports under way). Enqueue it with `export_enqueue` after commit."""
    if format not in Export.Format.values:
        raise ExportRefused(_("Choose one of the export formats: CSV, XLSX, HXL or IATI."))
    query = _query_of(data)
    flt, form = dashboard_filter(scopes_for(user), query)
    if flt is None and "program" in form.errors:
        if Program.objects.filter(slug=query["program"]).exists():
            raise PermissionDenied  # a real program, not theirs
    if flt is None:
        problems = "; ".join(
            f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".lstrip(
                ": "
            )
            for name, errors in form.errors.items()
        )
        raise ExportRefused(
            _("The filters are not valid: %(problems)s") % {"problems": problems}, form
        )
    if busy_exports(user).count() >= MAX_BUSY:
        raise ExportRefused(
            _(
                "You already have %(count)s exports under way. Wait until one is ready, "
                "then ask again."
            )
            % {"count": MAX_BUSY}
        )
    return Export.objects.create(
        requested_by=user,
        format=format,
        filters={**flt.as_query(), "programs": [p.slug for p in flt.programs]},
    )


BROKER_DOWN = gettext_lazy(
    "The export is waiting: the job queue cannot be reached right now. Try again in a moment."
)


def export_enqueue(*, export_id: int) -> bool:
    """Hand the export to a worker (call after commit). If the broker is down the export
    stays queued with a message for its page, where a retry button calls this again."""
    if not job_request(BUILD_EXPORT, export_id):
        Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
            error=str(BROKER_DOWN)
        )
        return False
    return True


def _retryable() -> Q:
    lost = Q(status=Export.Status.RUNNING, started_at__lt=timezone.now() - LOST_AFTER)
    return Q(status=Export.Status.FAILED) | Q(status=Export.Status.QUEUED) | lost


def export_waits_for_retry(export: Export) -> bool:
    """Queued with a message (the broker was down), failed, or lost while running: its
    requester may ask again."""
    if export.status == Export.Status.QUEUED:
        return bool(export.error)
    return Export.objects.filter(_retryable(), pk=export.pk).exists()


def export_retry(*, export: Export) -> bool:
    """Queue again an export that waits (broker was down), failed or was lost while
    running; False if it is busy running or ready already."""
    requeued = Export.objects.filter(_retryable(), pk=export.pk).update(
        status=Export.Status.QUEUED, error="", rows_done=0
    )
    return bool(requeued)


# --- rights ---------------------------------------------------------------------------------


def _filter_for(user, filters: dict) -> DashboardFilter:
    """The export's filter under the user's rights now. Raises PermissionDenied if they no
    longer see a dashboard, or a program the export names; ExportRefused if it no longer
    parses (an area removed meanwhile)."""
    if not user.is_active:
        raise PermissionDenied
    scopes = scopes_for(user)
    flt, _form = dashboard_filter(scopes, _query_of(filters))
    if flt is None:
        raise ExportRefused(_("The filters of this export are no longer valid."))
    allowed = {p.slug for p in dashboard_programs(scopes)}
    if not set(filters.get("programs", [])) <= allowed:
        raise PermissionDenied
    return flt


def export_may_download(*, export: Export, user) -> bool:
    """The requester, while they still hold the rights the file was built with; or an
    administrator. (Whether the user may see the export at all is `exports_visible_to`.)"""
    if export.requested_by_id != user.pk:
        return scopes_for(user).is_admin
    try:
        _filter_for(user, export.filters)
    except (PermissionDenied, ExportRefused):
        return False
    return True


def exports_visible_to(user):
    """One's own exports; every export for administrators. Others get a 404."""
    if scopes_for(user).is_admin:
        return Export.objects.all()
    return Export.objects.filter(requested_by=user)


# --- rows -----------------------------------------------------------------------------------
#
# Set-based: one query reads the filtered commitments in id order with their collaborator
# joined and their confirmed deliveries summed (a GROUP BY in the same statement), in chunks
# (a server-side cursor on PostgreSQL). Programs, donation forms and areas (a few thousand
# rows) are read once and the columns of each worked out once; a row is then a list put
# together from the tuple the database gives, written as it comes.

CHUNK = 5_000  # rows fetched per round trip
PROGRESS_EVERY = 10_000  # rows between two updates of the Export row's progress


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    """Text that a spreadsheet would run as a formula starts with a quote instead (a
    collaborator's name is user input)."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def _same(value):
    return value


def _local_date(moment: datetime.datetime | None) -> str:
    return moment.astimezone(JAKARTA).date().isoformat() if moment else ""


def _local_day(field: str):
    """The Jakarta day of a moment, as text (YYYY-MM-DD) straight from the database."""
    return Cast(TruncDate(field, tzinfo=JAKARTA), CharField())


def _row_values(flt: DashboardFilter, *extra) -> Iterator[tuple]:
    """(id, program, donation form, area, is_anonymous, collaborator name and kind, the
    name of the aggregator it was channelled through (or None), channel,
    status, quantity, value, households, persons, created day, last event day, *extra) of
    each filtered commitment, by id; days in Jakarta as text, reach from confirmed
    deliveries only. The rows come as the database driver gives them (no conversion by the
    ORM: every value is already text or a whole number), CHUNK at a time."""
    confirmed = Q(deliveries__confirmed_at__isnull=False)
    query = (
        flt.commitments()
        .annotate(
            households=Coalesce(Sum("deliveries__recipients_households", filter=confirmed), 0),
            persons=Coalesce(Sum("deliveries__recipients_persons", filter=confirmed), 0),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "program_id",
            "donation_form_id",
            "area_id",
            "is_anonymous",
            "collaborator__name",
            "collaborator__kind",
            "aggregator__name",
            "channel",
            "status",
            "quantity",
            Cast("value_idr", BigIntegerField()),
            "households",
            "persons",
            _local_day("created_at"),
            _local_day("last_event_at"),
            *extra,
        )
    ).query
    chunks = query.get_compiler(using=DEFAULT_DB_ALIAS).execute_sql(
        MULTI, chunked_fetch=True, chunk_size=CHUNK
    )
    for chunk in chunks:
        yield from chunk


def _form_columns(clean: Callable) -> Callable[[int, int], tuple]:
    """(program_code, program, donation_form_code, donation_form, unit) by (program id,
    donation form id), each pair worked out once from the programs and forms read once."""
    programs = {pk: (slug, name) for pk, slug, name in Program.objects.values_list(
        "pk", "slug", "name_id")}  # fmt: skip
    forms = {pk: (slug, name, unit) for pk, slug, name, unit in DonationForm.objects.values_list(
        "pk", "slug", "name_id", "unit")}  # fmt: skip

    @functools.cache
    def columns(program_pk: int, form_pk: int) -> tuple:
        return tuple(clean(value) for value in (*programs[program_pk], *forms[form_pk]))

    return columns


def _area_columns(clean: Callable) -> dict[int, tuple]:
    """The ten place columns (province to RW, code and name) of every area, by id."""
    areas = list(Area.objects.order_by().values_list("pk", "path", "code", "name", "level"))
    names = {code: name for _pk, _path, code, name, level in areas if level != Area.Level.RW}
    columns = {}
    for pk, path, own_code, own_name, _level in areas:
        row = [""] * (2 * len(LEVEL_COLUMNS))
        for position, code in enumerate(path.split("/")[: len(LEVEL_COLUMNS)]):
            row[2 * position] = clean(code)
            row[2 * position + 1] = clean(own_name if code == own_code else names.get(code, ""))
        columns[pk] = tuple(row)
    return columns


def _rows(
    flt: DashboardFilter, progress: Callable[[int], None], *, safe: bool = True, extra=()
) -> Iterator[list]:
    """The filtered commitments as lists in HEADER order (then the `extra` values asked
    for), text guarded by `_safe` unless safe=False (JSON); progress every PROGRESS_EVERY.
    Channel, state and kind are codes (check constraints): only names need the guard."""
    clean = _safe if safe else _same
    forms, areas = _form_columns(clean), _area_columns(clean)
    anonymous_name = clean(ANONYMOUS)
    formula = FORMULA_START if safe else ()
    done = 0
    funders = _ByCommitment(pool_funders(flt))
    adopted = _ByCommitment(adoption_works(flt))
    for (pk, program_pk, form_pk, area_pk, is_anonymous, name, kind, channel_through, channel,
         status, quantity, value, households, persons, created_on, last_event_on, *more
         ) in _row_values(flt, *extra):  # fmt: skip
        program_code, program, form_code, form, unit = forms(program_pk, form_pk)
        if is_anonymous:
            name = anonymous_name
        elif name[:1] in formula:
            name = "'" + name
        funding = _funding(funders.take(pk), clean) or name
        implementing = clean(channel_through) if channel_through else name
        adoption_id, adoption = next(
            ((a_pk, clean(a_name)) for _pk, a_pk, a_name in adopted.take(pk)), ("", "")
        )
        yield [
            pk, created_on, program_code, program, form_code, form, *areas[area_pk],
            name, kind, funding, implementing, channel, adoption_id, adoption, status,
            quantity, unit,
            "" if value is None else value, households, persons, last_event_on, *more,
        ]  # fmt: skip
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(done)
    progress(done)


def pool_funders(flt: DashboardFilter):
    """(commitment id, source name, anonymous, share, gift kind, received on, gift id) of
    every share of a pooled gift funding a filtered commitment, by commitment id: one query
    walked beside the rows (_ByCommitment), not one per row."""
    return (
        Allocation.objects.filter(commitment__in=flt.commitments())
        .order_by("commitment_id", "contribution__source__name", "pk")
        .values_list(
            "commitment_id",
            "contribution__source__name",
            "contribution__is_anonymous",
            "amount",
            "contribution__kind",
            "contribution__received_on",
            "contribution_id",
        )
    )


def adoption_works(flt: DashboardFilter):
    """(commitment id, adoption id, adoption name) of each filtered commitment that is a work
    of an area adoption: one query walked beside the rows, like pool_funders."""
    return (
        AdoptionWork.objects.filter(commitment__in=flt.commitments())
        .order_by("commitment_id")
        .values_list("commitment_id", "adoption_id", "adoption__name")
    )


def _funding(shares: list[tuple], clean: Callable) -> str:
    """The sources of a commitment's shares, each once, in name order ("; " between)."""
    names = [ANONYMOUS if anonymous else source for _pk, source, anonymous, *_ in shares]
    return "; ".join(clean(name) for name in dict.fromkeys(sorted(names)))


# --- writers --------------------------------------------------------------------------------


def _write_csv(out, flt: DashboardFilter, progress, *, hxl: bool) -> None:
    """Rows go through the csv writer into a text buffer, encoded and written a chunk at a
    time (cheaper than an encoding file wrapper row by row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    if hxl:
        writer.writerow(HASHTAGS)
    rows = _rows(flt, progress)
    while True:
        written = buffer.tell()
        writer.writerows(itertools.islice(rows, CHUNK))
        if buffer.tell() == written:
            break
        out.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()
    out.write(buffer.getvalue().encode())


def figure_sheets(flt: DashboardFilter) -> list[tuple[str, list[str], list[list]]]:
    """The filtered figures as (title, headers, rows), from the summary tables with GROUP BYs
    (what the dashboard reads), so a lead can check them against it."""
    summaries = flt.summaries()
    confirmed = Q(status__in=CONFIRMED_STATUSES)
    sums = {
        "commitments": Sum("count"),
        "confirmed": Sum("count", filter=confirmed),
        "quantity_confirmed": Sum("quantity", filter=confirmed),
        "value_idr_confirmed": Sum("value_idr", filter=confirmed),
        "households": Sum("households"),
        "persons": Sum("persons"),
    }
    return [
        _sheet_by_form(summaries, sums),
        _sheet_by_kota(summaries, sums),
        _sheet_by_month(summaries),
    ]


def _numbers(entry: dict, measures: list[str]) -> list[int]:
    """An entry's measures as whole numbers (0 for none)."""
    return [int(entry[name] or 0) for name in measures]


def _sheet_by_form(summaries, sums: dict) -> tuple[str, list[str], list[list]]:
    """The figures per program and donation form, in their display order."""
    measures = list(sums)
    by_form = (
        summaries.values(
            "program__slug",
            "program__name_id",
            "donation_form__slug",
            "donation_form__name_id",
            "donation_form__unit",
        )
        .annotate(**sums)
        .order_by(
            "program__sort_order",
            "program__slug",
            "donation_form__sort_order",
            "donation_form__slug",
        )
    )
    return (
        "By donation form",
        ["program_code", "program", "donation_form_code", "donation_form", "unit", *measures],
        [
            [
                e["program__slug"],
                e["program__name_id"],
                e["donation_form__slug"],
                e["donation_form__name_id"],
                e["donation_form__unit"],
                *_numbers(e, measures),
            ]
            for e in by_form
        ],
    )


def _sheet_by_kota(summaries, sums: dict) -> tuple[str, list[str], list[list]]:
    """The figures per kota, by code."""
    measures = list(sums)
    by_kota = summaries.values("kota__code", "kota__name").annotate(**sums).order_by("kota__code")
    return (
        "By kota",
        ["kota_code", "kota", *measures],
        [[e["kota__code"] or "", e["kota__name"] or "", *_numbers(e, measures)] for e in by_kota],
    )


def _sheet_by_month(summaries) -> tuple[str, list[str], list[list]]:
    """The figures per month and commitment state."""
    month_measures = list(figure_sums())  # commitments, quantity, value, households, persons
    by_month = summaries.figures_by("month", "status").order_by("month", "status")
    headers = ["commitments", "quantity", "value_idr", "households", "persons"]
    return (
        "By month and state",
        ["month", "status", *headers],
        [
            [e["month"].strftime("%Y-%m"), e["status"], *_numbers(e, month_measures)]
            for e in by_month
        ],
    )


def _write_xlsx(out, flt: DashboardFilter, progress) -> None:
    """The rows, then the figures, each as a sheet; rows go to the file as they come, the
    workbook is never whole in memory (commitments.reporting.xlsx)."""
    figures = (
        (title, headers, ([_safe(value) for value in row] for row in rows))
        for title, headers, rows in figure_sheets(flt)
    )
    write_xlsx(out, [("Commitments", HEADER, _rows(flt, progress)), *figures])


# The fields of a row for IATI: the columns, then what the activity needs besides.
IATI_EXTRA = (_local_day("status_changed_at"), "area__code", "area__name")
IATI_FIELDS = [*HEADER, "status_changed_on", "area_code", "area_name"]


class _ByCommitment:
    """The rows of a query ordered by commitment id (their first value), handed out
    commitment by commitment as the commitments' own query (by id) reaches them."""

    def __init__(self, queryset) -> None:
        self._rows = queryset.iterator(chunk_size=CHUNK)
        self._next = next(self._rows, None)

    def take(self, pk: int) -> list[tuple]:
        found = []
        while self._next is not None and self._next[0] <= pk:
            if self._next[0] == pk:
                found.append(self._next)
            self._next = next(self._rows, None)
        return found


def _transaction(code: str, date: str, row: dict, value, quantity: int) -> dict:
    return {
        "transaction_type": {"code": code, "name": TRANSACTION_NAMES[code]},
        "transaction_date": date,
        "value": (
            {"amount": int(value), "currency": "IDR", "value_date": date}
            if value is not None
            else None
        ),
        "quantity": quantity,
        "unit": row["unit"],
        "provider_org": {"narrative": row["collaborator"]},
        "receiver_org": {"ref": row["area_code"], "narrative": row["area_name"]},
        "sector": {"vocabulary": "99", "code": row["program_code"]},
        "activity": {"code": row["donation_form_code"]},
    }


def _incoming(row: dict, shares) -> list[dict]:
    """Each share of a pooled gift funding the commitment (rows of pool_funders) as Incoming
    Funds, from its source to the aggregator (the commitment's collaborator)."""
    transactions = []
    for _pk, source, anonymous, amount, kind, received_on, gift_id in shares:
        date = received_on.isoformat() if received_on else row["created_on"]
        money = kind == "money"
        transactions.append(
            {
                "transaction_type": {"code": INCOMING, "name": TRANSACTION_NAMES[INCOMING]},
                "transaction_date": date,
                "value": (
                    {"amount": int(amount), "currency": "IDR", "value_date": date}
                    if money
                    else None
                ),
                "quantity": None if money else int(amount),
                "unit": "IDR" if money else row["unit"],
                "provider_org": {"narrative": ANONYMOUS if anonymous else source},
                "receiver_org": {"narrative": row["collaborator"]},
                "gift": gift_id,
                "sector": {"vocabulary": "99", "code": row["program_code"]},
                "activity": {"code": row["donation_form_code"]},
            }
        )
    return transactions


def _participating_orgs(row: dict, shares) -> list[dict]:
    """IATI OrganisationRole per hop: 1 funding (the sources of a pooled commitment, else the
    collaborator), 3 extending (the aggregator that pooled), 4 implementing."""
    funders = row["funding_org"].split("; ") if shares else [row["collaborator"]]
    orgs = [{"role": "1", "narrative": name} for name in funders]
    if shares:
        orgs.append({"role": "3", "narrative": row["collaborator"]})
    orgs.append({"role": "4", "narrative": row["implementing_org"]})
    return orgs


def iati_activity(row: dict, first_at: dict[str, datetime.datetime], deliveries, shares=()) -> dict:
    """One commitment (a row of IATI_FIELDS, text not guarded) as an IATI-like activity with
    its transactions, dated by its events (`first_at`: the first time it reached each state;
    the day it was created or last changed state where an event is missing, as for rows
    that predate the events table); `deliveries`: its confirmed ones, (commitment id,
    delivered_on, quantity, confirmed_at, households, persons) in delivery order; `shares`:
    the pooled gifts funding it (rows of pool_funders)."""
    value = None if row["value_idr"] == "" else Decimal(row["value_idr"])
    quantity, status = row["quantity"], row["status"]
    transactions = [
        *_incoming(row, shares),
        _transaction(PLEDGE, row["created_on"], row, value, quantity),
    ]
    confirmed_on = _local_date(first_at.get(Status.COMMITTED))
    if not confirmed_on and status in CONFIRMED_STATUSES:
        confirmed_on = row["status_changed_on"]
    if confirmed_on:
        transactions.append(_transaction(COMMITMENT, confirmed_on, row, value, quantity))
    for _pk, delivered_on, delivered, confirmed, households, persons in deliveries:
        share = None
        if value is not None:
            share = (value * delivered / quantity).quantize(Decimal(1))
        transaction = _transaction(DISBURSEMENT, delivered_on.isoformat(), row, share, delivered)
        transaction["confirmed_on"] = _local_date(confirmed)
        transaction["households_reached"] = households
        transaction["persons_reached"] = persons
        transactions.append(transaction)
    ended = None
    if status in ENDED_STATUSES:
        ended_on = _local_date(first_at.get(status)) or row["status_changed_on"]
        ended = {"status": status, "date": ended_on}
    adopted = row["adoption_id"] != ""
    return {
        "iati_identifier": f"{REPORTING_ORG['ref']}-{row['id']}",
        "hierarchy": CHILD if adopted else PARENT,
        "related_activities": (
            [{"type": PARENT, "ref": adoption_identifier(row["adoption_id"])}] if adopted else []
        ),
        "title": f"{row['donation_form']} - {row['area_name']}",
        "activity_status": {"code": ACTIVITY_STATUS[status], "portal_status": status},
        "ended": ended,
        "channel": row["channel"],
        "sector": {"vocabulary": "99", "code": row["program_code"], "narrative": row["program"]},
        "activity": {"code": row["donation_form_code"], "narrative": row["donation_form"]},
        "participating_org": {
            "role": "1",  # funding
            "type": row["collaborator_kind"],
            "narrative": row["collaborator"],
        },
        "participating_orgs": _participating_orgs(row, shares),
        "recipient_area": {
            code_column.removesuffix("_code"): {"code": row[code_column], "name": row[name_column]}
            for code_column, name_column in LEVEL_COLUMNS.values()
            if row[code_column]
        },
        "transactions": transactions,
    }


def adoption_identifier(adoption_id: int) -> str:
    # "adopsi" keeps it apart from the commitments' identifiers (REF-<commitment id>).
    return f"{REPORTING_ORG['ref']}-adopsi-{adoption_id}"


def adoption_activities(adoption_ids: set[int]) -> Iterator[dict]:
    """The adoptions the exported works belong to, as parent activities (one query)."""
    adoptions = (
        Adoption.objects.filter(pk__in=adoption_ids)
        .select_related("collaborator", "program")
        .order_by("pk")
    )
    for adoption in adoptions:
        yield {
            "iati_identifier": adoption_identifier(adoption.pk),
            "hierarchy": PARENT,
            "title": adoption.name,
            "activity_status": {
                "code": ADOPTION_STATUS.get(adoption.status, "5"),
                "portal_status": adoption.status,
            },
            "activity_date": {
                "planned_start": adoption.starts_on.isoformat(),
                "planned_end": adoption.ends_on.isoformat(),
                "actual_end": _local_date(adoption.ended_at) or None,
            },
            "sector": {"vocabulary": "99", "code": adoption.program.slug},
            "participating_orgs": [
                {"role": "1", "narrative": adoption.collaborator.name},
                {"role": "4", "narrative": adoption.collaborator.name},
            ],
            "transactions": [],
        }


def _iati_activities(flt: DashboardFilter, progress) -> Iterator[dict]:
    """Each filtered commitment's activity: its row, confirmed deliveries, first events,
    pooled shares and adoption read by five queries in commitment order, side by side; then
    the adoptions of its works as parent activities (one more)."""
    within = flt.commitments()
    deliveries = _ByCommitment(
        Delivery.objects.filter(confirmed_at__isnull=False, commitment__in=within)
        .order_by("commitment_id", "delivered_on", "pk")
        .values_list(
            "commitment_id",
            "delivered_on",
            "quantity",
            "confirmed_at",
            "recipients_households",
            "recipients_persons",
        )
    )
    events = _ByCommitment(
        CommitmentEvent.objects.filter(commitment__in=within)
        .values_list("commitment_id", "to_status")
        .annotate(first_at=Min("at"))
        .order_by("commitment_id")
    )
    shares = _ByCommitment(pool_funders(flt))
    adoptions: set[int] = set()
    for values in _rows(flt, progress, safe=False, extra=IATI_EXTRA):
        pk = values[0]
        first_at = {status: at for _pk, status, at in events.take(pk)}
        row = dict(zip(IATI_FIELDS, values, strict=True))
        if row["adoption_id"] != "":
            adoptions.add(row["adoption_id"])
        yield iati_activity(row, first_at, deliveries.take(pk), shares.take(pk))
    # The parents last: their set is known once the rows are through (a few per program).
    if adoptions:
        yield from adoption_activities(adoptions)


def _write_iati(out, flt: DashboardFilter, progress, *, export: Export) -> None:
    """The document is written piece by piece: one activity in memory at a time."""
    head = {
        "version": "2.03-like",
        "generated_for_export": export.pk,
        "generated_on": _local_date(export.created_at),
        "filter": {k: v for k, v in export.filters.items() if k != "programs"},
        "programs": [
            {
                "code": p.slug,
                "name": p.name_id,
                "name_en": p.name_en,
                "lead_agency": p.lead_agency,
                "lead_agency_id": p.lead_agency_id,
            }
            for p in flt.programs
        ],
        "reporting_org": REPORTING_ORG,
        "transaction_type_codes": TRANSACTION_NAMES,
        "activity_status_codes": {
            "1": "Pipeline/identification (pledged)",
            "2": "Implementation (committed)",
            "3": "Finalisation (delivered)",
            "4": "Closed (completed)",
            "5": "Cancelled (cancelled, rejected or expired)",
        },
    }
    opening = json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "activities": ['
    out.write(opening.encode())
    separator = b"\n  "
    for activity in _iati_activities(flt, progress):
        # orjson: several times faster than json for a program's 340,000 activities at a
        # million commitments (bench/pages.py's budget); compact, UTF-8 as written.
        out.write(separator + orjson.dumps(activity))
        separator = b",\n  "
    out.write(b"\n ]\n}\n")


# --- the job --------------------------------------------------------------------------------


def export_file_name(export: Export) -> str:
    programs = export.filters.get("programs", [])
    scope = programs[0] if len(programs) == 1 else "semua-program"
    day = _local_date(export.created_at)
    return f"ksbb-komitmen-{scope}-{day}-{export.pk}.{EXTENSIONS[export.format]}"


class _Failed(Exception):
    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


def export_build(*, export_id: int) -> None:
    """Build the export's file. Rights are checked again under the requester's roles now.

    Runs from any state: a job redelivered after a crash, or run twice, rebuilds the same
    file under the same name (rows in id order, no timestamp of the run in the content)."""
    claimed = Export.objects.filter(pk=export_id).update(
        status=Export.Status.RUNNING,
        rows_done=0,
        error="",
        started_at=timezone.now(),
        finished_at=None,
    )
    if not claimed:
        return
    export = Export.objects.get(pk=export_id)
    user = get_user_model().objects.get(pk=export.requested_by_id)
    try:
        try:
            flt = _filter_for(user, export.filters)
        except PermissionDenied as denied:
            raise _Failed(_("You no longer have access to the figures of this export.")) from denied
        except ExportRefused as refused:
            raise _Failed(refused.message) from refused
        filters = {**export.filters, "programs": [p.slug for p in flt.programs]}
        total = flt.commitments().count()
        Export.objects.filter(pk=export_id).update(rows_total=total, filters=filters)
        export.filters = filters

        written = [0]

        def progress(done: int) -> None:
            written[0] = done
            Export.objects.filter(pk=export_id, status=Export.Status.RUNNING).update(
                rows_done=min(done, total)
            )

        name = export_file_name(export)
        with tempfile.TemporaryFile() as out:
            if export.format in (Export.Format.CSV, Export.Format.HXL):
                _write_csv(out, flt, progress, hxl=export.format == Export.Format.HXL)
            elif export.format == Export.Format.XLSX:
                _write_xlsx(out, flt, progress)
            else:
                _write_iati(out, flt, progress, export=export)
            out.seek(0)
            storage = export.file.storage
            stored_as = os.path.join("exports", str(export.pk), name)
            if storage.exists(stored_as):
                storage.delete(stored_as)
            stored_as = storage.save(stored_as, File(out))
        Export.objects.filter(pk=export_id).update(
            status=Export.Status.DONE,
            file=stored_as,
            file_name=name,
            rows_total=written[0],
            rows_done=written[0],
            finished_at=timezone.now(),
        )
    except _Failed as failed:
        _fail(export_id, failed.message)
    except Exception as error:  # noqa: BLE001 - any failure ends the job with a message
        logger.exception("Export %s failed", export_id)
        _fail(
            export_id,
            _("The export could not be written (%(error)s). Try again.")
            % {"error": type(error).__name__},
        )


def _fail(export_id: int, message: str) -> None:
    Export.objects.filter(pk=export_id).update(
        status=Export.Status.FAILED, error=str(message)[:2000], finished_at=timezone.now()
    )
