"""Numbers the way each language writes them: 460.000 and Rp 1,6 miliar in Indonesian,
460,000 and IDR 1.6 billion in English (CLDR data through Babel)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_compact_decimal, format_decimal, get_group_symbol
from django.utils.translation import get_language


def _locale() -> str:
    return "en" if (get_language() or "id").startswith("en") else "id"


@cache
def _babel(code: str) -> Locale:
    return Locale.parse(code)


@cache
def _group(code: str) -> str:
    return get_group_symbol(locale=_babel(code))


def number(value: int | float | Decimal | None) -> str:
    if value is None:
        return "–"
    locale = _locale()
    if isinstance(value, int) or (
        isinstance(value, Decimal) and value.is_finite() and value == int(value)
    ):
        # Whole numbers (nearly every figure): CLDR groups them by threes in both languages.
        return f"{int(value):,}".replace(",", _group(locale))
    return format_decimal(value, locale=_babel(locale), decimal_quantization=False)


def idr(value: int | float | Decimal | None, *, compact: bool = True) -> str:
    """Rp 1,6 miliar / IDR 1.6 billion; amounts under a million are written in full."""
    if value is None:
        return "–"
    code = _locale()
    locale = _babel(code)
    prefix = "Rp" if code == "id" else "IDR"
    if compact and abs(value) >= 1_000_000:
        text = format_compact_decimal(value, format_type="long", locale=locale, fraction_digits=1)
    else:
        text = format_decimal(int(value), locale=locale)
    return f"{prefix} {text}"
