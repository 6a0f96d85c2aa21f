"""The chain through aggregators and executors: a source gives to an aggregator and follows
the gift through every hop; the aggregator confirms receipt, sees what it holds and commits
pooled gifts to needs; the executor's facilitator records the distribution of a delivery.

Every view checks on the server that the user may see the object it names: a gift is seen
by the members of its source and of its aggregator (and administrators), anyone else gets a
404; acting on it (receiving, committing) is for the aggregator's members only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collaborators.models import Collaborator
from collaborators.roles import collaborators_for, scopes_for
from locations.models import Area, Need

from ..lifecycle.pledges import PledgeRefused
from ..lifecycle.pooled import commitment_pledge_pooled
from ..models import Commitment, Delivery, DeliveryProof
from ..pooling.chain import aggregator_holdings, aggregator_totals_by_program, gift_chain
from ..pooling.models import Allocation, Contribution, Distribution
from ..pooling.rules import (
    PoolRefused,
    acts_for,
    contribution_declare,
    contribution_receive,
    contribution_refuse,
    delivery_left_to_distribute,
    distribution_record,
    may_record_distribution,
)
from .pooling_forms import DistributionForm, GiveForm, PooledPledgeForm, ReceiveForm, RefuseForm
from .stored_files import stored_file

# --- the source ---------------------------------------------------------------------------------


@login_required
def my_gifts(request):
    scopes = scopes_for(request.user)
    gifts = (
        Contribution.objects.of_sources(scopes)
        .select_related("source", "aggregator", "donation_form")
        .order_by("-declared_at", "-pk")[:200]
    )
    aggregators = Collaborator.objects.filter(
        pk__in=scopes.collaborator_ids, is_aggregator=True
    ).order_by("name")
    return render(request, "pooling/my_gifts.html", {"gifts": gifts, "aggregators": aggregators})


@login_required
def give(request):
    sources = collaborators_for(request.user)
    if not sources.exists():
        messages.info(
            request, _("First register your organisation, or yourself, as a collaborator.")
        )
        return redirect(reverse("onboarding"))
    form = GiveForm(request.POST or None, sources=sources, initial=_aggregator_asked(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                gift, created = contribution_declare(
                    user=request.user,
                    source=data["source"],
                    aggregator=data["aggregator"],
                    kind=data["kind"],
                    amount=data["amount"],
                    donation_form=data["donation_form"],
                    program=data["program"],
                    is_anonymous=data["is_anonymous"],
                    note=data["note"],
                    idempotency_key=data["key"],
                )
            except PoolRefused as refusal:
                form.add_error(None, refusal.message)
                status = 403 if refusal.forbidden else 409
            else:
                if created:
                    messages.success(
                        request, _("Thank you! The aggregator will confirm receipt of your gift.")
                    )
                return redirect(gift)
        else:
            status = 400
    return render(request, "pooling/give_form.html", {"form": form}, status=status)


def _aggregator_asked(request) -> dict:
    """The aggregator chosen beforehand (?aggregator=<id>, from its public page)."""
    asked = request.GET.get("aggregator", "")
    return (
        {"aggregator": int(asked)}
        if asked.isascii() and asked.isdigit() and len(asked) < 10
        else {}
    )


def _visible_gift(request, pk: int) -> Contribution:
    return get_object_or_404(
        Contribution.objects.visible_to(scopes_for(request.user)).select_related(
            "source", "aggregator", "donation_form", "program"
        ),
        pk=pk,
    )


@login_required
def contribution_detail(request, pk: int):
    gift = _visible_gift(request, pk)
    holds = acts_for(request.user, gift.aggregator_id)
    declared = gift.status == Contribution.Status.DECLARED
    return render(
        request,
        "pooling/contribution_detail.html",
        {
            "gift": gift,
            "shares": gift_chain(gift),
            "may_decide": holds and declared,
            "receive_form": ReceiveForm() if holds and declared else None,
            "refuse_form": RefuseForm() if holds and declared else None,
            "is_source": acts_for(request.user, gift.source_id),
        },
    )


def _decide(request, pk: int, form_class, decide):
    gift = _visible_gift(request, pk)
    if not acts_for(request.user, gift.aggregator_id):
        raise PermissionDenied
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(gift)
    try:
        decide(gift, form.cleaned_data)
    except PoolRefused as refusal:
        if refusal.forbidden:
            raise PermissionDenied from None
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Done."))
    return redirect(gift)


@login_required
@require_POST
def contribution_receive_view(request, pk: int):
    return _decide(
        request,
        pk,
        ReceiveForm,
        lambda gift, data: contribution_receive(
            user=request.user,
            contribution_id=gift.pk,
            receipt_number=data["receipt_number"],
            received_on=data["received_on"],
        ),
    )


@login_required
@require_POST
def contribution_refuse_view(request, pk: int):
    return _decide(
        request,
        pk,
        RefuseForm,
        lambda gift, data: contribution_refuse(
            user=request.user, contribution_id=gift.pk, reason=data["reason"]
        ),
    )


@login_required
def chain_delivery_proof(request, pk: int, proof_id: int):
    """A proof of delivery of a commitment this gift funds, for the gift's source."""
    gift = _visible_gift(request, pk)
    proof = get_object_or_404(
        DeliveryProof, pk=proof_id, delivery__commitment__pool_shares__contribution=gift
    )
    return stored_file(proof.file, proof.content_type)


@login_required
def chain_distribution_proof(request, pk: int, proof_id: int):
    """The proof of a distribution of a delivery this gift funds, for the gift's source."""
    gift = _visible_gift(request, pk)
    distribution = get_object_or_404(
        Distribution, pk=proof_id, delivery__commitment__pool_shares__contribution=gift
    )
    return stored_file(distribution.proof, distribution.proof_content_type)


# --- the aggregator -----------------------------------------------------------------------------


def held_aggregator(request, slug: str) -> Collaborator:
    """An aggregator the user acts for; any other is a 404."""
    aggregator = Collaborator.objects.filter(slug=slug[:220], is_aggregator=True).first()
    if aggregator is None or not acts_for(request.user, aggregator.pk):
        raise Http404("No such aggregator")
    return aggregator


@login_required
def aggregator_page(request, slug: str):
    aggregator = held_aggregator(request, slug)
    gifts = Contribution.objects.filter(aggregator=aggregator).select_related(
        "source", "donation_form"
    )
    to_confirm = gifts.filter(status=Contribution.Status.DECLARED).order_by("declared_at", "pk")
    held = gifts.filter(status=Contribution.Status.RECEIVED).order_by("-received_on", "-pk")
    shares = (
        Allocation.objects.filter(contribution__aggregator=aggregator)
        .select_related(
            "commitment",
            "commitment__area",
            "commitment__area__parent",
            "commitment__donation_form",
        )
        .order_by("-created_at", "-pk")[:100]
    )
    area = _area_asked(request.GET.get("area", ""))
    return render(
        request,
        "pooling/aggregator.html",
        {
            "aggregator": aggregator,
            "to_confirm": to_confirm[:100],
            "held": held[:200],
            "holdings": aggregator_holdings(aggregator),
            "by_program": aggregator_totals_by_program(aggregator),
            "shares": shares,
            "area": area,
            "area_code": request.GET.get("area", "")[:40],
            "needs": _needs_to_fund(held, area),
            "may_commit": held.drawable().exists(),
        },
    )


def _area_asked(code: str) -> Area | None:
    code = code.strip()[:40]
    return Area.objects.filter(code=code).first() if code else None


def _needs_to_fund(held, area: Area | None) -> list[Need]:
    """Open needs the pool could fund: in the area asked for (any program), or else in the
    programs the received gifts were given for (any program if one was given for none)."""
    needs = Need.objects.open().select_related("area", "area__parent", "donation_form", "program")
    if area is not None:
        needs = needs.in_area(area)
    elif not held.filter(program=None).exists():
        needs = needs.filter(program__in=list(held.values_list("program", flat=True)))
    return list(needs.order_by("priority", "valid_until", "pk")[:20])


@login_required
def pooled_commit(request, slug: str, need_id: int):
    aggregator = held_aggregator(request, slug)
    need = get_object_or_404(
        Need.objects.select_related("area", "area__parent", "site", "program", "donation_form"),
        pk=need_id,
    )
    if not need.is_open():
        return render(request, "commitments/pledge_closed.html", {"need": need}, status=409)
    gifts = (
        Contribution.objects.filter(aggregator=aggregator)
        .drawable()
        .select_related("source", "donation_form")
        .order_by("received_on", "pk")
    )
    gifts = [g for g in gifts if g.is_money or g.donation_form_id == need.donation_form_id]
    form = PooledPledgeForm(request.POST or None, need=need, gifts=gifts)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = commitment_pledge_pooled(
                    user=request.user,
                    aggregator=aggregator,
                    need=need,
                    quantity=data["quantity"],
                    shares=data["shares"],
                    idempotency_key=data["key"],
                    planned_delivery_on=data["planned_delivery_on"],
                    note=data["note"],
                )
            except PledgeRefused as refusal:
                form.add_error(None, refusal.message)
                status = 409
            else:
                if result.created:
                    messages.success(request, _("The commitment is recorded, funded by the pool."))
                return redirect(result.commitment)
        else:
            status = 400
    unit_value = need.estimate_value_idr(1)
    return render(
        request,
        "pooling/pooled_form.html",
        {"form": form, "need": need, "aggregator": aggregator, "unit_value": unit_value},
        status=status,
    )


# --- the executor -------------------------------------------------------------------------------


def _visible_commitment(request, pk: int) -> Commitment:
    return get_object_or_404(
        Commitment.objects.visible_to(scopes_for(request.user)).select_related(
            "area", "area__parent", "site", "donation_form", "program"
        ),
        pk=pk,
    )


@login_required
def distribution_create(request, pk: int, delivery_id: int):
    commitment = _visible_commitment(request, pk)
    delivery = get_object_or_404(Delivery, pk=delivery_id, commitment=commitment)
    if not may_record_distribution(request.user, commitment):
        raise PermissionDenied
    if delivery.confirmed_at is None:
        messages.error(request, _("Record the distribution once the receipt is confirmed."))
        return redirect(commitment)
    left = delivery_left_to_distribute(delivery)
    form = DistributionForm(request.POST or None, request.FILES or None, left=left)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                distribution_record(
                    user=request.user,
                    delivery_id=delivery.pk,
                    quantity=data["quantity"],
                    distributed_on=data["distributed_on"],
                    households=data["households"],
                    persons=data["persons"],
                    proof=data["proof"],
                    note=data["note"],
                )
            except PoolRefused as refusal:
                if refusal.forbidden:
                    raise PermissionDenied from None
                form.add_error(None, refusal.message)
                status = 409
            else:
                messages.success(request, _("The distribution is recorded. Thank you."))
                return redirect(commitment)
        else:
            status = 400
    return render(
        request,
        "pooling/distribution_form.html",
        {"form": form, "commitment": commitment, "delivery": delivery, "left": left},
        status=status,
    )


@login_required
def distribution_proof(request, pk: int, proof_id: int):
    commitment = _visible_commitment(request, pk)
    distribution = get_object_or_404(Distribution, pk=proof_id, delivery__commitment=commitment)
    return stored_file(distribution.proof, distribution.proof_content_type)
