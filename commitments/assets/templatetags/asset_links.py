"""Links to the donated-asset register from pages that are not the register's own (the
program page): `{% load asset_links %}{% with links=program|asset_links %}`."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def asset_links(program) -> dict[str, bool]:
    """Which register links `program`'s page shows: the register when one of its donation
    forms creates assets, and the yearly "where are they now" view when one of those asks
    serial numbers (devices followed one by one: the Education program's laptops and
    phones; benches and bins are counted, not followed from year to year). Reads
    program.donation_forms.all(), which the program page prefetches."""
    forms = [form for form in program.donation_forms.all() if form.creates_assets]
    return {"register": bool(forms), "years": any(form.asks_serials for form in forms)}
