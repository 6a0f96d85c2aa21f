from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from locations.models import Need

register = template.Library()

# History entries that are not a field of Need.
EXTRA_LABELS = {"rejected_pledges": lambda: _("pledges rejected")}


@register.filter
def need_field_label(name: str) -> str:
    """The translated label of a Need field named in a history entry."""
    if name in EXTRA_LABELS:
        return EXTRA_LABELS[name]()
    try:
        return str(Need._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name
