"""Acting on one commitment: pledging, the commitment page and its status changes,
deliveries with proof, and the private files behind them.

Every view checks, on the server, that the user may see and act on the object it names
(Commitment.objects.visible_to, commitments.workflow); one the user has no role on is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collaborators.models import Collaborator
from collaborators.roles import collaborators_for, scopes_for
from locations.models import Need

from ..lifecycle.limits import PledgeLimits
from ..lifecycle.pledges import PledgeRefused, commitment_pledge
from ..lifecycle.transitions import commitment_transition, delivery_confirm, delivery_record
from ..models import Commitment, Delivery, DeliveryProof, Status
from ..workflow import (
    CONFIRM_DELIVERY_ROLES,
    TransitionRefused,
    available,
    commitment_roles,
    may_record_delivery,
    record_delivery_roles,
)
from .forms import DeliveryForm, PledgeForm, ReceiptForm, StatusForm
from .stored_files import stored_file

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
    """The commitment and the user's roles on it; one the user has no role on is a 404,
    as if it did not exist."""
    commitment = get_object_or_404(
        Commitment.objects.visible_to(scopes_for(request.user)).select_related(
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
    return commitment, commitment_roles(request.user, commitment)


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
            "can_record_delivery": may_record_delivery(roles, commitment),
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
    if not roles & record_delivery_roles(commitment):
        raise PermissionDenied
    left = commitment.quantity_left
    form = DeliveryForm(request.POST or None, request.FILES or None, left=left)
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
    form = ReceiptForm(request.POST, request.FILES)
    if not form.is_valid():  # a photo that is not one: say so, confirm nothing
        return render(
            request,
            "commitments/delivery_confirm.html",
            {"commitment": commitment, "delivery": delivery, "receipt_form": form},
            status=400,
        )
    try:
        delivery_confirm(
            delivery_id=delivery.pk, actor=request.user, photos=form.cleaned_data["photos"]
        )
    except TransitionRefused as refusal:
        return _refused(request, commitment, refusal)
    messages.success(request, _("Receipt confirmed. Thank you."))
    return redirect(commitment)


@login_required
def proof_file(request, pk: int, proof_id: int):
    commitment, _roles = _visible_commitment(request, pk)
    proof = get_object_or_404(DeliveryProof, pk=proof_id, delivery__commitment=commitment)
    return stored_file(proof.file, proof.content_type)


@login_required
def statement_file(request, pk: int):
    commitment, _roles = _visible_commitment(request, pk)
    if not commitment.statement_letter:
        raise Http404
    return stored_file(commitment.statement_letter, "application/pdf")
