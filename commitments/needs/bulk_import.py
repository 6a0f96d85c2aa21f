"""Bulk import of needs: upload -> check (a preview of every row's problems and of what
would be created) -> confirm -> apply, all rows in one transaction, with the
same scope, rules and history as commitments.needs.upkeep.need_create for a need added by hand.

Rows are written in bulk (_needs_create_many), with the same rows and history as
need_create writes one by one.

The check and the apply are the domain functions the Celery tasks call (eager Celery
runs them in-process in development and tests). Both are safe to run twice: a job's status
is claimed with a conditional UPDATE, and applying re-reads it under a row lock.
"""

from __future__ import annotations

import datetime
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaborators.roles import Scopes, scopes_for
from ksbb.bounds import INTEGER_MAX
from locations.mapdata import needs_changed
from locations.models import Area, Need, NeedChange, Site
from programs.models import DonationForm, DonationUnit, Program

from ..adoption.first_offer import needs_first_offer_start
from ..models import NeedImport
from .import_files import COLUMN_BY_KEY, FileRefused, Table, table_read
from .upkeep import CREATED_FIELDS, history_value, role_title

logger = logging.getLogger(__name__)

PROBLEMS_KEPT = 1000  # a file of junk can have 200,000; the first thousand tell enough
PROGRESS_EVERY = 500  # rows between progress writes
NOTE_MAX = 5000
CHUNK = 500  # ids per IN (...) query: well under SQLite's variable limit

Status = NeedImport.Status

PROBLEM_MESSAGES = {
    "required": gettext_lazy("This column cannot be empty."),
    "unknown_area": gettext_lazy("No area has the code %(value)s."),
    "area_level": gettext_lazy(
        "%(value)s is a %(level)s: needs are assessed for an RW or a kelurahan."
    ),
    "not_residential": gettext_lazy(
        "%(value)s has no residents: record the need at an institution there."
    ),
    "out_of_scope": gettext_lazy("You do not keep the needs of %(value)s for this program."),
    "unknown_site": gettext_lazy("No institution has the number %(value)s."),
    "site_elsewhere": gettext_lazy("Institution %(value)s is not in this area."),
    "unknown_program": gettext_lazy("No program has the code %(value)s."),
    "unknown_form": gettext_lazy("No donation form has the code %(value)s."),
    "form_of_other_program": gettext_lazy(
        "Donation form %(value)s belongs to another program (%(other)s)."
    ),
    "wrong_unit": gettext_lazy(
        "%(value)s is not the unit of this donation form: it is counted in %(unit)s."
    ),
    "not_whole_number": gettext_lazy("%(value)s is not a whole number."),
    "not_positive": gettext_lazy("%(value)s: the quantity must be above zero."),
    "negative": gettext_lazy("%(value)s is below zero."),
    "too_large": gettext_lazy("%(value)s is too large."),
    "bad_priority": gettext_lazy("%(value)s is not a priority: use 1, 2 or 3 (high, medium, low)."),
    "bad_date": gettext_lazy("%(value)s is not a date: use YYYY-MM-DD or DD/MM/YYYY."),
    "past_date": gettext_lazy("%(value)s is in the past."),
    "too_far_date": gettext_lazy(
        "%(value)s is more than two years ahead: a need is assessed for two years at most."
    ),
    "too_long": gettext_lazy("The note is longer than 5,000 characters."),
    "duplicate_in_file": gettext_lazy(
        "The same area, institution and donation form as row %(other)s."
    ),
    "duplicate_open_need": gettext_lazy(
        "An open need for this area, institution and donation form is already there "
        "(need #%(other)s): edit that need instead."
    ),
}


class ImportRefused(Exception):
    """The import cannot go on; the message is for the uploader."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


def problem_message(problem: dict) -> str:
    """A stored problem in the reader's language (problems are stored as codes)."""
    params = dict(problem.get("params", {}))
    if "level" in params:
        params["level"] = Area.Level(params["level"]).label
    if "unit" in params:
        params["unit"] = DonationUnit(params["unit"]).label
    return PROBLEM_MESSAGES[problem["code"]] % params


def column_header(key: str, language: str) -> str:
    column = COLUMN_BY_KEY.get(key)
    return column.header(language) if column else ""


# --- upload ---------------------------------------------------------------------------


def need_import_create(*, uploader, upload) -> NeedImport:
    """Store an uploaded needs file as a new import (status uploaded). Raises FileRefused
    for a file that is not a readable needs table and PermissionDenied for a user who keeps
    no needs. The rows are checked by need_import_check."""
    scopes = scopes_for(uploader)
    if not may_import(scopes):
        raise PermissionDenied
    # Shown back on the page: no control characters, and not too long.
    name = "".join(c for c in (getattr(upload, "name", "") or "") if c.isprintable())[-100:]
    name = name or "file"
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    table = table_read(data=data, name=name)
    job = NeedImport(
        uploaded_by=uploader,
        file_name=name,
        format=table.format,
        header_language=table.language,
        rows_total=len(table.rows),
    )
    job.file.save(f"{uuid.uuid4().hex}.{table.format}", ContentFile(data), save=False)
    job.save()
    return job


def may_import(scopes: Scopes) -> bool:
    """Facilitators (for their areas), program leads (for their programs), administrators."""
    return scopes.is_facilitator or scopes.is_lead or scopes.is_admin


# --- the rows -------------------------------------------------------------------------


@dataclass
class Checked:
    lines: list[tuple[int, dict]] = field(default_factory=list)  # (row, need_create kwargs)
    problems: list[dict] = field(default_factory=list)

    def add(self, row: int, column: str, code: str, value="", **params) -> None:
        self.problems.append(
            {
                "row": row,
                "column": column,
                "code": code,
                "params": {"value": str(value)[:60], **params},
            }
        )

    def summary(self) -> list[dict]:
        by_form: dict[int, dict] = {}
        for _row, line in self.lines:
            entry = by_form.setdefault(
                line["donation_form"].pk,
                {"form": line["donation_form"].pk, "needs": 0, "quantity": 0, "areas": set()},
            )
            entry["needs"] += 1
            entry["quantity"] += line["quantity_needed"]
            entry["areas"].add(line["area"].pk)
        return [{**entry, "areas": len(entry["areas"])} for entry in by_form.values()]


class _Lookups:
    """Everything the rows name, loaded in a few queries for the whole file."""

    def __init__(self, table: Table, today: datetime.date) -> None:
        codes = {str(row.get("area_code", "")) for _n, row in table.rows}
        self.areas = {
            area.code: area
            for area in _chunked(Area.objects.select_related("parent"), "code", codes)
        }
        site_ids = {_whole(row.get("site")) for _n, row in table.rows} - {None}
        self.sites = {site.pk: site for site in _chunked(Site.objects.all(), "pk", site_ids)}
        self.programs = {program.slug: program for program in Program.objects.all()}
        self.forms: dict[tuple[int, str], DonationForm] = {}
        self.form_programs: dict[str, list[str]] = {}
        for form in DonationForm.objects.select_related("program"):
            self.forms[(form.program_id, form.slug)] = form
            self.form_programs.setdefault(form.slug, []).append(form.program.slug)
        area_ids = {area.pk for area in self.areas.values()}
        self.open_needs = {
            (area_id, site_id, form_id): pk
            for area_id, site_id, form_id, pk in _chunked(
                Need.objects.filter(status=Need.Status.OPEN, valid_until__gte=today),
                "area_id",
                area_ids,
                ("area_id", "site_id", "donation_form_id", "pk"),
            )
        }


def _chunked(queryset, field_name: str, keys: set, columns: tuple = ()) -> list:
    found = []
    ordered = sorted(keys, key=str)
    for start in range(0, len(ordered), CHUNK):
        part = queryset.filter(**{f"{field_name}__in": ordered[start : start + CHUNK]})
        found.extend(part.values_list(*columns) if columns else part)
    return found


def _whole(value) -> int | None:
    """A whole number from a cell (an XLSX number or text such as "120"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e18 else None
    text = str(value).strip()
    return int(text) if re.fullmatch(r"[+-]?\d{1,30}", text) else None


PRIORITY_WORDS = {"high": 1, "tinggi": 1, "medium": 2, "sedang": 2, "low": 3, "rendah": 3}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(str(value).strip(), date_format).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def _unit_names() -> dict[str, set[str]]:
    """The words a unit may be written as: its code and its name in both languages."""
    names = {}
    for unit in DonationUnit:
        words = {unit.value.lower()}
        for language in ("id", "en"):
            with translation.override(language):
                words.add(str(unit.label).lower())
        names[unit.value] = words
    return names


def _check(table: Table, actor, progress: Callable[[int], None] | None = None) -> Checked:
    """Every problem of every row, and the need_create arguments of the rows without any."""
    today = timezone.localdate()
    scopes = scopes_for(actor)
    known = _Lookups(table, today)
    unit_names = _unit_names()
    checked = Checked()
    first_row_of: dict[tuple, int] = {}
    for done, (row, cells) in enumerate(table.rows, start=1):
        line = _check_row(row, cells, checked, known=known, scopes=scopes, today=today)
        if line is not None:
            unit = str(cells.get("unit", "")).strip().lower()
            form = line["donation_form"]
            if unit and unit not in unit_names[form.unit]:
                checked.add(row, "unit", "wrong_unit", cells["unit"], unit=form.unit)
                line = None
        if line is not None:
            site = line["site"]
            key = (line["area"].pk, site.pk if site else None, line["donation_form"].pk)
            if key in first_row_of:
                checked.add(
                    row, "donation_form", "duplicate_in_file", cells["donation_form"],
                    other=first_row_of[key],
                )  # fmt: skip
            elif key in known.open_needs:
                checked.add(
                    row, "donation_form", "duplicate_open_need", cells["donation_form"],
                    other=known.open_needs[key],
                )  # fmt: skip
            else:
                checked.lines.append((row, line))
            first_row_of.setdefault(key, row)
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    return checked


def _check_row(row: int, cells: dict, checked: Checked, *, known, scopes, today) -> dict | None:
    """The need_create arguments of one row, or None after adding its problems."""
    before = len(checked.problems)
    area, area_code, place_ok = _row_area(row, cells, checked, known)
    site = _row_site(row, cells, checked, known, area)
    program, form = _row_program_and_form(row, cells, checked, known)
    if place_ok and program is not None and not scopes.may_keep_need(area, site, program):
        checked.add(row, "area_code", "out_of_scope", area_code)

    quantity = _row_number(row, cells, checked, "quantity", required=True, positive=True)
    households = _row_number(row, cells, checked, "households", required=False, positive=False)
    persons = _row_number(row, cells, checked, "persons", required=False, positive=False)
    priority = _row_priority(row, cells, checked)
    valid_until = _row_valid_until(row, cells, checked, today)
    note = str(cells.get("note", ""))
    if len(note) > NOTE_MAX:
        checked.add(row, "note", "too_long")

    if len(checked.problems) > before:
        return None
    return {
        "area": area,
        "site": site,
        "program": program,
        "donation_form": form,
        "quantity_needed": quantity,
        "priority": priority,
        "households": households,
        "persons": persons,
        "valid_until": valid_until,
        "description": note,
    }


def _row_area(row: int, cells: dict, checked: Checked, known) -> tuple[Area | None, str, bool]:
    """The row's area, its code, and whether it may hold needs at all (only then is scope
    asked), after adding the area's problems."""
    place_ok = False
    area_code = str(cells.get("area_code", ""))
    area = known.areas.get(area_code)
    if not area_code:
        checked.add(row, "area_code", "required")
    elif area is None:
        checked.add(row, "area_code", "unknown_area", area_code)
    elif area.level not in (Area.Level.RW, Area.Level.KELURAHAN):
        checked.add(row, "area_code", "area_level", area_code, level=area.level)
    elif not area.is_residential:
        checked.add(row, "area_code", "not_residential", area_code)
    else:
        place_ok = True
    return area, area_code, place_ok


def _row_site(row: int, cells: dict, checked: Checked, known, area: Area | None) -> Site | None:
    """The row's institution, if it names one, after adding its problems."""
    site = None
    if cells.get("site", "") != "":
        site = known.sites.get(_whole(cells["site"]))
        if site is None:
            checked.add(row, "site", "unknown_site", cells["site"])
        elif area is not None and site.area_id != area.pk:
            checked.add(row, "site", "site_elsewhere", cells["site"])
    return site


def _row_program_and_form(
    row: int, cells: dict, checked: Checked, known
) -> tuple[Program | None, DonationForm | None]:
    """The row's program and donation form, after adding their problems."""
    program_slug = str(cells.get("program", "")).lower()
    program = known.programs.get(program_slug)
    if not program_slug:
        checked.add(row, "program", "required")
    elif program is None:
        checked.add(row, "program", "unknown_program", cells["program"])

    form_slug = str(cells.get("donation_form", "")).lower()
    form = known.forms.get((program.pk, form_slug)) if program else None
    if not form_slug:
        checked.add(row, "donation_form", "required")
    elif form_slug not in known.form_programs:
        checked.add(row, "donation_form", "unknown_form", cells["donation_form"])
    elif program is not None and form is None:
        checked.add(
            row, "donation_form", "form_of_other_program", cells["donation_form"],
            other=", ".join(known.form_programs[form_slug]),
        )  # fmt: skip
    return program, form


def _row_number(
    row: int, cells: dict, checked: Checked, key: str, *, required: bool, positive: bool
) -> int | None:
    """A whole-number cell, or None after adding its problem (or when it is empty)."""
    raw = cells.get(key, "")
    if raw == "":
        if required:
            checked.add(row, key, "required")
        return None
    value = _whole(raw)
    if value is None:
        checked.add(row, key, "not_whole_number", raw)
    elif positive and value <= 0:
        checked.add(row, key, "not_positive", raw)
    elif value < 0:
        checked.add(row, key, "negative", raw)
    elif value > INTEGER_MAX:
        checked.add(row, key, "too_large", raw)
    else:
        return value
    return None


def _row_priority(row: int, cells: dict, checked: Checked):
    """The row's priority (medium when empty), after adding its problem."""
    priority = Need.Priority.MEDIUM
    raw_priority = cells.get("priority", "")
    if raw_priority != "":
        priority = _whole(raw_priority) or PRIORITY_WORDS.get(str(raw_priority).lower())
        if priority not in Need.Priority.values:
            checked.add(row, "priority", "bad_priority", raw_priority)
    return priority


def _row_valid_until(
    row: int, cells: dict, checked: Checked, today: datetime.date
) -> datetime.date | None:
    """The row's validity date, after adding its problems (required, a date, within the
    validity Need allows)."""
    valid_until = None
    raw_date = cells.get("valid_until", "")
    if raw_date == "":
        checked.add(row, "valid_until", "required")
    else:
        valid_until = _date(raw_date)
        if valid_until is None:
            checked.add(row, "valid_until", "bad_date", raw_date)
        else:
            problem = Need.valid_until_problem(valid_until, today)
            if problem is not None:
                code = {"past": "past_date", "too_far": "too_far_date"}[problem]
                checked.add(row, "valid_until", code, valid_until.isoformat())
    return valid_until


# --- the jobs -------------------------------------------------------------------------


def _table_of(job: NeedImport) -> Table:
    with job.file.open("rb") as stored:
        data = stored.read()
    return table_read(data=data, name=job.file_name)


def _fail(job_id: int, error: str, **fields) -> None:
    NeedImport.objects.filter(pk=job_id).exclude(status=Status.APPLIED).update(
        status=Status.FAILED, error=str(error)[:2000], updated_at=timezone.now(), **fields
    )


def need_import_check(*, import_id: int) -> None:
    """Check every row of an uploaded import and store the preview (problems, summary).

    Claims the job with a conditional UPDATE (uploaded or checking -> checking): a job
    already checked, applied or failed is left alone, so running it twice does no harm."""
    claimed = NeedImport.objects.filter(
        pk=import_id, status__in=[Status.UPLOADED, Status.CHECKING]
    ).update(status=Status.CHECKING, rows_done=0, updated_at=timezone.now())
    if not claimed:
        return
    job = NeedImport.objects.select_related("uploaded_by").get(pk=import_id)
    try:
        table = _table_of(job)
    except (FileRefused, OSError) as refused:
        _fail(job.pk, getattr(refused, "message", _("The stored file cannot be read.")))
        return
    rows = len(table.rows)

    def progress(done: int) -> None:
        NeedImport.objects.filter(pk=job.pk, status=Status.CHECKING).update(
            rows_done=min(done, job.rows_total)
        )

    checked = _check(table, job.uploaded_by, progress)
    NeedImport.objects.filter(pk=job.pk, status=Status.CHECKING).update(
        status=Status.CHECKED,
        rows_total=rows,
        rows_done=rows,
        problems=checked.problems[:PROBLEMS_KEPT],
        problem_count=len(checked.problems),
        summary=checked.summary(),
        checked_at=timezone.now(),
        updated_at=timezone.now(),
    )


def need_import_confirm(*, job: NeedImport, actor) -> None:
    """The uploader confirms a checked import without problems: claim it for applying
    (checked -> applying, a conditional UPDATE, so a double submit applies once).
    Raises ImportRefused otherwise."""
    if job.uploaded_by_id != actor.pk:
        raise ImportRefused(_("Only the person who uploaded this file can apply it."))
    claimed = NeedImport.objects.filter(
        pk=job.pk, status=Status.CHECKED, problem_count=0, rows_total__gt=0
    ).update(status=Status.APPLYING, rows_done=0, updated_at=timezone.now())
    if not claimed:
        job.refresh_from_db()
        if job.status in (Status.APPLYING, Status.APPLIED):
            return  # confirmed already (a second click): nothing to do twice
        if job.problem_count:
            raise ImportRefused(
                _("This file has problems: fix them in the file and upload it again.")
            )
        raise ImportRefused(_("This import is not ready to be applied."))


def _needs_create_many(*, actor, lines: list[dict], titles: dict[tuple, str]) -> None:
    """need_create for many rows at once, with the same need rows, public role title and
    "imported" history rows, in two INSERTs per batch.

    need_create validates each need with full_clean(), about ten queries a row (each
    CheckConstraint is a query): 10,000 rows would take minutes. The rows given here were
    all checked by _check in bulk, against the same rules (scope through
    Scopes.may_keep_need, Need.clean's, the field bounds, a validity not past), and the
    database constraints still back every one of them."""
    now = timezone.now()
    # The title depends on the place only for a facilitator (a lead's names the program):
    # `titles`, kept across batches, asks once per place or program, not once per row.
    by_place = scopes_for(actor).is_facilitator
    needs = []
    for line in lines:
        need = Need(**line, unit_value_idr=None, assessed_by=actor, assessed_at=now)
        site = line["site"]
        place = (line["area"].pk, site.pk if site else None) if by_place else ()
        place += (line["program"].pk,)
        if place not in titles:
            titles[place] = role_title(actor, need)[:100]
        need.assessed_by_role = titles[place]
        needs.append(need)
    Need.objects.bulk_create(needs)
    NeedChange.objects.bulk_create(
        NeedChange(
            need=need,
            actor=actor,
            action=NeedChange.Action.IMPORTED,
            changes={name: [None, history_value(getattr(need, name))] for name in CREATED_FIELDS},
        )
        for need in needs
    )
    needs_first_offer_start(needs=needs)
    transaction.on_commit(needs_changed)


def progress_key(import_id: int) -> str:
    # Applying writes every row in one transaction, invisible to others until it commits:
    # its progress goes through the cache instead (lost if the cache is down; harmless).
    return f"need-import:{import_id}:applied-rows"


class _Changed(Exception):
    def __init__(self, checked: Checked) -> None:
        super().__init__("rows changed since the check")
        self.checked = checked


def need_import_apply(*, import_id: int) -> None:
    """Create the needs of a confirmed import, all in one transaction: the rows are checked
    again (the world may have changed since the preview), then written in batches (their
    progress goes to the cache). Any problem or error rolls everything back and marks the
    import failed with the reason; nothing is half-applied.

    Locks the import row, then proceeds only if it is still `applying`: a second run (a
    redelivered task) finds it applied and does nothing."""
    batch_rows = None  # (first, last) row of the batch being written
    try:
        with transaction.atomic():
            job = (
                NeedImport.objects.select_for_update(of=("self",))
                .select_related("uploaded_by")
                .filter(pk=import_id)
                .first()
            )
            if job is None or job.status != Status.APPLYING:
                return
            checked = _check(_table_of(job), job.uploaded_by)
            if checked.problems:
                raise _Changed(checked)
            titles: dict[tuple, str] = {}
            for start in range(0, len(checked.lines), PROGRESS_EVERY):
                batch = checked.lines[start : start + PROGRESS_EVERY]
                batch_rows = (batch[0][0], batch[-1][0])
                _needs_create_many(
                    actor=job.uploaded_by, lines=[line for _r, line in batch], titles=titles
                )
                cache.set(progress_key(job.pk), start + len(batch), timeout=3600)
            NeedImport.objects.filter(pk=job.pk).update(
                status=Status.APPLIED,
                created_count=len(checked.lines),
                rows_done=job.rows_total,
                applied_at=timezone.now(),
                updated_at=timezone.now(),
            )
    except _Changed as changed:
        _fail(
            import_id,
            _("Some rows are no longer valid (the needs or your areas changed since the check)."),
            problems=changed.checked.problems[:PROBLEMS_KEPT],
            problem_count=len(changed.checked.problems),
        )
    except FileRefused as refused:
        _fail(import_id, refused.message)
    except Exception:  # noqa: BLE001 - whatever broke, the page must say nothing was written
        logger.exception("Applying needs import %s failed", import_id)
        _fail(
            import_id,
            _("Rows %(first)s to %(last)s could not be written.")
            % {"first": batch_rows[0], "last": batch_rows[1]}
            if batch_rows
            else _("The import could not be applied."),
        )
    finally:
        cache.delete(progress_key(import_id))


def applied_rows(job: NeedImport) -> int:
    """Rows done, counting those of an apply still in progress."""
    if job.status == Status.APPLYING:
        return min(cache.get(progress_key(job.pk)) or 0, job.rows_total)
    return job.rows_done
