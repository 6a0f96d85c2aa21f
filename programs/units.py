"""A quantity with its unit, singular or plural as the number asks: "1 package",
"31 packages" (Indonesian nouns do not change: "1 paket", "31 paket")."""

from __future__ import annotations

from django.utils.translation import ngettext_lazy

from ksbb.formatting import number

from .models import DonationUnit

# The plural is chosen by "count"; the text shows "quantity", the number as each language
# writes it (1.500 / 1,500).
_QUANTITY_OF = {
    DonationUnit.PACKAGE: ngettext_lazy("%(quantity)s package", "%(quantity)s packages", "count"),
    DonationUnit.UNIT: ngettext_lazy("%(quantity)s unit", "%(quantity)s units", "count"),
    DonationUnit.PERSON: ngettext_lazy("%(quantity)s person", "%(quantity)s persons", "count"),
    DonationUnit.IDR: ngettext_lazy("%(quantity)s rupiah", "%(quantity)s rupiah", "count"),
    DonationUnit.LOCATION: ngettext_lazy(
        "%(quantity)s location", "%(quantity)s locations", "count"
    ),
    DonationUnit.TRAINING: ngettext_lazy(
        "%(quantity)s training", "%(quantity)s trainings", "count"
    ),
    DonationUnit.ACTIVITY: ngettext_lazy(
        "%(quantity)s activity", "%(quantity)s activities", "count"
    ),
    DonationUnit.SEAT: ngettext_lazy("%(quantity)s seat", "%(quantity)s seats", "count"),
    DonationUnit.POSITION: ngettext_lazy(
        "%(quantity)s position", "%(quantity)s positions", "count"
    ),
}


def quantity_with_unit(quantity: int | None, unit: str) -> str:
    """ "31 packages"; the bare number for a unit this portal does not know."""
    if quantity is None:
        return number(None)
    text = _QUANTITY_OF.get(unit)
    if text is None:
        return number(quantity)
    return text % {"count": int(quantity), "quantity": number(quantity)}
