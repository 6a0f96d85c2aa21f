"""An organisation's team: owners approve join requests, promote and remove members.

Each action does exactly what it says, to the kind of membership it names (approving
touches only a request, removing only a member), and an organisation is never left
without an owner: owners cannot remove one another, and an owner steps down or leaves
only while another owner remains, checked with the team's rows locked.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Collaborator, Membership

Role = Membership.Role

# action -> (role it applies to, role it gives or None to end the membership, whose)
ACTIONS = {
    "approve": (Role.PENDING, Role.MEMBER, "other"),
    "decline": (Role.PENDING, None, "other"),
    "remove": (Role.MEMBER, None, "other"),
    "promote": (Role.MEMBER, Role.OWNER, "other"),
    "step_down": (Role.OWNER, Role.MEMBER, "self"),
    "leave": (None, None, "self"),
}
LABELS = {
    "approve": gettext_lazy("Approve"),
    "decline": gettext_lazy("Decline"),
    "remove": gettext_lazy("Remove"),
    "promote": gettext_lazy("Make owner"),
    "step_down": gettext_lazy("Step down as owner"),
    "leave": gettext_lazy("Leave"),
}


class TeamChangeRefused(Exception):
    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


def actions_for(actor, membership: Membership) -> list[tuple[str, str]]:
    """The buttons an owner sees on one row of the team page."""
    whose = "self" if membership.user_id == actor.pk else "other"
    return [
        (action, LABELS[action])
        for action, (applies_to, _gives, who) in ACTIONS.items()
        if who == whose and applies_to in (None, membership.role)
    ]


def membership_change(
    *, actor, collaborator: Collaborator, membership_id: int, action: str
) -> Membership:
    """Apply one team action by an owner (or an administrator). Runs in its own transaction
    with the team's memberships locked in primary-key order, so two owners acting at once
    cannot together leave the organisation without an owner."""
    if action not in ACTIONS:
        raise TeamChangeRefused(_("Choose what to do."))
    applies_to, gives, whose = ACTIONS[action]
    with transaction.atomic():
        team = list(
            Membership.objects.select_for_update().filter(collaborator=collaborator).order_by("pk")
        )
        membership = next((m for m in team if m.pk == membership_id), None)
        if membership is None:
            raise TeamChangeRefused(_("This person is no longer in the team."))
        if (whose == "self") != (membership.user_id == actor.pk):
            raise TeamChangeRefused(_("This action is not possible for this person."))
        if applies_to is not None and membership.role != applies_to:
            raise TeamChangeRefused(
                _("Not possible: %(name)s is %(role)s now.")
                % {
                    "name": membership.user.get_full_name() or membership.user.email,
                    "role": membership.get_role_display(),
                }
            )
        owners = sum(1 for m in team if m.role == Role.OWNER)
        if membership.role == Role.OWNER and owners <= 1:
            raise TeamChangeRefused(
                _("An organisation needs an owner: make another member owner first.")
            )
        if gives is None:
            membership.delete()
        else:
            membership.role = gives
            membership.save(update_fields=["role"])
    return membership
