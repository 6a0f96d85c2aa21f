"""Lists of work: the workspace, a collaborator's commitments, the facilitator's and
lead's inbox, notifications, and the verification queue. Which rows each user sees is
answered by the QuerySets (Commitment.objects.to_confirm, Delivery.objects.to_receive...)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collaborators.models import Collaborator, Membership
from collaborators.privacy import contacts_viewed
from collaborators.roles import scopes_for
from locations.models import area_geometry_deferred
from programs.models import Program

from ..lifecycle.verification import (
    VerificationRefused,
    collaborator_decide,
    collaborators_awaiting_decision,
)
from ..models import Commitment, Delivery, DeliveryProof, Notification, Status
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
            # COUNT(*) over (collaborator, status): read from the index alone.
            "my_counts": dict(
                Commitment.objects.of_collaborators(scopes)
                .values_list("status")
                .annotate(n=Count("*"))
                .order_by()
            ),
            # Counted without the inbox's joins and annotations, and only up to COUNT_UP_TO:
            # past it the card says "more than", and the page reads no more rows.
            **_counted("pledges_to_confirm", Commitment.objects.to_confirm(scopes)),
            **_counted("deliveries_to_receive", _to_receive(scopes)),
        },
    )


# The workspace counts what waits up to here; a longer queue shows as "more than".
COUNT_UP_TO = 999


def _to_receive(scopes):
    """The deliveries waiting for this user's receipt (see _oldest_pending_in)."""
    if _in_areas_only(scopes) and connection.vendor == "postgresql":
        return _oldest_pending_in(scopes.area_ids, COUNT_UP_TO + 1)
    return Delivery.objects.to_receive(scopes)


def _counted(name: str, rows) -> dict:
    """{name: how many rows, at most COUNT_UP_TO; name_more: whether there are more}.
    `rows` is a QuerySet, or a list of at most COUNT_UP_TO + 1 ids."""
    if isinstance(rows, list):
        count = len(rows)
    else:
        count = rows.order_by()[: COUNT_UP_TO + 1].count()
    return {name: min(count, COUNT_UP_TO), f"{name}_more": count > COUNT_UP_TO}


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


# What the inbox shows of each row: a full page of both lists costs its rendering, so only
# these columns are read (and the areas' geometry never).
_PLEDGE_COLUMNS = (
    "id",
    "quantity",
    "created_at",
    "program_id",
    "collaborator__name",
    "collaborator__verification_status",
    "area__name",
    "area__level",
    "area__parent__name",
    "donation_form__name_id",
    "donation_form__name_en",
)
_DELIVERY_COLUMNS = (
    "id",
    "quantity",
    "delivered_on",
    "recorded_at",
    *(f"commitment__{column}" for column in _PLEDGE_COLUMNS if column != "created_at"),
)


INBOX_SIZE = 100  # rows of each list


def _inbox(scopes):
    """Pledges to confirm and deliveries to receive in the user's areas and programs."""
    pledges = (
        Commitment.objects.to_confirm(scopes)
        .with_standing()
        .select_related("collaborator", "area", "area__parent", "donation_form")
        .only(*_PLEDGE_COLUMNS)
        .order_by("created_at", "pk")
    )
    deliveries = Delivery.objects.to_receive(scopes)
    if _in_areas_only(scopes) and connection.vendor == "postgresql":
        deliveries = Delivery.objects.filter(pk__in=_oldest_pending_in(scopes.area_ids, INBOX_SIZE))
    deliveries = (
        deliveries.select_related(
            "commitment",
            "commitment__collaborator",
            "commitment__area",
            "commitment__area__parent",
            "commitment__donation_form",
        )
        .only(*_DELIVERY_COLUMNS)
        .prefetch_related(Prefetch("proofs", DeliveryProof.objects.only("id", "delivery_id")))
        .order_by("recorded_at", "pk")
    )
    return pledges, deliveries


def _in_areas_only(scopes) -> bool:
    """Whether the user confirms only in areas (no site, program or portal of theirs)."""
    return bool(scopes.area_ids) and not (scopes.site_ids or scopes.is_lead or scopes.is_admin)


def _oldest_pending_in(area_ids: list[int], limit: int) -> list[int]:
    """The ids of the `limit` oldest deliveries waiting for receipt in these areas,
    reading each area's commitments through their area index. As one query ordered by
    date, PostgreSQL walks every waiting delivery in the portal by date, looking up each
    one's commitment to see whether it is in these areas: the whole table for a quiet
    kelurahan."""
    commitments = connection.ops.quote_name(Commitment._meta.db_table)
    deliveries = connection.ops.quote_name(Delivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT oldest.id FROM unnest(%s::bigint[]) AS here(area_id)
            CROSS JOIN LATERAL (
                SELECT d.id, d.recorded_at FROM {commitments} c
                JOIN {deliveries} d ON d.commitment_id = c.id AND d.confirmed_at IS NULL
                WHERE c.area_id = here.area_id
                ORDER BY d.recorded_at, d.id LIMIT %s
            ) AS oldest
            ORDER BY oldest.recorded_at, oldest.id LIMIT %s
            """,  # noqa: S608 - table names come from the models, values are parameters
            [area_ids, limit, limit],
        )
        return [row[0] for row in cursor.fetchall()]


@login_required
def facilitator_inbox(request):
    scopes = scopes_for(request.user)
    if not scopes.confirms_anything:
        raise PermissionDenied
    pledges, deliveries = _inbox(scopes)
    return render(
        request,
        "commitments/inbox.html",
        {"pledges": pledges[:INBOX_SIZE], "deliveries": deliveries[:INBOX_SIZE]},
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
    queue = collaborators_awaiting_decision(scopes)
    for group in queue:  # the page shows each group's first page, with contacts
        contacts_viewed(
            viewer=request.user,
            collaborators=group.collaborators[:QUEUE_PAGE_SIZE],
            path=request.path,
        )
    return render(
        request,
        "commitments/verification_queue.html",
        {
            "queue": queue,
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
