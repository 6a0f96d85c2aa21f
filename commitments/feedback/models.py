"""Reports from recipients: anyone may tell the program about a delivery, an area or a
collaborator (a complaint, or thanks), follow it by a tracking code and get an answer in a
set time. A report is never deleted: its history (ReportEvent) says who did what when."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collaborators.models import Collaborator
from ksbb.storage import private_storage
from locations.models import Area, Site
from programs.models import Program

from ..models import Delivery

# No 0/O, 1/I/L: read aloud or typed from a phone without doubt. 31^10 ≈ 8 x 10^14 codes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
DEFAULT_ANSWER_DAYS = 7
TEXT_MAX_LENGTH = 2000


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """The code as stored, from what a person typed (any case, spaces or dashes)."""
    if not isinstance(typed, str) or len(typed) > 40:
        return ""
    code = "".join(ch for ch in typed.upper() if ch.isalnum())
    return code if len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET) else ""


class ReportQuerySet(models.QuerySet):
    def open(self) -> ReportQuerySet:
        return self.filter(status__in=Report.OPEN)

    def overdue(self, now=None) -> ReportQuerySet:
        return self.open().filter(due_at__lt=now or timezone.now())

    def upheld(self) -> ReportQuerySet:
        """Complaints found right: resolved, and not a thank-you."""
        return self.filter(status=Report.Status.RESOLVED).exclude(category=Report.Category.THANKS)

    def in_area(self, area: Area) -> ReportQuerySet:
        """Reports about `area` or any area below it."""
        return self.filter(area__in=Area.objects.within(area.path))

    def delete(self):
        raise PermissionError("Reports are never deleted.")


class ReportCategory(models.TextChoices):
    NOT_RECEIVED = "not_received", _("Not received")
    LESS = "less", _("Less than stated")
    WRONG = "wrong", _("Wrong or spoiled goods")
    ASKED_TO_PAY = "asked_to_pay", _("Asked to pay or to do something in return")
    MISCONDUCT = "misconduct", _("Misconduct")
    THANKS = "thanks", _("Thanks")
    OTHER = "other", _("Other")


class ReportChannel(models.TextChoices):
    WEB = "web", _("Web")
    WHATSAPP = "whatsapp", _("WhatsApp")


class ReportStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    LOOKING_INTO = "looking_into", _("Being looked into")
    RESOLVED = "resolved", _("Resolved")
    NOT_UPHELD = "not_upheld", _("Not upheld")


class Report(models.Model):
    Category = ReportCategory
    Channel = ReportChannel
    Status = ReportStatus

    OPEN = (Status.RECEIVED, Status.LOOKING_INTO)
    CLOSED = (Status.RESOLVED, Status.NOT_UPHELD)

    code = models.CharField(_("tracking code"), max_length=CODE_LENGTH, unique=True)
    category = models.CharField(_("what happened"), max_length=20, choices=Category.choices)
    text = models.TextField(_("what you want to tell"), max_length=TEXT_MAX_LENGTH)
    # PROTECT: a report outlives nothing it is about; the area and the delivery stay.
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="reports")
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    delivery = models.ForeignKey(
        Delivery, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    collaborator = models.ForeignKey(
        Collaborator, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    about_facilitator = models.BooleanField(_("about the area's facilitator"), default=False)
    photo = models.FileField(
        upload_to="feedback/%Y/%m/", storage=private_storage, blank=True, max_length=200
    )
    # The reporter: an account (signed in), or a phone / email for a reply, or nobody.
    # SET_NULL: erasing a person leaves the report, without them.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback_reports",
    )
    contact_phone = models.CharField(_("phone for a reply"), max_length=20, blank=True)
    contact_email = models.EmailField(_("email for a reply"), max_length=254, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    answer = models.TextField(_("answer"), max_length=TEXT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    due_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report from a recipient")
        verbose_name_plural = _("reports from recipients")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["program", "status"], name="report_program_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=ReportCategory.values),
                name="report_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=ReportChannel.values), name="report_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["received", "looking_into"]) | ~Q(answer=""),
                name="report_closed_has_answer",
                violation_error_message=_("A closed report needs an answer."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["received", "looking_into"], closed_at__isnull=True)
                | Q(status__in=["resolved", "not_upheld"], closed_at__isnull=False),
                name="report_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=models.F("created_at")), name="report_due_after_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code_display} ({self.get_category_display()}, {self.status})"

    def save(self, *args, **kwargs):
        if not self.code:
            self.code = new_code()
        if self.due_at is None:
            self.due_at = due_for(self.program, self.created_at)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        """The handlers' page (the reporter's is get_tracking_url)."""
        return reverse("feedback-detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise PermissionError("Reports are never deleted.")

    @property
    def code_display(self) -> str:
        return f"{self.code[:5]}-{self.code[5:]}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()

    def get_tracking_url(self) -> str:
        return reverse("feedback-track-code", args=[self.code])


def due_for(program: Program | None, created_at: datetime) -> datetime:
    days = program.report_answer_days if program is not None else DEFAULT_ANSWER_DAYS
    return created_at + timedelta(days=days)


class ReportEvent(models.Model):
    """One step of a report's handling: who, when, to which status, and the note."""

    # PROTECT: with its first event a report cannot be deleted even by a stray delete().
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=Report.Status.choices)
    note = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)

    class Meta:
        verbose_name = _("report event")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values),
                name="report_event_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report.code_display} {self.status} at {self.at:%Y-%m-%d %H:%M}"
