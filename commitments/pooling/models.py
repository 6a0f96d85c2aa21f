"""The chain through aggregators and executors.

Contribution: a source's gift to an aggregator (money or goods), received by the aggregator
with its own receipt number. Allocation: a share of a received contribution funding one of
the aggregator's commitments. Distribution: the executor (a site or an RW) handing a
confirmed delivery on to beneficiaries, proven by its own file.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collaborators.models import Collaborator
from ksbb.bounds import fits_integer
from ksbb.storage import private_storage
from locations.models import Area, Site
from programs.models import DonationForm, Program

from ..models import Commitment, Delivery

# A gift's amount: IDR for money, units for goods. A quadrillion rupiah is beyond any real
# gift and well inside a bigint, so sums of shares can never overflow a column.
AMOUNT_MAX = 10**15


def amount_bounds() -> list:
    return [MinValueValidator(1), MaxValueValidator(AMOUNT_MAX)]


class ContributionQuerySet(models.QuerySet):
    def of_sources(self, scopes) -> ContributionQuerySet:
        """Gifts given by the collaborators the user acts for."""
        return self.filter(source__in=scopes.collaborator_ids)

    def held_by(self, scopes) -> ContributionQuerySet:
        """Gifts given to the aggregators the user acts for."""
        return self.filter(aggregator__in=scopes.collaborator_ids)

    def visible_to(self, scopes) -> ContributionQuerySet:
        """Gifts the user gave or holds (through their collaborators); all for admins."""
        if scopes.is_admin:
            return self.all()
        return self.filter(
            Q(source__in=scopes.collaborator_ids) | Q(aggregator__in=scopes.collaborator_ids)
        )

    def drawable(self) -> ContributionQuerySet:
        """Received and not yet wholly committed."""
        return self.filter(status=Contribution.Status.RECEIVED, committed__lt=F("amount"))


class Contribution(models.Model):
    class Kind(models.TextChoices):
        MONEY = "money", _("money (IDR)")
        GOODS = "goods", _("goods")

    class Status(models.TextChoices):
        DECLARED = "declared", _("declared, waiting for receipt")
        RECEIVED = "received", _("received")
        REFUSED = "refused", _("refused")

    source = models.ForeignKey(
        Collaborator, on_delete=models.PROTECT, related_name="contributions_given"
    )
    aggregator = models.ForeignKey(
        Collaborator, on_delete=models.PROTECT, related_name="contributions_held"
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    # Goods only: what was given (the amount is then a quantity of this form's unit).
    donation_form = models.ForeignKey(
        DonationForm, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # One column in the gift's own unit (IDR or the form's unit) so that one check
    # constraint holds 0 <= committed <= amount for both kinds.
    amount = models.PositiveBigIntegerField(validators=amount_bounds())
    committed = models.PositiveBigIntegerField(default=0, editable=False)
    is_anonymous = models.BooleanField(default=False)
    note = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DECLARED)
    receipt_number = models.CharField(max_length=64, blank=True)
    received_on = models.DateField(null=True, blank=True)
    refusal_reason = models.TextField(blank=True, max_length=1000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=64)

    objects = ContributionQuerySet.as_manager()

    class Meta:
        ordering = ["-declared_at", "-pk"]
        verbose_name = _("contribution to an aggregator")
        verbose_name_plural = _("contributions to aggregators")
        indexes = [
            models.Index(fields=["aggregator", "status"], name="contribution_aggregator"),
            models.Index(fields=["source", "-declared_at"], name="contribution_source"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "idempotency_key"], name="contribution_idempotency_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["money", "goods"]), name="contribution_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["declared", "received", "refused"]),
                name="contribution_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=AMOUNT_MAX),
                name="contribution_amount_bounded",
            ),
            models.CheckConstraint(
                condition=Q(committed__gte=0) & Q(committed__lte=F("amount")),
                name="contribution_committed_within_amount",
            ),
            # Only received gifts can be drawn on.
            models.CheckConstraint(
                condition=Q(committed=0) | Q(status="received"),
                name="contribution_committed_only_received",
            ),
            models.CheckConstraint(
                condition=(Q(kind="money") & Q(donation_form__isnull=True))
                | (Q(kind="goods") & Q(donation_form__isnull=False)),
                name="contribution_goods_have_form",
            ),
            models.CheckConstraint(
                condition=~Q(source=F("aggregator")), name="contribution_not_to_self"
            ),
            models.CheckConstraint(
                condition=~Q(status="received")
                | (~Q(receipt_number="") & Q(received_on__isnull=False)),
                name="contribution_received_has_receipt",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.source_id} -> {self.aggregator_id}: {self.amount} {self.kind}"

    def get_absolute_url(self) -> str:
        return reverse("pooling-contribution", args=[self.pk])

    @property
    def left(self) -> int:
        return self.amount - self.committed if self.status == self.Status.RECEIVED else 0

    @property
    def is_money(self) -> bool:
        return self.kind == self.Kind.MONEY

    @property
    def public_source(self) -> str:
        return str(_("anonymous")) if self.is_anonymous else self.source.name


class Allocation(models.Model):
    """A share of a contribution funding one commitment of its aggregator, in the
    contribution's unit. Released (and returned to the contribution) when the commitment is
    cancelled, rejected or expires; never deleted, so the history stays."""

    contribution = models.ForeignKey(
        Contribution, on_delete=models.PROTECT, related_name="allocations"
    )
    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="pool_shares")
    amount = models.PositiveBigIntegerField(validators=amount_bounds())
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["commitment", "pk"]
        verbose_name = _("share of a pooled gift")
        verbose_name_plural = _("shares of pooled gifts")
        constraints = [
            models.UniqueConstraint(
                fields=["contribution", "commitment"], name="allocation_once_per_commitment"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=AMOUNT_MAX),
                name="allocation_amount_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of #{self.contribution_id} for #{self.commitment_id}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class Distribution(models.Model):
    """The executor's hand-over of a confirmed delivery to beneficiaries: a hop of its own,
    proven by its own file (the delivery's receipt proves only that the executor got it)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="distributions")
    executor_area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    executor_site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1), *fits_integer()])
    distributed_on = models.DateField()
    households = models.PositiveIntegerField(null=True, blank=True, validators=fits_integer())
    persons = models.PositiveIntegerField(null=True, blank=True, validators=fits_integer())
    note = models.TextField(blank=True, max_length=1000)
    proof = models.FileField(upload_to="distributions/%Y/%m/", storage=private_storage)
    proof_kind = models.CharField(max_length=10)
    proof_content_type = models.CharField(max_length=50)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["delivery", "distributed_on", "pk"]
        verbose_name = _("distribution to beneficiaries")
        verbose_name_plural = _("distributions to beneficiaries")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="distribution_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(proof_kind__in=["photo", "document"]),
                name="distribution_proof_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Distribution {self.quantity} of delivery #{self.delivery_id}"
