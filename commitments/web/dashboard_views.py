"""Program leads' and administrators' dashboards: which programs and rows are counted is
decided by commitments.reporting.dashboard (dashboard_filter), the figures by dashboard_data."""

from __future__ import annotations

from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from collaborators.roles import scopes_for
from locations.mapdata import layer_versions
from locations.models import Area, Need
from programs.models import Program

from ..models import Status, SummaryDirtyKey
from ..reporting import charts as charts
from ..reporting.dashboard import (
    QUIET_COUNT_CAP,
    active_adoptions,
    dashboard_data,
    dashboard_filter,
    dashboard_programs,
    may_see_dashboards,
    pipeline,
    quiet_commitments,
    stale_needs,
    top_collaborators,
)

COVERAGE_LEVEL = Area.Level.RW


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """All the user's programs together; a lead of one program goes to its own page."""
    scopes = scopes_for(request.user)
    if may_see_dashboards(scopes) and not scopes.is_admin:
        programs = list(dashboard_programs(scopes)[:2])
        if len(programs) == 1:
            url = reverse("program-dashboard", kwargs={"slug": programs[0].slug})
            query = request.GET.urlencode()
            return redirect(f"{url}?{query}" if query else url)
    return _render(request, scopes, program=None)


@login_required
def program_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    scopes = scopes_for(request.user)
    program = get_object_or_404(Program, slug=slug)
    return _render(request, scopes, program=program)


def _render(request: HttpRequest, scopes, *, program: Program | None) -> HttpResponse:
    filter, form = dashboard_filter(scopes, request.GET, program=program)  # noqa: A001
    context = {"form": form, "program": program, "filter": filter}
    if filter is None:
        return render(request, "commitments/dashboard.html", context, status=400)
    # Inside a kota (or kecamatan) the chart goes one level down.
    by_kecamatan = filter.area is not None and filter.area.level in (
        Area.Level.KOTA,
        Area.Level.KECAMATAN,
    )
    figures = _figures(filter, reveal_anonymous=scopes.is_admin, by_kecamatan=by_kecamatan)
    data = figures["data"]
    under_way = pipeline(filter)
    quiet, quiet_total = quiet_commitments(filter, under_way=under_way)
    stale, stale_total = stale_needs(filter)
    versions = layer_versions()
    month_statuses = [
        (value, label)
        for value, label in Status.choices
        if any(value in m.by_status for m in data.months)
    ]
    context.update(
        {
            "data": data,
            "status_rows": [
                (value, label, data.by_status[value])
                for value, label in Status.choices
                if value in data.by_status
            ],
            "month_statuses": month_statuses,
            "month_rows": [
                (m.month, [m.by_status.get(value, 0) for value, _ in month_statuses], m.total)
                for m in data.months
            ],
            "top": figures["top"],
            "pipeline": under_way,
            "quiet": quiet,
            # Counted up to QUIET_COUNT_CAP: beyond, "more than" that many.
            "quiet_total": min(quiet_total, QUIET_COUNT_CAP),
            "quiet_more": quiet_total > QUIET_COUNT_CAP,
            "stale": stale,
            "stale_total": stale_total,
            "adoptions": active_adoptions(filter),  # live, like the lists above: two queries
            "reveal_anonymous": scopes.is_admin,
            "filter_query": filter.as_query(),
            # For the links from area rows, which set the area themselves.
            "filter_querystring": urlencode(
                {k: v for k, v in filter.as_query().items() if k != "area"}
            ),
            "area_tables": [
                (data.by_kota, _("By kota"), "kota-table"),
                (data.by_kecamatan, _("By kecamatan"), "kecamatan-table"),
            ],
            "stale_after_days": Need.STALE_AFTER_DAYS,
            "forms_chart": figures["forms_chart"],
            "forms_chart_by_value": figures["forms_chart_by_value"],
            "months_chart": figures["months_chart"],
            "areas_chart": figures["areas_chart"],
            "areas_chart_by_kecamatan": by_kecamatan,
            "coverage_map": {
                "geometryUrl": (
                    reverse(
                        "map-geometry",
                        kwargs={"level": COVERAGE_LEVEL, "version": versions[COVERAGE_LEVEL]},
                    )
                    if COVERAGE_LEVEL in versions
                    else ""
                ),
                "states": data.coverage.state_by_code(),
                "lang": get_language() or "id",
            },
        }
    )
    return render(request, "commitments/dashboard.html", context)


# Named anew when the cached entry changes shape, so entries cached by an older version are
# not read.
FIGURES_ENTRY = "figures-3"


def _figures(filter, *, reveal_anonymous: bool, by_kecamatan: bool) -> dict:  # noqa: A002
    """The figures, top collaborators and charts of a dashboard, cached under the filter and
    the figures version of its programs (which moves in every transaction that changes
    their summary rows, commitments.figures.summaries.figures_moved): a cached entry is never an
    outdated one, and a change recomputes only the dashboards of its program. The pipeline,
    the quiet commitments and the stale needs depend on the clock and the needs: read
    live (a long list of quiet ones counted up to QUIET_COUNT_CAP). With the
    cache down everything is computed (django-redis ignores the error)."""
    programs = Program.objects.filter(pk__in=filter.program_ids).order_by("pk")
    versions = list(programs.values_list("pk", "figures_version", "live_updated_at"))
    key = filter.cache_key(
        FIGURES_ENTRY, [v[:2] for v in versions], get_language(), reveal_anonymous, by_kecamatan
    )
    figures = cache.get(key)
    if figures is None:
        data = dashboard_data(filter)
        figures = {
            "data": data,
            "top": top_collaborators(filter, reveal_anonymous=reveal_anonymous),
            "forms_chart": charts.forms_chart(data),
            "forms_chart_by_value": charts.forms_chart_by_value(data),
            "months_chart": charts.months_chart(data),
            "areas_chart": charts.areas_chart(data.by_kecamatan if by_kecamatan else data.by_kota),
        }
        cache.set(key, figures, timeout=24 * 3600)
    # "Complete up to" and "waiting" move without the figures moving: read them now.
    data = figures["data"]
    figures["data"] = replace(
        data,
        waiting_for_recompute=SummaryDirtyKey.objects.filter(
            program__in=filter.program_ids
        ).exists(),
        computed_at=(
            min((at for _pk, _version, at in versions if at is not None), default=None)
            if data.by_status
            else None
        ),
    )
    return figures
