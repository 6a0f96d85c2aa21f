"""Who handles a recipient's report, and so who may see it: the one home of that question.

- the program's leads (a report with no program: every program's leads, since any of them
  may be the one it concerns; they can tell it apart and pass it on);
- the facilitators covering the report's area (or its site), unless the report is about
  the area's facilitator: then the leads and the administrators only;
- administrators, always.

A facilitator who covers the area of a report about its facilitator never sees it, whatever
else they are (a lead, even an administrator): they may be its subject. Views, counts that
show contents, notifications and escalation all ask here.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q

from collaborators.roles import scopes_for
from locations.models import Facilitator
from programs.models import ProgramLead

from .models import Report


def visible_reports(user):
    """The reports `user` handles (and so may see, with the reporter's details)."""
    scopes = scopes_for(user)
    if not (scopes.is_admin or scopes.is_lead or scopes.is_facilitator):
        return Report.objects.none()
    if scopes.is_admin:
        allowed = Q()
    else:
        allowed = scopes.area_q() & Q(about_facilitator=False)
        if scopes.is_lead:
            allowed |= Q(program__in=scopes.program_ids) | Q(program__isnull=True)
    subject = Q(about_facilitator=True) & scopes.area_q() if scopes.is_facilitator else Q(pk__in=[])
    return Report.objects.filter(allowed).exclude(subject)


def may_handle(user, report: Report) -> bool:
    return visible_reports(user).filter(pk=report.pk).exists()


def _covering_user_ids(report: Report) -> set[int]:
    return set(
        Facilitator.objects.covering(report.area, report.site).values_list("user_id", flat=True)
    )


def handlers_of(report: Report) -> list:
    """The users a new report is sent to (the twin of visible_reports, one report)."""
    covering = _covering_user_ids(report)
    leads = ProgramLead.objects.all()
    if report.program_id is not None:
        leads = leads.filter(program_id=report.program_id)
    ids = set(leads.values_list("user_id", flat=True))
    if report.about_facilitator:
        ids |= set(administrator_ids())
        ids -= covering
    else:
        ids |= covering
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def administrator_ids() -> list[int]:
    return list(
        get_user_model()
        .objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True)
        .values_list("pk", flat=True)
    )


def escalation_recipients(report: Report) -> list:
    """The administrators, less any of them who may be the report's subject."""
    ids = set(administrator_ids())
    if report.about_facilitator:
        ids -= _covering_user_ids(report)
    return list(get_user_model().objects.filter(pk__in=ids).order_by("pk"))


def flagged_collaborator_ids(program_ids) -> dict[int, int]:
    """Collaborators with upheld complaints in these programs: {collaborator id: count}."""
    rows = (
        Report.objects.upheld()
        .filter(collaborator__isnull=False, program__in=list(program_ids))
        .values_list("collaborator_id", flat=True)
    )
    counts: dict[int, int] = {}
    for collaborator_id in rows:
        counts[collaborator_id] = counts.get(collaborator_id, 0) + 1
    return counts
