import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ksbb.text import ShownText, in_language, shown_text

# The donation assistant's score components (commitments.assistant.engine.Weights, which owns the
# defaults and the formula). Kept here so a program's stored overrides are validated by the
# model itself, in every form and in the admin: programs does not import commitments.
ASSISTANT_WEIGHT_NAMES = ("unmet", "priority", "vulnerability", "freshness", "proximity", "equity")
ASSISTANT_WEIGHT_MAX = 10


def validate_assistant_weights(value) -> None:
    """A JSON object of known weight names, each a finite number from 0 to 10."""
    if not isinstance(value, dict):
        raise ValidationError(_("Weights must be an object of names and numbers."))
    errors = []
    for name, weight in value.items():
        if name not in ASSISTANT_WEIGHT_NAMES:
            errors.append(
                ValidationError(
                    _("Unknown weight %(name)s; known: %(known)s."),
                    params={"name": str(name)[:40], "known": ", ".join(ASSISTANT_WEIGHT_NAMES)},
                )
            )
        elif (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or not 0 <= weight <= ASSISTANT_WEIGHT_MAX
        ):
            errors.append(
                ValidationError(
                    _("The weight %(name)s must be a number from 0 to %(max)s."),
                    params={"name": name, "max": ASSISTANT_WEIGHT_MAX},
                )
            )
    if errors:
        raise ValidationError(errors)


class AssetOwner(models.TextChoices):
    """Whose property a donated asset becomes (the deck: school or private for gadgets; the
    RW's or the city government's for settlement works and waste facilities)."""

    SCHOOL = "school", _("school")
    PRIVATE = "private", _("private person")
    RW = "rw", _("RW (urban hamlet)")
    KELURAHAN = "kelurahan", _("kelurahan")
    CITY = "city", _("city government")


def asset_owners_valid(value) -> None:
    if not isinstance(value, list) or any(owner not in AssetOwner.values for owner in value):
        raise ValidationError(
            _("Allowed asset owners must be a list of: %(owners)s.")
            % {"owners": ", ".join(AssetOwner.values)}
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Each asset owner may be listed once."))


class Program(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    slug = models.SlugField(unique=True)
    name_id = models.CharField(_("name (Indonesian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    lead_agency = models.CharField(_("lead agency"), max_length=200)
    # The lead's name in Indonesian (lead_agency is the English one, as the deck gives it).
    lead_agency_id = models.CharField(_("lead agency (Indonesian)"), max_length=200, blank=True)
    launched_on = models.DateField(_("launched"), null=True, blank=True)
    launch_is_target = models.BooleanField(
        _("launch date is a target"),
        default=False,
        help_text=_("The program had not launched yet when the date was reported."),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The descriptive texts in English (as the deck gives them) and in Indonesian (the
    # project's translation); pages print them through the *_shown properties.
    facilitator = models.TextField(_("facilitators"), blank=True)
    facilitator_id = models.TextField(_("facilitators (Indonesian)"), blank=True)
    beneficiaries = models.TextField(_("beneficiaries"), blank=True)
    beneficiaries_id = models.TextField(_("beneficiaries (Indonesian)"), blank=True)
    asset_recording = models.TextField(
        _("asset-recording rule"),
        blank=True,
        help_text=_("Whose assets donated goods become (school, RW, city...)."),
    )
    asset_recording_id = models.TextField(_("asset-recording rule (Indonesian)"), blank=True)
    # Who may own what an asset-creating donation form leaves behind (commitments.assets).
    asset_owners = models.JSONField(
        _("allowed asset owners"),
        default=list,
        blank=True,
        validators=[asset_owners_valid],
        help_text=_("Any of: school, private, rw, kelurahan, city."),
    )
    # Needs posted in an adopted area go to the adopter first (commitments.adoption).
    adoption_first_offer_days = models.PositiveSmallIntegerField(
        _("days a need in an adopted area is offered to its adopter first"),
        default=14,
        validators=[MaxValueValidator(365)],
    )
    planning_notes = models.TextField(_("planning notes"), blank=True, help_text=_("One per line."))
    planning_notes_id = models.TextField(
        _("planning notes (Indonesian)"), blank=True, help_text=_("One per line.")
    )
    # Recipients' reports about this program get an answer within this many days, or escalate
    # to the administrators (commitments.feedback).
    report_answer_days = models.PositiveSmallIntegerField(
        _("days to answer a recipient's report"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    # Per-program time limits of the commitment lifecycle (used by the expiry task).
    confirm_within_days = models.PositiveSmallIntegerField(
        _("days to confirm a pledge"), default=14
    )
    deliver_within_days = models.PositiveSmallIntegerField(
        _("days to deliver after the planned date"), default=30
    )
    # Limits for collaborators nobody has verified yet (for this program), so that a
    # newcomer cannot hoard needs that verified donors would fill.
    unverified_confirm_within_days = models.PositiveSmallIntegerField(
        _("days to confirm a pledge of an unverified collaborator"),
        default=3,
        help_text=_(
            "Pledges of collaborators not verified for this program expire sooner than "
            "others; at most the days to confirm a pledge."
        ),
    )
    unverified_max_share_percent = models.PositiveSmallIntegerField(
        _("largest share of one need for an unverified collaborator (%)"),
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "Percent of a need's quantity an unverified collaborator may hold in active "
            "pledges (always at least one unit)."
        ),
    )
    unverified_max_open_value_idr = models.DecimalField(
        _("largest open value for an unverified collaborator (IDR)"),
        max_digits=14,
        decimal_places=0,
        default=10_000_000,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Total estimated value of an unverified collaborator's pledged and committed "
            "commitments in this program. Needs without a standard value are not counted."
        ),
    )
    unverified_pledges_per_hour = models.PositiveSmallIntegerField(
        _("pledges per hour for an unverified collaborator"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_("Pledges an unverified collaborator may make in this program in one hour."),
    )
    no_news_days = models.PositiveSmallIntegerField(
        _("days without news"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "An active commitment with no event for this many days is listed on the lead's "
            "dashboard as waiting for news."
        ),
    )

    # The figures the city reported (Oct 2021 deck), kept as a baseline beside live figures.
    reported_collaborators = models.PositiveIntegerField(null=True, blank=True)
    reported_commitments = models.PositiveIntegerField(null=True, blank=True)
    reported_value_idr = models.DecimalField(max_digits=18, decimal_places=0, null=True, blank=True)
    reported_as_of = models.DateField(null=True, blank=True)
    reported_source = models.TextField(blank=True)
    reported_notes = models.TextField(blank=True)
    reported_notes_id = models.TextField(_("reported notes (Indonesian)"), blank=True)

    # Live figures: written by the commitments app (commitments.lifecycle), never by hand.
    live_collaborators = models.PositiveIntegerField(default=0, editable=False)
    live_commitments = models.PositiveIntegerField(default=0, editable=False)
    live_value_idr = models.DecimalField(max_digits=18, decimal_places=0, default=0, editable=False)
    live_households = models.PositiveIntegerField(default=0, editable=False)
    live_persons = models.PositiveIntegerField(default=0, editable=False)
    live_rw_covered = models.PositiveIntegerField(default=0, editable=False)
    live_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Moves whenever the program's summary rows change (commitments.figures.summaries): cached
    # dashboard figures are keyed by it, so a cached figure is never an outdated one.
    figures_version = models.PositiveBigIntegerField(default=0, editable=False)
    # Overrides of the donation assistant's default weights for this program's needs
    # ({"proximity": 3}); set by its leads (commitments.web.assistant_views) or in the admin.
    assistant_weights = models.JSONField(
        _("donation assistant weights"),
        default=dict,
        blank=True,
        validators=[validate_assistant_weights],
        help_text=_(
            'Only the weights that differ from the defaults, e.g. {"proximity": 3}; each '
            "from 0 to 10. The formula and the defaults are on the public page "
            '"How the assistant chooses".'
        ),
    )

    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "slug"]
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["planned", "active", "paused", "ended"]),
                name="program_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(reported_value_idr__isnull=True) | Q(reported_value_idr__gte=0),
                name="program_reported_value_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(live_value_idr__gte=0), name="program_live_value_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(unverified_confirm_within_days__lte=F("confirm_within_days")),
                name="program_unverified_confirm_sooner",
                violation_error_message=_(
                    "Unverified collaborators' pledges cannot get longer to be confirmed "
                    "than the others'."
                ),
            ),
            models.CheckConstraint(
                condition=Q(unverified_max_share_percent__gte=1)
                & Q(unverified_max_share_percent__lte=100),
                name="program_unverified_share_percent",
            ),
            models.CheckConstraint(
                condition=Q(unverified_max_open_value_idr__gte=0),
                name="program_unverified_open_value_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(unverified_pledges_per_hour__gte=1),
                name="program_unverified_pledges_per_hour",
            ),
            models.CheckConstraint(
                condition=Q(report_answer_days__gte=1) & Q(report_answer_days__lte=60),
                name="program_report_answer_days",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("program-detail", args=[self.slug])

    @classmethod
    def figures_computed_at(cls):
        """When the live figures were last complete (the commitments app sets every
        program's live_updated_at in one statement): shown beside any of them."""
        return cls.objects.aggregate(at=models.Max("live_updated_at"))["at"]

    @property
    def name(self) -> str:
        return in_language(self.name_id, self.name_en)

    @property
    def lead_name(self) -> str:
        """The lead agency in the page's language (English where no Indonesian is given)."""
        return shown_text(self.lead_agency_id, self.lead_agency).text

    @property
    def lead_name_lang(self) -> str:
        """The lang attribute the lead's name needs on this page ("" in the page's language)."""
        return shown_text(self.lead_agency_id, self.lead_agency).lang

    @property
    def facilitator_shown(self) -> ShownText:
        return shown_text(self.facilitator_id, self.facilitator)

    @property
    def beneficiaries_shown(self) -> ShownText:
        return shown_text(self.beneficiaries_id, self.beneficiaries)

    @property
    def asset_recording_shown(self) -> ShownText:
        return shown_text(self.asset_recording_id, self.asset_recording)

    @property
    def reported_notes_shown(self) -> ShownText:
        return shown_text(self.reported_notes_id, self.reported_notes)

    @property
    def planning_shown(self) -> ShownText:
        return shown_text(self.planning_notes_id, self.planning_notes)

    @property
    def planning_list(self) -> list[str]:
        """The planning notes in the page's language, one item a line (their language:
        planning_shown.lang)."""
        lines = self.planning_shown.text.splitlines()
        return [line.strip() for line in lines if line.strip()]

    def is_accepting_pledges(self) -> bool:
        return self.status == self.Status.ACTIVE


class ProgramPause(models.Model):
    """A period when a program stopped taking commitments (the deck's 'vacuum')."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="pauses")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text=_("Empty while still paused."))
    note = models.CharField(max_length=200, blank=True)
    note_id = models.CharField(_("note (Indonesian)"), max_length=200, blank=True)

    class Meta:
        ordering = ["program", "starts_on"]
        verbose_name = _("pause period")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="program_pause_ends_after_start",
            ),
            models.UniqueConstraint(fields=["program", "starts_on"], name="program_pause_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program.slug}: {self.starts_on} - {self.ends_on or '...'}"

    @property
    def note_shown(self) -> ShownText:
        return shown_text(self.note_id, self.note)


class DonationUnit(models.TextChoices):
    PACKAGE = "package", _("package")
    UNIT = "unit", _("unit")
    PERSON = "person", _("person")
    IDR = "IDR", _("rupiah")
    LOCATION = "location", _("location")
    TRAINING = "training", _("training")
    ACTIVITY = "activity", _("activity")
    SEAT = "seat", _("seat")
    POSITION = "position", _("position")


class DonationForm(models.Model):
    Unit = DonationUnit

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="donation_forms")
    slug = models.SlugField()
    name_id = models.CharField(_("name (Indonesian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.PACKAGE)
    unit_value_idr = models.DecimalField(
        _("standard unit value (IDR)"),
        max_digits=14,
        decimal_places=0,
        null=True,
        blank=True,
        help_text=_("Used to estimate the value of a pledge; empty when there is no standard."),
    )
    note = models.TextField(blank=True)
    # Deliveries of this form become assets registered at receipt (commitments.assets).
    creates_assets = models.BooleanField(_("creates assets"), default=False)
    asks_serials = models.BooleanField(
        _("asks serial numbers"),
        default=False,
        help_text=_("Each asset gets its serial number at registration (laptops, phones)."),
    )
    reported_commitments = models.PositiveIntegerField(null=True, blank=True)
    reported_value_idr = models.DecimalField(max_digits=18, decimal_places=0, null=True, blank=True)

    # Live figures, written by the commitments app.
    live_commitments = models.PositiveIntegerField(default=0, editable=False)
    live_quantity = models.PositiveBigIntegerField(default=0, editable=False)
    live_value_idr = models.DecimalField(max_digits=18, decimal_places=0, default=0, editable=False)

    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "sort_order", "slug"]
        verbose_name = _("donation form")
        verbose_name_plural = _("donation forms")
        constraints = [
            models.UniqueConstraint(fields=["program", "slug"], name="donation_form_slug_unique"),
            models.CheckConstraint(
                condition=Q(unit__in=[u.value for u in DonationUnit]),
                name="donation_form_unit_valid",
            ),
            models.CheckConstraint(
                condition=Q(unit_value_idr__isnull=True) | Q(unit_value_idr__gte=0),
                name="donation_form_unit_value_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.slug} / {self.name}"

    @property
    def name(self) -> str:
        return in_language(self.name_id, self.name_en)

    def estimate_value_idr(self, quantity: int) -> int | None:
        """Estimated value of `quantity` units in IDR, or None without a standard value."""
        if self.unit == self.Unit.IDR:
            return quantity
        if self.unit_value_idr is None:
            return None
        return int(self.unit_value_idr) * quantity


class ProgramLead(models.Model):
    """A user who leads a program for its department: verifies collaborators, sees dashboards."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="leads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="program_leads"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("program lead")
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="program_lead_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} leads {self.program.slug}"
