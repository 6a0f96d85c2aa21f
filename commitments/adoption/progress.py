"""How far an adoption has come: per phase and donation form, what was planned, what its
works promise (pledged or confirmed), what is confirmed and what was delivered; and the
adoption's value so far. A fixed number of queries (phases, their items and forms, one sum
over the works), whatever the number of adoptions or works: lists (the API, the dashboard)
ask for a whole page at once with adoptions_progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from ..models import ACTIVE_STATUSES, CONFIRMED_STATUSES
from .models import Adoption, AdoptionWork, Phase


@dataclass
class ItemProgress:
    donation_form: object
    planned_quantity: int | None
    planned_value: Decimal | None
    promised: int = 0
    confirmed: int = 0
    delivered: int = 0

    @property
    def percent_delivered(self) -> int:
        if not self.planned_quantity:
            return 0
        return min(100, round(100 * self.delivered / self.planned_quantity))


@dataclass
class PhaseProgress:
    phase: object
    items: list[ItemProgress] = field(default_factory=list)
    value_promised: Decimal = Decimal(0)


@dataclass
class AdoptionProgress:
    phases: list[PhaseProgress] = field(default_factory=list)
    # works pledged or confirmed: the adoption's value so far
    value_promised: Decimal = Decimal(0)
    value_confirmed: Decimal = Decimal(0)
    works: int = 0


def _work_sums(ids: list[int]):
    """Per adoption: works counted (any status); per (phase, form): quantities of the live
    works; per phase: their value. One query."""
    rows = (
        AdoptionWork.objects.filter(adoption_id__in=ids)
        .values("adoption_id", "phase_id", "commitment__donation_form_id", "commitment__status")
        .annotate(
            n=Count("pk"),
            quantity=Sum("commitment__quantity"),
            delivered=Sum("commitment__quantity_delivered"),
            value=Sum("commitment__value_idr"),
        )
        .order_by()
    )
    works: dict[int, int] = defaultdict(int)
    sums = defaultdict(lambda: {"promised": 0, "confirmed": 0, "delivered": 0})
    value_by_phase: dict[int, Decimal] = defaultdict(Decimal)
    confirmed_value: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        works[row["adoption_id"]] += row["n"]
        if row["commitment__status"] not in ACTIVE_STATUSES:
            continue
        key = (row["phase_id"], row["commitment__donation_form_id"])
        sums[key]["promised"] += row["quantity"] or 0
        sums[key]["delivered"] += row["delivered"] or 0
        value_by_phase[row["phase_id"]] += row["value"] or 0
        if row["commitment__status"] in CONFIRMED_STATUSES:
            sums[key]["confirmed"] += row["quantity"] or 0
            confirmed_value[row["adoption_id"]] += row["value"] or 0
    return works, sums, value_by_phase, confirmed_value


def adoptions_progress(adoptions: Iterable[Adoption]) -> dict[int, AdoptionProgress]:
    """adoption id -> its progress, for all `adoptions` at once (four queries)."""
    ids = [a.pk for a in adoptions]
    if not ids:
        return {}
    phases = Phase.objects.filter(adoption_id__in=ids).prefetch_related("items__donation_form")
    works, sums, value_by_phase, confirmed_value = _work_sums(ids)
    result = {pk: AdoptionProgress() for pk in ids}
    for phase in phases:
        progress = PhaseProgress(phase=phase, value_promised=value_by_phase[phase.pk])
        for item in phase.items.all():
            progress.items.append(
                ItemProgress(
                    donation_form=item.donation_form,
                    planned_quantity=item.quantity,
                    planned_value=item.planned_value_idr,
                    **sums[(phase.pk, item.donation_form_id)],
                )
            )
        adoption = result[phase.adoption_id]
        adoption.phases.append(progress)
        adoption.value_promised += progress.value_promised
    for pk, progress in result.items():
        progress.value_confirmed = confirmed_value[pk]
        progress.works = works[pk]
    return result


def adoption_progress(adoption: Adoption) -> AdoptionProgress:
    return adoptions_progress([adoption])[adoption.pk]
