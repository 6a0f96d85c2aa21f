"""Adoption on pages that are not its own: the area page's "adopted by ... since ..." line
and "adopt this area" action, and the "offered first to ... until ..." line of a need."""

from __future__ import annotations

from django import template
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.roles import scopes_for
from locations.models import Area

from ..first_offer import until_text
from ..models import HOLDING, Adoption, AdoptionArea, AdoptionStatus, NeedFirstOffer
from ..rules import adopting_collaborators

register = template.Library()


@register.inclusion_tag("adoption/_area_line.html", takes_context=True)
def area_adoption(context, area: Area) -> dict:
    """The active adoptions covering `area` (or, for a kelurahan, some of its RW), and
    whether the person looking may propose one (members of a verified collaborator)."""
    claims = (
        AdoptionArea.objects.filter(Q(area=area) | Q(area__parent=area), holds=True)
        .filter(adoption__status=AdoptionStatus.ACTIVE)
        .select_related("adoption", "adoption__collaborator", "adoption__program")
        .order_by("adoption__agreed_at", "adoption_id")
    )
    adoptions = list({c.adoption_id: c.adoption for c in claims}.values())
    request = context.get("request")
    user = getattr(request, "user", None)
    may_adopt = (
        area.level in (Area.Level.RW, Area.Level.KELURAHAN)
        and user is not None
        and user.is_authenticated
        and bool(adopting_collaborators(user))
    )
    return {"area": area, "adoptions": adoptions, "may_adopt": may_adopt}


@register.simple_tag(takes_context=True)
def has_adoption_work(context) -> bool:
    """Whether the person looking has something on "My adoptions" (the workspace links it
    only then): an adoption of their collaborator, a proposal of their program to decide,
    or one in their areas to comment on. One query."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return False
    scopes = scopes_for(user)
    waiting = Q(status=AdoptionStatus.PROPOSED)
    if not scopes.is_admin:
        waiting &= Q(program__in=scopes.program_ids)
    q = Q(collaborator__in=scopes.collaborator_ids) | waiting
    if scopes.area_ids:
        q |= Q(status__in=HOLDING[:2], claims__area__in=scopes.area_ids)
    return Adoption.objects.filter(q).exists()


@register.simple_tag
def first_offers(needs) -> dict[int, str]:
    """need id -> "offered first to ... until ..." for the running first offers of `needs`
    (one query for the whole list)."""
    offers = NeedFirstOffer.objects.filter(
        need__in=[n.pk for n in needs], until__gt=timezone.now()
    ).select_related("adoption__collaborator")
    return {
        o.need_id: _("Offered first to %(adopter)s until %(until)s")
        % {"adopter": o.adoption.collaborator.name, "until": until_text(o)}
        for o in offers
    }


@register.filter
def offer_of(offers: dict, need_id) -> str:
    return offers.get(need_id, "") if offers else ""
