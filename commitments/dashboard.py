"""What a program lead's (or administrator's) dashboard and exports look at: the programs a
user may see, and the filters they chose (period, area, channel), as one value that both
the dashboard and the export jobs read, so they always agree on which rows they count.

Figures come from CommitmentSummary (kept by commitments.summaries); lists of single
commitments (pipeline, no news, exports) from Commitment with the same filter.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from collaborators.roles import Scopes
from locations.models import Area
from programs.models import Program

from .models import Commitment, CommitmentSummary
from .summaries import JAKARTA, month_bounds

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
            ("", _("all of Jakarta")),
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

    def commitments(self) -> QuerySet[Commitment]:
        """The same rows, one per commitment (months counted in Jakarta, as the summaries)."""
        rows = Commitment.objects.filter(program__in=self.program_ids)
        if self.start:
            rows = rows.filter(created_at__gte=month_bounds(self.start)[0])
        if self.end:
            rows = rows.filter(created_at__lt=month_bounds(self.end)[1])
        if self.area is not None:
            rows = rows.filter(Q(area=self.area) | Q(area__path__startswith=self.area.path + "/"))
        if self.channel:
            rows = rows.filter(channel=self.channel)
        return rows

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


def this_month() -> datetime.date:
    return datetime.datetime.now(JAKARTA).date().replace(day=1)
