"""Reading the chain: a gift followed through every hop, what an aggregator holds, and
what funds a commitment. Each is a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from collaborators.models import Collaborator
from ksbb.text import in_language

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


def aggregator_totals_by_program(aggregator: Collaborator) -> list[dict]:
    """Received, committed and left per program the gifts were given for (None: any
    program) and unit (money, each donation form): one grouped query. Per the gift's
    program, because that is the promise the aggregator keeps to its sources."""
    received = Contribution.objects.filter(
        aggregator=aggregator, status=Contribution.Status.RECEIVED
    )
    rows = (
        received.values(
            "program_id",
            "program__name_id",
            "program__name_en",
            "kind",
            "donation_form__name_id",
            "donation_form__name_en",
            "donation_form__unit",
        )
        .annotate(received=Sum("amount"), committed=Sum("committed"))
        .order_by("program__sort_order", "program_id", "kind", "donation_form__name_id")
    )
    return [
        {
            **row,
            "left": row["received"] - row["committed"],
            "program_name": in_language(row["program__name_id"] or "", row["program__name_en"]),
            "form_name": in_language(
                row["donation_form__name_id"] or "", row["donation_form__name_en"] or ""
            ),
        }
        for row in rows
    ]


def aggregator_ledger(aggregator: Collaborator) -> Iterator[Contribution]:
    """Every gift to the aggregator, oldest first, with what the ledger shows of it."""
    return (
        Contribution.objects.filter(aggregator=aggregator)
        .select_related("source", "program", "donation_form")
        .order_by("declared_at", "pk")
        .iterator(chunk_size=500)
    )


def deliveries_to_distribute(scopes):
    """Confirmed deliveries of commitments funded from a pool, at the sites or in the areas
    the user facilitates (all for administrators), with some quantity not yet distributed;
    annotated with `distributed`. Only pooled commitments: the distribution hop is the
    chain's, and every other confirmed delivery would otherwise wait here for ever."""
    if not (scopes.is_facilitator or scopes.is_admin):
        return Delivery.objects.none()
    distributed = (
        Distribution.objects.filter(delivery=OuterRef("pk"))
        .values("delivery")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    rows = (
        Delivery.objects.filter(confirmed_at__isnull=False)
        .filter(Exists(Allocation.objects.filter(commitment=OuterRef("commitment"))))
        .annotate(
            distributed=Coalesce(
                Subquery(distributed, output_field=IntegerField()),
                Value(0),
                output_field=IntegerField(),
            )
        )
        .filter(quantity__gt=F("distributed"))
    )
    if not scopes.is_admin:
        rows = rows.filter(scopes.area_q("commitment__"))
    return rows
