"""The adopted areas for the needs map (static/js/needs-map.js outlines them): each area held
by an active adoption, by code (codes are unique across the map's levels: an adopted
kelurahan and each of its RW are listed, a kampung's RW alone), with its adopters. One
query, kept in the cache until an adoption changes status (rules._decide and expiry call
adopted_areas_forget) or ADOPTED_TTL passes."""

from __future__ import annotations

from django.core.cache import cache
from django.urls import reverse

from .models import AdoptionArea, AdoptionStatus

ADOPTED_KEY = "map:adopted-areas"
ADOPTED_TTL = 300  # seconds: a safety net, since every status change forgets it
PLACEHOLDER = 987654321


def adopted_areas() -> dict:
    """{"areas": {code: [[adopter, adoption URL, program id, adoption name], ...]}}."""
    payload = cache.get(ADOPTED_KEY)
    if payload is not None:
        return payload
    claims = (
        AdoptionArea.objects.filter(holds=True, adoption__status=AdoptionStatus.ACTIVE)
        .order_by("area__code", "adoption__agreed_at", "adoption_id")
        .values_list(
            "area__code",
            "adoption_id",
            "adoption__collaborator__name",
            "adoption__program_id",
            "adoption__name",
        )
    )
    # The URL reversed once, then filled per row.
    url = reverse("adoption-detail", args=[PLACEHOLDER])
    areas: dict[str, list] = {}
    for code, adoption_id, adopter, program_id, name in claims:
        link = url.replace(str(PLACEHOLDER), str(adoption_id))
        areas.setdefault(code, []).append([adopter, link, program_id, name])
    payload = {"areas": areas}
    cache.set(ADOPTED_KEY, payload, timeout=ADOPTED_TTL)
    return payload


def adopted_areas_forget() -> None:
    cache.delete(ADOPTED_KEY)
