"""The notifications an adoption sends: rows of the portal's outbox (commitments.models.
Notification, without a commitment), emailed by the same job as the commitments' ones."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from collaborators.models import Membership
from programs.models import ProgramLead

from ..jobs import SEND_PENDING_NOTIFICATIONS, job_after_commit
from ..models import Notification
from ..notify.notifications import members_of
from ..notify.notifications import notifications_write as _write


def notify_decision_makers(adoption, facilitators, *, proposed: bool, commented=None) -> list[int]:
    """A proposal (new or edited) for the program's leads, and the area's facilitators, who
    are asked for their comment; or a facilitator's comment, for the leads."""
    leads = [lead.user for lead in ProgramLead.objects.filter(program=adoption.program_id)]
    with translation.override(settings.LANGUAGE_CODE):
        if commented is not None:
            subject = _("A facilitator commented on the adoption “%(name)s”") % {
                "name": adoption.name
            }
            return _write(
                leads, subject=subject, body=commented.text, url=adoption.get_absolute_url()
            )
        template = (
            _("%(collaborator)s proposes to adopt “%(name)s”")
            if proposed
            else _("%(collaborator)s sent an edited proposal to adopt “%(name)s”")
        )
        subject = template % {"collaborator": adoption.collaborator.name, "name": adoption.name}
        body = _(
            "The program lead decides; the facilitators of the area are asked for their "
            "comment first."
        )
        users = leads + [f.user for f in facilitators]
        return _write(users, subject=subject, body=body, url=adoption.get_absolute_url())


def notify_adopter(adoption) -> list[int]:
    """The adoption's new status, for the adopter's members."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your adoption “%(name)s” is now: %(status)s") % {
            "name": adoption.name,
            "status": adoption.get_status_display(),
        }
        return _write(
            members_of(adoption.collaborator_id),
            subject=subject,
            body=adoption.decision_note,
            url=adoption.get_absolute_url(),
        )


def notify_adopters(adoptions) -> list[int]:
    """Each adoption's new status for its adopter's members, all at once: one query for the
    members, one insert (the periodic end of adoptions, commitments.adoption.expiry)."""
    adoptions = list(adoptions)
    members: dict[int, list] = {}
    for m in (
        Membership.objects.filter(collaborator__in={a.collaborator_id for a in adoptions})
        .exclude(role=Membership.Role.PENDING)
        .select_related("user")
    ):
        members.setdefault(m.collaborator_id, []).append(m.user)
    rows = []
    with translation.override(settings.LANGUAGE_CODE):
        for adoption in adoptions:
            subject = _("Your adoption “%(name)s” is now: %(status)s") % {
                "name": adoption.name,
                "status": adoption.get_status_display(),
            }
            rows += [
                Notification(
                    user=user,
                    subject=subject[:200],
                    body=adoption.decision_note[:10_000],
                    url=adoption.get_absolute_url()[:300],
                )
                for user in {u.pk: u for u in members.get(adoption.collaborator_id, [])}.values()
            ]
    ids = [row.pk for row in Notification.objects.bulk_create(rows)]
    if ids:
        job_after_commit(SEND_PENDING_NOTIFICATIONS)
    return ids


def notify_first_offers(offers) -> list[int]:
    """Needs posted in adopted areas, offered to their adopters first: one notification per
    adoption and member, however many needs one import posted (a single need is named)."""
    by_adoption: dict[int, list] = {}
    for offer in offers:
        by_adoption.setdefault(offer.adoption_id, []).append(offer)
    ids = []
    for group in by_adoption.values():
        ids += _first_offer_write(group)
    return ids


def _first_offer_write(offers: list) -> list[int]:
    first = offers[0]
    until = first.until.strftime("%Y-%m-%d %H:%M")
    with translation.override(settings.LANGUAGE_CODE):
        if len(offers) == 1:
            need = first.need
            subject = _("A new need in your adopted area %(area)s is offered to you first") % {
                "area": need.area.display_name
            }
            body = _("%(form)s × %(quantity)s. Only you may pledge to it until %(until)s.") % {
                "form": need.donation_form.name,
                "quantity": need.quantity_needed,
                "until": until,
            }
            url = need.area.get_absolute_url()
        else:
            subject = _("%(count)s new needs in your adopted areas are offered to you first") % {
                "count": len(offers)
            }
            body = _("Only you may pledge to them until %(until)s.") % {"until": until}
            url = first.adoption.get_absolute_url()
        return _write(
            members_of(first.adoption.collaborator_id), subject=subject, body=body, url=url
        )
