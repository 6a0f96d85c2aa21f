"""Notifications: an outbox of Notification rows written with the change they report, then
sent by a Celery task after commit, by email or, for those who chose it, by WhatsApp
(`emailed_at` marks a row sent on either channel). A broker that is down delays them; it
never loses them or fails the change (the periodic task sends what is still pending)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from collaborators.models import Consent, Membership, WhatsAppNumber
from collaborators.privacy import withdrawn_user_ids
from ksbb.whatsapp import WhatsAppError, whatsapp_provider
from locations.models import Facilitator
from programs.units import quantity_with_unit

from ..jobs import SEND_PENDING_NOTIFICATIONS, job_after_commit
from ..models import Commitment, DeliveryProof, Notification

logger = logging.getLogger(__name__)

# Transient WhatsApp failures in a row before a notification goes by email instead.
WHATSAPP_TRIES = 3


def _write(users: Iterable, commitment: Commitment, subject: str, body: str) -> list[int]:
    return notifications_write(
        users, subject=subject, body=body, url=commitment.get_absolute_url(), commitment=commitment
    )


def notifications_write(
    users: Iterable, *, subject: str, body: str, url: str, commitment: Commitment | None = None
) -> list[int]:
    """One outbox row per user (each once), sent by the job asked for after commit."""
    rows = Notification.objects.bulk_create(
        Notification(
            user=user,
            commitment=commitment,
            subject=subject[:200],
            body=body[:10_000],
            url=url[:300],
        )
        for user in {u.pk: u for u in users}.values()
    )
    ids = [row.pk for row in rows]
    if ids:
        job_after_commit(SEND_PENDING_NOTIFICATIONS)
    return ids


def _facilitators_of(commitment: Commitment):
    facilitators = Facilitator.objects.covering(commitment.area, commitment.site)
    return [f.user for f in facilitators.select_related("user")]


def _members_of(commitment: Commitment):
    return members_of(commitment.collaborator_id)


def members_of(collaborator_id: int) -> list:
    """The users acting for a collaborator (approved memberships)."""
    return [
        m.user
        for m in Membership.objects.filter(collaborator_id=collaborator_id)
        .exclude(role=Membership.Role.PENDING)
        .select_related("user")
    ]


def _describe(commitment: Commitment) -> str:
    return _("%(form)s × %(quantity)s for %(area)s (commitment #%(id)s)") % {
        "form": commitment.donation_form.name,
        "quantity": commitment.quantity,
        "area": commitment.area.display_name,
        "id": commitment.pk,
    }


def notify_new_pledge(commitment: Commitment) -> list[int]:
    # Written in the portal's language: recipients have not chosen one.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("New pledge to confirm in %(area)s") % {"area": commitment.area.display_name}
        body = _("%(collaborator)s pledged %(what)s. Please confirm or reject it.") % {
            "collaborator": commitment.collaborator.name,
            "what": _describe(commitment),
        }
        return _write(_facilitators_of(commitment), commitment, subject, body)


def notify_status(commitment: Commitment, reason: str = "") -> list[int]:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your commitment is now %(status)s") % {
            "status": commitment.get_status_display()
        }
        body = _describe(commitment)
        if reason:
            body += "\n" + _("Reason: %(reason)s") % {"reason": reason}
        return _write(_members_of(commitment), commitment, subject, body)


def notify_delivery(commitment: Commitment, quantity: int) -> list[int]:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("A delivery to confirm in %(area)s") % {"area": commitment.area.display_name}
        body = _("%(collaborator)s recorded a delivery of %(quantity)s: %(what)s.") % {
            "collaborator": commitment.collaborator.name,
            "quantity": quantity,
            "what": _describe(commitment),
        }
        return _write(_facilitators_of(commitment), commitment, subject, body)


def notifications_send(ids: Iterable[int] | None = None) -> int:
    """Send pending notifications (all pending ones when ids is None) on each person's
    channel: WhatsApp through the provider for those who chose it with a verified number,
    else email; a WhatsApp message that fails for good, or keeps failing, goes by email.
    Idempotent: each is claimed with a conditional UPDATE, so two workers never send the
    same one."""
    pending = Notification.objects.filter(emailed_at__isnull=True)
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    batch = list(pending.select_related("user").order_by("pk")[:500])
    # Withdrawn consent stops sending at once, rows already queued included: they are
    # marked handled unsent and stay in the person's portal inbox (part of the account,
    # not of this purpose); giving consent again does not send them late.
    withdrawn = withdrawn_user_ids({n.user_id for n in batch}, Consent.Purpose.NOTIFICATIONS)
    if withdrawn:
        Notification.objects.filter(
            pk__in=[n.pk for n in batch if n.user_id in withdrawn], emailed_at__isnull=True
        ).update(emailed_at=timezone.now())
        batch = [n for n in batch if n.user_id not in withdrawn]
    provider = whatsapp_provider()
    numbers = _whatsapp_numbers({n.user_id for n in batch}) if provider else {}
    sent = 0
    for notification in batch:
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if claimed != 1:
            continue  # taken by another worker
        tried = notification.email_attempts >= WHATSAPP_TRIES
        number = None if tried else numbers.get(notification.user_id)
        outcome = _by_whatsapp(provider, number, notification) if number else "email"
        if outcome == "email":
            outcome = _by_email(notification)
        if outcome == "retry":
            Notification.objects.filter(pk=notification.pk).update(
                emailed_at=None, email_attempts=F("email_attempts") + 1
            )
        sent += outcome == "sent"
    return sent


def _whatsapp_numbers(user_ids: set[int]) -> dict[int, str]:
    """The verified numbers of those who chose WhatsApp, by user id."""
    return dict(
        WhatsAppNumber.objects.verified()
        .filter(user_id__in=user_ids, channel=WhatsAppNumber.Channel.WHATSAPP)
        .values_list("user_id", "number")
    )


def notification_text(notification: Notification) -> str:
    """The notification as one message: subject, body and the absolute link."""
    return f"{notification.subject}\n\n{_body_with_link(notification)}"


def _body_with_link(notification: Notification) -> str:
    return f"{notification.body}\n\n{settings.SITE_URL}{notification.url}"


def _by_whatsapp(provider, number: str, notification: Notification) -> str:
    """ "sent", "retry" (a transient failure, fewer than WHATSAPP_TRIES so far) or "email"."""
    try:
        provider.send_text(number, notification_text(notification))
    except WhatsAppError as error:
        logger.warning("WhatsApp notification %s not sent: %s", notification.pk, error)
        if error.transient and notification.email_attempts + 1 < WHATSAPP_TRIES:
            return "retry"
        return "email"
    return "sent"


def _by_email(notification: Notification) -> str:
    if not notification.user.email:
        return "skipped"  # a user reached in the portal only
    try:
        send_mail(
            notification.subject,
            _body_with_link(notification),
            settings.DEFAULT_FROM_EMAIL,
            [notification.user.email],
        )
    except Exception:  # noqa: BLE001 - SMTP trouble: keep it pending for the next run
        logger.exception("Could not email notification %s", notification.pk)
        return "retry"
    return "sent"


def notify_offline_commitment(commitment: Commitment, *, exclude=None) -> list[int]:
    """A commitment recorded offline: the area's facilitators expect a delivery, and the
    collaborator's members (if any use the portal) see it; not whoever recorded it."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("A commitment made outside the portal was recorded for %(area)s") % {
            "area": commitment.area.display_name
        }
        body = _("%(collaborator)s committed %(what)s.") % {
            "collaborator": commitment.collaborator.name,
            "what": _describe(commitment),
        }
        users = _facilitators_of(commitment) + _members_of(commitment)
        return _write([u for u in users if u != exclude], commitment, subject, body)


def notify_receipt(commitment: Commitment, delivery, *, actor, completed: bool) -> list[int]:
    """Receipt of one of its deliveries confirmed: each member of the collaborator hears it
    once, with the link to the delivery on the area's public record, where the photos the
    facilitator makes public show (now or later: no second message then). On the receipt
    that completes the commitment this message replaces the status one."""
    with translation.override(settings.LANGUAGE_CODE):
        form = commitment.donation_form
        subject = _("Your delivery to %(area)s was received") % {
            "area": commitment.area.display_name
        }
        lines = [
            _(
                "%(who)s confirmed receipt of %(quantity)s of %(form)s in %(area)s "
                "(commitment #%(id)s)."
            )
            % {
                "who": capfirst(_receiver_role(commitment, actor)),
                "quantity": quantity_with_unit(delivery.quantity, form.unit),
                "form": form.name,
                "area": commitment.area.display_name,
                "id": commitment.pk,
            }
        ]
        if completed:
            lines.append(_("Everything promised has arrived: the commitment is now completed."))
        photos = DeliveryProof.objects.filter(
            delivery=delivery, is_public=True, kind=DeliveryProof.Kind.PHOTO
        ).values_list("pk", flat=True)
        for pk in photos:
            lines.append(settings.SITE_URL + reverse("proof-public-file", args=[pk]))
        lines.append(
            _("The public record of the delivery shows the photos the facilitator makes public.")
        )
        url = f"{commitment.area.get_absolute_url()}#delivery-{delivery.pk}"
        return notifications_write(
            members_of(commitment.collaborator_id),
            subject=subject,
            body="\n".join(lines),
            url=url,
            commitment=commitment,
        )


def _receiver_role(commitment: Commitment, actor) -> str:
    """Who confirmed, as the public sees it: their facilitator title here, else their role."""
    facilitation = (
        Facilitator.objects.covering(commitment.area, commitment.site)
        .filter(user=actor)
        .order_by("-area__path")
        .first()
        if actor is not None
        else None
    )
    if facilitation is not None:
        return facilitation.title
    if actor is not None and actor.is_superuser:
        return str(_("an administrator"))
    return str(_("the program lead"))
