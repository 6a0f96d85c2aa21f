"""Area adoption: a collaborator takes an area (an RW, a kelurahan, or a kampung drawn as a
set of RW) under its care for a program and a period, with a scope of works in phases.
The rules live in commitments.adoption.rules; works become commitments through
commitments.lifecycle.adoption_works."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collaborators.models import Collaborator
from ksbb.bounds import fits_integer, fits_smallint
from locations.models import Area, Need
from programs.models import DonationForm, Program

from ..models import Commitment


class AdoptionStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    CHANGES_REQUESTED = "changes_requested", _("changes requested")
    ACTIVE = "active", _("active")
    DECLINED = "declined", _("declined")
    WITHDRAWN = "withdrawn", _("withdrawn")
    ENDED = "ended", _("ended")


# The states in which an adoption holds its areas (no other adoption may claim them).
HOLDING = (AdoptionStatus.PROPOSED, AdoptionStatus.CHANGES_REQUESTED, AdoptionStatus.ACTIVE)
# The states anyone may see; the others are between the adopter, the lead and the facilitators.
PUBLIC = (AdoptionStatus.ACTIVE, AdoptionStatus.ENDED)


class AdoptionQuerySet(models.QuerySet):
    def public(self) -> AdoptionQuerySet:
        return self.filter(status__in=PUBLIC)

    def visible_to(self, scopes) -> AdoptionQuerySet:
        """Public adoptions, and the others to their adopter's members, the program's
        leads, the facilitators of their areas and administrators."""
        if scopes.is_admin:
            return self.all()
        q = Q(status__in=PUBLIC)
        q |= Q(collaborator__in=scopes.collaborator_ids) | Q(program__in=scopes.program_ids)
        if scopes.area_ids:
            q |= Q(claims__area__in=scopes.area_ids)
        return self.filter(q).distinct()


class Adoption(models.Model):
    Status = AdoptionStatus

    collaborator = models.ForeignKey(
        Collaborator, on_delete=models.PROTECT, related_name="adoptions"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="adoptions")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("plan"), blank=True, max_length=2000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=1000)
    agreed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)

    objects = AdoptionQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("adoption")
        verbose_name_plural = _("adoptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AdoptionStatus]),
                name="adoption_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="adoption_period_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(agreed_at__isnull=False),
                name="adoption_active_agreed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.collaborator})"

    def get_absolute_url(self) -> str:
        return reverse("adoption-detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC

    @property
    def holds(self) -> bool:
        return self.status in HOLDING

    def chosen_areas(self) -> list[Area]:
        """The areas the adopter chose (not the RW a chosen kelurahan brings with it)."""
        return [
            c.area
            for c in self.claims.filter(is_chosen=True).select_related("area", "area__parent")
        ]


class Phase(models.Model):
    """One phase of the scope of works, with a target date."""

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField(validators=fits_smallint())
    title = models.CharField(_("title"), max_length=200)
    target_on = models.DateField(_("target date"))

    class Meta:
        ordering = ["adoption", "order"]
        constraints = [
            models.UniqueConstraint(fields=["adoption", "order"], name="adoption_phase_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class PhaseItem(models.Model):
    """What a phase plans to give: a donation form of the program, as a quantity (in the
    form's unit) and/or a value in IDR."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="items")
    donation_form = models.ForeignKey(DonationForm, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(null=True, blank=True, validators=fits_integer())
    value_idr = models.DecimalField(max_digits=14, decimal_places=0, null=True, blank=True)

    class Meta:
        ordering = ["phase", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__isnull=False) | Q(value_idr__isnull=False),
                name="adoption_item_quantity_or_value",
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0),
                name="adoption_item_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(value_idr__isnull=True) | Q(value_idr__gt=0),
                name="adoption_item_value_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.donation_form} ({self.quantity or '-'} / {self.value_idr or '-'} IDR)"

    @property
    def planned_value_idr(self):
        if self.value_idr is not None:
            return self.value_idr
        return self.donation_form.estimate_value_idr(self.quantity)


class AdoptionArea(models.Model):
    """One area an adoption covers: each chosen area and everything below it (a kelurahan
    claims itself and its RW), with the program copied so the database can hold the rule."""

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="claims")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="adoption_claims")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    is_chosen = models.BooleanField(default=False)
    holds = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("adopted area")
        constraints = [
            models.UniqueConstraint(fields=["adoption", "area"], name="adoption_area_once"),
            # A partial unique index rather than a lock-and-check: it holds "one open
            # adoption per area and program" under any concurrency on SQLite and PostgreSQL.
            models.UniqueConstraint(
                fields=["area", "program"],
                condition=Q(holds=True),
                name="adoption_area_held_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} in {self.adoption}"


class FacilitatorComment(models.Model):
    """A facilitator of an adopted area, consulted before the lead agrees."""

    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_title = models.CharField(max_length=100, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("comment"), max_length=2000)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.author_title or self.author} on {self.adoption}"


class AdoptionWork(models.Model):
    """A work of an active adoption: a commitment with the ordinary lifecycle."""

    adoption = models.ForeignKey(Adoption, on_delete=models.PROTECT, related_name="works")
    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="works")
    commitment = models.OneToOneField(
        Commitment, on_delete=models.PROTECT, related_name="adoption_work"
    )

    def __str__(self) -> str:
        return f"{self.adoption}: {self.commitment}"


class NeedFirstOffer(models.Model):
    """A need posted in an area under an active adoption of its program: only the adopter
    may pledge to it until `until`; then it is open to everyone."""

    need = models.OneToOneField(Need, on_delete=models.CASCADE, related_name="first_offer")
    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="first_offers")
    until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.need_id} to {self.adoption} until {self.until:%Y-%m-%d}"

    def is_running(self, now=None) -> bool:
        return (now or timezone.now()) < self.until
