"""Lists of work: the workspace, a collaborator's commitments, the facilitator's and
lead's inbox, notifications, and the verification queue. Which rows each user sees is
answered by the QuerySets (Commitment.objects.to_confirm, Delivery.objects.to_receive...)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collaborators.models import Collaborator, Membership
from collaborators.roles import scopes_for
from locations.models import area_geometry_deferred
from programs.models import Program

from ..lifecycle.verification import (
    VerificationRefused,
    collaborator_decide,
    collaborators_awaiting_decision,
)
from ..models import Commitment, Delivery, Notification, Status
from .commitment_views import NEXT_STEP
from .forms import DecisionForm

QUEUE_PAGE_SIZE = 50


@login_required
def workspace(request):
    scopes = scopes_for(request.user)
    memberships = Membership.objects.filter(user=request.user).select_related("collaborator")
    owned_pending = Membership.objects.filter(
        collaborator__in=scopes.owner_of, role=Membership.Role.PENDING
    ).count()
    return render(
        request,
        "commitments/workspace.html",
        {
            "scopes": scopes,
            "memberships": memberships,
            "owned_pending": owned_pending,
            "my_counts": dict(
                Commitment.objects.of_collaborators(scopes)
                .values_list("status")
                .annotate(n=Count("pk"))
                .order_by()
            ),
            # Counted without the inbox's joins and annotations: an index range each.
            "pledges_to_confirm": Commitment.objects.to_confirm(scopes).count(),
            "deliveries_to_receive": Delivery.objects.to_receive(scopes).count(),
        },
    )


@login_required
def my_commitments(request):
    scopes = scopes_for(request.user)
    programs = list(Program.objects.all())
    commitments = (
        Commitment.objects.of_collaborators(scopes)
        .with_quiet(programs)
        .select_related("collaborator", "area", "area__parent", "program", "donation_form")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .order_by("-created_at", "-pk")
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        commitments = commitments.filter(status=status)
    program = next((p for p in programs if p.slug == request.GET.get("program", "")), None)
    if program:
        commitments = commitments.filter(program=program)
    page = Paginator(commitments, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "commitments/my_commitments.html",
        {
            "page": page,
            "statuses": Status.choices,
            "status": status,
            "programs": programs,
            "program": program,
            "may_ask_assistant": bool(scopes.collaborator_ids),
            "next_step": NEXT_STEP,
        },
    )


def _inbox(scopes):
    """Pledges to confirm and deliveries to receive in the user's areas and programs."""
    pledges = (
        Commitment.objects.to_confirm(scopes)
        .with_standing()
        .select_related("collaborator", "area", "area__parent", "program", "donation_form")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .order_by("created_at", "pk")
    )
    deliveries = (
        Delivery.objects.to_receive(scopes)
        .select_related(
            "commitment",
            "commitment__collaborator",
            "commitment__area",
            "commitment__area__parent",
            "commitment__donation_form",
        )
        .defer(*area_geometry_deferred("commitment__area", "commitment__area__parent"))
        .prefetch_related("proofs")
        .order_by("recorded_at", "pk")
    )
    return pledges, deliveries


@login_required
def facilitator_inbox(request):
    scopes = scopes_for(request.user)
    if not scopes.confirms_anything:
        raise PermissionDenied
    pledges, deliveries = _inbox(scopes)
    return render(
        request,
        "commitments/inbox.html",
        {"pledges": pledges[:100], "deliveries": deliveries[:100]},
    )


@login_required
def notifications(request):
    if request.method == "POST":
        Notification.objects.filter(user=request.user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        return redirect("notifications")
    page = Paginator(Notification.objects.filter(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "commitments/notifications.html", {"page": page})


@login_required
def verification_queue(request):
    """Program leads decide on the collaborators who pledged to their programs, for those
    programs; administrators decide for the whole portal."""
    scopes = scopes_for(request.user)
    if not (scopes.is_lead or scopes.is_admin):
        raise PermissionDenied
    return _queue_page(request, scopes)


def _queue_page(request, scopes, status: int = 200) -> HttpResponse:
    return render(
        request,
        "commitments/verification_queue.html",
        {
            "queue": collaborators_awaiting_decision(scopes),
            "is_admin": scopes.is_admin,
            # Each group shows a page's worth; the rest follow as these are decided.
            "queue_page_size": QUEUE_PAGE_SIZE,
            "queue_slice": f":{QUEUE_PAGE_SIZE}",
        },
        status=status,
    )


@login_required
@require_POST
def verify_collaborator(request, slug: str):
    scopes = scopes_for(request.user)
    if not (scopes.is_lead or scopes.is_admin):
        raise PermissionDenied
    collaborator = get_object_or_404(Collaborator, slug=slug)
    form = DecisionForm(request.POST, program_ids=sorted(scopes.program_ids))
    try:
        if "program" in form.errors and not scopes.is_admin:  # a program they do not lead
            raise VerificationRefused(
                _("You can decide only on collaborators who pledged to a program you lead."),
                forbidden=True,
            )
        if not form.is_valid():
            messages.error(request, _("Choose verify or reject."))
            return redirect("verification-queue")
        done = collaborator_decide(
            actor=request.user,
            collaborator=collaborator,
            verify=form.cleaned_data["decision"] == "verify",
            program_id=form.cleaned_data["program"],
            reason=form.cleaned_data["reason"],
        )
    except VerificationRefused as refusal:
        messages.error(request, refusal.message)
        if refusal.forbidden:
            return _queue_page(request, scopes, status=403)
        return redirect("verification-queue")
    messages.success(request, done)
    return redirect("verification-queue")
