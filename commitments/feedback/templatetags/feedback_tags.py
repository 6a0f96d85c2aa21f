"""The feedback channel on pages that are not its own: the "report a problem" box with the
public counts (area, program and collaborator pages), the workspace card of those who
handle reports, and the open / overdue reports and flagged collaborators on a lead's
dashboard. Read here so that those views need no change."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from collaborators.models import Collaborator
from collaborators.roles import scopes_for

from ..models import Report
from ..rules import flagged_collaborator_ids, visible_reports

register = template.Library()


def public_counts(reports) -> dict:
    """Received, resolved and overdue: counts only, never what a report says."""
    return reports.aggregate(
        received=Count("pk"),
        resolved=Count("pk", filter=Q(status=Report.Status.RESOLVED)),
        overdue=Count("pk", filter=Q(status__in=Report.OPEN, due_at__lt=timezone.now())),
    )


def report_link(**about) -> str:
    query = {key: value for key, value in about.items() if value}
    return reverse("feedback-new") + (f"?{urlencode(query)}" if query else "")


@register.inclusion_tag("feedback/_box.html", takes_context=True)
def feedback_box(context, area=None, program=None, collaborator=None) -> dict:
    """Area and program pages: the link and the counts. Collaborator pages: the link, and
    for a lead (or an administrator) the upheld complaints about it in their programs."""
    if area is not None:
        counts = public_counts(Report.objects.in_area(area))
        link = report_link(area=area.code)
    elif program is not None:
        counts = public_counts(Report.objects.filter(program=program))
        link = report_link()
    else:
        counts = None
        link = report_link(collaborator=getattr(collaborator, "slug", ""))
    upheld = 0
    if collaborator is not None:
        request = context.get("request")
        scopes = scopes_for(getattr(request, "user", None))
        if scopes.is_admin or scopes.is_lead:
            program_ids = (
                Report.objects.values_list("program_id", flat=True).distinct()
                if scopes.is_admin
                else scopes.program_ids
            )
            upheld = flagged_collaborator_ids(program_ids).get(collaborator.pk, 0)
    return {
        "counts": counts,
        "link": link,
        "upheld": upheld,
        "has_whatsapp": bool(settings.FEEDBACK_WHATSAPP_NUMBER),
    }


@register.inclusion_tag("feedback/_workspace_card.html", takes_context=True)
def feedback_card(context) -> dict:
    """The workspace card of those who handle reports: how many are open and overdue."""
    user = getattr(context.get("request"), "user", None)
    if not scopes_for(user).confirms_anything:
        return {"shown": False}
    return {"shown": True, **_open_and_overdue(visible_reports(user))}


def _open_and_overdue(reports) -> dict:
    return reports.aggregate(
        open=Count("pk", filter=Q(status__in=Report.OPEN)),
        overdue=Count("pk", filter=Q(status__in=Report.OPEN, due_at__lt=timezone.now())),
    )


@register.inclusion_tag("feedback/_dashboard.html", takes_context=True)
def feedback_dashboard(context, program=None) -> dict:
    """A lead's dashboard: open and overdue reports of their programs (this program's on a
    program's dashboard) and the collaborators with upheld complaints there."""
    request = context.get("request")
    user = getattr(request, "user", None)
    scopes = scopes_for(user)
    if not (scopes.is_lead or scopes.is_admin):
        return {"shown": False}
    reports = visible_reports(user)
    if program is not None:
        reports = reports.filter(program=program)
        program_ids = [program.pk]
    elif scopes.is_admin:
        program_ids = list(Report.objects.values_list("program_id", flat=True).distinct())
    else:
        program_ids = list(scopes.program_ids)
    flagged = flagged_collaborator_ids(program_ids)
    collaborators = Collaborator.objects.filter(pk__in=list(flagged)).order_by("name")[:50]
    return {
        "shown": True,
        "program": program,
        **_open_and_overdue(reports),
        "flagged": [(c, flagged[c.pk]) for c in collaborators],
    }
