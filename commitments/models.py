from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from collaborators.models import Collaborator, standing
from ksbb.bounds import fits_integer, fits_smallint
from ksbb.storage import private_storage
from locations.models import Area, Need, Site
from programs.models import DonationForm, Program


class Status(models.TextChoices):
    """The humanitarian finance convention: pledge -> commitment -> disbursement (delivery)."""

    PLEDGED = "pledged", _("pledged")
    COMMITTED = "committed", _("committed")
    DELIVERED = "delivered", _("delivered")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")
    REJECTED = "rejected", _("rejected")
    EXPIRED = "expired", _("expired")


# Commitments in these states hold their quantity against the need; the others released it.
ACTIVE_STATUSES = (Status.PLEDGED, Status.COMMITTED, Status.DELIVERED, Status.COMPLETED)
# Confirmed commitments: what program figures count (a pledge is not yet a commitment).
CONFIRMED_STATUSES = (Status.COMMITTED, Status.DELIVERED, Status.COMPLETED)
# Not finished and not ended: someone still has something to do.
UNDER_WAY_STATUSES = (Status.PLEDGED, Status.COMMITTED, Status.DELIVERED)
CLOSED_STATUSES = (Status.COMPLETED, Status.CANCELLED, Status.REJECTED, Status.EXPIRED)


def quiet_q(programs, *, now: datetime.datetime | None = None) -> Q:
    """The condition of CommitmentQuerySet.quiet: under way, no event for the program's
    no_news_days."""
    now = now or timezone.now()
    quiet = Q(pk__in=[])
    for program in programs:
        quiet |= Q(
            program=program.pk,
            last_event_at__lt=now - datetime.timedelta(days=program.no_news_days),
        )
    return Q(quiet, status__in=UNDER_WAY_STATUSES)


class CommitmentQuerySet(models.QuerySet):
    def active(self) -> CommitmentQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def with_key(self, collaborator, idempotency_key: str) -> Commitment | None:
        """The commitment a submission with this key already created, if any."""
        return self.filter(collaborator=collaborator, idempotency_key=idempotency_key).first()

    def with_standing(self) -> CommitmentQuerySet:
        """Annotate `collaborator_standing`: the collaborator's standing in the program."""
        return self.annotate(
            collaborator_standing=standing(
                program=OuterRef("program_id"), collaborator="collaborator"
            )
        )

    # Who sees and acts on which commitments: the query-level form of
    # commitments.workflow.commitment_roles (collaborators.roles.Scopes is the user's reach).

    def of_collaborators(self, scopes) -> CommitmentQuerySet:
        """The commitments of the collaborators the user acts for."""
        return self.filter(collaborator__in=scopes.collaborator_ids)

    def visible_to(self, scopes) -> CommitmentQuerySet:
        """Commitments the user holds any role on: their collaborators', those in areas or
        sites they facilitate, those in programs they lead; everything for administrators."""
        if scopes.is_admin:
            return self.all()
        return self.filter(
            Q(collaborator__in=scopes.collaborator_ids)
            | scopes.area_q()
            | Q(program__in=scopes.program_ids)
        )

    def to_confirm(self, scopes) -> CommitmentQuerySet:
        """Pledges waiting for this facilitator, lead or administrator to confirm or reject."""
        if not scopes.confirms_anything:
            return self.none()
        confirmable = (
            self
            if scopes.is_admin
            else self.filter(scopes.area_q() | Q(program__in=scopes.program_ids))
        )
        return confirmable.filter(status=Status.PLEDGED)

    def quiet(self, programs, *, now: datetime.datetime | None = None) -> CommitmentQuerySet:
        """Commitments still under way (pledged, committed, delivered) with no event for their
        program's `no_news_days`: somebody is waiting for news of them. `programs` are
        Program rows (their own N each); one indexed range per program."""
        return self.filter(quiet_q(programs, now=now))

    def with_quiet(self, programs, *, now: datetime.datetime | None = None) -> CommitmentQuerySet:
        """Annotate `is_quiet`: the row is one of quiet(programs), for lists that flag or sort
        them. Worked out from the row's own columns (the conditions of quiet()), so a page
        reads nothing more: a subquery on the table would let PostgreSQL hash every
        commitment under way to flag a page of 25."""
        flag = quiet_q(programs, now=now)
        return self.annotate(is_quiet=Case(When(flag, then=Value(True)), default=Value(False)))


class DeliveryQuerySet(models.QuerySet):
    def to_receive(self, scopes) -> DeliveryQuerySet:
        """Deliveries recorded in the user's areas or programs and not yet confirmed."""
        if not scopes.confirms_anything:
            return self.none()
        pending = self.filter(confirmed_at__isnull=True)
        if scopes.is_admin:
            return pending
        return pending.filter(
            scopes.area_q("commitment__") | Q(commitment__program__in=scopes.program_ids)
        )


class Commitment(models.Model):
    class Channel(models.TextChoices):
        PLATFORM = "platform", _("platform")
        OFFLINE = "offline", _("offline (recorded by the program)")

    collaborator = models.ForeignKey(
        Collaborator, on_delete=models.PROTECT, related_name="commitments"
    )
    # The target: a need line, or an area / site directly (offline records, open gifts).
    need = models.ForeignKey(
        Need, on_delete=models.PROTECT, null=True, blank=True, related_name="commitments"
    )
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="commitments")
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="commitments"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="commitments")
    donation_form = models.ForeignKey(
        DonationForm, on_delete=models.PROTECT, related_name="commitments"
    )
    quantity = models.PositiveIntegerField(validators=fits_integer())
    quantity_delivered = models.PositiveIntegerField(default=0, editable=False)
    value_idr = models.DecimalField(
        _("value (IDR)"), max_digits=18, decimal_places=0, null=True, blank=True
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PLATFORM)
    aggregator = models.ForeignKey(
        Collaborator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="aggregated_commitments",
        help_text=_("The agency through which the gift is channelled, if any."),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLEDGED)
    planned_delivery_on = models.DateField(null=True, blank=True)
    is_anonymous = models.BooleanField(default=False, help_text=_("Shown publicly as 'anonymous'."))
    statement_letter = models.FileField(
        upload_to="statements/%Y/%m/", storage=private_storage, blank=True
    )
    note = models.TextField(blank=True, max_length=1000)
    # One key per pledge form render / API request: a resubmission finds the same row.
    idempotency_key = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # When anything last happened to it (an event, a delivery recorded or confirmed): the
    # "no news for N days" list reads this column through its index, not the events table.
    last_event_at = models.DateTimeField(default=timezone.now)
    is_demo = models.BooleanField(default=False, help_text=_("Created by seed_demo."))

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        indexes = [
            models.Index(fields=["status", "program"], name="commitment_status_program"),
            models.Index(fields=["area", "status"], name="commitment_area_status"),
            models.Index(fields=["area", "-created_at"], name="commitment_area_recent"),
            models.Index(fields=["program", "status", "last_event_at"], name="commitment_quiet"),
            models.Index(fields=["program", "created_at"], name="commitment_program_created"),
            # The verification queue: each collaborator's commitments in the lead's programs.
            models.Index(fields=["collaborator", "program"], name="commitment_collab_program"),
            # A collaborator's commitments by state and program, with what its figures sum:
            # the workspace's counts and the figures refresh after each change (busiest
            # collaborator: 10,000 rows at 1M) read the index alone (PostgreSQL; SQLite
            # keeps the columns without the included ones).
            models.Index(
                fields=["collaborator", "status", "program", "is_anonymous"],
                include=["quantity", "value_idr"],
                name="commitment_collab_status",
            ),
            # A collaborator's commitments newest first (my commitments, a page at a time).
            models.Index(
                fields=["collaborator", "-created_at", "-id"], name="commitment_collab_recent"
            ),
            # Pledges waiting for confirmation in a program, oldest first (the inbox).
            models.Index(
                fields=["program", "created_at", "id"],
                condition=Q(status="pledged"),
                name="commitment_to_confirm",
            ),
            # Commitments to deliver in a program by planned date, or by last change where
            # none was planned: the expiry job reads only those due.
            models.Index(
                fields=["program", "planned_delivery_on", "status_changed_at"],
                condition=Q(status="committed"),
                name="commitment_to_deliver",
            ),
            # A program's offline records newest first (the offline list, and its count).
            models.Index(
                fields=["program", "-created_at", "-id"],
                condition=Q(channel="offline"),
                name="commitment_offline_recent",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["collaborator", "idempotency_key"], name="commitment_idempotency_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="commitment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["platform", "offline"]), name="commitment_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="commitment_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(quantity_delivered__gte=0) & Q(quantity_delivered__lte=F("quantity")),
                name="commitment_delivered_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(value_idr__isnull=True) | Q(value_idr__gte=0),
                name="commitment_value_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(aggregator__isnull=True) | ~Q(aggregator=F("collaborator")),
                name="commitment_aggregator_not_self",
            ),
            models.CheckConstraint(
                condition=~Q(idempotency_key=""), name="commitment_idempotency_key_present"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"#{self.pk} {self.collaborator} {self.donation_form} x{self.quantity} ({self.status})"
        )

    def get_absolute_url(self) -> str:
        return reverse("commitment-detail", args=[self.pk])

    @cached_property
    def collaborator_standing(self) -> str:
        # Set by CommitmentQuerySet.with_standing() on lists; one query otherwise.
        return self.collaborator.standing_in(self.program_id)

    @property
    def collaborator_is_verified(self) -> bool:
        """May its pledge be confirmed: the collaborator is verified for this program."""
        return self.collaborator_standing == Collaborator.Verification.VERIFIED

    @property
    def collaborator_standing_label(self) -> str:
        return Collaborator.Verification(self.collaborator_standing).label

    def days_without_news(self, now: datetime.datetime | None = None) -> int:
        """Whole days since its last event ("no news for 23 days")."""
        return max(((now or timezone.now()) - self.last_event_at).days, 0)

    @property
    def quantity_left(self) -> int:
        """What is still to be delivered."""
        return max(self.quantity - self.quantity_delivered, 0)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def shows_as_anonymous(self) -> bool:
        """Anonymous on public pages: the gift was pledged so, or its collaborator is a
        person who has not agreed to be named (Collaborator.is_publicly_named)."""
        return self.is_anonymous or not self.collaborator.is_publicly_named

    @property
    def public_name(self) -> str:
        return str(_("anonymous")) if self.shows_as_anonymous else self.collaborator.name


class Delivery(models.Model):
    """Goods or services handed over for a commitment; partial deliveries allowed."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="deliveries")
    quantity = models.PositiveIntegerField(validators=fits_integer())
    delivered_on = models.DateField()
    recipients_households = models.PositiveIntegerField(
        null=True, blank=True, validators=fits_integer()
    )
    recipients_persons = models.PositiveIntegerField(
        null=True, blank=True, validators=fits_integer()
    )
    note = models.TextField(blank=True, max_length=1000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["commitment", "delivered_on", "pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            # Inboxes and workspaces list deliveries waiting for confirmation, oldest first.
            models.Index(
                fields=["recorded_at", "id"],
                condition=Q(confirmed_at__isnull=True),
                name="delivery_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="delivery_quantity_positive"),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(confirmed_at__gte=F("recorded_at")),
                name="delivery_confirmed_after_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.quantity} for #{self.commitment_id} on {self.delivered_on}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class DeliveryProof(models.Model):
    """A photo (re-encoded, location metadata stripped) or a PDF proving a delivery."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        DOCUMENT = "document", _("document")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="proofs")
    file = models.FileField(upload_to="proofs/%Y/%m/", storage=private_storage)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Shown on public adoption pages only once the area's facilitator or the program lead
    # marks it (faces, documents: never public by default; a document never at all).
    is_public = models.BooleanField(default=False)
    public_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    public_marked_at = models.DateTimeField(null=True, blank=True)
    # Taken by the facilitator when confirming receipt, not by the one who delivered.
    at_receipt = models.BooleanField(_("photo at receipt"), default=False)

    class Meta:
        verbose_name = _("proof of delivery")
        verbose_name_plural = _("proofs of delivery")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["photo", "document"]), name="delivery_proof_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_public=False) | Q(kind="photo"),
                name="delivery_proof_public_photo_only",
            ),
        ]

    def __str__(self) -> str:
        return self.file.name


class CommitmentEvent(models.Model):
    """One transition of a commitment: who, when, from, to, why. Never edited."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_role = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["commitment", "at", "pk"]
        verbose_name = _("commitment event")
        verbose_name_plural = _("commitment events")
        constraints = [
            models.CheckConstraint(
                condition=Q(to_status__in=[s.value for s in Status]),
                name="commitment_event_to_valid",
            ),
            models.CheckConstraint(
                condition=Q(from_status="") | Q(from_status__in=[s.value for s in Status]),
                name="commitment_event_from_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.commitment_id}: {self.from_status or '-'} -> {self.to_status}"

    ROLE_LABELS = {
        "collaborator": _("collaborator"),
        "facilitator": _("facilitator"),
        "lead": _("program lead"),
        "admin": _("administrator"),
        "system": _("the portal"),
    }

    @property
    def role_label(self) -> str:
        return str(self.ROLE_LABELS.get(self.actor_role, self.actor_role))


class Notification(models.Model):
    """A message to one user, shown in the portal and sent by email.

    Written in the same transaction as the change it reports (an outbox): if the broker is
    down the email goes out later, from the periodic task, and nothing is lost.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=10_000)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    email_attempts = models.PositiveSmallIntegerField(default=0, validators=fits_smallint())

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.user}: {self.subject}"


class NeedImportQuerySet(models.QuerySet):
    def visible_to(self, user, scopes) -> NeedImportQuerySet:
        """An import is its uploader's (its file may hold notes about people's homes):
        others, administrators apart, do not learn it exists."""
        if scopes.is_admin:
            return self.all()
        return self.filter(uploaded_by_id=user.pk)


class NeedImport(models.Model):
    """One uploaded file of needs: checked into a preview, then applied in one transaction
    (commitments.needs.bulk_import). Seen only by its uploader and administrators."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        CHECKING = "checking", _("checking")
        CHECKED = "checked", _("checked")
        APPLYING = "applying", _("applying")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="need_imports"
    )
    file = models.FileField(upload_to="imports/%Y/%m/", storage=private_storage)
    file_name = models.CharField(_("file name"), max_length=200)
    format = models.CharField(max_length=4, choices=Format.choices)
    # The language of the file's header row: problems name its columns the same way.
    header_language = models.CharField(max_length=2, default="id")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    rows_total = models.PositiveIntegerField(default=0, validators=fits_integer())
    rows_done = models.PositiveIntegerField(default=0, validators=fits_integer())
    # [{"row": 2, "column": "area_code", "code": "unknown_area", "value": "..."}], the first
    # PROBLEMS_KEPT of them; problem_count counts them all.
    problems = models.JSONField(default=list, blank=True)
    problem_count = models.PositiveIntegerField(default=0, validators=fits_integer())
    # What applying would create: [{"form": donation form id, "needs": n, "quantity": q}].
    summary = models.JSONField(default=list, blank=True)
    created_count = models.PositiveIntegerField(default=0, validators=fits_integer())
    # Why applying failed (nothing was written then); shown on the page.
    error = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NeedImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("needs import")
        verbose_name_plural = _("needs imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["uploaded", "checking", "checked", "applying", "applied", "failed"]
                ),
                name="need_import_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=["csv", "xlsx"]), name="need_import_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(rows_done__lte=F("rows_total")), name="need_import_done_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("need-import-detail", args=[self.pk])

    @property
    def is_busy(self) -> bool:
        """A job is (or should be) working on it: the page keeps showing progress."""
        return self.status in (self.Status.UPLOADED, self.Status.CHECKING, self.Status.APPLYING)

    @property
    def may_apply(self) -> bool:
        return self.status == self.Status.CHECKED and self.problem_count == 0 and self.rows_total

    @property
    def percent_done(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class SummaryKey(models.Model):
    """The key a summary recompute works on: everything of CommitmentSummary's key but the
    status, which a change moves between rows of the same key."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    donation_form = models.ForeignKey(DonationForm, on_delete=models.CASCADE, related_name="+")
    # The commitment's own area (an RW or a kelurahan).
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    # First day of the month of the commitment's created_at, in Asia/Jakarta.
    month = models.DateField()
    channel = models.CharField(max_length=10, choices=Commitment.Channel.choices)

    KEY_FIELDS = ("program_id", "donation_form_id", "area_id", "month", "channel")

    class Meta:
        abstract = True

    @property
    def key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.KEY_FIELDS)


def figure_sums() -> dict[str, Sum]:
    """The figures of summary or roll-up rows, summed: the one definition the dashboards,
    the totals, the exports and the API sum with (names as the area figures show them)."""
    return {
        "commitments": Sum("count"),
        "quantity": Sum("quantity"),
        "value": Sum("value_idr"),
        "households": Sum("households"),
        "persons": Sum("persons"),
    }


class FiguresQuerySet(models.QuerySet):
    """Summary and roll-up rows: read through their summed figures."""

    def figures(self) -> dict[str, int]:
        """The figures of all these rows (0 where there is no row)."""
        return {name: total or 0 for name, total in self.aggregate(**figure_sums()).items()}

    def figures_by(self, *columns: str) -> models.QuerySet:
        """The figures per value of `columns` (dicts with the columns and the figures)."""
        return self.values(*columns).annotate(**figure_sums())


# The columns SummedFigures sums, in the order the summary SQL writes them.
SUMMED_COLUMNS = ("count", "quantity", "value_idr", "households", "persons")


class SummedFigures(models.Model):
    """The figures a summary or roll-up row sums (names as figure_sums reads them), and when
    they were computed."""

    count = models.PositiveIntegerField()
    quantity = models.PositiveBigIntegerField()
    value_idr = models.DecimalField(_("value (IDR)"), max_digits=22, decimal_places=0)
    # Reached, from the confirmed deliveries of the commitments summed.
    households = models.PositiveBigIntegerField()
    persons = models.PositiveBigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


def figures_nonnegative(name: str) -> models.CheckConstraint:
    """No summed figure below zero (a SummedFigures table's check)."""
    return models.CheckConstraint(
        condition=Q(count__gte=0)
        & Q(quantity__gte=0)
        & Q(value_idr__gte=0)
        & Q(households__gte=0)
        & Q(persons__gte=0),
        name=name,
    )


class CommitmentSummary(SummaryKey, SummedFigures):
    """Commitments aggregated by program x donation form x area x month x channel x status,
    written only by commitments.figures.summaries (incremental recompute or full rebuild). The
    area's kelurahan, kecamatan and kota are copied onto the row so roll-ups are a GROUP BY
    on this table alone.

    On PostgreSQL the table is filled to 90% a page (migration 0012), so the rebuild's
    repairs update rows in place without touching the indexes (HOT updates)."""

    # Indexed first in summary_program_month, summary_served and the key. (The donation
    # form keeps its own index: the summaries API filters on a form without its program.)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=10, choices=Status.choices)
    # Indexed first in summary_kelurahan_month.
    kelurahan = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    # Indexed first in summary_rollup_key.
    kecamatan = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    kota = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    objects = FiguresQuerySet.as_manager()

    class Meta:
        verbose_name = _("commitment summary")
        verbose_name_plural = _("commitment summaries")
        indexes = [
            models.Index(fields=["program", "month"], name="summary_program_month"),
            # The dashboard's coverage map: which RW a program served (an index-only scan).
            models.Index(fields=["program", "status", "area"], name="summary_served"),
            # A kelurahan's rows, by month; the API counts its kelurahan x month groups from
            # this index alone.
            models.Index(fields=["kelurahan", "month"], name="summary_kelurahan_month"),
            # A recompute's roll-up reads exactly its kecamatan's rows of the key (a pledge
            # costs the same at any size); dashboards narrowed to a kecamatan too.
            models.Index(
                fields=["kecamatan", "program", "donation_form", "month", "channel"],
                name="summary_rollup_key",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "donation_form", "area", "month", "channel", "status"],
                name="commitment_summary_key_unique",
            ),
            figures_nonnegative("commitment_summary_nonnegative"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]),
                name="commitment_summary_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.status}: {self.count}"


class SummaryDirtyKey(SummaryKey):
    """An outbox of summary keys to recompute, written in the same transaction as the
    commitment change. Not unique: a change that arrives while its key is being recomputed
    adds its own row, which that recompute (having claimed the rows it read, by id) leaves
    for the next one."""

    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("stale commitment summary")
        verbose_name_plural = _("stale commitment summaries")
        indexes = [
            models.Index(
                fields=["program", "donation_form", "area", "month", "channel"],
                name="summary_dirty_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} (stale since {self.created_at})"


class CommitmentRollup(SummedFigures):
    """CommitmentSummary rolled up to kecamatan: what dashboards read. At a million
    commitments the RW-level summary has about as many rows as there are commitments (an RW,
    a month, a form and a state rarely share more than a few), so figures for a program or
    a kota read this table instead: 44 kecamatan instead of 2,698 RW. Written only by
    commitments.figures.rollups, in the same transaction as the summary rows it is made from."""

    # Indexed first in rollup_program_month and the key.
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Indexed alone: the summaries API filters on a form without its program.
    donation_form = models.ForeignKey(DonationForm, on_delete=models.CASCADE, related_name="+")
    kecamatan = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    kota = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    channel = models.CharField(max_length=10, choices=Commitment.Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices)

    KEY_FIELDS = ("program_id", "donation_form_id", "kecamatan_id", "month", "channel")

    objects = FiguresQuerySet.as_manager()

    class Meta:
        verbose_name = _("commitment roll-up")
        verbose_name_plural = _("commitment roll-ups")
        indexes = [
            # A period of programs; and, to its channel, the month a recompute rolls up
            # again into CommitmentMonthRollup (every kecamatan of it, not every month).
            models.Index(
                fields=["program", "month", "donation_form", "channel"],
                name="rollup_program_month",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "donation_form", "kecamatan", "month", "channel", "status"],
                name="commitment_rollup_key_unique",
            ),
            figures_nonnegative("commitment_rollup_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.kecamatan_id}/{self.month} {self.status}: {self.count}"


# Why: dashboards then read a few thousand rows at any scale, not the whole kecamatan roll-up.


class CommitmentMonthRollup(SummedFigures):
    """CommitmentRollup without its area: a program's figures by form, month, channel and
    state. What the dashboard groups by form and by month when no area narrows it. Written
    only by commitments.figures.rollups (see above)."""

    # Indexed first in the key.
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", db_index=False)
    donation_form = models.ForeignKey(DonationForm, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    channel = models.CharField(max_length=10, choices=Commitment.Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices)

    KEY_FIELDS = ("program_id", "donation_form_id", "month", "channel")

    objects = FiguresQuerySet.as_manager()

    class Meta:
        verbose_name = _("commitment month roll-up")
        verbose_name_plural = _("commitment month roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "donation_form", "month", "channel", "status"],
                name="commitment_month_rollup_key_unique",
            ),
            figures_nonnegative("commitment_month_rollup_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.month} {self.status}: {self.count}"


class CommitmentKecamatanRollup(SummedFigures):
    """CommitmentRollup without its month: a program's figures by form, kecamatan (with its
    kota), channel and state. What the dashboard groups by area when no period narrows it.
    Written only by commitments.figures.rollups (see above)."""

    # Indexed first in the key.
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", db_index=False)
    donation_form = models.ForeignKey(DonationForm, on_delete=models.CASCADE, related_name="+")
    kecamatan = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    kota = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Commitment.Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices)

    KEY_FIELDS = ("program_id", "donation_form_id", "kecamatan_id", "channel")

    objects = FiguresQuerySet.as_manager()

    class Meta:
        verbose_name = _("commitment kecamatan roll-up")
        verbose_name_plural = _("commitment kecamatan roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "donation_form", "kecamatan", "channel", "status"],
                name="commitment_kecamatan_rollup_key_unique",
            ),
            figures_nonnegative("commitment_kecamatan_rollup_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.kecamatan_id} {self.status}: {self.count}"


class CollaboratorFigures(models.Model):
    """A collaborator's confirmed commitments in one program, named or anonymous: what the
    dashboard's top collaborators read when no period, area or channel narrows them (a few
    thousand rows a program, instead of its hundreds of thousands of commitments). Written
    only by commitments.figures.totals: for one collaborator from its own commitments after
    each change (collaborator_totals_refresh), for all by the periodic full repair."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    collaborator = models.ForeignKey(Collaborator, on_delete=models.CASCADE, related_name="+")
    is_anonymous = models.BooleanField()
    count = models.PositiveIntegerField()
    quantity = models.PositiveBigIntegerField()
    value_idr = models.DecimalField(_("value (IDR)"), max_digits=22, decimal_places=0)

    class Meta:
        verbose_name = _("collaborator figures")
        verbose_name_plural = _("collaborator figures")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "collaborator", "is_anonymous"],
                name="collaborator_figures_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.collaborator_id}: {self.count}"


class Export(models.Model):
    """A file of dashboard figures and commitments, written by a Celery job for the user who
    asked, with the filters and the rights they had when they asked (checked again by the job).
    """

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        XLSX = "xlsx", _("Excel (XLSX)")
        HXL = "hxl", _("HXL-tagged CSV")
        IATI = "iati", _("IATI-style transactions (JSON)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    format = models.CharField(max_length=4, choices=Format.choices)
    # The dashboard's query string, as asked (parsed again, and scoped again, by the job).
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0, validators=fits_integer())
    rows_done = models.PositiveIntegerField(default=0, validators=fits_integer())
    file = models.FileField(upload_to="exports/%Y/%m/", storage=private_storage, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=["csv", "xlsx", "hxl", "iati"]), name="export_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="export_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(rows_done__lte=F("rows_total")), name="export_done_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} ({self.status})"

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent_done(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class CollaboratorDigest(models.Model):
    """One weekly digest of a collaborator's commitments: the row is written in the same
    transaction as its notifications, so a second run of the same week sends nothing."""

    collaborator = models.ForeignKey(Collaborator, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text=_("The Monday of the ISO week the digest covers."))
    commitments = models.PositiveIntegerField(default=0, validators=fits_integer())
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("weekly digest")
        verbose_name_plural = _("weekly digests")
        constraints = [
            models.UniqueConstraint(
                fields=["collaborator", "week"], name="collaborator_digest_once_a_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.collaborator} {self.week}"


class CollaboratorQuarterlySummary(models.Model):
    """One quarterly summary of what a collaborator's gifts did (deliveries received in the
    quarter): written in the same transaction as its notifications, so a second run of the
    same quarter sends nothing (as CollaboratorDigest for the weekly digest)."""

    collaborator = models.ForeignKey(Collaborator, on_delete=models.CASCADE, related_name="+")
    quarter = models.DateField(help_text=_("The first day of the quarter the summary covers."))
    deliveries = models.PositiveIntegerField(default=0, validators=fits_integer())
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("quarterly summary")
        verbose_name_plural = _("quarterly summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["collaborator", "quarter"], name="collaborator_summary_once_a_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.collaborator} {self.quarter}"
