"""Verification decisions: administrators decide for the whole portal, program leads for
their own programs only, and a lead never overrides an administrator.

The standing these decisions give a collaborator in a program is answered in one place,
collaborators.models.standing; this module records decisions and lists who awaits one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator, ProgramVerification
from collaborators.roles import Scopes, scopes_for
from programs.models import Program

from ..models import Commitment

Verification = Collaborator.Verification


class VerificationRefused(Exception):
    """`forbidden`: not this user's decision to make (403); otherwise fix the input (400)."""

    def __init__(self, message, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


@dataclass
class AwaitingDecision:
    """Collaborators awaiting a decision: for one program (leads), or globally (None)."""

    program: Program | None
    collaborators: QuerySet[Collaborator]


def collaborators_awaiting_decision(scopes: Scopes) -> list[AwaitingDecision]:
    """Administrators: everyone without an administrator's decision. Leads: per program
    they lead, who pledged to it with neither an administrator's decision nor one for it."""
    if scopes.is_admin:
        pending = Collaborator.objects.filter(verification_status=Verification.UNVERIFIED)
        return [AwaitingDecision(None, pending.select_related("contact"))]
    return [
        AwaitingDecision(
            program,
            Collaborator.objects.awaiting_lead_decision(program.pk)
            .filter(Exists(Commitment.objects.filter(collaborator=OuterRef("pk"), program=program)))
            .select_related("contact"),
        )
        for program in Program.objects.filter(pk__in=scopes.program_ids)
    ]


def collaborator_decide(
    *,
    actor,
    collaborator: Collaborator,
    verify: bool,
    program_id: int | None = None,
    reason: str = "",
) -> str:
    """Record a verification decision and return what it applies to (for the message).

    An administrator's decision is the collaborator's global status. A program lead's is
    recorded for one program they lead in which the collaborator pledged, and only while
    no administrator has decided; the collaborator row is locked so that an
    administrator's decision made at the same moment is seen.
    """
    scopes = scopes_for(actor)
    status = Verification.VERIFIED if verify else Verification.REJECTED
    now = timezone.now()
    if scopes.is_admin:
        Collaborator.objects.filter(pk=collaborator.pk).update(
            verification_status=status, verified_at=now, verified_by=actor
        )
        return str(_("%(name)s: %(status)s.") % {"name": collaborator.name, "status": status.label})
    if program_id is None and len(scopes.program_ids) == 1:
        (program_id,) = scopes.program_ids
    if program_id is None:
        raise VerificationRefused(_("Choose the program this decision is for."))
    if (
        program_id not in scopes.program_ids
        or not Commitment.objects.filter(collaborator=collaborator, program_id=program_id).exists()
    ):
        raise VerificationRefused(
            _("You can decide only on collaborators who pledged to a program you lead."),
            forbidden=True,
        )
    with transaction.atomic():
        locked = Collaborator.objects.select_for_update().get(pk=collaborator.pk)
        if locked.is_decided_by_administrator:
            raise VerificationRefused(
                _(
                    "An administrator has already %(status)s %(name)s for the whole portal; "
                    "a program lead cannot change that."
                )
                % {"name": locked.name, "status": locked.get_verification_status_display()},
                forbidden=True,
            )
        ProgramVerification.objects.update_or_create(
            collaborator=locked,
            program_id=program_id,
            defaults={"status": status, "decided_by": actor, "decided_at": now, "reason": reason},
        )
    program = Program.objects.get(pk=program_id)
    return str(
        _("%(name)s: %(status)s for %(program)s.")
        % {"name": collaborator.name, "status": status.label, "program": program.name}
    )
