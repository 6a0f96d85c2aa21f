from django import template

from ksbb import formatting

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
def percent_of(part, whole):
    """Share of `whole` in percent, 0-100, for progress bars."""
    try:
        return max(0, min(100, round(100 * float(part) / float(whole))))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
