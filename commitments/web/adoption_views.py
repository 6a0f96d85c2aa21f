"""Area adoption pages: the public adoption page, the proposal (and its edit after the lead
asked for changes), the facilitator's comment, the lead's decisions, the adopter's works,
and the list of adoptions each person has to act on. Rules: commitments.adoption.rules,
commitments.lifecycle.adoption_works."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collaborators.models import Collaborator
from collaborators.roles import scopes_for
from locations.models import Area
from programs.models import Program

from ..adoption.mapdata import adopted_areas
from ..adoption.models import HOLDING, Adoption, AdoptionStatus, AdoptionWork
from ..adoption.progress import adoption_progress
from ..adoption.public_proofs import adoption_public_photos
from ..adoption.rules import (
    AdoptionRefused,
    adopting_collaborators,
    adoption_agree,
    adoption_comment,
    adoption_decline,
    adoption_end,
    adoption_propose,
    adoption_request_changes,
    adoption_resubmit,
    adoption_roles,
    adoption_withdraw,
    agreement_refusal,
)
from ..lifecycle.adoption_works import adoption_work_add
from ..lifecycle.pledges import PledgeRefused
from .adoption_forms import CommentForm, DecisionForm, ProposalForm, WorkForm, proposal_initial

TEMPLATES = "adoption/"


def _visible(request, pk: int) -> Adoption:
    scopes = scopes_for(request.user)
    adoption = (
        Adoption.objects.visible_to(scopes)
        .select_related("collaborator", "program", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if adoption is None:
        raise Http404("No such adoption")
    return adoption


def adoption_list(request):
    """Every active adoption (and ended ones), for anyone."""
    adoptions = (
        Adoption.objects.public()
        .select_related("collaborator", "program")
        .order_by("status", "-agreed_at", "-pk")
    )
    page = Paginator(adoptions, 25).get_page(request.GET.get("page"))
    return render(request, TEMPLATES + "adoption_list.html", {"page": page})


def adoption_detail(request, pk: int, *, forms=None, status: int = 200):
    adoption = _visible(request, pk)
    roles = adoption_roles(scopes_for(request.user), adoption)
    works = (
        AdoptionWork.objects.filter(adoption=adoption)
        .select_related(
            "phase", "commitment", "commitment__donation_form", "commitment__area__parent"
        )
        .defer("commitment__area__geometry", "commitment__area__display_geometry")
        .order_by("-commitment__created_at")[:100]
    )
    is_open = adoption.status in (AdoptionStatus.PROPOSED, AdoptionStatus.CHANGES_REQUESTED)
    refusal, unfacilitated = (
        agreement_refusal(adoption) if "lead" in roles and is_open else (None, False)
    )
    forms = forms or {}
    context = {
        "adoption": adoption,
        "roles": roles,
        "areas": adoption.chosen_areas(),
        "claimed": adoption.claims.count(),
        "progress": adoption_progress(adoption),
        "works": works,
        "comments": adoption.comments.select_related("area", "area__parent"),
        "is_open": is_open,
        "comment_form": forms.get("comment") or CommentForm(),
        "decision_form": forms.get("decision") or DecisionForm(),
        "agreement_refusal": refusal,
        "unfacilitated": unfacilitated,
        "errors": forms.get("errors", []),
        "inset": _inset(adoption),
        "photos": adoption_public_photos(adoption),
    }
    return render(request, TEMPLATES + "adoption_detail.html", context, status=status)


def _inset(adoption: Adoption) -> dict:
    """The adopted areas for the area page's small map (static/js/area-inset.js): one
    feature holding each chosen area's simplified shape."""
    shapes = [
        shape
        for shape in Area.objects.with_geometry()
        .filter(adoption_claims__adoption=adoption, adoption_claims__is_chosen=True)
        .values_list("display_geometry", flat=True)
        if shape
    ]
    geometry = {"type": "GeometryCollection", "geometries": shapes} if shapes else None
    feature = {"type": "Feature", "properties": {"n": adoption.name}, "geometry": geometry}
    return {"area": feature, "children": []}


def _choose(request, collaborators):
    """The area and program of a new proposal, from the query string (the area page's
    "adopt this area" link); None and a chooser page when one is missing."""
    code = request.GET.get("area", "")[:40]
    area = (
        Area.objects.select_related("parent")
        .filter(code=code, level__in=(Area.Level.RW, Area.Level.KELURAHAN))
        .first()
        if code
        else None
    )
    slug = request.GET.get("program", "")[:50]
    program = Program.objects.filter(slug=slug).first() if slug else None
    return area, program


@login_required
def adoption_propose_view(request):
    collaborators = adopting_collaborators(request.user)
    if not collaborators:
        return render(
            request,
            TEMPLATES + "adoption_refused.html",
            {"message": _("Only members of a verified collaborator can propose an adoption.")},
            status=403,
        )
    area, program = _choose(request, collaborators)
    if area is None or program is None:
        context = {"area": area, "programs": Program.objects.order_by("sort_order", "slug")}
        return render(request, TEMPLATES + "adoption_choose.html", context)
    kelurahan = area.parent if area.level == Area.Level.RW else area
    initial = {"rw": [area.code]} if area.level == Area.Level.RW else {"whole_kelurahan": True}
    form = ProposalForm(
        request.POST or None,
        kelurahan=kelurahan,
        program=program,
        collaborators=Collaborator.objects.filter(pk__in=[c.pk for c in collaborators]),
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                adoption = adoption_propose(
                    user=request.user,
                    collaborator=form.cleaned_data["collaborator"],
                    program=program,
                    proposal=form.proposal(),
                )
            except AdoptionRefused as refusal:
                form.add_error(None, refusal.message)
                status = 403 if refusal.forbidden else 409
            else:
                messages.success(request, _("Your proposal is sent to the program lead."))
                return redirect(adoption)
        else:
            status = 400
    context = {"form": form, "area": area, "program": program, "adoption": None}
    return render(request, TEMPLATES + "adoption_form.html", context, status=status)


@login_required
def adoption_edit_view(request, pk: int):
    adoption = _visible(request, pk)
    roles = adoption_roles(scopes_for(request.user), adoption)
    if "adopter" not in roles or adoption.status != AdoptionStatus.CHANGES_REQUESTED:
        raise Http404("Not editable")
    kelurahan, initial = proposal_initial(adoption)
    form = ProposalForm(
        request.POST or None,
        kelurahan=kelurahan,
        program=adoption.program,
        collaborators=Collaborator.objects.filter(pk=adoption.collaborator_id),
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                adoption_resubmit(
                    user=request.user, adoption_id=adoption.pk, proposal=form.proposal()
                )
            except AdoptionRefused as refusal:
                form.add_error(None, refusal.message)
                status = 403 if refusal.forbidden else 409
            else:
                messages.success(request, _("Your edited proposal is sent to the program lead."))
                return redirect(adoption)
        else:
            status = 400
    context = {"form": form, "area": kelurahan, "program": adoption.program, "adoption": adoption}
    return render(request, TEMPLATES + "adoption_form.html", context, status=status)


@login_required
@require_POST
def adoption_comment_view(request, pk: int):
    adoption = _visible(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return adoption_detail(request, pk, forms={"comment": form}, status=400)
    try:
        adoption_comment(user=request.user, adoption_id=adoption.pk, text=form.cleaned_data["text"])
    except AdoptionRefused as refusal:
        return _refused(request, pk, refusal)
    messages.success(request, _("Your comment is recorded."))
    return redirect(adoption)


DECIDE = {
    "agree": adoption_agree,
    "changes": adoption_request_changes,
    "decline": adoption_decline,
    "end": adoption_end,
}


@login_required
@require_POST
def adoption_decide(request, pk: int):
    adoption = _visible(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return adoption_detail(request, pk, forms={"decision": form}, status=400)
    decide = DECIDE[form.cleaned_data["decision"]]
    try:
        adoption = decide(
            user=request.user, adoption_id=adoption.pk, note=form.cleaned_data["note"]
        )
    except AdoptionRefused as refusal:
        return _refused(request, pk, refusal)
    messages.success(
        request, _("The adoption is now: %(status)s.") % {"status": adoption.get_status_display()}
    )
    return redirect(adoption)


@login_required
@require_POST
def adoption_withdraw_view(request, pk: int):
    adoption = _visible(request, pk)
    try:
        adoption_withdraw(user=request.user, adoption_id=adoption.pk)
    except AdoptionRefused as refusal:
        return _refused(request, pk, refusal)
    messages.success(request, _("Your proposal is withdrawn."))
    return redirect(adoption)


def _refused(request, pk: int, refusal: AdoptionRefused):
    if refusal.forbidden:
        return render(
            request,
            TEMPLATES + "adoption_refused.html",
            {"message": refusal.message, "back": pk},
            status=403,
        )
    return adoption_detail(request, pk, forms={"errors": [refusal.message]}, status=409)


@login_required
def adoption_work_create(request, pk: int):
    adoption = _visible(request, pk)
    if "adopter" not in adoption_roles(scopes_for(request.user), adoption):
        raise Http404("Not the adopter")
    form = WorkForm(request.POST or None, adoption=adoption, initial={"key": uuid.uuid4().hex})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = adoption_work_add(
                    user=request.user,
                    adoption=adoption,
                    phase=data["phase"],
                    donation_form=data["donation_form"],
                    area=data["area"],
                    quantity=data["quantity"],
                    idempotency_key=data["key"],
                    planned_delivery_on=data["planned_delivery_on"],
                    value_idr=data["value_idr"],
                    note=data["note"],
                )
            except PledgeRefused as refusal:
                form.add_error(None, refusal.message)
                status = 409
            else:
                if result.created:
                    messages.success(request, _("The work is added; the facilitator confirms it."))
                return redirect(adoption)
        else:
            status = 400
    context = {"form": form, "adoption": adoption}
    return render(request, TEMPLATES + "work_form.html", context, status=status)


@login_required
def my_adoptions(request):
    """What each person has to act on: the lead's proposals to decide, the facilitator's to
    comment on, and the adopter's own adoptions."""
    scopes = scopes_for(request.user)
    base = Adoption.objects.select_related("collaborator", "program")
    to_decide = base.filter(status=AdoptionStatus.PROPOSED)
    if not scopes.is_admin:
        to_decide = to_decide.filter(program__in=scopes.program_ids)
    to_comment = (
        base.filter(status__in=HOLDING[:2], claims__area__in=scopes.area_ids).distinct()
        if scopes.area_ids
        else base.none()
    )
    own = base.filter(collaborator__in=scopes.collaborator_ids)
    context = {
        "to_decide": to_decide.order_by("proposed_at")[:100],
        "to_comment": to_comment.order_by("proposed_at")[:100],
        "own": own.order_by("-proposed_at")[:100],
        "may_propose": bool(adopting_collaborators(request.user)),
    }
    return render(request, TEMPLATES + "my_adoptions.html", context)


@require_GET
def adopted_areas_map(request):
    """The areas held by active adoptions, for the needs map's outlines (public: the
    adoptions' own pages are)."""
    response = JsonResponse(adopted_areas())
    response["Cache-Control"] = "public, max-age=60"  # as the map's sites
    return response
