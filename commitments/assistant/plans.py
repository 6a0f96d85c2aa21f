"""Pledging a whole plan in one action (issue 11): one commitment per line, all in one
transaction, or nothing.

A plan is what the assistant (commitments.assistant.engine) proposes: lines of (need, quantity).
Every rule of a single pledge applies to each line, through the steps commitment_pledge
itself is made of (commitments.lifecycle: pledger_check, pledge_line_refusal,
collaborator_lock, pledge_take); this module adds only what belongs to a plan: the lines
are claimed in ascending need id (concurrent planners lock rows in one order, so they
never deadlock), a line that cannot be taken in full stops the whole plan with the
adjusted plan the person may accept instead (PlanChanged), and one idempotency key
covers the whole plan.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from ksbb.bounds import BIGINT_MAX
from locations.models import Need, area_geometry_deferred

from ..lifecycle.pledges import (
    NeedUnavailable,
    PledgeRefused,
    collaborator_lock,
    need_shortfall,
    planned_delivery_refusal,
    pledge_line_refusal,
    pledge_matches,
    pledge_take,
    pledger_check,
)
from ..models import Commitment

# A plan is a page of lines a person reads before pledging, not a bulk import.
MAX_PLAN_LINES = 50
# What the web form and the API read of a plan: beyond MAX_PLAN_LINES the extra lines are
# reported line by line (PlanChanged) with the plan to accept; beyond this, refused.
MAX_LINES_SENT = 2 * MAX_PLAN_LINES
# A claim refused although the plan looked takeable (units released meanwhile) is tried
# again this many times in all before the plan is reported as changed.
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class LineReview:
    """One line of a plan against the needs as they are now. `reason` is empty when the
    line can be taken as asked."""

    need_id: int
    asked: int
    available: int
    reason: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.reason)

    @property
    def adjusted(self) -> int:
        """What the adjusted plan offers for this line (0: the line is dropped)."""
        return max(0, min(self.asked, self.available))


class PlanChanged(Exception):
    """Some lines cannot be taken in full; nothing was saved. `lines` reviews every line
    of the plan as sent, `changed` those that changed, `adjusted` is the plan the person
    can accept instead: (need id, quantity) in the plan's order, lines at 0 dropped. It is
    pledged like any plan, under a new idempotency key."""

    def __init__(self, lines: list[LineReview]) -> None:
        self.lines = lines
        self.changed = [line for line in lines if line.changed]
        self.adjusted = [(line.need_id, line.adjusted) for line in lines if line.adjusted > 0]
        super().__init__(
            _("%(count)s lines of the plan changed; nothing was saved.")
            % {"count": len(self.changed)}
        )


@dataclass
class PlanResult:
    commitments: list[Commitment] = field(default_factory=list)  # by ascending need id
    created: bool = True
    # False when the idempotency key was used before for another plan: `commitments` are
    # that plan's, and this request was not carried out.
    same_request: bool = True


def plan_line_key(plan_key: str, need_id: int) -> str:
    """The idempotency key of one line's commitment: the plan's tag (which finds all the
    plan's commitments) followed by a digest of the plan key and the need. 64 hex digits,
    the column's width; never a web form's key (32 digits) nor, but by a SHA-256
    collision, an API key's digest (the NUL separators cannot occur in a header)."""
    digest = hashlib.sha256(f"plan\0{plan_key}\0{need_id}".encode()).hexdigest()
    return _plan_tag(plan_key) + digest[:48]


def _plan_tag(plan_key: str) -> str:
    return hashlib.sha256(f"plan\0{plan_key}".encode()).hexdigest()[:16]


def plan_commitments(collaborator: Collaborator, plan_key: str) -> list[Commitment]:
    """The commitments a plan with this key already created for the collaborator."""
    return list(
        Commitment.objects.filter(
            collaborator=collaborator, idempotency_key__startswith=_plan_tag(plan_key)
        ).order_by("need_id", "pk")
    )


def plan_needs(need_ids) -> dict[int, Need]:
    """The needs a plan names, with what a pledge reads of them (ids beyond the column
    are simply not found)."""
    ids = {i for i in need_ids if 0 < i <= BIGINT_MAX}
    return (
        Need.objects.select_related("area", "area__parent", "site", "program", "donation_form")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .in_bulk(ids)
    )


def plan_review(
    lines: list[tuple[int, int]],
    needs: dict[int, Need],
    *,
    today: datetime.date,
    now: datetime.datetime,
) -> list[LineReview]:
    """Each line against the needs as read: what was asked, what is available now and,
    if the line cannot be taken in full, why."""
    reviews = []
    seen: set[int] = set()
    for index, (need_id, asked) in enumerate(lines):
        need = needs.get(need_id)
        available = 0
        if index >= MAX_PLAN_LINES:
            reason = _("A plan holds at most %(count)s lines; pledge the rest in another plan.") % {
                "count": MAX_PLAN_LINES
            }
        elif need_id in seen:
            reason = _("This need is already on another line of the plan.")
        elif need is None:
            reason = _("This need no longer exists.")
        elif not need.is_open(today):
            reason = need_shortfall(need, asked, today)
        elif refusal := pledge_line_refusal(need=need, quantity=asked):
            reason = refusal
            if asked < 1:  # the line asks for nothing; the need itself is fine
                available = need.quantity_remaining
        elif need.is_stale(now):
            # The assistant proposes only needs assessed recently; one that aged meanwhile
            # may no longer be true (pledge it on its own page if you know it is).
            reason = _(
                "Its assessment is more than %(days)s days old and waits to be confirmed."
            ) % {"days": Need.STALE_AFTER_DAYS}
        else:
            available = need.quantity_remaining
            reason = "" if asked <= available else need_shortfall(need, asked, today)
        seen.add(need_id)
        reviews.append(LineReview(need_id, asked, available, str(reason)))
    return reviews


def plan_pledge(
    *,
    user,
    collaborator: Collaborator,
    lines: list[tuple[int, int]],
    idempotency_key: str,
    planned_delivery_on: datetime.date | None = None,
    note: str = "",
) -> PlanResult:
    """Pledge every line (need id, quantity) of a plan for `collaborator`, one commitment
    per line, all in one transaction, or none.

    Raises PlanChanged (nothing saved) when any line cannot be taken in full: the need
    closed, expired, grew stale or has less left, a quantity below 1, a need on two
    lines, more than MAX_PLAN_LINES lines. Raises PledgeRefused for the rest: not a
    member of the collaborator, a limit of commitments.lifecycle.limits (checked line after line
    with the collaborator row locked, so they hold for the plan as a whole), the planned
    date. The lines are claimed in ascending need id, each by the conditional UPDATE of
    commitments.lifecycle.need_claim. The same idempotency key returns the commitments
    the plan created first (same_request=False if they are not what this plan asks),
    also for retries arriving at the same moment: the collaborator's row lock serialises
    them and the second finds the first's commitments. Must not run inside an outer
    transaction: it commits its own.
    """
    if not lines:
        raise PledgeRefused(_("The plan has no lines."))
    needs = plan_needs(need_id for need_id, _quantity in lines)
    pledger_check(user=user, collaborator=collaborator)
    earlier = plan_commitments(collaborator, idempotency_key)
    if earlier:
        return _replay(earlier, lines, planned_delivery_on, note)
    today, now = timezone.localdate(), timezone.now()
    refusal = planned_delivery_refusal(planned_delivery_on, today)
    if refusal:
        raise PledgeRefused(refusal)
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        reviews = plan_review(lines, needs, today=today, now=now)
        if any(line.changed for line in reviews):
            # The units may have gone to this very plan, sent a moment ago: then the
            # answer is what it created.
            earlier = plan_commitments(collaborator, idempotency_key)
            if earlier:
                return _replay(earlier, lines, planned_delivery_on, note)
            raise PlanChanged(reviews)
        try:
            return _plan_take(
                user=user,
                collaborator=collaborator,
                lines=lines,
                needs=needs,
                idempotency_key=idempotency_key,
                planned_delivery_on=planned_delivery_on,
                note=note,
                today=today,
            )
        except NeedUnavailable as taken:
            # Someone took units between the review and the claim: read again and tell
            # (the next round's review), or say which line kept being taken.
            needs = plan_needs(need_id for need_id, _quantity in lines)
            if attempt == CLAIM_ATTEMPTS:
                reviews = plan_review(lines, needs, today=today, now=now)
                raise PlanChanged(_busy(reviews, taken.need_id)) from None
        except IntegrityError:
            # A plan with this key (or, by chance, a line key) committed meanwhile.
            earlier = plan_commitments(collaborator, idempotency_key)
            if not earlier:
                raise
            return _replay(earlier, lines, planned_delivery_on, note)
    raise AssertionError("unreachable")  # pragma: no cover


def _plan_take(
    *,
    user,
    collaborator: Collaborator,
    lines: list[tuple[int, int]],
    needs: dict[int, Need],
    idempotency_key: str,
    planned_delivery_on: datetime.date | None,
    note: str,
    today: datetime.date,
) -> PlanResult:
    ordered = sorted(lines)  # ascending need id: the lock order of every planner
    with transaction.atomic():
        locked = collaborator_lock(
            collaborator=collaborator, program_id=needs[ordered[0][0]].program_id
        )
        # Looked up again under the lock: a retry that waited here for the first
        # submission of the plan finds what it created.
        earlier = plan_commitments(collaborator, idempotency_key)
        if earlier:
            return _replay(earlier, lines, planned_delivery_on, note)
        standings = {needs[ordered[0][0]].program_id: locked.standing}
        created = []
        for need_id, quantity in ordered:
            need = needs[need_id]
            if need.program_id not in standings:
                standings[need.program_id] = locked.standing_in(need.program_id)
            try:
                created.append(
                    pledge_take(
                        user=user,
                        collaborator=locked,
                        standing=standings[need.program_id],
                        need=need,
                        quantity=quantity,
                        today=today,
                        idempotency_key=plan_line_key(idempotency_key, need_id),
                        planned_delivery_on=planned_delivery_on,
                        note=note,
                    )
                )
            except NeedUnavailable:
                raise
            except PledgeRefused as refusal:
                # A limit: say which line met it.
                raise PledgeRefused(
                    f"{need.donation_form.name}, {need.area.display_name}: {refusal.message}"
                ) from None
    return PlanResult(created, created=True)


def _replay(
    earlier: list[Commitment],
    lines: list[tuple[int, int]],
    planned_delivery_on: datetime.date | None,
    note: str,
) -> PlanResult:
    asked = dict(lines)
    same = (
        len(asked) == len(lines) == len(earlier)
        and {c.need_id for c in earlier} == set(asked)
        and all(
            pledge_matches(
                c,
                need=Need(pk=c.need_id),
                quantity=asked[c.need_id],
                planned_delivery_on=planned_delivery_on,
                aggregator=None,
                is_anonymous=False,
                note=note,
            )
            for c in earlier
        )
    )
    return PlanResult(earlier, created=False, same_request=same)


def _busy(reviews: list[LineReview], need_id: int) -> list[LineReview]:
    """The reviews with the line whose claim kept failing marked, even if it reads as
    takeable now (units released and taken again while we looked)."""
    if any(line.changed for line in reviews):
        return reviews
    busy = str(_("Other donors are pledging to this need right now; try again in a moment."))
    return [
        LineReview(line.need_id, line.asked, 0, busy) if line.need_id == need_id else line
        for line in reviews
    ]
