"""Overdue reports go up to the administrators, once each (the hourly job)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..notify.notifications import notifications_write
from .models import Report
from .rules import escalation_recipients


def escalate_overdue(now=None) -> int:
    """Escalate each open report past its due time not escalated yet; the number escalated.
    Each is claimed with a conditional UPDATE on escalated_at IS NULL, so two runs at once
    (or twice) escalate it once."""
    now = now or timezone.now()
    ids = list(
        Report.objects.overdue(now)
        .filter(escalated_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    escalated = 0
    for report_id in ids:
        with transaction.atomic():
            claimed = (
                Report.objects.overdue(now)
                .filter(pk=report_id, escalated_at__isnull=True)
                .update(escalated_at=now)
            )
            if claimed != 1:
                continue  # answered meanwhile, or another run took it
            report = Report.objects.select_related("area").get(pk=report_id)
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("Overdue report from a recipient in %(area)s") % {
                    "area": report.area.display_name
                }
                body = _("Report %(code)s (%(category)s) was due on %(due)s.") % {
                    "code": report.code_display,
                    "category": report.get_category_display(),
                    "due": timezone.localtime(report.due_at).strftime("%d-%m-%Y %H:%M"),
                }
            notifications_write(
                escalation_recipients(report),
                subject=subject,
                body=body,
                url=report.get_absolute_url(),
            )
            escalated += 1
    return escalated
