"""The donation assistant: asked by a donor (members of a collaborator), explained (public)
and tuned (program leads, administrators).

Who may tune a program's weights is who may see its dashboard (dashboard_programs): its leads
and administrators; another program's page is 403, an unknown one 404.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import collaborators_for, scopes_for
from locations.models import Area, Need
from programs.models import ASSISTANT_WEIGHT_NAMES, Program
from programs.units import quantity_with_unit

from ..assistant.engine import (
    CHUNKS_PER_NEED,
    FEW_MAX_LINES,
    PROXIMITY_HALF_KM,
    AssistantRequest,
    Plan,
    RequestInvalid,
    Weights,
    part_explanations,
    plan_propose,
)
from ..assistant.plans import MAX_PLAN_LINES
from ..reporting.dashboard import dashboard_programs
from .assistant_forms import AssistantRequestForm, WeightsForm
from .forms import PlanForm

SAMPLE_LINES = 10


@login_required
def assistant(request):
    """The donor's page: the request form; with its parameters in the query string (so a
    plan can be bookmarked and reloaded), the plan as a list and a small map, and the form
    that pledges it in one action (commitments.web.plan_views)."""
    collaborators = collaborators_for(request.user)
    if not collaborators.exists():
        messages.info(
            request, _("First register your organisation, or yourself, as a collaborator.")
        )
        return redirect("onboarding")
    asked = any(name in request.GET for name in AssistantRequestForm.base_fields)
    form = AssistantRequestForm(request.GET if asked else None)
    plan, status = None, 200
    if asked:
        if form.is_valid():
            try:
                plan = plan_propose(form.assistant_request())
            except RequestInvalid as invalid:
                form.add_error(None, str(invalid))
        status = 200 if plan is not None else 400
    context = {"form": form, "plan": plan}
    if plan is not None:
        context.update(_plan_context(plan, form, collaborators))
    return render(request, "commitments/assistant.html", context, status=status)


def _plan_context(plan: Plan, form: AssistantRequestForm, collaborators) -> dict:
    unit = plan.request.donation_form.unit
    program_id = plan.request.program.pk
    # Those who may pledge in this program (pledger_check refuses the rejected anyway).
    pledgers = collaborators.with_standing(program_id).exclude(
        standing=Collaborator.Verification.REJECTED
    )
    pledge_form = PlanForm(initial={"key": uuid.uuid4().hex, "collaborator": pledgers.first()})
    pledge_form.fields["collaborator"].queryset = pledgers
    # plan_pledge takes at most MAX_PLAN_LINES lines; the best ones are pledged first and
    # the page says so, rather than the pledge coming back as a changed plan.
    pledged_lines = plan.lines[:MAX_PLAN_LINES]
    return {
        "unit": unit,
        "total_quantity": quantity_with_unit(plan.total_quantity, unit),
        "pledge_form": pledge_form,
        "pledgers": list(pledgers),
        "pledged_lines": pledged_lines,
        "max_plan_lines": MAX_PLAN_LINES,
        "plan_map": _plan_map(plan, form),
    }


def _place(line) -> str:
    return line.need.site.name if line.need.site else line.need.area.display_name


def _plan_map(plan: Plan, form: AssistantRequestForm) -> dict:
    """The small map's data: a marker per line and the start, with the outlines of the
    lines' areas and the start kelurahan so the map reads without any tiles."""
    unit = plan.request.donation_form.unit
    start_area = form.start_area() if form.cleaned_data.get("lon") is None else None
    area_ids = {line.need.area_id for line in plan.lines}
    if start_area is not None:
        area_ids.add(start_area.pk)
    outlines = [
        {
            "type": "Feature",
            "properties": {"s": pk == getattr(start_area, "pk", None)},
            "geometry": g,
        }
        for pk, g in Area.objects.with_geometry()
        .filter(pk__in=area_ids)
        .values_list("pk", "display_geometry")
        if g
    ]
    return {
        "lang": get_language() or "id",
        "tiles": {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION},
        "start": list(plan.request.start) if plan.request.start else None,
        "startLabel": _("Your starting point"),
        "lines": [
            {
                "n": number,
                "x": line.point[0],
                "y": line.point[1],
                "label": f"{number}. {_place(line)} · {quantity_with_unit(line.quantity, unit)}",
                "url": reverse("area-detail", kwargs={"code": line.need.area.code}),
            }
            for number, line in enumerate(plan.lines, start=1)
            if line.point
        ],
        "areas": {"type": "FeatureCollection", "features": outlines},
    }


def assistant_method(request):
    """The formula, each part's meaning and source, the default weights and each program's."""
    defaults = Weights().as_dict()
    labels = {part["name"]: part["label"] for part in part_explanations()}
    programs = [
        {
            "program": program,
            "own": [
                (labels[name], value)
                for name, value in Weights.for_program(program).as_dict().items()
                if value != defaults[name]
            ],
        }
        for program in Program.objects.order_by("sort_order", "pk")
    ]
    parts = part_explanations()
    for part in parts:
        part["weight"] = defaults[part["name"]]
    return render(
        request,
        "commitments/assistant_method.html",
        {
            "parts": parts,
            "programs": programs,
            "stale_after_days": Need.STALE_AFTER_DAYS,
            "few_max_lines": FEW_MAX_LINES,
            "chunks_per_need": CHUNKS_PER_NEED,
            "proximity_half_km": int(PROXIMITY_HALF_KM),
        },
    )


@login_required
def assistant_weights_programs(request):
    """The programs the user may tune; a lead of one program goes straight to it."""
    programs = list(dashboard_programs(scopes_for(request.user)))
    if not programs:
        raise PermissionDenied(_("Only program leads and administrators tune the assistant."))
    if len(programs) == 1:
        return redirect("assistant-weights", slug=programs[0].slug)
    return render(request, "commitments/assistant_weights_programs.html", {"programs": programs})


@login_required
def assistant_weights(request, slug: str):
    program = get_object_or_404(Program, slug=slug)
    if not dashboard_programs(scopes_for(request.user)).filter(pk=program.pk).exists():
        raise PermissionDenied(_("You do not lead this program."))
    stored = Weights.for_program(program).as_dict()
    initial = {
        name: stored[name] for name in ASSISTANT_WEIGHT_NAMES if name in program.assistant_weights
    }
    if request.method == "POST":
        form = WeightsForm(request.POST, program=program)
        action = request.POST.get("action", "preview")
        if action == "reset":
            Program.objects.filter(pk=program.pk).update(assistant_weights={})
            messages.success(request, _("The program uses the default weights again."))
            return redirect("assistant-weights", slug=program.slug)
        if form.is_valid() and action == "save":
            # One column, not save(): the program's live figures are written meanwhile.
            Program.objects.filter(pk=program.pk).update(assistant_weights=form.overrides())
            messages.success(request, _("The weights are saved; new plans use them."))
            return redirect("assistant-weights", slug=program.slug)
        status = 200 if form.is_valid() else 400
    else:
        form = WeightsForm(program=program, initial={**initial, "sample_quantity": 100})
        status = 200
    weights = form.weights() if form.is_bound and form.is_valid() else Weights(**initial)
    return render(
        request,
        "commitments/assistant_weights.html",
        {
            "program": program,
            "form": form,
            "weights": weights.as_dict(),
            "defaults": Weights().as_dict(),
            "sample": _sample_plan(program, form, weights),
        },
        status=status,
    )


def _sample_plan(program: Program, form: WeightsForm, weights: Weights):
    """What a donor of the chosen form (default: the one with most open needs) giving the
    chosen number of units, from nowhere in particular, would be proposed."""
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    donation_form = data.get("sample_form") or form.initial.get("sample_form")
    if donation_form is None:
        donation_form = (
            program.donation_forms.filter(needs__in=Need.objects.open())
            .order_by("sort_order", "pk")
            .first()
        )
    if donation_form is None:
        return None
    if not form.is_bound:
        form.initial["sample_form"] = donation_form.pk  # the select shows what the sample is of
    quantity = data.get("sample_quantity") or 100
    plan = plan_propose(
        AssistantRequest(program=program, donation_form=donation_form, quantity=quantity),
        weights=weights,
    )
    return {
        "form": donation_form,
        "quantity": quantity,
        "plan": plan,
        "lines": plan.lines[:SAMPLE_LINES],
    }
