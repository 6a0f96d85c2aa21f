"""Donated assets and their history.

An Asset is one thing an asset-creating delivery left behind (a laptop, a set of benches),
registered by the facilitator who confirmed its receipt, with its owner as the program's rule
allows. AssetEvent is its history. Both are append-only: nothing is ever deleted (PROTECT
foreign keys; no delete in the admin or the views), as an asset ledger must be.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ksbb.storage import private_storage
from locations.models import Area, Site
from programs.models import AssetOwner, DonationForm, Program

from ..models import CommitmentEvent, Delivery

NAME_MAX = 200
SERIAL_MAX = 100
NOTE_MAX = 1000


class AssetStatus(models.TextChoices):
    IN_USE = "in_use", _("in use")
    REPAIRED = "repaired", _("repaired")
    BROKEN = "broken", _("broken")
    LOST = "lost", _("lost")
    HANDED_OVER = "handed_over", _("handed over")


class AssetCondition(models.TextChoices):
    NEW = "new", _("new")
    GOOD = "good", _("good")
    FAIR = "fair", _("fair")
    POOR = "poor", _("poor")


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("registered")
    IN_USE = "in_use", _("in use")
    REPAIRED = "repaired", _("repaired")
    BROKEN = "broken", _("broken")
    LOST = "lost", _("lost")
    HANDED_OVER = "handed_over", _("handed over")


def owner_fields_fit(prefix: str = "") -> Q:
    """The owner fields that fit the owner kind: a school is a Site, an RW or a kelurahan an
    Area, a private owner a name, the city government nothing more."""
    kind, site, area, name = (f"{prefix}{f}" for f in ("kind", "site", "area", "name"))
    no_site, no_area, no_name = (
        Q((f"{site}__isnull", True)),
        Q((f"{area}__isnull", True)),
        Q((name, "")),
    )
    return (
        (Q((kind, AssetOwner.SCHOOL)) & Q((f"{site}__isnull", False)) & no_area & no_name)
        | (Q((kind, AssetOwner.PRIVATE)) & ~Q((name, "")) & no_site & no_area)
        | (
            Q((f"{kind}__in", [AssetOwner.RW, AssetOwner.KELURAHAN]))
            & Q((f"{area}__isnull", False))
            & no_site
            & no_name
        )
        | (Q((kind, AssetOwner.CITY)) & no_site & no_area & no_name)
    )


class AssetQuerySet(models.QuerySet):
    def in_area(self, area: Area) -> AssetQuerySet:
        """Assets located in `area` or anywhere below it."""
        return self.filter(Q(area__path=area.path) | Q(area__path__startswith=area.path + "/"))

    def with_related(self) -> AssetQuerySet:
        return self.select_related(
            "area",
            "area__parent",
            "owner_site",
            "owner_area",
            "program",
            "donation_form",
            "delivery__commitment__collaborator",
        ).defer(
            *(
                f"{path}__{name}"
                for path in ("area", "area__parent", "owner_area")
                for name in ("geometry", "display_geometry", "source_properties")
            )
        )


class Asset(models.Model):
    """One donated thing, registered at receipt. Its status and owner change only through
    commitments.assets.registry (which records an AssetEvent for every change)."""

    Owner = AssetOwner
    Status = AssetStatus
    Condition = AssetCondition

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="assets")
    donation_form = models.ForeignKey(DonationForm, on_delete=models.PROTECT, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="assets")
    kind = models.CharField(_("kind"), max_length=NAME_MAX)
    serial_number = models.CharField(_("serial number"), max_length=SERIAL_MAX, blank=True)
    owner_kind = models.CharField(_("owner"), max_length=10, choices=AssetOwner.choices)
    owner_site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_assets"
    )
    owner_area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_assets"
    )
    # Personal data (PDP law): shown only to the area's facilitators, the program's leads and
    # administrators (Asset.names_shown_to), never on public pages or in others' exports.
    owner_name = models.CharField(_("owner's name"), max_length=NAME_MAX, blank=True)
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="assets", verbose_name=_("location")
    )
    condition = models.CharField(
        _("condition"), max_length=10, choices=AssetCondition.choices, default=AssetCondition.GOOD
    )
    status = models.CharField(
        _("status"), max_length=12, choices=AssetStatus.choices, default=AssetStatus.IN_USE
    )
    photo = models.FileField(upload_to="assets/%Y/%m/", storage=private_storage, blank=True)
    value_idr = models.DecimalField(
        _("value (IDR)"), max_digits=14, decimal_places=0, null=True, blank=True
    )
    acquired_on = models.DateField(_("acquired on"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    registered_at = models.DateTimeField(default=timezone.now)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["-acquired_on", "pk"]
        verbose_name = _("donated asset")
        verbose_name_plural = _("donated assets")
        indexes = [models.Index(fields=["program", "acquired_on"], name="asset_program_year")]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_kind__in=AssetOwner.values), name="asset_owner_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AssetStatus.values), name="asset_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(condition__in=AssetCondition.values), name="asset_condition_valid"
            ),
            models.CheckConstraint(
                condition=owner_fields_fit("owner_"), name="asset_owner_fields_fit"
            ),
            models.CheckConstraint(
                condition=Q(value_idr__isnull=True) | Q(value_idr__gte=0),
                name="asset_value_nonnegative",
            ),
            # A serial number names one asset of its kind, whoever registered it.
            models.UniqueConstraint(
                fields=["donation_form", "serial_number"],
                condition=~Q(serial_number=""),
                name="asset_serial_unique_per_form",
                violation_error_message=_("This serial number is already registered."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.serial_number}".strip()

    def get_absolute_url(self) -> str:
        return reverse("asset-detail", args=[self.pk])

    def names_shown_to(self, scopes) -> bool:
        """Whether `scopes` (collaborators.roles.Scopes) may see the private owner's name,
        the photo and the notes: the facilitators of the asset's area or school, the
        program's leads, administrators. The same people keep its history."""
        return (
            scopes.is_admin
            or self.program_id in scopes.program_ids
            or scopes.facilitates(self.area, self.owner_site)
        )

    keeps_history = names_shown_to

    def owner_label(self, *, with_name: bool) -> str:
        """The owner in words; a private person's name only `with_name`."""
        if self.owner_kind == AssetOwner.SCHOOL and self.owner_site_id:
            return self.owner_site.name
        if self.owner_kind in (AssetOwner.RW, AssetOwner.KELURAHAN) and self.owner_area_id:
            return f"{self.get_owner_kind_display()} {self.owner_area.name}"
        if self.owner_kind == AssetOwner.PRIVATE and with_name:
            return self.owner_name
        return str(self.get_owner_kind_display())


class AssetEvent(models.Model):
    """One entry of an asset's history: registration, a status change or a handover (with
    the new owner). Never edited, never deleted."""

    Kind = EventKind

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    from_status = models.CharField(max_length=12, choices=AssetStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=AssetStatus.choices)
    owner_kind = models.CharField(max_length=10, choices=AssetOwner.choices, blank=True)
    owner_site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner_name = models.CharField(max_length=NAME_MAX, blank=True)  # personal data, as above
    note = models.TextField(blank=True, max_length=NOTE_MAX)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_role = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["asset", "at", "pk"]
        verbose_name = _("asset history entry")
        verbose_name_plural = _("asset history")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="asset_event_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(to_status__in=AssetStatus.values), name="asset_event_status_valid"
            ),
            # A handover names its new owner; other entries name none.
            models.CheckConstraint(
                condition=(Q(kind=EventKind.HANDED_OVER) & owner_fields_fit("owner_"))
                | (
                    ~Q(kind=EventKind.HANDED_OVER)
                    & Q(owner_kind="", owner_site__isnull=True, owner_area__isnull=True)
                    & Q(owner_name="")
                ),
                name="asset_event_owner_fits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.kind} {self.at:%Y-%m-%d}"

    @property
    def role_label(self) -> str:
        return str(CommitmentEvent.ROLE_LABELS.get(self.actor_role, self.actor_role))
