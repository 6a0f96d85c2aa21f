"""Reading the chain: a gift followed through every hop, what an aggregator holds, and
what funds a commitment. Each is a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

from django.db.models import Prefetch, Q, Sum

from collaborators.models import Collaborator

from ..models import Commitment, Delivery
from .models import Allocation, Contribution, Distribution


def gift_chain(contribution: Contribution) -> list[Allocation]:
    """The gift's shares, each with its commitment, the commitment's deliveries (with
    their proofs) and the executor's distributions of each delivery."""
    deliveries = Delivery.objects.prefetch_related(
        "proofs", Prefetch("distributions", Distribution.objects.order_by("distributed_on", "pk"))
    )
    return list(
        contribution.allocations.select_related(
            "commitment",
            "commitment__area",
            "commitment__area__parent",
            "commitment__site",
            "commitment__donation_form",
            "commitment__program",
        )
        .prefetch_related(Prefetch("commitment__deliveries", deliveries))
        .order_by("created_at", "pk")
    )


def aggregator_holdings(aggregator: Collaborator) -> list[dict]:
    """One row per unit (money, each donation form): declared, received, committed, left."""
    received = Q(status=Contribution.Status.RECEIVED)
    rows = (
        Contribution.objects.filter(aggregator=aggregator)
        .exclude(status=Contribution.Status.REFUSED)
        .values("kind", "donation_form__name_id", "donation_form__name_en", "donation_form__unit")
        .annotate(
            declared=Sum("amount", filter=Q(status=Contribution.Status.DECLARED)),
            received=Sum("amount", filter=received),
            committed=Sum("committed", filter=received),
        )
        .order_by("kind", "donation_form__name_id")
    )
    result = []
    for row in rows:
        received_total, committed = row["received"] or 0, row["committed"] or 0
        result.append(
            {
                **row,
                "declared": row["declared"] or 0,
                "received": received_total,
                "committed": committed,
                "left": received_total - committed,
            }
        )
    return result


def commitment_funding(commitment: Commitment) -> list[Allocation]:
    """The shares funding a commitment, with their gift and its source."""
    return list(
        commitment.pool_shares.select_related("contribution", "contribution__source").order_by("pk")
    )


def distributions_by_delivery(commitment: Commitment) -> dict[int, list[Distribution]]:
    result: dict[int, list[Distribution]] = {}
    for distribution in Distribution.objects.filter(delivery__commitment=commitment).order_by(
        "distributed_on", "pk"
    ):
        result.setdefault(distribution.delivery_id, []).append(distribution)
    return result
