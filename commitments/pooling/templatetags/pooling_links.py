"""Ways into the chain from pages that are not its own: the workspace's cards (giving
through an aggregator, an aggregator's gifts to confirm, an executor's deliveries to
distribute) and the "give through ..." action on an aggregator's public page. Read here so
that the workspace and collaborator views need no change."""

from __future__ import annotations

from django import template
from django.db.models import Count, Q

from collaborators.models import Collaborator
from collaborators.roles import Scopes, scopes_for

from ..chain import deliveries_to_distribute
from ..models import Contribution

register = template.Library()


@register.inclusion_tag("pooling/_workspace_cards.html")
def pooling_cards(scopes: Scopes) -> dict:
    """Members of any collaborator may give through an aggregator; members of aggregators
    see each one's gifts waiting for receipt (one grouped query); facilitators see how many
    pooled deliveries to their sites or areas still wait to be distributed (one count)."""
    aggregators = []
    if scopes.collaborator_ids:
        aggregators = list(
            Collaborator.objects.filter(pk__in=scopes.collaborator_ids, is_aggregator=True)
            .annotate(
                to_confirm=Count(
                    "contributions_held",
                    filter=Q(contributions_held__status=Contribution.Status.DECLARED),
                )
            )
            .order_by("name")
        )
    distributes = scopes.is_facilitator or scopes.is_admin
    return {
        "gives": bool(scopes.collaborator_ids),
        "aggregators": aggregators,
        "distributes": distributes,
        "to_distribute": deliveries_to_distribute(scopes).count() if distributes else 0,
    }


@register.inclusion_tag("pooling/_give_through.html", takes_context=True)
def give_through(context, collaborator: Collaborator) -> dict:
    """On an aggregator's public page: "give through it" for signed-in members of another
    collaborator, and the way to its pooled gifts for its own members."""
    request = context.get("request")
    scopes = scopes_for(getattr(request, "user", None))
    return {
        "aggregator": collaborator,
        "may_give": collaborator.is_aggregator
        and bool(scopes.collaborator_ids - {collaborator.pk}),
        "holds": collaborator.is_aggregator and collaborator.pk in scopes.collaborator_ids,
    }
