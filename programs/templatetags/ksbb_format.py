from django import template

from ksbb import formatting
from programs.units import quantity_with_unit as _quantity_with_unit

register = template.Library()


@register.filter
def number(value):
    return formatting.number(value)


@register.filter
def idr(value):
    return formatting.idr(value)


@register.filter
def idr_full(value):
    return formatting.idr(value, compact=False)


@register.filter
def quantity_with_unit(value, unit):
    """{{ need.quantity_remaining|quantity_with_unit:need.donation_form.unit }}: 31 packages."""
    return _quantity_with_unit(value, unit)
