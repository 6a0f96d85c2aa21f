"""Exports of what a dashboard shows: the commitments under the dashboard's filter, as CSV,
HXL-tagged CSV, XLSX (with the filtered figures beside them) or IATI-style JSON.

A user asks (`export_request`, checked against the dashboard's rules in
commitments.reporting.dashboard), a Celery job writes the file (`export_build`), and only the
requester (or an administrator) downloads it (`export_may_download`). Rights are checked
three times: when asked, when built, when downloaded; the programs a file covers are kept
in `Export.filters["programs"]` so that a lead who has since lost a program cannot fetch it.

Personal data: a row names the collaborator by its public name only ("anonymous" for
anonymous gifts, for administrators too: a file travels further than the admin site, where
they can see the real name). Never contacts, emails, notes, reasons or proof files.

Machine-facing values (column names, states, channels, kinds) are stable English codes and
names are the official Indonesian ones, whatever the requester's language, so that the same
export built twice gives the same file.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal

import tablib
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db.models import Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaborators.roles import scopes_for
from locations.models import Area, area_geometry_deferred
from programs.models import Program

from ..figures.summaries import JAKARTA
from ..jobs import BUILD_EXPORT, job_request
from ..models import (
    CONFIRMED_STATUSES,
    Commitment,
    CommitmentEvent,
    Delivery,
    Export,
    Status,
    figure_sums,
)
from .dashboard import DashboardFilter, DashboardFilterForm, dashboard_filter, dashboard_programs

logger = logging.getLogger(__name__)

BATCH = 500
# A user may have this many exports queued or running at once; older busy ones (a job lost
# with a broker that was down) stop counting after STALE_AFTER, so nobody is locked out.
MAX_BUSY = 3
STALE_AFTER = datetime.timedelta(hours=6)
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
    ("channel", "#meta+channel"),
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
TRANSACTION_NAMES = {
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
    )


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


def export_retry(*, export: Export) -> bool:
    """Queue again an export that waits (broker was down) or failed; False if it is busy
    running or ready already."""
    requeued = (
        Export.objects.filter(pk=export.pk)
        .filter(Q(status=Export.Status.FAILED) | Q(status=Export.Status.QUEUED))
        .update(status=Export.Status.QUEUED, error="", rows_done=0)
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


def _safe(value):
    """Text that a spreadsheet would run as a formula starts with a quote instead (a
    collaborator's name is user input)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _local_date(moment: datetime.datetime | None) -> str:
    return moment.astimezone(JAKARTA).date().isoformat() if moment else ""


def _whole(value: Decimal | None) -> int | str:
    return int(value) if value is not None else ""


def _commitments(flt: DashboardFilter, *, with_events: bool):
    confirmed = Delivery.objects.filter(confirmed_at__isnull=False).order_by("delivered_on", "pk")
    prefetches = [Prefetch("deliveries", queryset=confirmed, to_attr="confirmed_deliveries")]
    if with_events:
        events = CommitmentEvent.objects.only("commitment_id", "at", "to_status").order_by(
            "at", "pk"
        )
        prefetches.append(Prefetch("events", queryset=events, to_attr="event_list"))
    return (
        flt.commitments()
        .select_related("program", "donation_form", "collaborator", "area")
        .defer(*area_geometry_deferred("area"))
        .prefetch_related(*prefetches)
        .order_by("pk")
    )


def _area_names() -> dict[str, str]:
    """Names of every area above RW (a few hundred): RW names come with the commitment."""
    return dict(Area.objects.exclude(level=Area.Level.RW).values_list("code", "name"))


def _public_name(commitment: Commitment) -> str:
    return ANONYMOUS if commitment.is_anonymous else commitment.collaborator.name


def _row(commitment: Commitment, names: dict[str, str]) -> dict:
    row = dict.fromkeys(HEADER, "")
    codes = commitment.area.path.split("/")
    for position, code in enumerate(codes[: len(LEVEL_COLUMNS)]):
        code_column, name_column = LEVEL_COLUMNS[position]
        row[code_column] = code
        row[name_column] = (
            commitment.area.name if code == commitment.area.code else names.get(code, "")
        )
    deliveries = commitment.confirmed_deliveries
    row.update(
        id=commitment.pk,
        created_on=_local_date(commitment.created_at),
        program_code=commitment.program.slug,
        program=commitment.program.name_id,
        donation_form_code=commitment.donation_form.slug,
        donation_form=commitment.donation_form.name_id,
        collaborator=_public_name(commitment),
        collaborator_kind=commitment.collaborator.kind,
        channel=commitment.channel,
        status=commitment.status,
        quantity=commitment.quantity,
        unit=commitment.donation_form.unit,
        value_idr=_whole(commitment.value_idr),
        households_reached=sum(d.recipients_households or 0 for d in deliveries),
        persons_reached=sum(d.recipients_persons or 0 for d in deliveries),
        last_event_on=_local_date(commitment.last_event_at),
    )
    return row


def _rows_in_batches(
    flt: DashboardFilter, progress: Callable[[int], None], *, with_events: bool = False
) -> Iterator[tuple[Commitment, dict]]:
    names = _area_names()
    done = 0
    for commitment in _commitments(flt, with_events=with_events).iterator(chunk_size=BATCH):
        yield commitment, _row(commitment, names)
        done += 1
        if done % BATCH == 0:
            progress(done)
    progress(done)


# --- writers --------------------------------------------------------------------------------


def _write_csv(out, flt: DashboardFilter, progress, *, hxl: bool) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(HEADER)
    if hxl:
        writer.writerow(HASHTAGS)
    for _commitment, row in _rows_in_batches(flt, progress):
        writer.writerow([_safe(row[name]) for name in HEADER])
    text.flush()
    text.detach()


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
    # tablib keeps the sheet in memory until it writes the workbook; the rows are read
    # from the database in batches all the same.
    commitments = tablib.Dataset(headers=HEADER, title="Commitments")
    for _commitment, row in _rows_in_batches(flt, progress):
        commitments.append([_safe(row[name]) for name in HEADER])
    sheets = [commitments]
    for title, headers, rows in figure_sheets(flt):
        sheet = tablib.Dataset(headers=headers, title=title)
        for row in rows:
            sheet.append([_safe(value) for value in row])
        sheets.append(sheet)
    out.write(tablib.Databook(sheets).export("xlsx"))


def _transaction(code: str, date: str, commitment: Commitment, value, quantity: int) -> dict:
    return {
        "transaction_type": {"code": code, "name": TRANSACTION_NAMES[code]},
        "transaction_date": date,
        "value": (
            {"amount": int(value), "currency": "IDR", "value_date": date}
            if value is not None
            else None
        ),
        "quantity": quantity,
        "unit": commitment.donation_form.unit,
        "provider_org": {"narrative": _public_name(commitment)},
        "receiver_org": {"ref": commitment.area.code, "narrative": commitment.area.name},
        "sector": {"vocabulary": "99", "code": commitment.program.slug},
        "activity": {"code": commitment.donation_form.slug},
    }


def iati_activity(commitment: Commitment, row: dict) -> dict:
    """One commitment as an IATI-like activity with its transactions, dated by its events
    (prefetched as `event_list`; created_at / status_changed_at where an event is missing,
    as for rows that predate the events table)."""
    first_at: dict[str, datetime.datetime] = {}
    for event in commitment.event_list:
        first_at.setdefault(event.to_status, event.at)
    value = commitment.value_idr
    transactions = [_transaction(PLEDGE, row["created_on"], commitment, value, commitment.quantity)]
    confirmed_at = first_at.get(Status.COMMITTED)
    if confirmed_at is None and commitment.status in CONFIRMED_STATUSES:
        confirmed_at = commitment.status_changed_at
    if confirmed_at is not None:
        transactions.append(
            _transaction(
                COMMITMENT, _local_date(confirmed_at), commitment, value, commitment.quantity
            )
        )
    for delivery in commitment.confirmed_deliveries:
        share = None
        if value is not None:
            share = (value * delivery.quantity / commitment.quantity).quantize(Decimal(1))
        transaction = _transaction(
            DISBURSEMENT, delivery.delivered_on.isoformat(), commitment, share, delivery.quantity
        )
        transaction["confirmed_on"] = _local_date(delivery.confirmed_at)
        transaction["households_reached"] = delivery.recipients_households
        transaction["persons_reached"] = delivery.recipients_persons
        transactions.append(transaction)
    ended = None
    if commitment.status in ENDED_STATUSES:
        ended_at = first_at.get(commitment.status) or commitment.status_changed_at
        ended = {"status": commitment.status, "date": _local_date(ended_at)}
    return {
        "iati_identifier": f"{REPORTING_ORG['ref']}-{commitment.pk}",
        "title": f"{commitment.donation_form.name_id} - {commitment.area.name}",
        "activity_status": {
            "code": ACTIVITY_STATUS[commitment.status],
            "portal_status": commitment.status,
        },
        "ended": ended,
        "channel": commitment.channel,
        "sector": {
            "vocabulary": "99",
            "code": commitment.program.slug,
            "narrative": commitment.program.name_id,
        },
        "activity": {
            "code": commitment.donation_form.slug,
            "narrative": commitment.donation_form.name_id,
        },
        "participating_org": {
            "role": "1",  # funding
            "type": commitment.collaborator.kind,
            "narrative": _public_name(commitment),
        },
        "recipient_area": {
            code_column.removesuffix("_code"): {"code": row[code_column], "name": row[name_column]}
            for code_column, name_column in LEVEL_COLUMNS.values()
            if row[code_column]
        },
        "transactions": transactions,
    }


def _write_iati(out, flt: DashboardFilter, progress, *, export: Export) -> None:
    """The document is written piece by piece: one activity in memory at a time."""
    head = {
        "version": "2.03-like",
        "generated_for_export": export.pk,
        "generated_on": _local_date(export.created_at),
        "filter": {k: v for k, v in export.filters.items() if k != "programs"},
        "programs": [
            {"code": p.slug, "name": p.name_id, "lead_agency": p.lead_agency} for p in flt.programs
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
    separator = "\n"
    for commitment, row in _rows_in_batches(flt, progress, with_events=True):
        activity = json.dumps(iati_activity(commitment, row), ensure_ascii=False)
        out.write(f"{separator}  {activity}".encode())
        separator = ",\n"
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
