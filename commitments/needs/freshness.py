"""Freshness of needs: the periodic job that expires needs past their validity (they leave
the map) and reminds those who keep them, once, of needs about to expire."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ksbb.after_commit import on_commit_once
from locations.mapdata import needs_changed
from locations.models import Facilitator, Need, NeedChange

from ..jobs import SEND_PENDING_NOTIFICATIONS, job_after_commit
from ..models import Notification


@dataclass(frozen=True)
class Freshened:
    expired: int
    reminded: int  # facilitators reminded


def needs_freshen(*, today: datetime.date | None = None) -> Freshened:
    """Expire, then remind. Idempotent: safe to run twice, or on two workers at once."""
    today = today or timezone.localdate()
    return Freshened(expired=needs_expire(today=today), reminded=needs_remind(today=today))


def needs_expire(*, today: datetime.date) -> int:
    """Mark open needs whose validity has ended as expired, each with a history row. Each
    is claimed with a conditional UPDATE, so an edit or another run meanwhile wins."""
    expired = 0
    for need in Need.objects.past_validity(today).only("pk", "valid_until").order_by("pk"):
        with transaction.atomic():
            claimed = Need.objects.filter(
                pk=need.pk, status=Need.Status.OPEN, valid_until__lt=today
            ).update(
                status=Need.Status.EXPIRED, version=F("version") + 1, updated_at=timezone.now()
            )
            if claimed != 1:
                continue
            NeedChange.objects.create(
                need=need,
                action=NeedChange.Action.EXPIRED,
                changes={"status": [Need.Status.OPEN.value, Need.Status.EXPIRED.value]},
                reason=_("Valid until %(date)s passed.") % {"date": need.valid_until.isoformat()},
            )
            expired += 1
    if expired:
        on_commit_once(needs_changed)
    return expired


def needs_remind(*, today: datetime.date) -> int:
    """One message per facilitator (in the portal and by email) listing their open needs
    that expire within Need.EXPIRY_WARNING_DAYS and were not yet reminded for their current
    valid-until date. A need is claimed by writing that date into expiry_reminded_for with
    a conditional UPDATE: a second run finds nothing to claim, and extending the validity
    re-arms the reminder. Returns how many facilitators were reminded."""
    due = Need.objects.expiring(today).filter(
        Q(expiry_reminded_for__isnull=True) | ~Q(expiry_reminded_for=F("valid_until"))
    )
    with transaction.atomic():
        claimed = []
        for need in due.select_related("area", "site", "donation_form").order_by("pk"):
            won = (
                Need.objects.filter(pk=need.pk, valid_until=need.valid_until)
                .filter(
                    Q(expiry_reminded_for__isnull=True) | ~Q(expiry_reminded_for=F("valid_until"))
                )
                .update(expiry_reminded_for=F("valid_until"))
            )
            if won == 1:
                claimed.append(need)
        by_user: dict[int, tuple] = {}
        needs_of: dict[int, list[Need]] = defaultdict(list)
        for need in claimed:
            for facilitation in Facilitator.objects.covering(need.area, need.site).select_related(
                "user"
            ):
                by_user[facilitation.user_id] = facilitation.user
                needs_of[facilitation.user_id].append(need)
        ids = [_write_reminder(by_user[user_id], needs).pk for user_id, needs in needs_of.items()]
        if ids:
            job_after_commit(SEND_PENDING_NOTIFICATIONS)
    return len(ids)


def _write_reminder(user, needs: list[Need]) -> Notification:
    # Written in the portal's language: recipients have not chosen one.
    with translation.override(settings.LANGUAGE_CODE):
        subject = ngettext(
            "%(count)s need expires within %(days)s days",
            "%(count)s needs expire within %(days)s days",
            len(needs),
        ) % {"count": len(needs), "days": Need.EXPIRY_WARNING_DAYS}
        lines = [
            _("%(form)s × %(quantity)s in %(area)s, valid until %(date)s")
            % {
                "form": need.donation_form.name,
                "quantity": need.quantity_needed,
                "area": need.site.name if need.site_id else need.area.display_name,
                "date": formats.date_format(need.valid_until, "j M Y"),
            }
            for need in sorted(needs, key=lambda n: (n.valid_until, n.pk))
        ]
        body = "\n".join(
            [
                *lines,
                "",
                _("Re-confirm them if they still hold, or change or close them."),
            ]
        )
    return Notification.objects.create(
        user=user,
        subject=subject[:200],
        body=body,
        url=reverse("my-needs") + "?show=expiring",
    )
