from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from programs.models import Program


class CollaboratorQuerySet(models.QuerySet):
    def verified(self) -> CollaboratorQuerySet:
        """Shown publicly: verified by an administrator, or by a program lead for at least
        one program, and not rejected by an administrator."""
        Verification = Collaborator.Verification
        by_a_lead = ProgramVerification.objects.filter(
            collaborator=OuterRef("pk"), status=Verification.VERIFIED
        )
        return self.exclude(verification_status=Verification.REJECTED).filter(
            Q(verification_status=Verification.VERIFIED) | Exists(by_a_lead)
        )

    def publicly_named(self) -> CollaboratorQuerySet:
        """Those whose name may be shown publicly: an organisation, or an individual whose
        person (an owner) gave consent to it (Law 27/2022), and has not withdrawn it. The
        one rule; public pages show the others as anonymous, or not at all in lists."""
        return self.filter(named_publicly_q())

    def with_standing(self, program) -> CollaboratorQuerySet:
        """Annotate `standing` in `program` (an id or an expression): see standing()."""
        return self.annotate(standing=standing(program=program))

    def awaiting_lead_decision(self, program_id: int) -> CollaboratorQuerySet:
        """Neither an administrator nor a lead of the program has decided on them yet."""
        return self.filter(verification_status=Collaborator.Verification.UNVERIFIED).exclude(
            program_verifications__program_id=program_id
        )


def named_publicly_q() -> Q:
    """See CollaboratorQuerySet.publicly_named(): as a condition on Collaborator."""
    latest = Consent.objects.filter(user=OuterRef("user"), purpose=Consent.Purpose.PUBLIC_NAME)
    consenting_owner = (
        Membership.objects.filter(collaborator=OuterRef("pk"), role=Membership.Role.OWNER)
        .annotate(gave=Subquery(latest.order_by("-at", "-pk").values("given")[:1]))
        .filter(gave=True)
    )
    return ~Q(kind=CollaboratorKind.INDIVIDUAL) | Exists(consenting_owner)


def standing(*, program, collaborator: str = "") -> Case:
    """The standing of a collaborator in a program, as SQL: the one rule for it.

    An administrator's decision (Collaborator.verification_status) holds everywhere;
    without one, a program lead's decision for that program; otherwise unverified.
    `collaborator` is the path to the collaborator ("" on Collaborator, "collaborator" on
    a model that points at one); `program` an id or an expression such as OuterRef.
    """
    Verification = Collaborator.Verification
    prefix = f"{collaborator}__" if collaborator else ""
    lead_decision = ProgramVerification.objects.filter(
        collaborator=OuterRef(f"{collaborator}_id" if collaborator else "pk"),
        program=program,
    ).values("status")[:1]
    return Case(
        When(
            **{f"{prefix}verification_status__in": [Verification.VERIFIED, Verification.REJECTED]},
            then=F(f"{prefix}verification_status"),
        ),
        default=Coalesce(Subquery(lead_decision), Value(Verification.UNVERIFIED)),
        output_field=models.CharField(),
    )


class CollaboratorKind(models.TextChoices):
    INDIVIDUAL = "individual", _("individual")
    COMPANY = "company", _("company (CSR)")
    STATE_ENTERPRISE = "state_enterprise", _("BUMN / BUMD")
    HUMANITARIAN = "humanitarian", _("humanitarian agency")
    PHILANTHROPY = "philanthropy", _("zakat / ziswaf philanthropy")
    FOUNDATION = "foundation", _("foundation / NGO")
    UNIVERSITY = "university", _("university")
    INTERNATIONAL = "international", _("international organisation")
    COMMUNITY = "community", _("community group")
    GOVERNMENT = "government", _("government unit")


class Collaborator(models.Model):
    """An organisation or an individual that gives. Only public fields live here; contact
    details are in CollaboratorContact so that no public view can leak them by accident."""

    Kind = CollaboratorKind

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("unverified")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    verification_status = models.CharField(
        max_length=12, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Public profile
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)
    logo = models.ImageField(upload_to="logos/", blank=True)
    is_aggregator = models.BooleanField(
        default=False, help_text=_("Pools funds from others (e.g. a humanitarian agency).")
    )
    # Live figures, written by the commitments app.
    programs = models.ManyToManyField(
        Program, blank=True, related_name="collaborators", editable=False
    )
    live_commitments = models.PositiveIntegerField(default=0, editable=False)
    live_value_idr = models.DecimalField(max_digits=18, decimal_places=0, default=0, editable=False)

    is_demo = models.BooleanField(default=False, help_text=_("Created by seed_demo."))
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="collaborators"
    )

    objects = CollaboratorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("collaborator")
        verbose_name_plural = _("collaborators")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in CollaboratorKind]),
                name="collaborator_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(verification_status__in=["unverified", "verified", "rejected"]),
                name="collaborator_verification_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("collaborator-detail", args=[self.slug])

    @property
    def is_verified(self) -> bool:
        """Shown publicly: the same rule as CollaboratorQuerySet.verified()."""
        if self.verification_status != self.Verification.UNVERIFIED:
            return self.verification_status == self.Verification.VERIFIED
        return self.program_verifications.filter(status=self.Verification.VERIFIED).exists()

    @cached_property
    def is_publicly_named(self) -> bool:
        """The rule of CollaboratorQuerySet.publicly_named(), for one collaborator."""
        if self.kind != self.Kind.INDIVIDUAL:
            return True
        return Collaborator.objects.filter(pk=self.pk).publicly_named().exists()

    @property
    def public_name(self) -> str:
        """The name public pages show: the name, or "anonymous" (publicly_named())."""
        return self.name if self.is_publicly_named else str(_("anonymous"))

    @property
    def is_decided_by_administrator(self) -> bool:
        return self.verification_status != self.Verification.UNVERIFIED

    def standing_in(self, program_id: int) -> str:
        """verified / rejected / unverified in one program (see standing())."""
        return (
            Collaborator.objects.filter(pk=self.pk)
            .with_standing(program_id)
            .values_list("standing", flat=True)
            .get()
        )


class ProgramVerification(models.Model):
    """A program lead's decision on a collaborator, for that program only. An
    administrator's decision (Collaborator.verification_status) overrides it everywhere."""

    class Status(models.TextChoices):
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")

    collaborator = models.ForeignKey(
        Collaborator, on_delete=models.CASCADE, related_name="program_verifications"
    )
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="collaborator_verifications"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("verification for a program")
        verbose_name_plural = _("verifications for a program")
        constraints = [
            models.UniqueConstraint(
                fields=["collaborator", "program"], name="program_verification_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["verified", "rejected"]),
                name="program_verification_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collaborator} in {self.program.slug}: {self.status}"


class CollaboratorContact(models.Model):
    """Private contact details: for program leads and administrators only (PDP law 27/2022)."""

    collaborator = models.OneToOneField(
        Collaborator, on_delete=models.CASCADE, primary_key=True, related_name="contact"
    )
    contact_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField(_("NPWP"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("private contact")
        verbose_name_plural = _("private contacts")

    def __str__(self) -> str:
        return f"Contact of {self.collaborator}"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("owner")
        MEMBER = "member", _("member")
        # Asked to join; acts for the collaborator only once an owner approves.
        PENDING = "pending", _("waiting for approval")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    collaborator = models.ForeignKey(
        Collaborator, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.UniqueConstraint(fields=["user", "collaborator"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "member", "pending"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.collaborator}"


class WhatsAppNumberQuerySet(models.QuerySet):
    def verified(self) -> WhatsAppNumberQuerySet:
        return self.filter(verified_at__isnull=False)


class WhatsAppNumber(models.Model):
    """A person's WhatsApp number and how they want to be notified (PDP law 27/2022: kept
    for notifications only). The number counts once the code sent to it has been typed back;
    who may see it is decided in roles.py (whatsapp_numbers_visible), nowhere else."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        WHATSAPP = "whatsapp", _("WhatsApp")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="whatsapp",
    )
    number = models.CharField(_("WhatsApp number"), max_length=16)  # E.164: +628...
    verified_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    # The code waiting to be typed back: only its keyed hash is kept.
    code_hash = models.CharField(max_length=64, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    # Codes sent in the current window (rate limit on re-sends).
    sends_since = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveSmallIntegerField(default=0)

    objects = WhatsAppNumberQuerySet.as_manager()

    class Meta:
        verbose_name = _("WhatsApp number")
        verbose_name_plural = _("WhatsApp numbers")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["email", "whatsapp"]), name="whatsapp_channel_valid"
            ),
            # WhatsApp as the channel only with a verified number.
            models.CheckConstraint(
                condition=Q(channel="email") | Q(verified_at__isnull=False),
                name="whatsapp_channel_needs_verified_number",
            ),
        ]

    def __str__(self) -> str:
        return f"WhatsApp of {self.user}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Consent(models.Model):
    """A person's consent to one purpose of processing (Law 27/2022 art. 20-22), with the
    version of the wording they agreed to. A row is never changed: giving or withdrawing
    adds one, and the latest row per person and purpose is the answer (privacy.py)."""

    class Purpose(models.TextChoices):
        ACCOUNT = "account", _("an account and the work it does on the portal")
        NOTIFICATIONS = "notifications", _("notifications by email or WhatsApp")
        PUBLIC_NAME = "public_name", _("my name shown publicly with my gifts")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    given = models.BooleanField()
    wording_version = models.CharField(max_length=20)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["user", "purpose", "-at"], name="consent_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=["account", "notifications", "public_name"]),
                name="consent_purpose_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose}: {'given' if self.given else 'withdrawn'} ({self.at:%Y-%m-%d})"


class PersonalDataView(models.Model):
    """Who looked at someone's personal data, and when (Law 27/2022: a person may ask who
    viewed theirs). The subject is an account, or a reference for a person without one
    (a report's tracking code). Kept ACCESS_LOG_DAYS (housekeeping deletes older rows).
    A small table of our own rather than django-auditlog's access entries: those copy
    str(object) into the log and are keyed by object, where we answer by person."""

    class What(models.TextChoices):
        CONTACT = "contact", _("contact details")
        REPORTER = "reporter", _("details of a person who sent a report")
        EXPORT = "export", _("an export file with personal data")
        ACCOUNT = "account", _("account details")

    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_data_views",
    )
    subject_ref = models.CharField(max_length=40, blank=True)
    what = models.CharField(max_length=10, choices=What.choices)
    path = models.CharField(max_length=300, blank=True)
    viewed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("view of personal data")
        verbose_name_plural = _("views of personal data")
        indexes = [
            models.Index(fields=["subject", "-viewed_at"], name="pdview_subject"),
            models.Index(fields=["subject_ref", "-viewed_at"], name="pdview_subject_ref"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject__isnull=False) | ~Q(subject_ref=""),
                name="pdview_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.what} viewed {self.viewed_at:%Y-%m-%d %H:%M}"
