"""The quarterly summary (issue 23, part 1): on the first day of a quarter each collaborator's
members hear what their gifts did in the quarter that ended: the deliveries received, how
much of what, the households and persons reached, and where. Written through the
notifications outbox (the channel, and the person's consent, are the sender's business).

Idempotent as the weekly digest (commitments.notify.digest): a collaborator is claimed by
its CollaboratorQuarterlySummary row (unique per quarter), written in the transaction that
writes the notifications, so a second or concurrent run skips it."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collaborators.models import Collaborator, Membership
from ksbb.formatting import number
from locations.models import Area, area_geometry_deferred
from programs.units import quantity_with_unit

from ..jobs import SEND_PENDING_NOTIFICATIONS, job_after_commit
from ..models import CollaboratorQuarterlySummary, Delivery, Notification
from .digest import ids_in_pages

# Areas named in one summary; the rest are counted.
AREAS_NAMED = 10


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def last_quarter(now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """(first day of the quarter that ended before `now`'s quarter, first day of `now`'s),
    in Jakarta."""
    current = quarter_start(timezone.localdate(now))
    return quarter_start(current - datetime.timedelta(days=1)), current


def _bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    return tuple(
        datetime.datetime.combine(d, datetime.time(), tzinfo=timezone.get_default_timezone())
        for d in (start, end)
    )


def _received(collaborator, start: datetime.date, end: datetime.date):
    """Deliveries of the collaborator whose receipt was confirmed in [start, end)."""
    since, until = _bounds(start, end)
    return Delivery.objects.filter(
        commitment__collaborator=collaborator, confirmed_at__gte=since, confirmed_at__lt=until
    )


def _members(collaborator):
    return Membership.objects.filter(collaborator=collaborator).exclude(
        role=Membership.Role.PENDING
    )


def quarterly_summaries_send(*, now: datetime.datetime | None = None) -> int:
    """Send last quarter's summary to every collaborator with members and a delivery
    received in it, not yet sent; returns how many went out. Safe to run any number of
    times."""
    now = now or timezone.now()
    start, end = last_quarter(now)
    due = Collaborator.objects.filter(
        Exists(_received(OuterRef("pk"), start, end)),
        Exists(_members(OuterRef("pk"))),
    ).exclude(
        Exists(
            CollaboratorQuarterlySummary.objects.filter(collaborator=OuterRef("pk"), quarter=start)
        )
    )
    sent = 0
    for collaborator_id in ids_in_pages(due):
        sent += quarterly_summary_send(
            collaborator_id=collaborator_id, start=start, end=end, now=now
        )
    return sent


def quarterly_summary_send(
    *, collaborator_id: int, start: datetime.date, end: datetime.date, now: datetime.datetime
) -> int:
    """One collaborator's summary of [start, end) to each of its members: 1 if sent, 0 if
    already sent for the quarter or nothing to say."""
    with transaction.atomic():
        summary, created = CollaboratorQuarterlySummary.objects.get_or_create(
            collaborator_id=collaborator_id, quarter=start, defaults={"sent_at": now}
        )
        if not created:
            return 0
        users = [m.user for m in _members(collaborator_id).select_related("user")]
        received = _received(collaborator_id, start, end)
        by_form = list(
            received.values(
                "commitment__donation_form__name_id",
                "commitment__donation_form__name_en",
                "commitment__donation_form__unit",
            )
            .annotate(
                deliveries=Count("pk"),
                quantity=Sum("quantity"),
                households=Sum("recipients_households"),
                persons=Sum("recipients_persons"),
            )
            .order_by("commitment__donation_form__name_id")
        )
        if not users or not by_form:
            transaction.set_rollback(True)
            return 0
        area_ids = set(received.values_list("commitment__area_id", flat=True).distinct())
        areas = sorted(
            a.display_name
            for a in Area.objects.filter(pk__in=area_ids)
            .select_related("parent")
            .defer(*area_geometry_deferred("parent"))
        )
        collaborator = Collaborator.objects.get(pk=collaborator_id)
        subject, body = _compose(collaborator, start, by_form, areas)
        Notification.objects.bulk_create(
            Notification(user=user, subject=subject, body=body, url=reverse("my-commitments"))
            for user in users
        )
        summary.deliveries = sum(row["deliveries"] for row in by_form)
        summary.save(update_fields=["deliveries"])
        job_after_commit(SEND_PENDING_NOTIFICATIONS)
    return 1


def _compose(collaborator, start: datetime.date, by_form: list[dict], areas: list[str]):
    with translation.override(settings.LANGUAGE_CODE):
        quarter = _("Q%(n)s %(year)s") % {"n": (start.month - 1) // 3 + 1, "year": start.year}
        deliveries = sum(row["deliveries"] for row in by_form)
        households = sum(row["households"] or 0 for row in by_form)
        persons = sum(row["persons"] or 0 for row in by_form)
        name_field = "commitment__donation_form__name_id"
        if translation.get_language() == "en":
            name_field = "commitment__donation_form__name_en"
        lines = [
            ngettext(
                "In %(quarter)s, %(count)s delivery of %(collaborator)s was received.",
                "In %(quarter)s, %(count)s deliveries of %(collaborator)s were received.",
                deliveries,
            )
            % {"quarter": quarter, "count": deliveries, "collaborator": collaborator.name},
            "",
        ]
        for row in by_form:
            lines.append(
                "- "
                + _("%(quantity)s of %(form)s")
                % {
                    "quantity": quantity_with_unit(
                        row["quantity"], row["commitment__donation_form__unit"]
                    ),
                    "form": row[name_field] or row["commitment__donation_form__name_id"],
                }
            )
        lines.append("")
        lines.append(
            _("Reached: %(households)s households, %(persons)s persons.")
            % {"households": number(households), "persons": number(persons)}
        )
        named = ", ".join(areas[:AREAS_NAMED])
        if len(areas) > AREAS_NAMED:
            named += " " + _("and %(count)s more") % {"count": len(areas) - AREAS_NAMED}
        lines.append(_("Where: %(areas)s.") % {"areas": named})
        return _("What your gifts did in %(quarter)s") % {"quarter": quarter}, "\n".join(lines)
