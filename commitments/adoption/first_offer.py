"""First offer: a need posted in an area held by an active adoption of its program goes to
the adopter alone for the program's window (Program.adoption_first_offer_days), then to
everyone. Started by the need-creation paths (commitments.needs), checked by the pledge
path (commitments.lifecycle.pledges.pledge_take)."""

from __future__ import annotations

import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from locations.models import Need

from .models import AdoptionArea, AdoptionStatus, NeedFirstOffer
from .notices import notify_first_offers


def needs_first_offer_start(*, needs: list[Need]) -> list[NeedFirstOffer]:
    """Record the first offers of needs just created (inside their transaction) and tell
    the adopters' members. One query finds the holding adoptions of all the needs' areas."""
    if not needs:
        return []
    now = timezone.now()
    today = timezone.localdate(now)
    claims = (
        AdoptionArea.objects.filter(
            area__in={n.area_id for n in needs},
            program__in={n.program_id for n in needs},
            holds=True,
            adoption__status=AdoptionStatus.ACTIVE,
            adoption__agreed_at__lte=now,
            adoption__ends_on__gte=today,
        )
        .select_related("adoption", "adoption__program")
        .only("area_id", "program_id", "adoption__collaborator_id", "adoption__program")
    )
    holder = {(c.area_id, c.program_id): c.adoption for c in claims}
    offers = []
    for need in needs:
        adoption = holder.get((need.area_id, need.program_id))
        if adoption is None or not adoption.program.adoption_first_offer_days:
            continue
        days = adoption.program.adoption_first_offer_days
        offers.append(
            NeedFirstOffer(
                need=need,
                adoption=adoption,
                until=now + datetime.timedelta(days=days),
                created_at=now,
            )
        )
    NeedFirstOffer.objects.bulk_create(offers)
    notify_first_offers(offers)
    return offers


def first_offer_refusal(*, need: Need, collaborator_id: int, now=None) -> str | None:
    """Why this collaborator may not pledge to the need yet: it is offered to an adopter
    first and the window still runs. None for the adopter, and for everyone after it."""
    offer = running_offer(need=need, now=now)
    if offer is None or offer.adoption.collaborator_id == collaborator_id:
        return None
    return _(
        "This need is offered first to %(adopter)s, who has adopted the area, until "
        "%(until)s; then anyone may pledge."
    ) % {"adopter": offer.adoption.collaborator.name, "until": until_text(offer)}


def running_offer(*, need: Need, now=None) -> NeedFirstOffer | None:
    return (
        NeedFirstOffer.objects.filter(need_id=need.pk, until__gt=now or timezone.now())
        .select_related("adoption__collaborator")
        .first()
    )


def until_text(offer: NeedFirstOffer) -> str:
    return formats.date_format(timezone.localtime(offer.until), "j F Y H:i")
