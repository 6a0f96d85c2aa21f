"""Adoptions end on their own: the periodic job (commitments.tasks.end_adoptions, hourly)
ends every active adoption whose period has passed, and closes every proposal whose
proposed period passed before the lead agreed it. Either way its areas are free again
(holds=False) and the running first offers of its needs end now, so that those needs are
open to everyone. Set-based (a fixed number of statements whatever the number of
adoptions), idempotent (a second run finds nothing), and guarded by the status like the
lead's own decisions (commitments.adoption.rules._decide), so a lead ending or declining
the same adoption at the same moment wins or loses cleanly."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ksbb.after_commit import on_commit_once

from .mapdata import adopted_areas_forget
from .models import Adoption, AdoptionArea, AdoptionStatus, NeedFirstOffer
from .notices import notify_adopters

OPEN = (AdoptionStatus.PROPOSED, AdoptionStatus.CHANGES_REQUESTED)


def LAPSED_NOTE() -> str:  # noqa: N802 - reads as the constant it is, in the portal's language
    with translation.override(settings.LANGUAGE_CODE):
        return _("The proposed period ended before the proposal was agreed.")


def adoption_areas_release(*, adoption_ids: list[int], now: datetime.datetime) -> None:
    """Free the areas of these adoptions and end their needs' running first offers."""
    AdoptionArea.objects.filter(adoption_id__in=adoption_ids, holds=True).update(holds=False)
    NeedFirstOffer.objects.filter(adoption_id__in=adoption_ids, until__gt=now).update(until=now)


def _move(source, target: str, *, today: datetime.date, stamp: str, now, **changes) -> list[int]:
    """Move the adoptions in `source` whose period ended before `today` to `target`, stamping
    `stamp` with this run's `now`; the ids this run moved. The UPDATE comes first and is
    guarded by the status (PostgreSQL re-reads it under the row lock; SQLite takes its write
    lock at once), so a concurrent run or decision moves each adoption once, and the stamp
    tells this run's rows from theirs."""
    Adoption.objects.filter(status__in=source, ends_on__lt=today).update(
        status=target, **{stamp: now}, **changes
    )
    return list(
        Adoption.objects.filter(status=target, **{stamp: now})
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def adoptions_end_expired(*, now: datetime.datetime | None = None) -> int:
    """End the active adoptions whose end date has passed, and decline the proposals whose
    proposed period has passed unagreed (a proposal cannot be agreed for a period already
    over, and must not hold its areas against other adopters forever). Returns how many
    adoptions changed."""
    # The stamp is this run's own moment even when `now` is given, so that a second run
    # (same `now`) finds no row of its own: idempotent.
    moment = timezone.now()
    now = now or moment
    today = timezone.localdate(now)
    with transaction.atomic():
        ended = _move(
            (AdoptionStatus.ACTIVE,),
            AdoptionStatus.ENDED,
            today=today,
            stamp="ended_at",
            now=moment,
        )
        lapsed = _move(
            OPEN,
            AdoptionStatus.DECLINED,
            today=today,
            stamp="decided_at",
            now=moment,
            decided_by=None,
            decision_note=LAPSED_NOTE(),
        )
        changed = ended + lapsed
        if not changed:
            return 0
        adoption_areas_release(adoption_ids=changed, now=now)
        notify_adopters(Adoption.objects.filter(pk__in=changed))
        on_commit_once(adopted_areas_forget)  # after commit: no reader caches the old state
    return len(changed)
