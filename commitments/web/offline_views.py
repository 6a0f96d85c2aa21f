"""Commitments made outside the portal: the list a lead or facilitator keeps, and the form
that records one (commitments.lifecycle.offline holds the rules)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from collaborators.roles import Scopes, scopes_for
from locations.models import Area, Need, area_geometry_deferred

from ..lifecycle.offline import TARGET_LEVELS, commitment_record_offline, offline_roles
from ..models import Commitment
from ..workflow import TransitionRefused
from .forms import OfflineCommitmentForm


def _recorder_scopes(request) -> Scopes:
    scopes = scopes_for(request.user)
    if not scopes.confirms_anything:  # the people who would have confirmed it
        raise PermissionDenied
    return scopes


@login_required
def offline_list(request):
    scopes = _recorder_scopes(request)
    commitments = (
        Commitment.objects.visible_to(scopes)
        .filter(channel=Commitment.Channel.OFFLINE)
        .select_related("collaborator", "area", "area__parent", "program", "donation_form")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(commitments, 25).get_page(request.GET.get("page"))
    return render(request, "commitments/offline_list.html", {"page": page})


@login_required
def offline_create(request):
    scopes = _recorder_scopes(request)
    need = _need_in_scope(request.GET.get("need", ""), scopes)
    preset = _area_in_scope(request.GET.get("area", ""), scopes) if need is None else None
    form = OfflineCommitmentForm(
        request.POST or None,
        need=need,
        # Leads choose among their programs' forms; facilitators record for any program.
        program_ids=None if scopes.is_admin or scopes.is_facilitator else scopes.program_ids,
        initial={"area": preset.code} if preset else {},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = commitment_record_offline(
                    actor=request.user,
                    collaborator=data["collaborator"],
                    need=need,
                    area=data.get("area"),
                    donation_form=need.donation_form if need else data["donation_form"],
                    quantity=data["quantity"],
                    value_idr=data["value_idr"],
                    made_on=data["made_on"],
                    note=data["note"],
                    idempotency_key=data["key"],
                )
            except TransitionRefused as refusal:
                form.add_error(None, refusal.message)
                status = 403 if refusal.forbidden else 409
            else:
                if result.created:
                    messages.success(request, _("The offline commitment is recorded."))
                else:
                    messages.info(request, _("This commitment was already recorded."))
                return redirect(result.commitment)
        else:
            status = 400
    return render(
        request,
        "commitments/offline_form.html",
        {
            "form": form,
            "need": need,
            "area": preset,
            "area_needs": _needs_to_choose(preset, scopes) if preset else [],
            "areas": _areas_in_scope(scopes),
        },
        status=status,
    )


def _need_in_scope(raw: str, scopes: Scopes) -> Need | None:
    """The need named in the URL; one the user may not record for is a 404."""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise Http404("No such need")
    need = (
        Need.objects.select_related("area", "area__parent", "site", "program", "donation_form")
        .filter(pk=int(raw))
        .first()
    )
    if need is None or not offline_roles(
        scopes, area=need.area, site=need.site, program_id=need.program_id
    ):
        raise Http404("No such need")
    return need


def _area_in_scope(code: str, scopes: Scopes) -> Area | None:
    """The RW or kelurahan named in the URL, if the user may record for it at all."""
    area = Area.objects.select_related("parent").filter(code=code[:40], level__in=TARGET_LEVELS)
    area = area.first() if code else None
    if area is None or not scopes.keeps_needs_in(area):
        return None
    return area


def _needs_to_choose(area: Area, scopes: Scopes):
    """Open needs of the area the user may record against: all of them for its
    facilitators, their programs' for leads."""
    needs = Need.objects.open().in_area(area)
    if not (scopes.is_admin or scopes.facilitates(area)):
        needs = needs.filter(program__in=scopes.program_ids)
    return needs.select_related("area", "area__parent", "site", "donation_form").order_by(
        "priority", "pk"
    )[:30]


def _areas_in_scope(scopes: Scopes) -> list[Area]:
    """Suggestions for the area field: the RW and kelurahan a facilitator covers (leads
    and administrators search all of Jakarta as they type)."""
    if not scopes.area_paths:
        return []
    return list(
        Area.objects.within(*scopes.area_paths)
        .filter(level__in=TARGET_LEVELS)
        .select_related("parent")
        .order_by("code")[:300]
    )
