"""An aggregator commits to a need in its own name, funded by gifts it received
(commitments.pooling): the ordinary pledge and the draw on the pool in one transaction.

Functions are keyword-only and named <thing>_<action>. Each states its locking
preconditions in its docstring.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from locations.models import Need

from ..pooling.rules import PoolRefused, Share, pool_draw
from .pledges import PledgeRefused, PledgeResult, commitment_pledge


def commitment_pledge_pooled(
    *,
    user,
    aggregator: Collaborator,
    need: Need,
    quantity: int,
    shares: list[Share],
    idempotency_key: str,
    planned_delivery_on: datetime.date | None = None,
    note: str = "",
) -> PledgeResult:
    """Pledge `quantity` of a need for `aggregator`, funded by `shares` of gifts it holds.

    commitment_pledge runs inside this transaction (its own becomes a savepoint), so the
    need's cap, the collaborator's limits and the idempotency key work as for any pledge;
    the draw follows in the same transaction, and a refused draw (PledgeRefused with the
    pool's message) rolls back the commitment and the need's claim with it. A retry with
    the same key returns the first commitment and draws nothing again.
    Must not run inside an outer transaction."""
    if not aggregator.is_aggregator:
        raise PledgeRefused(_("Only an aggregator commits pooled gifts."))
    try:
        with transaction.atomic():
            result = commitment_pledge(
                user=user,
                collaborator=aggregator,
                need=need,
                quantity=quantity,
                idempotency_key=idempotency_key,
                planned_delivery_on=planned_delivery_on,
                note=note,
            )
            if result.created:
                pool_draw(commitment=result.commitment, shares=shares)
    except PoolRefused as refusal:
        raise PledgeRefused(refusal.message) from refusal
    return result
