"""The "what was delivered" record on the area, program and collaborator pages, and the
<link rel="alternate"> of their Atom feeds. A tag library here, so that the programs and
collaborators views (which may not import commitments) need no change: their templates load
it. Rows: commitments.reporting.public_record."""

from __future__ import annotations

from django import template
from django.urls import reverse

from collaborators.models import Collaborator
from locations.models import Area
from programs.models import Program

from ..reporting.public_record import (
    deliveries_in_area,
    deliveries_of_collaborator,
    deliveries_of_program,
    record_rows,
)

register = template.Library()


def record_links(subject) -> dict:
    """The record's deliveries, its "more" page and its feed (areas and programs)."""
    if isinstance(subject, Area):
        return {
            "deliveries": deliveries_in_area(subject),
            "more": reverse("area-deliveries", args=[subject.code]),
            "feed": reverse("area-deliveries-feed", args=[subject.code]),
        }
    if isinstance(subject, Program):
        return {
            "deliveries": deliveries_of_program(subject),
            "more": reverse("program-deliveries", args=[subject.slug]),
            "feed": reverse("program-deliveries-feed", args=[subject.slug]),
            "reports": reverse("program-reports", args=[subject.slug]),
        }
    if isinstance(subject, Collaborator):
        return {
            "deliveries": deliveries_of_collaborator(subject),
            "more": reverse("collaborator-deliveries", args=[subject.slug]),
        }
    raise TypeError(f"No delivery record for {type(subject).__name__}")


@register.inclusion_tag("accountability/_delivered_record.html")
def delivered_record(subject) -> dict:
    links = record_links(subject)
    rows, has_more = record_rows(links.pop("deliveries"))
    return {"rows": rows, "has_more": has_more, "subject": subject, **links}


@register.inclusion_tag("accountability/_feed_link.html")
def deliveries_feed_link(subject) -> dict:
    links = record_links(subject)
    return {"feed": links.get("feed"), "subject": subject}
