"""What a program lead's (or administrator's) dashboard and exports look at: the programs a
user may see, and the filters they chose (period, area, channel), as one value that both
the dashboard and the export jobs read, so they always agree on which rows they count.

Figures come from CommitmentSummary and its roll-ups (kept by commitments.figures.summaries
and commitments.figures.rollups); lists of single commitments (pipeline, no news, exports)
from Commitment with the same filter.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collaborators.models import Collaborator
from collaborators.roles import Scopes
from locations.models import Area, Need, area_geometry_deferred, enclosing, subtree_q
from programs.models import DonationForm, Program

from ..adoption.models import Adoption, AdoptionArea, AdoptionStatus
from ..figures.summaries import JAKARTA, month_bounds
from ..models import (
    ACTIVE_STATUSES,
    CONFIRMED_STATUSES,
    SUMMED_COLUMNS,
    UNDER_WAY_STATUSES,
    CollaboratorFigures,
    Commitment,
    CommitmentKecamatanRollup,
    CommitmentMonthRollup,
    CommitmentRollup,
    CommitmentSummary,
    Delivery,
    Status,
    SummaryDirtyKey,
    figure_sums,
)
from ..workflow import waiting_on

# Summary rows carry their area's kelurahan, kecamatan and kota: a filter on any level is
# one indexed equality on the summary table.
SUMMARY_AREA_COLUMN = {
    Area.Level.KOTA: "kota",
    Area.Level.KECAMATAN: "kecamatan",
    Area.Level.KELURAHAN: "kelurahan",
    Area.Level.RW: "area",
}


def dashboard_programs(scopes: Scopes) -> QuerySet[Program]:
    """The programs whose dashboards (and exports) a user may see: all for administrators,
    their own for program leads. Everyone else sees none."""
    programs = Program.objects.order_by("sort_order", "pk")
    if scopes.is_admin:
        return programs
    return programs.filter(pk__in=scopes.program_ids)


def may_see_dashboards(scopes: Scopes) -> bool:
    return scopes.is_admin or scopes.is_lead


class MonthField(forms.DateField):
    """A month as YYYY-MM (what <input type="month"> sends); the first day of it."""

    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not (2000 <= day.year <= 2100):
            raise forms.ValidationError(_("Choose a month between 2000 and 2100."))
        return day


class DashboardFilterForm(forms.Form):
    program = forms.ChoiceField(label=_("Program"), required=False)
    start = MonthField(label=_("From (month)"), required=False)
    end = MonthField(label=_("Until (month)"), required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("platform and offline")), *Commitment.Channel.choices],
    )

    def __init__(self, data, *, programs: list[Program], fixed_program: Program | None = None):
        super().__init__(data)
        self.programs = programs
        self.fixed_program = fixed_program
        if fixed_program is not None:
            del self.fields["program"]
        else:
            self.fields["program"].choices = [
                ("", _("all programs")),
                *[(p.slug, p.name) for p in programs],
            ]
        # Kota and kecamatan, indented under their kota: what leads filter by.
        areas = Area.objects.filter(level__in=[Area.Level.KOTA, Area.Level.KECAMATAN]).order_by(
            "path"
        )
        self.fields["area"].choices = [
            ("", _("all of %(city)s") % {"city": settings.CITY_NAME}),
            *[(a.code, a.name if a.level == Area.Level.KOTA else f"\u2003{a.name}") for a in areas],
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("The last month comes before the first."))
        return cleaned


@dataclass(frozen=True)
class DashboardFilter:
    """The rows a dashboard counts: programs (already limited to the user's), a period of
    whole months (Jakarta time), an area (kota, kecamatan, kelurahan or RW) and a channel."""

    programs: tuple[Program, ...]
    start: datetime.date | None = None  # first month counted
    end: datetime.date | None = None  # last month counted
    area: Area | None = None
    channel: str = ""

    @property
    def program_ids(self) -> list[int]:
        return [p.pk for p in self.programs]

    def summaries(self) -> QuerySet[CommitmentSummary]:
        rows = CommitmentSummary.objects.filter(program__in=self.program_ids)
        if self.start:
            rows = rows.filter(month__gte=self.start)
        if self.end:
            rows = rows.filter(month__lte=self.end)
        if self.area is not None:
            rows = rows.filter(**{SUMMARY_AREA_COLUMN[self.area.level]: self.area})
        if self.channel:
            rows = rows.filter(channel=self.channel)
        return rows

    def rollups(self) -> QuerySet[CommitmentRollup] | QuerySet[CommitmentSummary]:
        """The same figures from the kecamatan roll-up, a fraction of the summary's rows; the
        summaries themselves when the filter names a kelurahan or an RW."""
        if self._below_kecamatan():
            return self.summaries()
        rows = CommitmentRollup.objects.filter(program__in=self.program_ids)
        if self.start:
            rows = rows.filter(month__gte=self.start)
        if self.end:
            rows = rows.filter(month__lte=self.end)
        if self.area is not None:
            rows = rows.filter(**{SUMMARY_AREA_COLUMN[self.area.level]: self.area})
        if self.channel:
            rows = rows.filter(channel=self.channel)
        return rows

    def grouped_rows(self, grouping: str) -> QuerySet:
        """The rows the dashboard groups for `grouping` ("forms", "months" or "areas"): the
        month roll-up for forms and months when no area narrows them, the kecamatan roll-up
        for areas when no period does (a few thousand rows whatever the number of
        commitments); else the kecamatan roll-up itself (or the summaries)."""
        if grouping == "areas":
            if self.start or self.end or self._below_kecamatan():
                return self.rollups()
            rows = CommitmentKecamatanRollup.objects.filter(program__in=self.program_ids)
            if self.area is not None:
                rows = rows.filter(**{SUMMARY_AREA_COLUMN[self.area.level]: self.area})
        else:
            if self.area is not None:
                return self.rollups()
            rows = CommitmentMonthRollup.objects.filter(program__in=self.program_ids)
            if self.start:
                rows = rows.filter(month__gte=self.start)
            if self.end:
                rows = rows.filter(month__lte=self.end)
        if self.channel:
            rows = rows.filter(channel=self.channel)
        return rows

    def _below_kecamatan(self) -> bool:
        return self.area is not None and self.area.level not in (
            Area.Level.KOTA,
            Area.Level.KECAMATAN,
        )

    def commitments(self) -> QuerySet[Commitment]:
        """The same rows, one per commitment (months counted in Jakarta, as the summaries)."""
        rows = Commitment.objects.filter(program__in=self.program_ids)
        if self.start:
            rows = rows.filter(created_at__gte=month_bounds(self.start)[0])
        if self.end:
            rows = rows.filter(created_at__lt=month_bounds(self.end)[1])
        if self.area is not None:
            rows = rows.filter(subtree_q([self.area.path], prefix="area__"))
        if self.channel:
            rows = rows.filter(channel=self.channel)
        return rows

    def cache_key(self, kind: str, *extra) -> str:
        """A cache key for `kind` of figures under this filter (and whatever else they
        depend on, in `extra`)."""
        parts = (sorted(self.as_query().items()), self.program_ids, *extra)
        return f"dashboard:{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()

    def as_query(self) -> dict[str, str]:
        """The filter as query parameters (for links, exports and the Export row)."""
        query = {}
        if len(self.programs) == 1:
            query["program"] = self.programs[0].slug
        if self.start:
            query["start"] = self.start.strftime("%Y-%m")
        if self.end:
            query["end"] = self.end.strftime("%Y-%m")
        if self.area is not None:
            query["area"] = self.area.code
        if self.channel:
            query["channel"] = self.channel
        return query


def dashboard_filter(
    scopes: Scopes, data: QueryDict | dict, *, program: Program | None = None
) -> tuple[DashboardFilter | None, DashboardFilterForm]:
    """Parse the filters a user asked for, within what they may see. Raises PermissionDenied
    for someone who sees no dashboard, or for a program that is not theirs. Returns
    (None, form with errors) when the filters are invalid."""
    if not may_see_dashboards(scopes):
        raise PermissionDenied
    allowed = list(dashboard_programs(scopes))
    if program is not None and program.pk not in {p.pk for p in allowed}:
        raise PermissionDenied
    form = DashboardFilterForm(data, programs=allowed, fixed_program=program)
    if not form.is_valid():
        return None, form
    if program is not None:
        programs = (program,)
    elif form.cleaned_data.get("program"):
        programs = tuple(p for p in allowed if p.slug == form.cleaned_data["program"])
    else:
        programs = tuple(allowed)
    code = form.cleaned_data.get("area")
    area = Area.objects.filter(code=code).first() if code else None
    return (
        DashboardFilter(
            programs=programs,
            start=form.cleaned_data.get("start"),
            end=form.cleaned_data.get("end"),
            area=area,
            channel=form.cleaned_data.get("channel") or "",
        ),
        form,
    )


# --- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Sums over some commitments: how many, how much, worth what, reaching whom."""

    count: int = 0
    quantity: int = 0
    value_idr: Decimal = Decimal(0)
    households: int = 0
    persons: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            count=self.count + other.count,
            quantity=self.quantity + other.quantity,
            value_idr=self.value_idr + other.value_idr,
            households=self.households + other.households,
            persons=self.persons + other.persons,
        )


@dataclass(frozen=True)
class FormRow:
    """Confirmed commitments of one donation form beside the 2021 reported baseline."""

    donation_form: DonationForm
    confirmed: Figures
    reported_commitments: int | None
    reported_value_idr: Decimal | None


@dataclass(frozen=True)
class MonthRow:
    month: datetime.date
    by_status: dict[str, int]  # commitments created that month, by their state now

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class AreaRow:
    area: Area
    all: Figures  # every state
    confirmed: Figures


@dataclass(frozen=True)
class Coverage:
    """RW codes with open needs and RW codes served (a confirmed commitment) in the filter."""

    needing: frozenset[str]
    served: frozenset[str]

    @property
    def open_only(self) -> frozenset[str]:
        return self.needing - self.served

    @property
    def served_only(self) -> frozenset[str]:
        return self.served - self.needing

    @property
    def both(self) -> frozenset[str]:
        return self.needing & self.served

    def state_by_code(self) -> dict[str, str]:
        states = dict.fromkeys(self.open_only, "open")
        states.update(dict.fromkeys(self.served_only, "served"))
        states.update(dict.fromkeys(self.both, "both"))
        return dict(sorted(states.items()))


@dataclass(frozen=True)
class DashboardData:
    """Every figure a dashboard shows. Equal whether computed from the summaries or live
    (computed_at and waiting_for_recompute describe where they came from, not the figures)."""

    totals: Figures
    by_status: dict[str, Figures]
    confirmed: Figures
    forms: list[FormRow]
    months: list[MonthRow]
    by_kota: list[AreaRow]
    by_kecamatan: list[AreaRow]
    coverage: Coverage
    computed_at: datetime.datetime | None = field(default=None, compare=False)
    waiting_for_recompute: bool = field(default=False, compare=False)


def dashboard_data(filter: DashboardFilter, *, live: bool = False) -> DashboardData:  # noqa: A002
    """The dashboard's figures for `filter`, from the roll-up tables (three groupings, by
    form and by month from the month roll-up unless an area narrows them, by area from the
    kecamatan totals unless a period does, else from the kecamatan roll-up; folded here into
    every table: a fixed number of queries whatever the number of commitments; on
    PostgreSQL one statement, GROUPING SETS per table, UNION ALL), or with `live` the same
    GROUP BYs over the commitments themselves: the benchmark's baseline and the proof that
    the summaries are right."""
    if live:
        source = _LiveSource(filter)
    elif connection.vendor == "postgresql":
        source = _GroupingSetsSource(filter)
    else:
        source = _SummarySource(filter)
    by_status: dict[str, list] = {}
    by_form: dict[int, list] = {}
    by_month: dict[datetime.date, dict[str, int]] = {}
    kota_all: dict[int, list] = {}
    kota_confirmed: dict[int, list] = {}
    kecamatan_all: dict[int, list] = {}
    kecamatan_confirmed: dict[int, list] = {}
    months: dict = {}  # a month as the database returned it -> its first day
    confirmed_statuses = {str(s) for s in CONFIRMED_STATUSES}

    # Three GROUP BYs, each with a small result whatever the number of rows they read: by
    # donation form, by month, and by kecamatan (its kota comes along, one per kecamatan).
    by_forms, by_months, by_areas = source.grouped()
    for form, status, sums in by_forms:
        _add(by_status, status, sums)
        if status in confirmed_statuses:
            _add(by_form, form, sums)
    for month, status, sums in by_months:
        if month not in months:
            months[month] = (
                month.astimezone(JAKARTA).date() if isinstance(month, datetime.datetime) else month
            )
        counts = by_month.setdefault(months[month], {})
        counts[status] = counts.get(status, 0) + sums[0]
    for kota, kecamatan, status, sums in by_areas:
        _add(kota_all, kota, sums)
        _add(kecamatan_all, kecamatan, sums)
        if status in confirmed_statuses:
            _add(kota_confirmed, kota, sums)
            _add(kecamatan_confirmed, kecamatan, sums)
    statuses = {s: _figures(by_status[s]) for s in Status.values if s in by_status}
    areas = Area.objects.in_bulk([pk for pk in (*kota_all, *kecamatan_all) if pk is not None])
    return DashboardData(
        totals=sum(statuses.values(), Figures()),
        by_status=statuses,
        confirmed=sum((statuses.get(s, Figures()) for s in CONFIRMED_STATUSES), Figures()),
        forms=_form_rows(filter, by_form),
        months=[
            MonthRow(month=month, by_status={s: row[s] for s in Status.values if s in row})
            for month, row in sorted(by_month.items())
        ],
        by_kota=_area_rows(areas, kota_all, kota_confirmed),
        by_kecamatan=_area_rows(areas, kecamatan_all, kecamatan_confirmed),
        coverage=Coverage(needing=_rw_needing(filter), served=source.served_rw_codes()),
        computed_at=(
            Program.objects.filter(pk__in=filter.program_ids).aggregate(at=Min("live_updated_at"))[
                "at"
            ]
            if by_status and not live
            else None
        ),
        waiting_for_recompute=(
            not live and SummaryDirtyKey.objects.filter(program__in=filter.program_ids).exists()
        ),
    )


def _add(totals: dict, key, sums: list) -> None:
    row = totals.get(key)
    if row is None:
        totals[key] = list(sums)
    else:
        for i, value in enumerate(sums):
            row[i] += value


# The dashboard's three groupings (each with the status): the columns each groups by, the
# last one telling it apart from the others in GROUPING SETS.
GROUPINGS = {
    "forms": ("donation_form_id",),
    "months": ("month",),
    "areas": ("kota_id", "kecamatan_id"),
}
SUMMED = SUMMED_COLUMNS


class _SummarySource:
    """Group-by columns and sums on the roll-up tables (DashboardFilter.grouped_rows)."""

    def __init__(self, filter: DashboardFilter) -> None:  # noqa: A002
        self.filter = filter

    def rows(self, grouping: str) -> QuerySet:
        return self.filter.grouped_rows(grouping)

    def sums(self) -> dict:
        return figure_sums()

    month = "month"
    kota = "kota"
    kecamatan = "kecamatan"

    def grouped(self) -> tuple[list, list, list]:
        """The rows grouped by donation form, by month and by kecamatan (with its kota),
        each with the status: (*columns, status, sums) tuples, sums last as a list."""
        return (
            self._grouped("forms", "donation_form"),
            self._grouped("months", self.month),
            self._grouped("areas", self.kota, self.kecamatan),
        )

    def _grouped(self, grouping: str, *columns) -> list:
        rows = (
            self.rows(grouping).values_list(*columns, "status").annotate(**self.sums()).order_by()
        )
        return [(*row[:-5], _sums(row[-5:])) for row in rows]

    def served_rw_codes(self) -> frozenset[str]:
        # Asked per RW (a few index probes on summary_served each): at a million
        # commitments several times faster than the distinct areas of all the rows. A
        # scalar subquery with LIMIT 1, not EXISTS, which PostgreSQL turns into a join
        # reading every confirmed row of the programs.
        served = self.filter.summaries().filter(status__in=CONFIRMED_STATUSES, area=OuterRef("pk"))
        return frozenset(
            Area.objects.filter(level=Area.Level.RW)
            .annotate(served=Subquery(served.order_by().values("pk")[:1]))
            .filter(served__isnull=False)
            .values_list("code", flat=True)
        )


class _GroupingSetsSource(_SummarySource):
    """The same three groupings in one statement on PostgreSQL: the groupings read from
    the same table are one GROUP BY GROUPING SETS (its rows read once), the tables' results
    one UNION ALL."""

    def grouped(self) -> tuple[list, list, list]:
        parts: dict[str, tuple[QuerySet, list[str]]] = {}  # a table -> its groupings
        for grouping in GROUPINGS:
            rows = self.rows(grouping)
            parts.setdefault(rows.model._meta.db_table, (rows, []))[1].append(grouping)
        selects, params = [], []
        for rows, groupings in parts.values():
            select, arguments = _grouping_sets(rows, groupings)
            selects.append(select)
            params.extend(arguments)
        grouped = {grouping: [] for grouping in GROUPINGS}
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(selects), params)
            for grouping, form, month, kota, kecamatan, status, *sums in cursor.fetchall():
                columns = {"forms": (form,), "months": (month,), "areas": (kota, kecamatan)}
                grouped[grouping].append((*columns[grouping], status, _sums(sums)))
        return grouped["forms"], grouped["months"], grouped["areas"]


def _grouping_sets(rows: QuerySet, groupings: list[str]) -> tuple[str, list]:
    """SELECT (grouping, form, month, kota, kecamatan, status, sums) of `rows` grouped for
    each of `groupings` (GROUPINGS), the columns another grouping groups by NULL."""
    columns = [c for grouping in groupings for c in GROUPINGS[grouping]]
    inner, params = rows.order_by().values_list(*columns, "status", *SUMMED).query.sql_with_params()
    sets = [", ".join(f"r.{c}" for c in (*GROUPINGS[g], "status")) for g in groupings]
    if len(groupings) == 1:
        which, group_by = f"'{groupings[0]}'", sets[0]
    else:
        which = " ".join(f"WHEN GROUPING(r.{GROUPINGS[g][-1]}) = 0 THEN '{g}'" for g in groupings)
        which = f"CASE {which} END"
        group_by = "GROUPING SETS (" + ", ".join(f"({s})" for s in sets) + ")"
    selected = ", ".join(
        f"r.{c}" if c in columns else "NULL"
        for c in ("donation_form_id", "month", "kota_id", "kecamatan_id")
    )
    sql = f"""
        SELECT {which}, {selected}, r.status, {", ".join(f"SUM(r.{c})" for c in SUMMED)}
        FROM ({inner}) r ({", ".join((*columns, "status", *SUMMED))})
        GROUP BY {group_by}
    """  # noqa: S608 - the inner query is the ORM's, values are parameters
    return sql, list(params)


def _sums(row) -> list:
    """count, quantity, value, households, persons: integers but the value (Decimal)."""
    count, quantity, value, households, persons = (v or 0 for v in row)
    return [int(count), int(quantity), Decimal(value), int(households), int(persons)]


class _LiveSource(_SummarySource):
    """The same group-by columns and sums computed from Commitment and Delivery."""

    def rows(self, grouping: str = "") -> QuerySet:
        def reached(column: str) -> Subquery:
            return Subquery(
                Delivery.objects.filter(commitment=OuterRef("pk"), confirmed_at__isnull=False)
                .order_by()
                .values("commitment")
                .annotate(total=Sum(column))
                .values("total")
            )

        return self.filter.commitments().annotate(
            month_at=TruncMonth("created_at", tzinfo=JAKARTA),
            kota_id=enclosing("kota", "area__"),
            kecamatan_id=enclosing("kecamatan", "area__"),
            reached_households=reached("recipients_households"),
            reached_persons=reached("recipients_persons"),
        )

    def sums(self) -> dict:
        """figure_sums() over the commitments themselves, in the same order."""
        return {
            "commitments": Count("pk"),
            "quantity": Sum("quantity"),
            "value": Sum("value_idr"),
            "households": Sum("reached_households"),
            "persons": Sum("reached_persons"),
        }

    month = "month_at"
    kota = "kota_id"
    kecamatan = "kecamatan_id"

    def served_rw_codes(self) -> frozenset[str]:
        rows = (
            self.filter.commitments()
            .filter(status__in=CONFIRMED_STATUSES, area__level=Area.Level.RW)
            .values_list("area__code", flat=True)
            .order_by()
            .distinct()
        )
        return frozenset(rows)


def _figures(sums: list) -> Figures:
    count, quantity, value, households, persons = sums
    return Figures(
        count=count,
        quantity=quantity,
        value_idr=Decimal(value),
        households=households,
        persons=persons,
    )


def _form_rows(filter: DashboardFilter, confirmed: dict[int, list]) -> list[FormRow]:  # noqa: A002
    forms = DonationForm.objects.filter(program__in=filter.program_ids).order_by(
        "program__sort_order", "program", "sort_order", "pk"
    )
    return [
        FormRow(
            donation_form=form,
            confirmed=_figures(confirmed[form.pk]) if form.pk in confirmed else Figures(),
            reported_commitments=form.reported_commitments,
            reported_value_idr=form.reported_value_idr,
        )
        for form in forms
    ]


def _area_rows(areas: dict[int, Area], all_: dict, confirmed: dict) -> list[AreaRow]:
    rows = [
        AreaRow(
            area=areas[pk],
            all=_figures(sums),
            confirmed=_figures(confirmed[pk]) if pk in confirmed else Figures(),
        )
        for pk, sums in all_.items()
        if pk in areas
    ]
    return sorted(rows, key=lambda r: (-r.confirmed.value_idr, -r.all.count, r.area.code))


def _rw_needing(filter: DashboardFilter) -> frozenset[str]:  # noqa: A002
    """RW with an open need of the filter's programs (needs are now: no period, no channel)."""
    needs = Need.objects.open().filter(program__in=filter.program_ids, area__level=Area.Level.RW)
    if filter.area is not None:
        needs = needs.in_area(filter.area)
    return frozenset(needs.values_list("area__code", flat=True).order_by().distinct())


# --- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollaboratorRow:
    collaborator_id: int | None  # None: the anonymous commitments, together
    name: str
    count: int
    quantity: int
    value_idr: Decimal


def top_collaborators(
    filter: DashboardFilter,  # noqa: A002
    limit: int = 10,
    *,
    reveal_anonymous: bool = False,
) -> list[CollaboratorRow]:
    """The collaborators with the most confirmed value in the filter. A collaborator who
    gave anonymously asked not to be named in public: their anonymous commitments are one
    "anonymous" row, unless `reveal_anonymous` (administrators, who answer for the data).

    Over whole programs (no period, area or channel) from CollaboratorFigures, kept per
    collaborator and program by commitments.figures.totals; otherwise grouped from the
    filter's confirmed commitments."""
    whole = not (filter.start or filter.end or filter.area is not None or filter.channel)
    if whole:
        # The whole of each program: its collaborators' figures, a row or two each.
        rows = CollaboratorFigures.objects.filter(program__in=filter.program_ids)
        sums = {"n": Sum("count"), "qty": Sum("quantity"), "value": Sum("value_idr")}
    else:
        rows = filter.commitments().filter(status__in=CONFIRMED_STATUSES)
        sums = {"n": Count("pk"), "qty": Sum("quantity"), "value": Sum("value_idr")}
    if reveal_anonymous:
        rows = rows.annotate(who=F("collaborator"))
    else:
        rows = rows.annotate(
            who=Case(When(is_anonymous=True, then=Value(None)), default=F("collaborator"))
        )
    grouped = list(
        rows.values("who")
        .annotate(**sums)
        .order_by(F("value").desc(nulls_last=True), "-n", "who")[:limit]
    )
    names = dict(
        Collaborator.objects.filter(pk__in=[r["who"] for r in grouped if r["who"]]).values_list(
            "pk", "name"
        )
    )
    return [
        CollaboratorRow(
            collaborator_id=r["who"],
            name=names.get(r["who"], "") if r["who"] else str(_("anonymous")),
            count=r["n"],
            quantity=r["qty"] or 0,
            value_idr=Decimal(r["value"] or 0),
        )
        for r in grouped
    ]


@dataclass(frozen=True)
class WaitingRow:
    commitment: Commitment
    waiting_on: str


def pipeline(filter: DashboardFilter, limit: int = 50) -> list[WaitingRow]:  # noqa: A002
    """Pledges and deliveries waiting on someone, the longest-waiting first (by the last
    thing that happened to them)."""
    rows = filter.commitments().filter(status__in=UNDER_WAY_STATUSES)
    return _oldest_first(rows, filter, UNDER_WAY_STATUSES, limit)


def quiet_commitments(
    filter: DashboardFilter,  # noqa: A002
    limit: int = 50,
    *,
    under_way: list[WaitingRow] | None = None,
) -> tuple[list[WaitingRow], int]:
    """Commitments with no event for their program's `no_news_days` (oldest first, at most
    `limit`) and how many there are in all, counted up to QUIET_COUNT_CAP + 1: more than
    QUIET_COUNT_CAP says "more than that many".

    `under_way`: the pipeline of the same filter, at least `limit` long (or all there is).
    For one program the quiet commitments are exactly its first rows, those older than the
    program's no-news days (both lists are ordered by the last event), so they are not read
    again.

    Fewer than `limit` are counted as listed. A full list means there may be many (a
    program with a backlog has tens of thousands, ~100 ms to count at a million
    commitments, for a number nobody reads to the last digit): counting stops after the
    cap, a few index probes."""
    quiet = Commitment.objects.quiet(filter.programs) & filter.commitments()
    if under_way is not None and len(filter.programs) == 1:
        days = filter.programs[0].no_news_days
        since = timezone.now() - datetime.timedelta(days=days)
        rows = [r for r in under_way if r.commitment.last_event_at < since][:limit]
    else:
        rows = _oldest_first(quiet, filter, UNDER_WAY_STATUSES, limit)
    if len(rows) < limit:
        return rows, len(rows)
    counted = quiet.order_by().values("pk")[: QUIET_COUNT_CAP + 1].count()
    return rows, max(counted, len(rows))


# Quiet commitments are counted up to this many (and one more, for "more than").
QUIET_COUNT_CAP = 1000


def _oldest_first(
    rows: QuerySet[Commitment],
    filter: DashboardFilter,  # noqa: A002
    statuses,
    limit: int,
) -> list[WaitingRow]:
    """The `limit` rows with the oldest last_event_at. One ORDER BY over several programs
    and states cannot walk the (program, status, last_event_at) index and sorts every row;
    on PostgreSQL each (program, state) pair takes its own oldest `limit` through the index
    and only those are merged (UNION ALL of LIMITed selects)."""
    ordered = rows.order_by("last_event_at", "pk")
    if connection.vendor == "postgresql" and len(filter.programs) * len(statuses) > 1:
        parts = [
            ordered.filter(program=program.pk, status=status).values_list("pk", "last_event_at")[
                :limit
            ]
            for program in filter.programs
            for status in statuses
        ]
        first, *others = parts
        oldest = sorted(first.union(*others, all=True), key=lambda row: (row[1], row[0]))
        pks = [pk for pk, _ in oldest[:limit]]
        ordered = rows.filter(pk__in=pks).order_by("last_event_at", "pk")
    chosen = ordered.select_related("collaborator", "area", "program", "donation_form").defer(
        *area_geometry_deferred("area")
    )[:limit]
    return [WaitingRow(commitment=c, waiting_on=waiting_on(c)) for c in chosen]


def stale_needs(filter: DashboardFilter, limit: int = 20) -> tuple[list[Need], int]:  # noqa: A002
    """Open needs of the filter's programs and area whose assessment is older than
    Need.STALE_AFTER_DAYS (oldest first) and how many there are. Needs are now: the period
    and channel do not apply."""
    needs = Need.objects.stale().filter(program__in=filter.program_ids)
    if filter.area is not None:
        needs = needs.in_area(filter.area)
    rows = (
        needs.select_related("area", "program", "donation_form")
        .defer(*area_geometry_deferred("area"))
        .order_by("assessed_at", "pk")
    )
    return list(rows[:limit]), needs.count()


# --- adoptions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdoptionRow:
    adoption: Adoption
    areas: list[Area]  # the areas the adopter chose
    value_idr: Decimal  # its works pledged or confirmed: the value so far
    works: int


def active_adoptions(filter: DashboardFilter, limit: int = 50) -> list[AdoptionRow]:  # noqa: A002
    """The filter's programs' active adoptions (in its area, if any: the period and channel
    do not apply), the longest-running first, with their value so far and number of works:
    two queries whatever the number of rows (the sums annotated on the adoptions, their
    chosen areas prefetched)."""
    live = Q(works__commitment__status__in=ACTIVE_STATUSES)
    adoptions = Adoption.objects.filter(
        program__in=filter.program_ids, status=AdoptionStatus.ACTIVE
    )
    if filter.area is not None:
        claims = AdoptionArea.objects.filter(subtree_q([filter.area.path], prefix="area__"))
        adoptions = adoptions.filter(pk__in=claims.values("adoption_id"))
    chosen = (
        AdoptionArea.objects.filter(is_chosen=True)
        .select_related("area__parent")  # an RW's display name says its kelurahan
        .defer(*area_geometry_deferred("area"), *area_geometry_deferred("area__parent"))
        .order_by("area__code")
    )
    rows = (
        adoptions.select_related("collaborator", "program")
        .annotate(
            n_works=Count("works"),
            value=Sum("works__commitment__value_idr", filter=live),
        )
        .prefetch_related(Prefetch("claims", queryset=chosen, to_attr="chosen_claims"))
        .order_by("program__sort_order", "program_id", "agreed_at", "pk")[:limit]
    )
    return [
        AdoptionRow(
            adoption=a,
            areas=[c.area for c in a.chosen_claims],
            value_idr=Decimal(a.value or 0),
            works=a.n_works,
        )
        for a in rows
    ]
