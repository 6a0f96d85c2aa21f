"""Signed-in work: pledging, the commitment page and its actions, deliveries with proof,
the collaborator's and the facilitator's workspaces, notifications, verification.

Every view checks, on the server, that the user may see and act on the object it names
(commitments.workflow / collaborators.roles); a commitment the user has no role on is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collaborators.models import Collaborator, Membership
from collaborators.roles import collaborators_for, scopes_for
from locations.models import Need
from programs.models import Program

from .forms import DecisionForm, DeliveryForm, PledgeForm, StatusForm
from .limits import PledgeLimits
from .models import Commitment, Delivery, DeliveryProof, Notification, Status
from .services import (
    PledgeRefused,
    commitment_pledge,
    commitment_transition,
    delivery_confirm,
    delivery_record,
)
from .verification import (
    VerificationRefused,
    collaborator_decide,
    collaborators_awaiting_decision,
)
from .workflow import (
    CONFIRM_DELIVERY_ROLES,
    RECORD_DELIVERY_ROLES,
    TransitionRefused,
    available,
    commitment_roles,
)

NEXT_STEP = {
    Status.PLEDGED: gettext_lazy("Waiting for the facilitator to confirm"),
    Status.COMMITTED: gettext_lazy("Deliver, then record the delivery with proof"),
    Status.DELIVERED: gettext_lazy("Waiting for the facilitator to confirm receipt"),
    Status.COMPLETED: gettext_lazy("Done: thank you"),
    Status.CANCELLED: gettext_lazy("Cancelled"),
    Status.REJECTED: gettext_lazy("Rejected"),
    Status.EXPIRED: gettext_lazy("Expired"),
}


def _visible_commitment(request, pk: int) -> tuple[Commitment, set[str]]:
    commitment = get_object_or_404(
        Commitment.objects.select_related(
            "collaborator",
            "aggregator",
            "area",
            "area__parent",
            "site",
            "program",
            "donation_form",
            "need",
        ),
        pk=pk,
    )
    roles = commitment_roles(request.user, commitment)
    if not roles:
        raise Http404("No commitment here")  # not yours: as if it did not exist
    return commitment, roles


@login_required
def pledge_create(request, need_id: int):
    need = get_object_or_404(
        Need.objects.select_related("area", "area__parent", "site", "program", "donation_form"),
        pk=need_id,
    )
    collaborators = collaborators_for(request.user)
    if not collaborators.exists():
        messages.info(
            request, _("First register your organisation, or yourself, as a collaborator.")
        )
        return redirect(reverse("onboarding"))
    if not need.is_open():
        return render(request, "commitments/pledge_closed.html", {"need": need}, status=409)
    collaborators = collaborators.with_standing(need.program_id)
    limits = [
        PledgeLimits.of(collaborator=c, standing=c.standing, need=need) for c in collaborators
    ]
    allowed = [limit for limit in limits if not limit.is_rejected]
    if not allowed:
        return render(
            request,
            "commitments/pledge_form.html",
            {"need": need, "limits": limits, "form": None},
            status=403,
        )
    form = PledgeForm(
        request.POST or None,
        request.FILES or None,
        need=need,
        collaborators=collaborators.exclude(standing=Collaborator.Verification.REJECTED),
        most=max(limit.max_quantity for limit in allowed),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = commitment_pledge(
                    user=request.user,
                    collaborator=data["collaborator"],
                    need=need,
                    quantity=data["quantity"],
                    idempotency_key=data["key"],
                    planned_delivery_on=data["planned_delivery_on"],
                    aggregator=data["aggregator"],
                    statement_letter=data["statement_letter"],
                    is_anonymous=data["is_anonymous"],
                    note=data["note"],
                )
            except PledgeRefused as refusal:
                form.add_error(None, refusal.message)
                status = 409
            else:
                if result.created:
                    messages.success(request, _("Thank you! Your pledge is recorded."))
                else:
                    messages.info(request, _("This pledge was already recorded."))
                return redirect(result.commitment)
        else:
            status = 400
    return render(
        request,
        "commitments/pledge_form.html",
        {"form": form, "need": need, "limits": limits},
        status=status,
    )


@login_required
def commitment_detail(request, pk: int):
    commitment, roles = _visible_commitment(request, pk)
    deliveries = commitment.deliveries.prefetch_related("proofs").select_related(
        "recorded_by", "confirmed_by"
    )
    return render(
        request,
        "commitments/commitment_detail.html",
        {
            "commitment": commitment,
            "roles": roles,
            "events": commitment.events.select_related("actor"),
            "deliveries": deliveries,
            "transitions": available(request.user, commitment),
            "can_record_delivery": bool(roles & RECORD_DELIVERY_ROLES)
            and commitment.status in (Status.COMMITTED, Status.DELIVERED)
            and commitment.quantity_delivered < commitment.quantity,
            "can_confirm_delivery": bool(roles & CONFIRM_DELIVERY_ROLES),
            "next_step": NEXT_STEP[commitment.status],
            "status_form": StatusForm(),
        },
    )


@login_required
@require_POST
def commitment_status(request, pk: int):
    commitment, _roles = _visible_commitment(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do."))
        return redirect(commitment)
    try:
        commitment_transition(
            commitment_id=commitment.pk,
            target=form.cleaned_data["target"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except TransitionRefused as refusal:
        return _refused(request, commitment, refusal)
    messages.success(request, _("Done."))
    return redirect(commitment)


def _refused(request, commitment, refusal: TransitionRefused) -> HttpResponse:
    messages.error(request, refusal.message)
    response = redirect(commitment)
    if refusal.forbidden:
        response = render(
            request,
            "commitments/refused.html",
            {"commitment": commitment, "message": refusal.message},
            status=403,
        )
    return response


@login_required
def delivery_create(request, pk: int):
    commitment, roles = _visible_commitment(request, pk)
    if not roles & RECORD_DELIVERY_ROLES:
        raise PermissionDenied
    left = commitment.quantity - commitment.quantity_delivered
    form = DeliveryForm(request.POST or None, request.FILES or None, left=max(left, 0))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                delivery_record(
                    commitment_id=commitment.pk,
                    actor=request.user,
                    quantity=data["quantity"],
                    delivered_on=data["delivered_on"],
                    recipients_households=data["recipients_households"],
                    recipients_persons=data["recipients_persons"],
                    proofs=data["proofs"],
                    note=data["note"],
                )
            except TransitionRefused as refusal:
                if refusal.forbidden:
                    raise PermissionDenied from None
                form.add_error(None, refusal.message)
                status = 409
            else:
                messages.success(
                    request, _("The delivery is recorded; the facilitator will confirm it.")
                )
                return redirect(commitment)
        else:
            status = 400
    return render(
        request,
        "commitments/delivery_form.html",
        {"form": form, "commitment": commitment, "left": left},
        status=status,
    )


@login_required
@require_POST
def delivery_confirm_view(request, pk: int, delivery_id: int):
    commitment, _roles = _visible_commitment(request, pk)
    delivery = get_object_or_404(Delivery, pk=delivery_id, commitment=commitment)
    try:
        delivery_confirm(delivery_id=delivery.pk, actor=request.user)
    except TransitionRefused as refusal:
        return _refused(request, commitment, refusal)
    messages.success(request, _("Receipt confirmed. Thank you."))
    return redirect(commitment)


@login_required
def proof_file(request, pk: int, proof_id: int):
    commitment, _roles = _visible_commitment(request, pk)
    proof = get_object_or_404(DeliveryProof, pk=proof_id, delivery__commitment=commitment)
    response = FileResponse(proof.file.open("rb"), content_type=proof.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def statement_file(request, pk: int):
    commitment, _roles = _visible_commitment(request, pk)
    if not commitment.statement_letter:
        raise Http404
    response = FileResponse(commitment.statement_letter.open("rb"), content_type="application/pdf")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def workspace(request):
    scopes = scopes_for(request.user)
    memberships = Membership.objects.filter(user=request.user).select_related("collaborator")
    owned_pending = Membership.objects.filter(
        collaborator__in=scopes.owner_of, role=Membership.Role.PENDING
    ).count()
    inbox = _inbox_querysets(scopes)
    return render(
        request,
        "commitments/workspace.html",
        {
            "scopes": scopes,
            "memberships": memberships,
            "owned_pending": owned_pending,
            "my_counts": dict(
                Commitment.objects.filter(collaborator__in=scopes.collaborator_ids)
                .values_list("status")
                .annotate(n=Count("pk"))
                .order_by()
            ),
            "pledges_to_confirm": inbox[0].count() if inbox else 0,
            "deliveries_to_receive": inbox[1].count() if inbox else 0,
        },
    )


@login_required
def my_commitments(request):
    scopes = scopes_for(request.user)
    commitments = (
        Commitment.objects.filter(collaborator__in=scopes.collaborator_ids)
        .select_related("collaborator", "area", "area__parent", "program", "donation_form")
        .order_by("-created_at", "-pk")
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        commitments = commitments.filter(status=status)
    program = Program.objects.filter(slug=request.GET.get("program", "")).first()
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
            "programs": Program.objects.all(),
            "program": program,
            "next_step": NEXT_STEP,
        },
    )


def _inbox_querysets(scopes):
    """Pledges to confirm and deliveries to receive in the user's areas and programs."""
    if not (scopes.is_facilitator or scopes.is_lead or scopes.is_admin):
        return None
    scope = scopes.area_q() | Q(program__in=scopes.program_ids)
    if scopes.is_admin:
        scope = Q()
    pledges = (
        Commitment.objects.filter(scope, status=Status.PLEDGED)
        .with_standing()
        .select_related("collaborator", "area", "area__parent", "program", "donation_form")
        .order_by("created_at", "pk")
    )
    delivery_scope = scopes.area_q("commitment__") | Q(commitment__program__in=scopes.program_ids)
    if scopes.is_admin:
        delivery_scope = Q()
    deliveries = (
        Delivery.objects.filter(delivery_scope, confirmed_at__isnull=True)
        .select_related(
            "commitment",
            "commitment__collaborator",
            "commitment__area",
            "commitment__area__parent",
            "commitment__donation_form",
        )
        .prefetch_related("proofs")
        .order_by("recorded_at", "pk")
    )
    return pledges, deliveries


@login_required
def facilitator_inbox(request):
    inbox = _inbox_querysets(scopes_for(request.user))
    if inbox is None:
        raise PermissionDenied
    pledges, deliveries = inbox
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
        {"queue": collaborators_awaiting_decision(scopes), "is_admin": scopes.is_admin},
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
