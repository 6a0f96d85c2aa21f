"""The commitment lifecycle: which transitions exist and who may make them. One table,
enforced by commitments.lifecycle on every change; views only offer what it allows.

    pledged -> committed -> delivered -> completed
    pledged / committed -> cancelled (collaborator), rejected (facilitator or lead, with a
    reason), expired (the periodic task); cancelled, rejected and expired release the
    quantity they held against the need.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from collaborators.roles import ADMIN, COLLABORATOR, FACILITATOR, LEAD, SYSTEM, roles_for

from .models import Commitment, Status


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: frozenset[str]
    label: str
    needs_reason: bool = False
    # Made by a dedicated step (recording or confirming a delivery), not the status form.
    by_delivery: bool = False


TRANSITIONS = {
    (t.source, t.target): t
    for t in [
        Transition(
            Status.PLEDGED, Status.COMMITTED, frozenset({FACILITATOR, LEAD, ADMIN}), _("Confirm")
        ),
        Transition(
            Status.PLEDGED, Status.CANCELLED, frozenset({COLLABORATOR, ADMIN}), _("Cancel pledge")
        ),
        Transition(
            Status.COMMITTED,
            Status.CANCELLED,
            frozenset({COLLABORATOR, ADMIN}),
            _("Cancel commitment"),
        ),
        Transition(
            Status.PLEDGED,
            Status.REJECTED,
            frozenset({FACILITATOR, LEAD, ADMIN}),
            _("Reject"),
            needs_reason=True,
        ),
        Transition(
            Status.COMMITTED,
            Status.REJECTED,
            frozenset({FACILITATOR, LEAD, ADMIN}),
            _("Reject"),
            needs_reason=True,
        ),
        Transition(
            Status.COMMITTED,
            Status.DELIVERED,
            frozenset({COLLABORATOR, ADMIN}),
            _("Record a delivery"),
            by_delivery=True,
        ),
        Transition(
            Status.DELIVERED,
            Status.COMPLETED,
            frozenset({FACILITATOR, LEAD, ADMIN}),
            _("Confirm receipt"),
            by_delivery=True,
        ),
        Transition(Status.PLEDGED, Status.EXPIRED, frozenset({SYSTEM}), _("Expire")),
        Transition(Status.COMMITTED, Status.EXPIRED, frozenset({SYSTEM}), _("Expire")),
    ]
}

# Statuses whose quantity goes back to the need when a commitment enters them.
RELEASING = {Status.CANCELLED, Status.REJECTED, Status.EXPIRED}

# Who records and confirms deliveries (also while already `delivered`, for partial ones).
RECORD_DELIVERY_ROLES = frozenset({COLLABORATOR, ADMIN})
CONFIRM_DELIVERY_ROLES = frozenset({FACILITATOR, LEAD, ADMIN})


def record_delivery_roles(commitment: Commitment) -> frozenset[str]:
    """Who records deliveries of this commitment: its collaborator, or, for one made
    outside the portal (whose collaborator may never use it), also those who confirm."""
    if commitment.channel == Commitment.Channel.OFFLINE:
        return RECORD_DELIVERY_ROLES | CONFIRM_DELIVERY_ROLES
    return RECORD_DELIVERY_ROLES


# Who the next step of a commitment under way waits on (the pipeline, the weekly digest).
WAITING_ON = {
    Status.PLEDGED: _("the facilitator or program lead, to confirm"),
    Status.COMMITTED: _("the collaborator, to deliver"),
    Status.DELIVERED: _("the facilitator, to confirm receipt"),
}


def waiting_on(commitment: Commitment) -> str:
    """Who must act next, in words; empty once it is finished or ended. A delivered
    commitment with something left to deliver waits on its collaborator too."""
    if commitment.status == Status.DELIVERED and commitment.quantity_left > 0:
        return str(_("the facilitator, to confirm receipt; the collaborator, to deliver the rest"))
    return str(WAITING_ON.get(commitment.status, ""))


class TransitionRefused(Exception):
    """A change the user may not make, or that is not possible now; the message says why.
    `forbidden` distinguishes 'not yours to do' (403) from 'not possible now' (409)."""

    def __init__(self, message, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def commitment_roles(user, commitment: Commitment) -> set[str]:
    return roles_for(
        user,
        collaborator_id=commitment.collaborator_id,
        area=commitment.area,
        site=commitment.site,
        program_id=commitment.program_id,
    )


def may_record_delivery(roles: set[str], commitment: Commitment) -> bool:
    """Whether a delivery can be recorded now by someone holding `roles`."""
    return (
        bool(roles & record_delivery_roles(commitment))
        and commitment.status in (Status.COMMITTED, Status.DELIVERED)
        and commitment.quantity_left > 0
    )


def check(transition: Transition, roles: set[str], commitment: Commitment, reason: str) -> None:
    if not roles & transition.roles:
        raise TransitionRefused(_("You may not do this for this commitment."), forbidden=True)
    if transition.needs_reason and not reason.strip():
        raise TransitionRefused(_("Please give a reason."))
    if transition.target == Status.COMMITTED and not commitment.collaborator_is_verified:
        raise TransitionRefused(
            _(
                "%(name)s is not verified yet: a program lead must verify the collaborator "
                "before its pledge can be confirmed."
            )
            % {"name": commitment.collaborator.name}
        )


def find(source: str, target: str) -> Transition:
    transition = TRANSITIONS.get((source, target))
    if target not in Status.values:
        raise TransitionRefused(_("Unknown status."))
    if transition is None:
        raise TransitionRefused(
            _("A %(source)s commitment cannot become %(target)s.")
            % {"source": Status(source).label, "target": Status(target).label}
        )
    return transition


def available(user, commitment: Commitment) -> list[Transition]:
    """The status changes `user` could make now, for the buttons on the commitment page."""
    roles = commitment_roles(user, commitment)
    result = []
    for transition in TRANSITIONS.values():
        if transition.source != commitment.status or transition.by_delivery:
            continue
        if roles & transition.roles:
            result.append(transition)
    return result
