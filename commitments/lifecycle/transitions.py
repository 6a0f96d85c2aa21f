"""The commitment's life after the pledge: status transitions, deliveries with proof,
receipt, and expiry of pledges not confirmed or delivered in time.

Functions are keyword-only and named <thing>_<action>. Each states its locking
preconditions in its docstring.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import ADMIN, COLLABORATOR, FACILITATOR, LEAD, SYSTEM
from ksbb.after_commit import on_commit_once
from locations.mapdata import needs_changed
from locations.models import Need
from programs.models import Program

from ..assets.registry import AssetEntry, assets_register
from ..figures.summaries import summaries_touch
from ..jobs import REFRESH_COLLABORATOR_TOTALS, job_after_commit
from ..models import Commitment, CommitmentEvent, Delivery, DeliveryProof, Status
from ..notify.notifications import notify_delivery, notify_receipt, notify_status
from ..pooling.rules import pool_release
from ..workflow import (
    CONFIRM_DELIVERY_ROLES,
    RELEASING,
    TransitionRefused,
    check,
    commitment_roles,
    find,
    record_delivery_roles,
)
from .uploads import CleanUpload

logger = logging.getLogger(__name__)


def event_record(commitment: Commitment, **fields) -> CommitmentEvent:
    """Every event of a commitment is written here, so its last_event_at (which the "no news
    for N days" list reads) is always its newest event."""
    event = CommitmentEvent.objects.create(commitment=commitment, **fields)
    Commitment.objects.filter(pk=commitment.pk).update(last_event_at=event.at)
    commitment.last_event_at = event.at
    return event


def _lock(commitment_id: int) -> Commitment:
    # Lock the row for the rest of the transaction (a no-op on SQLite, whose IMMEDIATE
    # transactions already serialise writers).
    return (
        Commitment.objects.select_for_update(of=("self",))
        .select_related("collaborator", "area", "site", "program", "donation_form", "need")
        .get(pk=commitment_id)
    )


def _move(
    commitment: Commitment,
    source: str,
    target: str,
    *,
    actor,
    role: str,
    reason: str,
    notify: bool = True,
):
    """Conditional status change; refuses if someone else moved the commitment first.
    notify=False: the caller tells the members itself (a receipt: one message for it)."""
    moved = Commitment.objects.filter(pk=commitment.pk, status=source).update(
        status=target, status_changed_at=timezone.now()
    )
    if moved != 1:
        raise TransitionRefused(
            _("This commitment was changed meanwhile; reload the page to see its status.")
        )
    commitment.status = target
    event_record(
        commitment=commitment,
        actor=actor,
        actor_role=role,
        from_status=source,
        to_status=target,
        reason=reason,
    )
    if notify:
        notify_status(commitment, reason)
    summaries_touch(commitment)
    collaborator_totals_after_commit(commitment)


def _acting_role(roles: set[str], allowed: frozenset[str]) -> str:
    for role in (ADMIN, LEAD, FACILITATOR, COLLABORATOR, SYSTEM):
        if role in roles and role in allowed:
            return role
    return ""


def commitment_transition(
    *, commitment_id: int, target: str, actor, reason: str = ""
) -> Commitment:
    """Move a commitment to `target` if the workflow allows it for `actor` (None: the
    system). Releases the need's quantity when the commitment is cancelled, rejected or
    expires. Runs in its own transaction, with the commitment row locked."""
    with transaction.atomic():
        commitment = _lock(commitment_id)
        transition = find(commitment.status, target)
        if transition.by_delivery:
            raise TransitionRefused(_("Record or confirm a delivery to do this."))
        roles = {SYSTEM} if actor is None else commitment_roles(actor, commitment)
        check(transition, roles, commitment, reason)
        _move(
            commitment,
            transition.source,
            target,
            actor=actor,
            role=_acting_role(roles, transition.roles),
            reason=reason.strip(),
        )
        if target in RELEASING and commitment.need_id:
            Need.objects.filter(pk=commitment.need_id).update(
                quantity_claimed=F("quantity_claimed") - commitment.quantity,
                updated_at=timezone.now(),
            )
            on_commit_once(needs_changed)
        if target in RELEASING:  # pooled gifts that funded it go back to their aggregator
            pool_release(commitment_id=commitment.pk)
    return commitment


def delivery_record(
    *,
    commitment_id: int,
    actor,
    quantity: int,
    delivered_on: datetime.date,
    recipients_households: int | None,
    recipients_persons: int | None,
    proofs: list[CleanUpload],
    note: str = "",
) -> Delivery:
    """Record goods handed over (partial deliveries allowed), with checked proof files.
    The first delivery moves a committed commitment to delivered."""
    if not proofs:
        raise TransitionRefused(_("Add at least one photo or document as proof."))
    saved: list[DeliveryProof] = []
    try:
        with transaction.atomic():
            commitment = _lock(commitment_id)
            roles = commitment_roles(actor, commitment)
            _check_delivery(commitment, roles, quantity=quantity, delivered_on=delivered_on)
            _quantity_delivered_add(commitment, quantity)
            delivery = Delivery.objects.create(
                commitment=commitment,
                quantity=quantity,
                delivered_on=delivered_on,
                recipients_households=recipients_households,
                recipients_persons=recipients_persons,
                note=note,
                recorded_by=actor,
            )
            _proofs_save(delivery, proofs, saved)
            role = _acting_role(roles, record_delivery_roles(commitment))
            _delivery_event(commitment, actor=actor, role=role, quantity=quantity)
            notify_delivery(commitment, quantity)
    except Exception:
        for proof in saved:  # files are not transactional: remove what this attempt wrote
            proof.file.storage.delete(proof.file.name)
        raise
    return delivery


def _check_delivery(
    commitment: Commitment, roles: set[str], *, quantity: int, delivered_on: datetime.date
) -> None:
    """Refuse an actor who may not record deliveries, a commitment not confirmed, a
    quantity below 1 or a date in the future."""
    if not roles & record_delivery_roles(commitment):
        raise TransitionRefused(_("You may not do this for this commitment."), forbidden=True)
    if commitment.status not in (Status.COMMITTED, Status.DELIVERED):
        raise TransitionRefused(_("Deliveries are recorded for confirmed commitments only."))
    if quantity < 1:
        raise TransitionRefused(_("Deliver at least 1."))
    refusal = delivered_on_refusal(delivered_on, timezone.localdate())
    if refusal:
        raise TransitionRefused(refusal)


def delivered_on_refusal(delivered_on: datetime.date, today: datetime.date) -> str | None:
    """Why a delivery may not be recorded as made on `delivered_on` (the form, the API and
    delivery_record ask here); None if it may."""
    if delivered_on > today:
        return _("The delivery date cannot be in the future.")
    return None


def _quantity_delivered_add(commitment: Commitment, quantity: int) -> None:
    """Add the quantity to the commitment's delivered one, refused beyond what is left."""
    added = Commitment.objects.filter(
        pk=commitment.pk, quantity_delivered__lte=F("quantity") - quantity
    ).update(quantity_delivered=F("quantity_delivered") + quantity)
    if added != 1:
        raise TransitionRefused(
            _("Only %(left)s are left to deliver for this commitment.")
            % {"left": commitment.quantity_left}
        )


def _proofs_save(
    delivery: Delivery,
    proofs: list[CleanUpload],
    saved: list[DeliveryProof],
    *,
    at_receipt: bool = False,
) -> None:
    """Store the delivery's proof files, adding each one saved to `saved`."""
    for proof in proofs:
        saved.append(
            DeliveryProof.objects.create(
                delivery=delivery,
                file=proof.as_file(),
                kind=proof.kind,
                content_type=proof.content_type,
                size_bytes=len(proof.content),
                at_receipt=at_receipt,
            )
        )


def _delivery_event(commitment: Commitment, *, actor, role: str, quantity: int) -> None:
    """Move a committed commitment to delivered, or record another delivery of a delivered one."""
    if commitment.status == Status.COMMITTED:
        _move(
            commitment,
            Status.COMMITTED,
            Status.DELIVERED,
            actor=actor,
            role=role,
            reason=_("Delivered %(quantity)s") % {"quantity": quantity},
        )
    else:
        event_record(
            commitment=commitment,
            actor=actor,
            actor_role=role,
            from_status=Status.DELIVERED,
            to_status=Status.DELIVERED,
            reason=_("Delivered %(quantity)s more") % {"quantity": quantity},
        )


def delivery_confirm(
    *,
    delivery_id: int,
    actor,
    assets: list[AssetEntry] | None = None,
    photos: list[CleanUpload] | None = None,
) -> Delivery:
    """The facilitator confirms receipt. When everything promised has arrived and been
    confirmed, the commitment is completed. A delivery of a form that creates assets is
    confirmed only together with its `assets` (commitments.assets.registry), in the same
    transaction: all of them registered, or nothing confirmed. Checked `photos` taken at
    receipt are stored as proofs of the delivery in that transaction too; their files are
    removed again if it fails."""
    saved: list[DeliveryProof] = []
    try:
        return _delivery_confirm(delivery_id, actor, assets or [], photos or [], saved)
    except Exception:
        for proof in saved:  # files are not transactional: remove what this attempt wrote
            proof.file.storage.delete(proof.file.name)
        raise


def _delivery_confirm(
    delivery_id: int,
    actor,
    assets: list[AssetEntry],
    photos: list[CleanUpload],
    saved: list[DeliveryProof],
) -> Delivery:
    with transaction.atomic():
        delivery = Delivery.objects.select_related("commitment").get(pk=delivery_id)
        commitment = _lock(delivery.commitment_id)
        roles = commitment_roles(actor, commitment)
        if not roles & CONFIRM_DELIVERY_ROLES:
            raise TransitionRefused(_("You may not do this for this commitment."), forbidden=True)
        confirmed = Delivery.objects.filter(pk=delivery.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now(), confirmed_by=actor
        )
        if confirmed != 1:
            raise TransitionRefused(_("This delivery was already confirmed."))
        if commitment.donation_form.creates_assets:
            assets_register(
                delivery=delivery,
                commitment=commitment,
                entries=assets,
                actor=actor,
                role=_acting_role(roles, CONFIRM_DELIVERY_ROLES),
            )
        _proofs_save(delivery, photos, saved, at_receipt=True)
        if commitment.need_id:
            Need.objects.filter(pk=commitment.need_id).update(
                quantity_delivered=F("quantity_delivered") + delivery.quantity,
                updated_at=timezone.now(),
            )
            on_commit_once(needs_changed)
        total = Delivery.objects.filter(
            commitment=commitment, confirmed_at__isnull=False
        ).aggregate(total=Sum("quantity"))["total"]
        role = _acting_role(roles, CONFIRM_DELIVERY_ROLES)
        if total >= commitment.quantity and commitment.status == Status.DELIVERED:
            _move(
                commitment,
                Status.DELIVERED,
                Status.COMPLETED,
                actor=actor,
                role=role,
                reason=_("Receipt confirmed"),
                notify=False,
            )
            notify_receipt(commitment, delivery, actor=actor, completed=True)
        else:
            event_record(
                commitment=commitment,
                actor=actor,
                actor_role=role,
                from_status=commitment.status,
                to_status=commitment.status,
                reason=_("Receipt of %(quantity)s confirmed") % {"quantity": delivery.quantity},
            )
            summaries_touch(commitment)  # its beneficiaries reached changed
            collaborator_totals_after_commit(commitment)
            notify_receipt(commitment, delivery, actor=actor, completed=False)
        delivery.refresh_from_db()
    return delivery


def commitments_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire pledges not confirmed, and commitments not delivered, within their program's
    limits. Idempotent; each commitment moves in its own transaction."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    expired = 0
    for program in Program.objects.all():
        # Pledges of collaborators not verified for the program expire sooner. The outer
        # bound on created_at lets the index read only pledges old enough for either rule.
        soonest = min(program.confirm_within_days, program.unverified_confirm_within_days)
        unconfirmed = (
            Commitment.objects.filter(
                program=program,
                status=Status.PLEDGED,
                created_at__lt=now - datetime.timedelta(days=soonest),
            )
            .with_standing()
            .filter(
                Q(created_at__lt=now - datetime.timedelta(days=program.confirm_within_days))
                | Q(
                    created_at__lt=now
                    - datetime.timedelta(days=program.unverified_confirm_within_days),
                    collaborator_standing__in=[
                        Collaborator.Verification.UNVERIFIED,
                        Collaborator.Verification.REJECTED,
                    ],
                )
            )
        )
        undelivered = Commitment.objects.filter(program=program, status=Status.COMMITTED).filter(
            Q(planned_delivery_on__lt=today - datetime.timedelta(days=program.deliver_within_days))
            | Q(
                planned_delivery_on__isnull=True,
                status_changed_at__lt=now - datetime.timedelta(days=program.deliver_within_days),
            )
        )
        for commitment_id in [
            *unconfirmed.order_by("pk").values_list("pk", flat=True),
            *undelivered.order_by("pk").values_list("pk", flat=True),
        ]:
            try:
                commitment_transition(
                    commitment_id=commitment_id,
                    target=Status.EXPIRED,
                    actor=None,
                    reason=str(_("Not confirmed or delivered within the program's time limit.")),
                )
            except TransitionRefused:
                continue  # moved by someone else meanwhile
            expired += 1
    return expired


def collaborator_totals_after_commit(commitment: Commitment) -> None:
    """After commit, refresh the figures of the commitment's collaborator (its program and
    donation form figures follow from the summary job that summaries_touch enqueues)."""
    collaborator_id = commitment.collaborator_id
    job_after_commit(REFRESH_COLLABORATOR_TOTALS, (collaborator_id,))  # the task takes a list
