"""Keeping needs assessments current: add, edit, close and re-confirm need lines.

Who may keep a need is answered by collaborators.roles.Scopes.may_keep_need (one need)
and Need.objects.editable_by (many). Every change bumps Need.version with a conditional
UPDATE on the version the editor saw (a second, concurrent editor is told: NeedChanged)
and writes a NeedChange row: who, when, {field: [old, new]}. The map is told after
commit (locations.mapdata.needs_changed).

Functions are keyword-only and may run inside an outer transaction (the bulk importer
applies many rows in one); each opens its own savepoint.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collaborators.roles import scopes_for
from ksbb.after_commit import on_commit_once
from locations.mapdata import needs_changed
from locations.models import Area, Facilitator, Need, NeedChange, Site
from programs.models import DonationForm, Program

from ..adoption.first_offer import needs_first_offer_start
from ..lifecycle.transitions import commitment_transition
from ..models import Commitment, Status
from ..workflow import TransitionRefused

# What an edit may change. Where a line is and what it asks for (area, site, program,
# donation form) stay fixed, since its commitments carry the same facts: to change
# them, close the line and add another.
EDITABLE_FIELDS = (
    "quantity_needed",
    "unit_value_idr",
    "priority",
    "households",
    "persons",
    "valid_until",
    "description",
)
CREATED_FIELDS = ("area", "site", "program", "donation_form", *EDITABLE_FIELDS)


class NeedChanged(Exception):
    """Someone else changed the need since the editor loaded it; `current` is the need as
    it is now, to show beside the editor's own input."""

    def __init__(self, current: Need) -> None:
        super().__init__(_("Someone else changed this need meanwhile."))
        self.current = current


def history_value(value):
    """A history value: JSON-friendly and readable later, even if the row it names goes."""
    if isinstance(value, Area):
        return value.display_name
    if isinstance(value, Site | Program | DonationForm):
        return value.name
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _require(actor, *, area: Area | None, site: Site | None, program) -> None:
    if not scopes_for(actor).may_keep_need(area, site, program):
        raise PermissionDenied(_("You do not keep the needs of this area for this program."))


def role_title(actor, need: Need) -> str:
    """Shown publicly instead of the person: their facilitator title for this place."""
    facilitation = (
        Facilitator.objects.covering(need.area, need.site).filter(user=actor).first()
        if need.area_id
        else None
    )
    if facilitation is not None:
        return facilitation.title
    with translation.override(settings.LANGUAGE_CODE):
        return _("Program lead, %(program)s") % {"program": need.program.name}


def _check_assessment(need: Need) -> None:
    """Need.clean() and the field and database rules, plus what holds for an assessment
    made now: it asks for at least one and is valid from today."""
    errors = {}
    if need.quantity_needed is not None and need.quantity_needed < 1:
        errors["quantity_needed"] = [_("Ask for at least 1.")]
    if need.valid_until is not None:
        refusal = Need.valid_until_refusal(need.valid_until, timezone.localdate())
        if refusal:
            errors["valid_until"] = [refusal]
    if errors:
        raise ValidationError(errors)
    need.full_clean(exclude=["assessed_by_role"])


def need_create(
    *,
    actor,
    area: Area,
    site: Site | None,
    program: Program,
    donation_form: DonationForm,
    quantity_needed: int,
    priority: int,
    households: int | None,
    persons: int | None,
    valid_until: datetime.date,
    description: str = "",
    unit_value_idr: Decimal | None = None,
    source: str = "portal",
) -> Need:
    """Add a need line assessed now by `actor`. Raises PermissionDenied outside the actor's
    scope and ValidationError (field messages) for a line Need.clean() refuses or a validity
    already ended. `source="import"` records the history row as imported."""
    _require(actor, area=area, site=site, program=program)
    need = Need(
        area=area,
        site=site,
        program=program,
        donation_form=donation_form,
        quantity_needed=quantity_needed,
        unit_value_idr=unit_value_idr,
        priority=priority,
        households=households,
        persons=persons,
        valid_until=valid_until,
        description=description,
        assessed_by=actor,
        assessed_at=timezone.now(),
    )
    _check_assessment(need)
    need.assessed_by_role = role_title(actor, need)[:100]
    with transaction.atomic():
        need.save()
        NeedChange.objects.create(
            need=need,
            actor=actor,
            action=NeedChange.Action.IMPORTED if source == "import" else NeedChange.Action.CREATED,
            changes={name: [None, history_value(getattr(need, name))] for name in CREATED_FIELDS},
        )
        needs_first_offer_start(needs=[need])
        on_commit_once(needs_changed)
    return need


def need_for(*, actor, need_id: int) -> Need:
    """The need `actor` may keep, or Need.DoesNotExist (shown as 404: others' needs are not
    even confirmed to exist)."""
    return (
        Need.objects.editable_by(scopes_for(actor))
        .select_related("area__parent", "site", "program", "donation_form")
        .get(pk=need_id)
    )


def need_update(*, actor, need_id: int, expected_version: int, **changes) -> Need:
    """Change the editable fields of a need and mark it assessed now by `actor`.

    One conditional UPDATE on (pk, version=expected_version, quantity_claimed <= the new
    quantity): row count 0 means either another editor came first (NeedChanged) or pledges
    arrived meanwhile that the new quantity would undercut (ValidationError). An expired
    need given a new validity opens again; a closed need stays closed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"need_update cannot change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        need = need_for(actor=actor, need_id=need_id)
        if need.version != expected_version:
            raise NeedChanged(need)
        if need.status == Need.Status.CLOSED:
            raise ValidationError(_("This need is closed; add a new need instead."))
        before = {name: getattr(need, name) for name in EDITABLE_FIELDS}
        for name, value in changes.items():
            setattr(need, name, value)
        need.assessed_at = timezone.now()
        # Before the model's checks, whose constraint message would not say what to do.
        if need.quantity_needed is not None and need.quantity_needed < need.quantity_claimed:
            raise ValidationError({"quantity_needed": _below_pledged(need)})
        _check_assessment(need)
        diff = {
            name: [history_value(old), history_value(getattr(need, name))]
            for name, old in before.items()
            if getattr(need, name) != old
        }
        reopen = need.status == Need.Status.EXPIRED and not need.is_expired()
        values = {name: getattr(need, name) for name in EDITABLE_FIELDS}
        if reopen:
            values["status"] = Need.Status.OPEN
            diff["status"] = [Need.Status.EXPIRED.value, Need.Status.OPEN.value]
        updated = Need.objects.filter(
            pk=need.pk, version=expected_version, quantity_claimed__lte=need.quantity_needed
        ).update(
            **values,
            assessed_at=need.assessed_at,
            assessed_by=actor,
            assessed_by_role=role_title(actor, need)[:100],
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if updated != 1:
            current = need_for(actor=actor, need_id=need_id)
            if current.version != expected_version:
                raise NeedChanged(current)
            raise ValidationError({"quantity_needed": _below_pledged(current)})
        NeedChange.objects.create(
            need=need, actor=actor, action=NeedChange.Action.UPDATED, changes=diff
        )
        on_commit_once(needs_changed)
    need.refresh_from_db()
    return need


def _below_pledged(need: Need) -> str:
    return _("%(claimed)s are already pledged for this need; it cannot be reduced below that.") % {
        "claimed": need.quantity_claimed
    }


@dataclass(frozen=True)
class ClosePreview:
    """What closing a need does to its commitments, shown before the user confirms."""

    pledged: int  # not yet confirmed: rejected, the collaborators told, the quantity released
    pledged_quantity: int
    confirmed: int  # committed or delivered: they stay and can still be delivered
    confirmed_quantity: int


def need_close_preview(*, need: Need) -> ClosePreview:
    rows = {
        row["status"]: row
        for row in Commitment.objects.filter(
            need=need, status__in=[Status.PLEDGED, Status.COMMITTED, Status.DELIVERED]
        )
        .values("status")
        .annotate(count=Count("pk"), quantity=Sum("quantity"))
    }

    def figure(statuses, key):
        return sum(rows[s][key] for s in statuses if s in rows)

    confirmed = (Status.COMMITTED, Status.DELIVERED)
    return ClosePreview(
        pledged=figure([Status.PLEDGED], "count"),
        pledged_quantity=figure([Status.PLEDGED], "quantity"),
        confirmed=figure(confirmed, "count"),
        confirmed_quantity=figure(confirmed, "quantity"),
    )


def need_close(*, actor, need_id: int, expected_version: int, reason: str) -> Need:
    """Close a need: it leaves the map and takes no more pledges. Pledges not yet confirmed
    are rejected with `reason` (through commitment_transition, so their collaborators are
    told and the quantity released); confirmed commitments stay and can still be
    delivered and completed. All in one transaction: a pledge that cannot be rejected
    leaves the need open."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Please say why the need is closed.")})
    with transaction.atomic():
        need = need_for(actor=actor, need_id=need_id)
        if need.status == Need.Status.CLOSED:
            raise ValidationError(_("This need is already closed."))
        closed = Need.objects.filter(
            pk=need.pk, version=expected_version, status=need.status
        ).update(status=Need.Status.CLOSED, version=F("version") + 1, updated_at=timezone.now())
        if closed != 1:
            raise NeedChanged(need_for(actor=actor, need_id=need_id))
        pledges = Commitment.objects.filter(need=need, status=Status.PLEDGED).order_by("pk")
        rejected = 0
        for commitment_id in pledges.values_list("pk", flat=True):
            try:
                commitment_transition(
                    commitment_id=commitment_id,
                    target=Status.REJECTED,
                    actor=actor,
                    reason=_("The need was closed: %(reason)s") % {"reason": reason},
                )
            except TransitionRefused as refused:
                raise ValidationError(refused.message) from refused
            rejected += 1
        NeedChange.objects.create(
            need=need,
            actor=actor,
            action=NeedChange.Action.CLOSED,
            changes={
                "status": [need.status, Need.Status.CLOSED.value],
                "rejected_pledges": [None, rejected],
            },
            reason=reason[:1000],
        )
        on_commit_once(needs_changed)
    need.refresh_from_db()
    return need


def needs_reconfirm(*, actor, area: Area, site: Site | None = None) -> int:
    """Re-confirm, as they are, the open needs of `area` (and the areas below it; only
    `site`'s if given) that `actor` keeps: assessed now by `actor`. A validity ending
    sooner than the need's own assessment window (valid_until - assessed date) from today
    is extended to that window, so a re-confirmed line stays on the map as long as it did
    when first assessed. Lines changed meanwhile by someone else are skipped (they were
    just assessed). Returns how many were re-confirmed."""
    scopes = scopes_for(actor)
    if not scopes.keeps_needs_in(area, site):
        raise PermissionDenied(_("You do not keep the needs of this area."))
    today = timezone.localdate()
    needs = (
        Need.objects.editable_by(scopes)
        .in_area(area)
        .filter(status=Need.Status.OPEN, valid_until__gte=today)
    )
    if site is not None:
        needs = needs.filter(site=site)
    count = 0
    with transaction.atomic():
        for need in needs.select_related("area", "site", "program").order_by("pk"):
            now = timezone.now()
            window = need.valid_until - timezone.localdate(need.assessed_at)
            valid_until = max(need.valid_until, today + window)
            updated = Need.objects.filter(pk=need.pk, version=need.version).update(
                assessed_at=now,
                assessed_by=actor,
                assessed_by_role=role_title(actor, need)[:100],
                valid_until=valid_until,
                version=F("version") + 1,
                updated_at=now,
            )
            if updated != 1:
                continue
            changes = {"assessed_at": [history_value(need.assessed_at), history_value(now)]}
            if valid_until != need.valid_until:
                changes["valid_until"] = [
                    history_value(need.valid_until),
                    history_value(valid_until),
                ]
            NeedChange.objects.create(
                need=need, actor=actor, action=NeedChange.Action.RECONFIRMED, changes=changes
            )
            count += 1
        if count:
            on_commit_once(needs_changed)
    return count
