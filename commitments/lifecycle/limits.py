"""What a collaborator may still pledge in a program: the one home of the hoarding limits.

Collaborators not verified for a program (see collaborators.models.standing) pledge within
the limits the program sets; rejected ones may not pledge; verified ones are limited only
by what the need has left. commitments.lifecycle.commitment_pledge enforces these inside
the pledge transaction; the pledge form shows them before anyone pledges.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from ksbb.formatting import idr
from locations.models import Need

from ..models import ACTIVE_STATUSES, Commitment, Status

# Open commitments count towards the value limit: pledged and not yet delivered.
OPEN_STATUSES = (Status.PLEDGED, Status.COMMITTED)

Verification = Collaborator.Verification


@dataclass(frozen=True)
class PledgeLimits:
    """One collaborator's room to pledge for one need. The *_left fields are None when
    the limit does not apply (verified collaborators; no standard value for the value)."""

    collaborator: Collaborator
    need: Need
    standing: str
    share_percent: int | None = None
    share_units: int | None = None
    share_left: int | None = None
    open_value_idr: int | None = None
    value_left_idr: int | None = None
    pledges_per_hour: int | None = None
    pledges_left: int | None = None
    confirm_within_days: int | None = None

    @classmethod
    def of(cls, *, collaborator: Collaborator, standing: str, need: Need) -> PledgeLimits:
        """Read what the collaborator already holds. Read it again inside the pledge
        transaction, after locking the collaborator, to enforce it."""
        if standing != Verification.UNVERIFIED:
            return cls(collaborator=collaborator, need=need, standing=standing)
        program = need.program
        mine = Commitment.objects.filter(collaborator=collaborator, program=program)
        share_units = max(1, need.quantity_needed * program.unverified_max_share_percent // 100)
        held = mine.filter(need=need, status__in=ACTIVE_STATUSES).aggregate(n=Sum("quantity"))
        open_value = mine.filter(status__in=OPEN_STATUSES).aggregate(v=Sum("value_idr"))["v"]
        max_value = int(program.unverified_max_open_value_idr)
        recent = mine.filter(created_at__gte=timezone.now() - datetime.timedelta(hours=1))
        return cls(
            collaborator=collaborator,
            need=need,
            standing=standing,
            share_percent=program.unverified_max_share_percent,
            share_units=share_units,
            share_left=max(0, share_units - (held["n"] or 0)),
            open_value_idr=max_value,
            value_left_idr=max(0, max_value - int(open_value or 0)),
            pledges_per_hour=program.unverified_pledges_per_hour,
            pledges_left=max(0, program.unverified_pledges_per_hour - recent.count()),
            confirm_within_days=program.unverified_confirm_within_days,
        )

    @property
    def is_limited(self) -> bool:
        return self.standing == Verification.UNVERIFIED

    @property
    def is_rejected(self) -> bool:
        return self.standing == Verification.REJECTED

    @property
    def max_quantity(self) -> int:
        """The most this collaborator may pledge for the need now."""
        if self.is_rejected:
            return 0
        most = self.need.quantity_remaining
        if not self.is_limited:
            return max(most, 0)
        if self.pledges_left == 0:
            return 0
        most = min(most, self.share_left)
        unit_value = self.need.estimate_value_idr(1)
        if unit_value:
            most = min(most, self.value_left_idr // unit_value)
        return max(most, 0)

    def refusal(self, quantity: int) -> str | None:
        """Why `quantity` may not be pledged, naming the limit; None if it may."""
        if self.is_rejected:
            return _(
                "%(name)s has been rejected for this program and cannot pledge to it. "
                "Contact the program lead if you think this is a mistake."
            ) % {"name": self.collaborator.name}
        if not self.is_limited:
            return None
        if self.pledges_left == 0:
            return _(
                "Limit reached: until %(name)s is verified it may make %(limit)s pledges per "
                "hour in this program. Try again later."
            ) % {"name": self.collaborator.name, "limit": self.pledges_per_hour}
        if quantity > self.share_left:
            return _(
                "Limit reached: until %(name)s is verified it may hold at most %(percent)s%% "
                "of a need (%(units)s); %(left)s more can be pledged for this need."
            ) % {
                "name": self.collaborator.name,
                "percent": self.share_percent,
                "units": self.share_units,
                "left": self.share_left,
            }
        value = self.need.estimate_value_idr(quantity)
        if value is not None and value > self.value_left_idr:
            return _(
                "Limit reached: until %(name)s is verified its open pledges in this program "
                "may be worth at most %(limit)s; %(left)s is left, and this pledge is worth "
                "%(value)s."
            ) % {
                "name": self.collaborator.name,
                "limit": idr(self.open_value_idr, compact=False),
                "left": idr(self.value_left_idr, compact=False),
                "value": idr(value, compact=False),
            }
        return None
