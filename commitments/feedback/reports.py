"""Writing reports: a new one (sent to its handlers), a status change with its answer (the
reporter told when it closes), and the due date. Views and the admin call these."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import Delivery
from ..notify.notifications import notifications_write
from .models import Report, ReportEvent, due_for, new_code
from .rules import handlers_of

logger = logging.getLogger(__name__)

# Which status a report may move to from which: once closed it stays closed.
NEXT_STATUSES = {
    Report.Status.RECEIVED: (
        Report.Status.LOOKING_INTO,
        Report.Status.RESOLVED,
        Report.Status.NOT_UPHELD,
    ),
    Report.Status.LOOKING_INTO: (Report.Status.RESOLVED, Report.Status.NOT_UPHELD),
    Report.Status.RESOLVED: (),
    Report.Status.NOT_UPHELD: (),
}


class ReportRefused(Exception):
    """A status change that may not happen (the message says why, for the person)."""


def about_from_delivery(delivery: Delivery | None) -> dict:
    """What a report about `delivery` is also about: its area, site, program, collaborator."""
    if delivery is None:
        return {}
    commitment = delivery.commitment
    return {
        "area": commitment.area,
        "site": commitment.site,
        "program": commitment.program,
        "collaborator": commitment.collaborator,
    }


def report_submit(*, fields: dict, photo=None, reporter=None) -> Report:
    """Save a new report (fields: the model's), its first event, and notify its handlers
    after commit. A code that happens to be taken already is drawn again."""
    now = timezone.now()
    report = Report(**fields, created_at=now)
    report.due_at = due_for(report.program, now)
    if reporter is not None and reporter.is_authenticated:
        report.reporter = reporter
    if photo is not None:
        report.photo.save(photo.name, photo.as_file(), save=False)
    for attempt in range(5):
        report.code = new_code()
        try:
            with transaction.atomic():
                report.save()
                ReportEvent.objects.create(
                    report=report, actor=report.reporter, at=now, status=report.status
                )
                _notify_handlers(report)
        except IntegrityError:
            if attempt == 4 or not Report.objects.filter(code=report.code).exists():
                raise
            continue
        return report
    raise AssertionError("unreachable")


def _notify_handlers(report: Report) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("New report from a recipient in %(area)s: %(category)s") % {
            "area": report.area.display_name,
            "category": report.get_category_display(),
        }
        body = _("Please answer it by %(due)s.") % {
            "due": timezone.localtime(report.due_at).strftime("%d-%m-%Y %H:%M")
        }
        notifications_write(
            handlers_of(report), subject=subject, body=body, url=report.get_absolute_url()
        )


def report_set_status(*, report_id: int, actor, status: str, answer: str = "") -> Report:
    """Move a report to `status` with `answer` (required to close it). The row is locked,
    so two handlers at once cannot both close it or reopen a closed one; raises
    ReportRefused with the reason. The caller has checked that `actor` handles it."""
    answer = (answer or "").strip()
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if status not in NEXT_STATUSES.get(report.status, ()):
            if report.status in Report.CLOSED:
                raise ReportRefused(_("This report is closed already; it stays closed."))
            raise ReportRefused(_("A report cannot move to that status."))
        closing = status in Report.CLOSED
        if closing and not answer:
            raise ReportRefused(
                _("Say what was done (resolved) or why (not upheld): the reporter reads it.")
            )
        now = timezone.now()
        report.status = status
        if closing:
            report.answer = answer
            report.closed_at = now
        report.save(update_fields=["status", "answer", "closed_at"])
        ReportEvent.objects.create(report=report, actor=actor, at=now, status=status, note=answer)
        if closing:
            _tell_reporter(report)
    return report


def _tell_reporter(report: Report) -> None:
    """The reporter learns of the answer: by a notification on their account, else by email
    to the address they gave (after commit; a failure is logged, the page stays whole)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your report %(code)s has an answer") % {"code": report.code_display}
        body = _("%(status)s: %(answer)s") % {
            "status": report.get_status_display(),
            "answer": report.answer,
        }
    url = reverse("feedback-track-code", args=[report.code])
    if report.reporter_id is not None:
        notifications_write([report.reporter], subject=subject, body=body, url=url)
    elif report.contact_email:
        email, text = report.contact_email, f"{body}\n\n{settings.SITE_URL}{url}"
        transaction.on_commit(lambda: email_reporter(email, subject, text, report.code))


def email_reporter(address: str, subject: str, text: str, code: str) -> bool:
    """One email to a reporter without an account; never raises (EMAIL_TIMEOUT bounds it)."""
    try:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception:  # noqa: BLE001 - SMTP trouble: the tracking page still shows the answer
        logger.exception("Could not email the answer to report %s", code)
        return False
    return True
