"""The weekly digest: once per ISO week each collaborator's members hear where every one of
their commitments under way stands and who it waits on, the quiet ones first, so nobody is
left without news. Written through the notifications outbox, like every other message."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collaborators.models import Collaborator, Membership
from locations.models import area_geometry_deferred
from programs.models import Program
from programs.units import quantity_with_unit

from ..jobs import SEND_PENDING_NOTIFICATIONS, job_after_commit
from ..models import UNDER_WAY_STATUSES, CollaboratorDigest, Commitment, Notification
from ..workflow import waiting_on

# Collaborator ids read per query; each collaborator is then sent in its own transaction.
BATCH_SIZE = 200
# Commitments listed in one digest; a body past this gets long for a phone (the rest are
# counted, and the link opens the full list).
LINES_PER_DIGEST = 30
CHANGED_WITHIN = datetime.timedelta(days=7)


def digest_week(now: datetime.datetime) -> datetime.date:
    """The Monday of `now`'s ISO week, in the portal's time zone (Jakarta)."""
    today = timezone.localdate(now)
    return today - datetime.timedelta(days=today.weekday())


def digests_send(*, now: datetime.datetime | None = None) -> int:
    """Send this week's digest to every collaborator that has news to give; returns how many
    digests went out. Safe to run any number of times: a collaborator is claimed by its
    CollaboratorDigest row (unique per week), written in the transaction that writes the
    notifications, so a second or concurrent run skips it."""
    now = now or timezone.now()
    week = digest_week(now)
    programs = list(Program.objects.all())
    sent = 0
    for collaborator_id in ids_in_pages(_collaborators_due(week=week, since=now - CHANGED_WITHIN)):
        sent += digest_send(collaborator_id=collaborator_id, week=week, now=now, programs=programs)
    return sent


def ids_in_pages(queryset, size: int = BATCH_SIZE):
    """The primary keys of `queryset`, read in keyset pages by primary key: each query stays
    an index range however far it got, and a row the loop claimed meanwhile (its digest or
    summary row written) drops out of the later pages."""
    after = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:size]
        )
        if not batch:
            return
        yield from batch
        after = batch[-1]


def _collaborators_due(*, week: datetime.date, since: datetime.datetime):
    """Collaborators with someone to tell and something to say, not yet sent this week."""
    return Collaborator.objects.filter(
        Exists(_digest_commitments(collaborator=OuterRef("pk"), since=since)),
        Exists(_members(collaborator=OuterRef("pk"))),
    ).exclude(Exists(CollaboratorDigest.objects.filter(collaborator=OuterRef("pk"), week=week)))


def _digest_commitments(*, collaborator, since: datetime.datetime):
    """What a digest covers: commitments under way, and those whose state changed lately
    (finished, cancelled, rejected or expired during the past week)."""
    return Commitment.objects.filter(collaborator=collaborator).filter(
        Q(status__in=UNDER_WAY_STATUSES) | Q(status_changed_at__gte=since)
    )


def _members(*, collaborator):
    # Pending members asked to join and are not members yet: they hear nothing.
    return Membership.objects.filter(collaborator=collaborator).exclude(
        role=Membership.Role.PENDING
    )


def digest_send(
    *, collaborator_id: int, week: datetime.date, now: datetime.datetime, programs: list
) -> int:
    """Write one collaborator's digest for `week` to each of its members; 1 if sent, 0 if
    this week's was already sent (by this run's predecessor or a concurrent one) or there
    is nothing to say. One small transaction; emails are queued after it commits."""
    with transaction.atomic():
        # Another run inserting the same (collaborator, week) first makes this one wait for
        # it, then find its row: get_or_create handles the IntegrityError.
        digest, created = CollaboratorDigest.objects.get_or_create(
            collaborator_id=collaborator_id, week=week, defaults={"sent_at": now}
        )
        if not created:
            return 0
        users = [m.user for m in _members(collaborator=collaborator_id).select_related("user")]
        commitments = list(
            _digest_commitments(collaborator=collaborator_id, since=now - CHANGED_WITHIN)
            .with_quiet(programs, now=now)
            .select_related("collaborator", "program", "donation_form", "area", "area__parent")
            .defer(*area_geometry_deferred("area", "area__parent"))
            .order_by("-is_quiet", "last_event_at", "pk")[:LINES_PER_DIGEST]
        )
        if not users or not commitments:
            # Changed since the collaborator was picked: no row, so a later run may send.
            transaction.set_rollback(True)
            return 0
        total = len(commitments)
        if total == LINES_PER_DIGEST:
            total = _digest_commitments(
                collaborator=collaborator_id, since=now - CHANGED_WITHIN
            ).count()
        subject, body = _compose(commitments, total=total, now=now)
        Notification.objects.bulk_create(
            Notification(user=user, subject=subject, body=body, url=reverse("my-commitments"))
            for user in users
        )
        digest.commitments = total
        digest.save(update_fields=["commitments"])
        job_after_commit(SEND_PENDING_NOTIFICATIONS)
    return 1


def _compose(commitments: list[Commitment], *, total: int, now: datetime.datetime):
    # Written in the portal's language, as every notification is: recipients have not
    # chosen one.
    with translation.override(settings.LANGUAGE_CODE):
        quiet = sum(1 for c in commitments if c.is_quiet)
        lines = [
            ngettext(
                "%(collaborator)s has %(count)s commitment under way or changed this past week.",
                "%(collaborator)s has %(count)s commitments under way or changed this past week.",
                total,
            )
            % {"collaborator": commitments[0].collaborator.name, "count": total}
        ]
        if quiet:
            lines.append(
                ngettext(
                    "%(count)s has had no news for a while; it is listed first.",
                    "%(count)s have had no news for a while; they are listed first.",
                    quiet,
                )
                % {"count": quiet}
            )
        lines.append("")
        lines.extend(_line(c, now=now) for c in commitments)
        if total > len(commitments):
            more = total - len(commitments)
            lines.append(
                ngettext(
                    "…and %(count)s more on your commitments page.",
                    "…and %(count)s more on your commitments page.",
                    more,
                )
                % {"count": more}
            )
        return _("Your commitments this week"), "\n".join(lines)


def _line(commitment: Commitment, *, now: datetime.datetime) -> str:
    days = commitment.days_without_news(now)
    text = _("#%(id)s %(program)s: %(form)s, %(quantity)s for %(area)s. Status: %(status)s.") % {
        "id": commitment.pk,
        "program": commitment.program.name,
        "form": commitment.donation_form.name,
        "quantity": quantity_with_unit(commitment.quantity, commitment.donation_form.unit),
        "area": commitment.area.display_name,
        "status": commitment.get_status_display(),
    }
    who = waiting_on(commitment)
    if who:
        text += " " + _("Waiting on %(who)s.") % {"who": who}
    if commitment.is_quiet:
        flag = ngettext("no news for %(days)s day", "no news for %(days)s days", days) % {
            "days": days
        }
        return f"- [{capfirst(flag)}] {text}"
    if days == 0:
        news = _("Last news today.")
    else:
        news = ngettext("Last news %(days)s day ago.", "Last news %(days)s days ago.", days) % {
            "days": days
        }
    return f"- {text} {news}"
