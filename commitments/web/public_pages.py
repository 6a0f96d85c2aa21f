"""Public pages that show commitments: the home page, the area page and the map's area panel."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from collaborators.models import Collaborator
from collaborators.roles import scopes_for
from locations.mapdata import NeedFilter, need_state
from locations.models import Area, AreaIndicator, Need, area_geometry_deferred
from programs.models import Program

from ..figures.totals import area_figures
from ..models import Commitment


def area_or_404(code: str) -> Area:
    area = Area.objects.select_related("parent").filter(code=code).first()
    if area is None:
        raise Http404("No area with this code")
    return area


def _open_needs(area: Area, limit: int):
    return (
        Need.objects.open()
        .in_area(area)
        .select_related("area", "area__parent", "site", "donation_form", "program")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .order_by("priority", "-assessed_at", "pk")[:limit]
    )


def _recent_commitments(area: Area, limit: int):
    if area.level == Area.Level.RW:
        here = Commitment.objects.filter(area_id=area.pk)
    elif area.level == Area.Level.PROVINCE:
        here = Commitment.objects.all()
    else:
        within = Area.objects.within(area.path)
        here = Commitment.objects.filter(
            pk__in=_newest_ids(list(within.values_list("pk", flat=True)), limit)
        )
    return (
        here.with_standing()
        .select_related("collaborator", "donation_form", "area", "area__parent")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .order_by("-created_at", "-pk")[:limit]
    )


def _newest_ids(area_ids: list[int], limit: int) -> list[int]:
    """The ids of the newest `limit` commitments in these areas, reading at most `limit`
    rows per area through the index (area, -created_at). A plain `area_id IN (...) ORDER BY
    created_at` lets PostgreSQL walk every commitment by date, hoping to meet the areas'
    rows soon: for areas with few or none that reads the whole table."""
    if connection.vendor != "postgresql":
        # SQLite probes the index for each id of the list, then sorts what it found.
        return list(
            Commitment.objects.filter(area_id__in=area_ids)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[:limit]
        )
    table = connection.ops.quote_name(Commitment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT newest.id FROM unnest(%s::bigint[]) AS here(area_id)
            CROSS JOIN LATERAL (
                SELECT c.id, c.created_at FROM {table} c WHERE c.area_id = here.area_id
                ORDER BY c.created_at DESC, c.id DESC LIMIT %s
            ) AS newest
            ORDER BY newest.created_at DESC, newest.id DESC LIMIT %s
            """,  # noqa: S608 - the table name comes from the model, values are parameters
            [area_ids, limit, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _last_assessment(area: Area):
    """The most recent assessment in the area: when, and by which role (never the person)."""
    return (
        Need.objects.in_area(area)
        .order_by("-assessed_at")
        .values("assessed_at", "assessed_by_role")
        .first()
    )


def area_panel(request: HttpRequest, code: str) -> HttpResponse:
    area = area_or_404(code)
    needs = list(_open_needs(area, limit=6))
    return render(
        request,
        "commitments/area_panel.html",
        {
            "area": area,
            "ancestors": area.ancestors(),
            "needs": needs[:5],
            "more_needs": len(needs) > 5,
            "last_assessment": _last_assessment(area),
            "commitments": _recent_commitments(area, limit=5),
            "figures": area_figures(area=area),
            "computed_at": Program.figures_computed_at(),
        },
    )


def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    area = area_or_404(code)
    ancestors = area.ancestors()
    needs = list(_open_needs(area, limit=51))
    children = list(Area.objects.filter(parent=area).order_by("code"))
    child_state = {}
    if children:
        child_state = need_state(children[0].level, NeedFilter())["areas"]
    indicators = list(
        AreaIndicator.objects.filter(area__code__in=[*area.ancestor_codes, area.code])
        .select_related("area")
        .order_by("area__path", "indicator", "breakdown", "period")
    )
    # Flood history of a kelurahan: how many of its RW were flooded on each observed day.
    flood_counts = dict(
        AreaIndicator.objects.filter(indicator="flood-state", area__parent=area, value__gte=1)
        .values("period")
        .annotate(rw=Count("pk"))
        .order_by("period")
        .values_list("period", "rw")
    )
    geometry = (
        Area.objects.with_geometry().values_list("display_geometry", flat=True).get(pk=area.pk)
    )
    inset = {
        "area": {"type": "Feature", "properties": {"n": area.name}, "geometry": geometry},
        "children": [],
    }
    if area.level == Area.Level.KELURAHAN:
        inset["children"] = [
            {"type": "Feature", "properties": {"n": name, "c": code}, "geometry": shape}
            for code, name, shape in Area.objects.with_geometry()
            .filter(parent=area)
            .values_list("code", "name", "display_geometry")
        ]
    return render(
        request,
        "commitments/area_detail.html",
        {
            "area": area,
            "ancestors": ancestors,
            "needs": needs[:50],
            "more_needs": len(needs) > 50,
            "last_assessment": _last_assessment(area),
            "commitments": _recent_commitments(area, limit=20),
            "figures": area_figures(area=area),
            "computed_at": Program.figures_computed_at(),
            "children": [(child, child_state.get(child.code)) for child in children],
            "own_indicators": [i for i in indicators if i.area_id == area.pk],
            "inherited_indicators": [i for i in indicators if i.area_id != area.pk],
            "flood_counts": flood_counts,
            "inset": inset,
            "today": timezone.localdate(),
            "may_keep_needs": _may_keep_needs(request.user, area),
        },
    )


def _may_keep_needs(user, area: Area) -> bool:
    """Whether to link the area page to keeping its needs (the views check again)."""
    return scopes_for(user).keeps_needs_in(area)


def home(request: HttpRequest) -> HttpResponse:
    """Here, not in programs: the collaborator total counts each collaborator once, as the
    gallery lists them (one may give to several programs), which programs cannot see."""
    programs = list(Program.objects.prefetch_related("donation_forms"))
    totals = {
        "collaborators": Collaborator.objects.verified().count(),
        "commitments": sum(p.live_commitments for p in programs),
        "value": sum(p.live_value_idr for p in programs),
        "rw": sum(p.live_rw_covered for p in programs),
        "reported_value": sum(p.reported_value_idr or 0 for p in programs),
        "computed_at": max(
            (p.live_updated_at for p in programs if p.live_updated_at), default=None
        ),
    }
    return render(request, "programs/home.html", {"programs": programs, "totals": totals})
