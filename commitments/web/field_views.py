"""The pages a facilitator or program lead keeps on the phone for the field (issue 22): the
list js/pwa.js hands to the service worker to save while there is a signal. Only the
signed-in person's own pages, most needed first, at most FIELD_PAGES_LIMIT, in a fixed
number of queries whatever the number of needs, areas or deliveries."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from collaborators.roles import Scopes, scopes_for
from locations.mapdata import MAP_LEVELS, layer_versions, needs_version
from locations.models import Area, Need

from ..models import Commitment, Delivery

FIELD_PAGES_LIMIT = 300
# Each kind's share, so that a busy queue cannot crowd out the rest.
RECEIPTS_LIMIT = 40  # deliveries to confirm: the commitment (and its asset register)
PLEDGES_LIMIT = 30  # pledges to confirm: the commitment
AREAS_LIMIT = 30  # areas: the page, the map's panel, re-confirming its needs


def _url(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:  # a page another part of the portal may not have (yet)
        return None


def _own_pages(scopes: Scopes) -> list[str | None]:
    keeps_needs = scopes.is_facilitator or scopes.is_lead or scopes.is_admin
    return [
        _url("workspace"),
        _url("notifications"),
        _url("outbox"),
        _url("my-commitments") if scopes.collaborator_ids else None,
        _url("facilitator-inbox") if scopes.confirms_anything else None,
        _url("offline-commitment-create") if scopes.confirms_anything else None,
        _url("my-needs") if keeps_needs else None,
        _url("need-add") if keeps_needs else None,
    ]


def _map_pages() -> list[str]:
    """The needs map as it opens, and the data it loads for each of its levels (the need
    state as js/needs-map.js asks for it unfiltered: open needs, this needs version)."""
    versions = layer_versions()
    urls = [reverse("needs-map")]
    state_query = f"?open=1&v={needs_version()}"
    for level in MAP_LEVELS:
        if level in versions:
            urls.append(
                reverse("map-geometry", kwargs={"level": level, "version": versions[level]})
            )
            urls.append(reverse("map-need-state", kwargs={"level": level}) + state_query)
    return [*urls, _url("map-adopted")]


def _receipt_pages(scopes: Scopes) -> list[str]:
    """The commitments with a delivery waiting for receipt (the receipt form is on the
    commitment's page), and the asset register of those whose goods become assets."""
    deliveries = (
        Delivery.objects.to_receive(scopes)
        .order_by("recorded_at", "pk")
        .values_list("pk", "commitment_id", "commitment__donation_form__creates_assets")[
            :RECEIPTS_LIMIT
        ]
    )
    urls = []
    for delivery_id, commitment_id, creates_assets in deliveries:
        urls.append(reverse("commitment-detail", kwargs={"pk": commitment_id}))
        if creates_assets:
            urls.append(
                reverse("asset-register", kwargs={"pk": commitment_id, "delivery_id": delivery_id})
            )
    return urls


def _pledge_pages(scopes: Scopes) -> list[str]:
    pledges = (
        Commitment.objects.to_confirm(scopes)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:PLEDGES_LIMIT]
    )
    return [reverse("commitment-detail", kwargs={"pk": pk}) for pk in pledges]


def _area_pages(scopes: Scopes) -> list[str]:
    """The areas the person facilitates and those below them (a kelurahan's RW), in the
    order of the tree."""
    if not scopes.area_paths:
        return []
    codes = (
        Area.objects.within(*scopes.area_paths)
        .order_by("path")
        .values_list("code", flat=True)[:AREAS_LIMIT]
    )
    urls = []
    for code in codes:
        urls.append(reverse("area-detail", kwargs={"code": code}))
        urls.append(reverse("area-panel", kwargs={"code": code}))
        urls.append(reverse("needs-reconfirm", kwargs={"code": code}))
    return urls


def _need_pages(scopes: Scopes, room: int) -> list[str]:
    """Open needs the person keeps, the most pressing first: each one's page and its edit
    form."""
    if room < 2 or not (scopes.is_facilitator or scopes.is_lead or scopes.is_admin):
        return []
    needs = (
        Need.objects.editable_by(scopes)
        .filter(status=Need.Status.OPEN, valid_until__gte=timezone.localdate())
        .order_by("priority", "valid_until", "pk")
        .values_list("pk", flat=True)[: room // 2]
    )
    urls = []
    for pk in needs:
        urls.append(reverse("need-detail", kwargs={"pk": pk}))
        urls.append(reverse("need-edit", kwargs={"pk": pk}))
    return urls


def field_page_urls(user) -> list[str]:
    """The URLs to keep on `user`'s phone, without repeats, most needed first."""
    scopes = scopes_for(user)
    urls = [*_own_pages(scopes), *_map_pages()]
    if scopes.confirms_anything:
        urls += [*_receipt_pages(scopes), *_pledge_pages(scopes), *_area_pages(scopes)]
    unique = list(dict.fromkeys(url for url in urls if url))[:FIELD_PAGES_LIMIT]
    unique += _need_pages(scopes, FIELD_PAGES_LIMIT - len(unique))
    return list(dict.fromkeys(unique))[:FIELD_PAGES_LIMIT]


@login_required
@require_GET
def field_pages(request: HttpRequest) -> JsonResponse:
    urls = field_page_urls(request.user)
    response = JsonResponse({"urls": urls, "limit": FIELD_PAGES_LIMIT})
    response["Cache-Control"] = "private, no-store"
    return response
