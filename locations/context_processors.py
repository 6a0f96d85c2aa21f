from django.utils.functional import SimpleLazyObject

from .city import current_city


def city(request):
    """`city` on every page: the name, data credits and example search of the city the
    portal runs for (locations.city)."""
    return {"city": SimpleLazyObject(current_city)}
