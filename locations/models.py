from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ksbb.bounds import fits_integer, fits_smallint
from ksbb.storage import private_storage
from programs.models import DonationForm, Program

# Kilobytes to megabytes per area, never shown in lists: deferred by Area's manager, and
# where areas come along through select_related (area_geometry_deferred).
AREA_HEAVY_FIELDS = ("geometry", "display_geometry", "source_properties")


def area_geometry_deferred(*paths: str) -> list[str]:
    """Arguments for .defer() on a query that select_related()s areas at `paths`."""
    return [f"{path}__{name}" for path in paths for name in AREA_HEAVY_FIELDS]


def subtree_q(paths: Iterable[str], prefix: str = "") -> Q:
    """Rows whose area (reached through `prefix`, e.g. "area__") is at one of `paths` or
    below it: the one answer to "in this part of the tree" (no path: nothing)."""
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path": path}) | Q(**{f"{prefix}path__startswith": path + "/"})
    return q


def enclosing(level: str, prefix: str = "") -> Case:
    """The id of the kelurahan, kecamatan or kota (`level`) holding an RW or a kelurahan
    reached through `prefix`: the one answer for rows that carry the place they are in
    (the summaries' SQL rebuild writes the same CASE)."""
    steps = {"kelurahan": 0, "kecamatan": 1, "kota": 2}[level]
    rw_path = prefix + "parent" + "__parent" * steps
    kelurahan_path = prefix + ("parent" + "__parent" * (steps - 1) if steps else "id")
    return Case(
        When(Q((f"{prefix}level", Area.Level.RW)), then=F(rw_path)),
        default=F(kelurahan_path),
    )


def path_within(path: str, ancestor: str) -> bool:
    """subtree_q for one area already in memory."""
    return path == ancestor or path.startswith(ancestor + "/")


class AreaQuerySet(models.QuerySet):
    def without_geometry(self) -> AreaQuerySet:
        return self.defer(*AREA_HEAVY_FIELDS)

    def with_geometry(self) -> AreaQuerySet:
        return self.defer(None)

    def at_level(self, level: str) -> AreaQuerySet:
        return self.filter(level=level)

    def within(self, *paths: str) -> AreaQuerySet:
        """The areas at `paths` and everything below them."""
        return self.filter(subtree_q(paths))

    def in_bbox(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float):
        """Areas whose bounding box intersects the given one (index-backed prefilter)."""
        return self.filter(
            min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat
        )


class AreaManager(models.Manager.from_queryset(AreaQuerySet)):
    # Geometry is large (megabytes for a level); load it only where it is used.
    def get_queryset(self) -> AreaQuerySet:
        return super().get_queryset().without_geometry()


class Area(models.Model):
    """An administrative area: province > kota/kabupaten > kecamatan > kelurahan > RW."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("province")
        KOTA = "kota", _("city / regency")
        KECAMATAN = "kecamatan", _("kecamatan")
        KELURAHAN = "kelurahan", _("kelurahan")
        RW = "rw", _("RW")

    LEVEL_ORDER = [Level.PROVINCE, Level.KOTA, Level.KECAMATAN, Level.KELURAHAN, Level.RW]

    level = models.CharField(max_length=10, choices=Level.choices, db_index=True)
    code = models.CharField(
        max_length=40,
        unique=True,
        help_text=_(
            "Kemendagri code, e.g. 31.73.04.1002; an RW adds its 3-digit number: 31.73.04.1002.001."
        ),
    )
    bps_code = models.CharField(_("BPS code"), max_length=20, blank=True, db_index=True)
    name = models.CharField(max_length=200, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Codes from the root down, "/"-separated: descendants are a prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    is_residential = models.BooleanField(
        default=True,
        help_text=_("False for zones without residents (cemeteries, industrial estates...)."),
    )
    geometry = models.JSONField(null=True, blank=True, help_text=_("GeoJSON, EPSG:4326"))
    display_geometry = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("Simplified for the map, with borders shared with neighbours kept."),
    )
    min_lon = models.FloatField(null=True, blank=True, db_index=True)
    min_lat = models.FloatField(null=True, blank=True, db_index=True)
    max_lon = models.FloatField(null=True, blank=True, db_index=True)
    max_lat = models.FloatField(null=True, blank=True, db_index=True)
    # A point inside the area (a polylabel-like point on surface, not the raw centroid,
    # which can fall outside a concave area).
    centroid_lon = models.FloatField(null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    area_km2 = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    source_properties = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AreaManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        indexes = [models.Index(fields=["level", "parent"], name="area_level_parent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["province", "kota", "kecamatan", "kelurahan", "rw"]),
                name="area_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(level="province") | Q(parent__isnull=False),
                name="area_has_parent_below_province",
            ),
            models.CheckConstraint(
                condition=Q(min_lon__isnull=True) | Q(min_lon__lte=F("max_lon")),
                name="area_bbox_lon_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_lat__isnull=True) | Q(min_lat__lte=F("max_lat")),
                name="area_bbox_lat_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("area-detail", args=[self.code])

    @classmethod
    def level_above(cls, level: str) -> str | None:
        index = cls.LEVEL_ORDER.index(level)
        return cls.LEVEL_ORDER[index - 1] if index > 0 else None

    @property
    def ancestor_codes(self) -> list[str]:
        return self.path.split("/")[:-1]

    def ancestors(self) -> list[Area]:
        """Root first; one query."""
        by_code = {a.code: a for a in Area.objects.filter(code__in=self.ancestor_codes)}
        return [by_code[code] for code in self.ancestor_codes if code in by_code]

    @property
    def display_name(self) -> str:
        """RW names alone ("RW 01") are ambiguous; say which kelurahan they belong to."""
        if self.level == self.Level.RW and self.parent_id:
            return f"{self.name}, {self.parent.name}"
        return self.name


class SiteKind(models.TextChoices):
    SCHOOL = "school", _("school")
    PESANTREN = "pesantren", _("pesantren (Islamic boarding school)")
    ORPHANAGE = "orphanage", _("orphanage")
    NURSING_HOME = "nursing_home", _("nursing home")
    DISABILITY_HOME = "disability_home", _("disability home")
    MSME_CLUSTER = "msme_cluster", _("MSME cluster")
    WASTE_FACILITY = "waste_facility", _("waste facility")
    TRAINING_CENTER = "training_center", _("job training centre")
    OTHER = "other", _("other")


class Site(models.Model):
    """An institution where help is delivered: a school, a pesantren, an orphanage..."""

    Kind = SiteKind

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="sites")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    lon = models.FloatField()
    lat = models.FloatField()
    is_demo = models.BooleanField(default=False, help_text=_("Created by seed_demo."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in SiteKind]), name="site_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="site_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class NeedQuerySet(models.QuerySet):
    def open(self, today: datetime.date | None = None) -> NeedQuerySet:
        """Needs that can take pledges: open, not fully pledged, still valid."""
        today = today or timezone.localdate()
        return self.filter(
            status=Need.Status.OPEN,
            quantity_claimed__lt=F("quantity_needed"),
            valid_until__gte=today,
        )

    def in_area(self, area: Area) -> NeedQuerySet:
        return self.filter(subtree_q([area.path], prefix="area__"))

    def editable_by(self, scopes) -> NeedQuerySet:
        """Needs `scopes` (collaborators.roles.Scopes, passed in: locations does not import
        collaborators) may keep: their facilitated areas and everything below them, their
        sites, their programs anywhere; everything for administrators. The one-instance
        twin is Scopes.may_keep_need."""
        if scopes.is_admin:
            return self.all()
        return self.filter(scopes.area_q() | Q(program_id__in=scopes.program_ids))

    def stale(self, now: datetime.datetime | None = None) -> NeedQuerySet:
        """Open needs whose last assessment is older than Need.STALE_AFTER_DAYS."""
        since = (now or timezone.now()) - datetime.timedelta(days=Need.STALE_AFTER_DAYS)
        return self.filter(status=Need.Status.OPEN, assessed_at__lt=since)

    def expiring(self, today: datetime.date | None = None) -> NeedQuerySet:
        """Open needs whose validity ends within Need.EXPIRY_WARNING_DAYS (today included)."""
        today = today or timezone.localdate()
        return self.filter(
            status=Need.Status.OPEN,
            valid_until__gte=today,
            valid_until__lte=today + datetime.timedelta(days=Need.EXPIRY_WARNING_DAYS),
        )

    def past_validity(self, today: datetime.date | None = None) -> NeedQuerySet:
        """Open needs whose validity has ended: the freshness job marks them expired."""
        return self.filter(status=Need.Status.OPEN, valid_until__lt=today or timezone.localdate())


class Need(models.Model):
    """One line of an area's (or a site's) needs assessment."""

    class Priority(models.IntegerChoices):
        HIGH = 1, _("high")
        MEDIUM = 2, _("medium")
        LOW = 3, _("low")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        EXPIRED = "expired", _("expired")

    # An assessment older than this is shown as stale to those who keep it.
    STALE_AFTER_DAYS = 90
    # Those who keep a need are reminded this many days before it expires.
    EXPIRY_WARNING_DAYS = 7
    # A need is assessed for at most this long; it is then re-confirmed or assessed again.
    MAX_VALID_DAYS = 730

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="needs")
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="needs"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="needs")
    donation_form = models.ForeignKey(DonationForm, on_delete=models.PROTECT, related_name="needs")
    quantity_needed = models.PositiveIntegerField(validators=fits_integer())
    # Written only by commitments.lifecycle, under a conditional UPDATE: the sum of the
    # quantities of active commitments (pledged, committed, delivered, completed).
    quantity_claimed = models.PositiveIntegerField(default=0, editable=False)
    quantity_delivered = models.PositiveIntegerField(default=0, editable=False)
    unit_value_idr = models.DecimalField(
        _("estimated value per unit (IDR)"),
        max_digits=14,
        decimal_places=0,
        null=True,
        blank=True,
        help_text=_("From the assessment; else the donation form's standard value."),
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    households = models.PositiveIntegerField(
        _("households to benefit"), null=True, blank=True, validators=fits_integer()
    )
    persons = models.PositiveIntegerField(
        _("persons to benefit"), null=True, blank=True, validators=fits_integer()
    )
    description = models.TextField(blank=True, max_length=5000)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assessed_by_role = models.CharField(
        _("assessed by (role)"),
        max_length=100,
        blank=True,
        help_text=_("Shown publicly instead of the person, e.g. 'Ketua RW 01'."),
    )
    assessed_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Bumped by every edit through commitments.needs.upkeep (a conditional UPDATE on the version
    # the editor saw), so the second of two concurrent editors is told instead of
    # silently overwriting the first. Pledges do not bump it: they only touch claimed.
    version = models.PositiveIntegerField(default=1, editable=False, validators=fits_integer())
    # The valid_until date the expiry reminder was sent for: extending the validity
    # re-arms the reminder without anyone having to reset it.
    expiry_reminded_for = models.DateField(null=True, blank=True, editable=False)
    is_demo = models.BooleanField(default=False, help_text=_("Created by seed_demo."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NeedQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "-assessed_at"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        indexes = [models.Index(fields=["status", "valid_until"], name="need_status_valid")]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_needed__gt=0), name="need_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(quantity_claimed__gte=0, quantity_claimed__lte=F("quantity_needed")),
                name="need_claimed_within_needed",
            ),
            models.CheckConstraint(
                condition=Q(quantity_delivered__gte=0)
                & Q(quantity_delivered__lte=F("quantity_claimed")),
                name="need_delivered_within_claimed",
            ),
            models.CheckConstraint(condition=Q(priority__in=[1, 2, 3]), name="need_priority_valid"),
            models.CheckConstraint(
                condition=Q(unit_value_idr__isnull=True) | Q(unit_value_idr__gte=0),
                name="need_unit_value_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "closed", "expired"]), name="need_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.donation_form} x{self.quantity_needed} @ {self.area.code}"

    @property
    def quantity_remaining(self) -> int:
        return self.quantity_needed - self.quantity_claimed

    @property
    def delivered_percent(self) -> int:
        return round(100 * self.quantity_delivered / self.quantity_needed)

    @property
    def pledged_percent(self) -> int:
        """Pledged but not yet delivered, as a share of the need (the bar's middle part)."""
        return round(100 * (self.quantity_claimed - self.quantity_delivered) / self.quantity_needed)

    def estimate_value_idr(self, quantity: int) -> int | None:
        if self.unit_value_idr is not None and self.donation_form.unit != DonationForm.Unit.IDR:
            return int(self.unit_value_idr) * quantity
        return self.donation_form.estimate_value_idr(quantity)

    def is_expired(self, today: datetime.date | None = None) -> bool:
        return self.valid_until < (today or timezone.localdate())

    def is_stale(self, now: datetime.datetime | None = None) -> bool:
        """Open, and last assessed longer ago than STALE_AFTER_DAYS (NeedQuerySet.stale)."""
        age = (now or timezone.now()) - self.assessed_at
        return self.status == self.Status.OPEN and age > datetime.timedelta(
            days=self.STALE_AFTER_DAYS
        )

    def expires_soon(self, today: datetime.date | None = None) -> bool:
        """Open, and valid for at most EXPIRY_WARNING_DAYS more (NeedQuerySet.expiring)."""
        days_left = (self.valid_until - (today or timezone.localdate())).days
        return self.status == self.Status.OPEN and 0 <= days_left <= self.EXPIRY_WARNING_DAYS

    def is_open(self, today: datetime.date | None = None) -> bool:
        return (
            self.status == self.Status.OPEN
            and self.quantity_remaining > 0
            and not self.is_expired(today)
        )

    @classmethod
    def valid_until_problem(cls, valid_until: datetime.date, today: datetime.date) -> str | None:
        """Why an assessment made `today` may not stay valid until `valid_until`: "past" or
        "too_far" (the form, the API, the domain and the bulk import all ask here)."""
        if valid_until < today:
            return "past"
        if valid_until > today + datetime.timedelta(days=cls.MAX_VALID_DAYS):
            return "too_far"
        return None

    @classmethod
    def valid_until_refusal(cls, valid_until: datetime.date, today: datetime.date) -> str | None:
        """valid_until_problem in words; None if the date may stand."""
        return {
            "past": _("Valid until cannot be in the past."),
            "too_far": _("Valid until must be within two years."),
            None: None,
        }[cls.valid_until_problem(valid_until, today)]

    def clean(self) -> None:
        errors = {}
        if (
            self.donation_form_id
            and self.program_id
            and self.donation_form.program_id != self.program_id
        ):
            errors["donation_form"] = _("This donation form belongs to another program.")
        if self.area_id:
            if self.area.level not in (Area.Level.RW, Area.Level.KELURAHAN):
                errors["area"] = _("Needs are assessed for an RW or a kelurahan.")
            elif not self.area.is_residential:
                errors["area"] = _("This zone has no residents; record the need at a site.")
        if self.site_id and self.area_id and self.site.area_id != self.area_id:
            errors["site"] = _("The site is not in this area.")
        if self.valid_until and self.assessed_at:
            assessed_on = timezone.localdate(self.assessed_at)
            if self.valid_until < assessed_on:
                errors["valid_until"] = _("Valid until must not be before the assessment date.")
            elif self.valid_until > assessed_on + datetime.timedelta(days=self.MAX_VALID_DAYS):
                errors["valid_until"] = _("Valid until must be within two years.")
        if errors:
            raise ValidationError(errors)


class NeedChange(models.Model):
    """One entry of a need's history: who changed what, when, from which value to which."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        CLOSED = "closed", _("closed")
        RECONFIRMED = "reconfirmed", _("re-confirmed")
        EXPIRED = "expired", _("expired")
        IMPORTED = "imported", _("imported")

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the system (the expiry job)."),
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    # {field: [old, new]} in JSON-friendly values (ids, ISO dates, strings).
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("need change")
        verbose_name_plural = _("need changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=[
                        "created",
                        "updated",
                        "closed",
                        "reconfirmed",
                        "expired",
                        "imported",
                    ]
                ),
                name="need_change_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need_id} {self.action} {self.created_at:%Y-%m-%d}"


class AreaIndicator(models.Model):
    """A statistic about an area from an official source (education, floods...)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="indicators")
    indicator = models.SlugField(max_length=80)
    label = models.CharField(max_length=200)
    breakdown = models.CharField(
        max_length=80, blank=True, help_text=_("e.g. 'sex=female'; empty for the whole area.")
    )
    value = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField(validators=fits_smallint())
    period = models.CharField(
        max_length=20, help_text=_("The year, or the exact date of an observation.")
    )
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["area", "indicator", "breakdown", "period"]
        verbose_name = _("area indicator")
        verbose_name_plural = _("area indicators")
        constraints = [
            models.UniqueConstraint(
                fields=["area", "indicator", "breakdown", "period"], name="area_indicator_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area.code} {self.indicator} {self.breakdown} {self.period}: {self.value}"


class IndicatorImportQuerySet(models.QuerySet):
    def visible_to(self, user) -> IndicatorImportQuerySet:
        """An import is its uploader's: other leads do not learn it exists; staff see all."""
        if user.is_staff or user.is_superuser:
            return self.all()
        return self.filter(uploaded_by_id=user.pk)


class IndicatorImport(models.Model):
    """One uploaded file of area indicators: checked into a preview (matched areas, every
    unmatched row and why, values the column cannot hold), then applied in one transaction
    (locations.indicator_import)."""

    class Status(models.TextChoices):
        CHECKED = "checked", _("checked")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        GEOJSON = "geojson", "GeoJSON"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="indicator_imports"
    )
    file = models.FileField(upload_to="indicator-imports/%Y/%m/", storage=private_storage)
    file_name = models.CharField(_("file name"), max_length=200)
    format = models.CharField(max_length=7, choices=Format.choices)
    # The IndicatorSpec the file was read with (indicator, unit, columns...), as a dict.
    spec = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKED)
    rows_total = models.PositiveIntegerField(default=0, validators=fits_integer())
    matched_count = models.PositiveIntegerField(default=0, validators=fits_integer())
    # [{"row": 2, "column": "kelurahan", "code": "ambiguous", "value": ..., "params": {}}]:
    # rows left out, each with its reason; problems are the rows that block applying.
    unmatched = models.JSONField(default=list, blank=True)
    unmatched_count = models.PositiveIntegerField(default=0, validators=fits_integer())
    problems = models.JSONField(default=list, blank=True)
    problem_count = models.PositiveIntegerField(default=0, validators=fits_integer())
    # Counts by level, value range, what applying would create / update, a sample of rows.
    preview = models.JSONField(default=dict, blank=True)
    created_count = models.PositiveIntegerField(default=0, validators=fits_integer())
    updated_count = models.PositiveIntegerField(default=0, validators=fits_integer())
    error = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    objects = IndicatorImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("indicator import")
        verbose_name_plural = _("indicator imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["checked", "applied", "failed"]),
                name="indicator_import_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=["csv", "xlsx", "geojson"]),
                name="indicator_import_format_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("indicator-import-detail", args=[self.pk])

    @property
    def may_apply(self) -> bool:
        return self.status == self.Status.CHECKED and not self.problem_count and self.matched_count


class FacilitatorQuerySet(models.QuerySet):
    def covering(self, area: Area, site: Site | None = None) -> FacilitatorQuerySet:
        """Facilitators of `area` or of an area above it, or of `site`: who is asked about
        anything that happens there."""
        scope = Q(area__code__in=[*area.ancestor_codes, area.code])
        if site is not None:
            scope |= Q(site=site)
        return self.filter(scope)


class Facilitator(models.Model):
    """Someone who keeps needs current and confirms deliveries for an area or a site.

    Assigned by staff in the admin. An area assignment covers everything below it: the head
    of a kelurahan facilitates all its RW.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="facilitations"
    )
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="facilitators"
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="facilitators"
    )
    title = models.CharField(
        _("title"), max_length=100, help_text=_("Shown publicly, e.g. 'Ketua RW 01'.")
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    objects = FacilitatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("facilitator")
        verbose_name_plural = _("facilitators")
        constraints = [
            models.CheckConstraint(
                condition=Q(area__isnull=False, site__isnull=True)
                | Q(area__isnull=True, site__isnull=False),
                name="facilitator_area_xor_site",
            ),
            models.UniqueConstraint(fields=["user", "area"], name="facilitator_area_unique"),
            models.UniqueConstraint(fields=["user", "site"], name="facilitator_site_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.user})"


class MapLayer(models.Model):
    """The map geometry of one level as served: TopoJSON, gzip-compressed, rebuilt by the
    importer. Its version (a hash of the content) goes into the URL, so the response can be
    cached forever by browsers and proxies."""

    level = models.CharField(max_length=10, choices=Area.Level.choices, primary_key=True)
    version = models.CharField(max_length=16)
    payload_gzip = models.BinaryField()
    size_bytes = models.PositiveIntegerField(help_text=_("Uncompressed size."))
    feature_count = models.PositiveIntegerField()
    built_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("map layer")
        verbose_name_plural = _("map layers")

    def __str__(self) -> str:
        return f"{self.level} {self.version} ({len(self.payload_gzip)} bytes gzipped)"
