"""A person's request to be erased (Law 27/2022 art. 8 and 16: within 3 x 24 hours)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The law's deadline for acting on a person's request.
ERASURE_DEADLINE = datetime.timedelta(hours=72)


def _due_by() -> datetime.datetime:
    return timezone.now() + ERASURE_DEADLINE


class ErasureRequestQuerySet(models.QuerySet):
    def unfinished(self) -> ErasureRequestQuerySet:
        """Not erased yet, or erased but not yet proven."""
        return self.filter(Q(done_at__isnull=True) | Q(verified_at__isnull=True))

    def late(self, now: datetime.datetime | None = None) -> ErasureRequestQuerySet:
        return self.filter(verified_at__isnull=True, due_by__lt=now or timezone.now())


class ErasureRequest(models.Model):
    """One request; the row is the job (erasure.erasures_run takes up unfinished ones). The
    user stays linked: the account row remains, anonymised, so that commitments, events
    and totals keep their owner; this row then holds no personal data of its own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure_requests"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    due_by = models.DateTimeField(default=_due_by)
    done_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Set once, when the administrators were told the request is past due_by.
    late_alerted_at = models.DateTimeField(null=True, blank=True)
    # What the proof found still holding the person's data ("" once proven clean).
    problems = models.TextField(blank=True, max_length=10_000)

    objects = ErasureRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(verified_at__isnull=True) | Q(done_at__isnull=False),
                name="erasure_verified_after_done",
            )
        ]

    def __str__(self) -> str:
        return f"Erasure #{self.pk} ({self.requested_at:%Y-%m-%d})"
