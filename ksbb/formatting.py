"""Numbers the way each language writes them: 460.000 and Rp 1,6 miliar in Indonesian,
460,000 and IDR 1.6 billion in English (CLDR data through Babel)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_compact_decimal, format_decimal
from django.utils.translation import get_language


def _locale() -> str:
    return "en" if (get_language() or "id").startswith("en") else "id"


def number(value: int | float | Decimal | None) -> str:
    if value is None:
        return "–"
    return format_decimal(value, locale=_locale(), decimal_quantization=False)


def idr(value: int | float | Decimal | None, *, compact: bool = True) -> str:
    """Rp 1,6 miliar / IDR 1.6 billion; amounts under a million are written in full."""
    if value is None:
        return "–"
    locale = _locale()
    prefix = "Rp" if locale == "id" else "IDR"
    if compact and abs(value) >= 1_000_000:
        text = format_compact_decimal(value, format_type="long", locale=locale, fraction_digits=1)
    else:
        text = format_decimal(int(value), locale=locale)
    return f"{prefix} {text}"
