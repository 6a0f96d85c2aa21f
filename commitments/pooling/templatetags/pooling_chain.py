"""The commitment page's "funded by" and "distributed" section (templates/pooling/
_commitment_chain.html), read here so that the commitment view needs no change."""

from django import template

from ..chain import commitment_funding, distributions_by_delivery
from ..rules import may_record_distribution

register = template.Library()


@register.simple_tag
def pooling_for(commitment, user, deliveries) -> dict:
    """The shares funding the commitment, its confirmed deliveries (of the page's list),
    its distributions by delivery id, and whether `user` may record a distribution (the
    executor's facilitator). Two queries."""
    return {
        "confirmed": [d for d in deliveries if d.is_confirmed],
        "shares": commitment_funding(commitment),
        "distributions": distributions_by_delivery(commitment),
        "may_distribute": may_record_distribution(user, commitment),
    }


@register.filter
def of_delivery(distributions: dict, delivery_id: int) -> list:
    return distributions.get(delivery_id, [])
