"""The rules of the chain: a source declares a gift to an aggregator, the aggregator
receives (or refuses) it, draws on received gifts to fund its commitments, gets the shares
back when a commitment ends without delivery; an executor's facilitator records the
distribution of a confirmed delivery to beneficiaries.

Functions are keyword-only and named <thing>_<action>. Each states its locking
preconditions in its docstring. Counters move by conditional UPDATEs whose row count says
whether they moved (the discipline of commitments.lifecycle.pledges.need_claim).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import ADMIN, FACILITATOR, roles_for, scopes_for
from ksbb.bounds import INTEGER_MAX
from programs.models import DonationForm, Program

from ..models import Commitment, Delivery
from .models import AMOUNT_MAX, Allocation, Contribution, Distribution


class PoolRefused(Exception):
    """A step of the chain that cannot be taken; the message is for the person acting.
    `forbidden`: not theirs to take (403) rather than not possible now (409)."""

    def __init__(self, message, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def _forbidden() -> PoolRefused:
    return PoolRefused(_("You may not do this for this gift."), forbidden=True)


def acts_for(user, collaborator_id: int) -> bool:
    """Whether `user` is an approved member of the collaborator."""
    return collaborator_id in scopes_for(user).collaborator_ids


# --- a source gives ---------------------------------------------------------------------------


def contribution_refusal(
    *,
    source: Collaborator,
    aggregator: Collaborator,
    kind: str,
    amount: int,
    donation_form: DonationForm | None,
    program: Program | None,
) -> str | None:
    """Why this gift cannot be declared (form and service ask here); None if it can."""
    if not aggregator.is_aggregator or aggregator.pk == source.pk:
        return _("Choose an aggregator other than yourself.")
    rejected = Collaborator.Verification.REJECTED
    if rejected in (source.verification_status, aggregator.verification_status):
        return _("This collaborator cannot take part in the program.")
    if kind not in Contribution.Kind.values:
        return _("Choose money or goods.")
    if not 1 <= amount <= AMOUNT_MAX:
        return _("Give an amount between 1 and %(most)s.") % {"most": f"{AMOUNT_MAX:,}"}
    if kind == Contribution.Kind.GOODS and donation_form is None:
        return _("Say which goods you give.")
    if kind == Contribution.Kind.MONEY and donation_form is not None:
        return _("A gift of money has no donation form; choose goods instead.")
    if donation_form and program and donation_form.program_id != program.pk:
        return _("This donation form belongs to another program.")
    return None


def contribution_declare(
    *,
    user,
    source: Collaborator,
    aggregator: Collaborator,
    kind: str,
    amount: int,
    idempotency_key: str,
    donation_form: DonationForm | None = None,
    program: Program | None = None,
    is_anonymous: bool = False,
    note: str = "",
) -> tuple[Contribution, bool]:
    """Record a source's gift to an aggregator, waiting for the aggregator's receipt.
    Returns (the gift, created); the same idempotency key finds the gift it created first
    (the unique constraint decides a race)."""
    if not acts_for(user, source.pk):
        raise PoolRefused(_("You can only give for a collaborator you belong to."), forbidden=True)
    earlier = Contribution.objects.filter(source=source, idempotency_key=idempotency_key).first()
    if earlier is not None:
        return earlier, False
    if donation_form is not None and program is None:
        program = donation_form.program
    refusal = contribution_refusal(
        source=source,
        aggregator=aggregator,
        kind=kind,
        amount=amount,
        donation_form=donation_form,
        program=program,
    )
    if refusal:
        raise PoolRefused(refusal)
    try:
        with transaction.atomic():
            contribution = Contribution.objects.create(
                source=source,
                aggregator=aggregator,
                kind=kind,
                amount=amount,
                donation_form=donation_form,
                program=program,
                is_anonymous=is_anonymous,
                note=note,
                declared_by=user,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        earlier = Contribution.objects.filter(source=source, idempotency_key=idempotency_key)
        if not earlier.exists():
            raise
        return earlier.get(), False
    return contribution, True


# --- the aggregator receives or refuses ---------------------------------------------------------


def received_on_refusal(received_on: datetime.date, today: datetime.date) -> str | None:
    if received_on > today:
        return _("The date of receipt cannot be in the future.")
    return None


def _decide(*, user, contribution_id: int, **fields) -> Contribution:
    """Move a declared gift to received or refused, if it is still declared and `user`
    acts for its aggregator; one conditional UPDATE."""
    contribution = Contribution.objects.filter(pk=contribution_id).first()
    if contribution is None or not acts_for(user, contribution.aggregator_id):
        raise _forbidden()
    moved = Contribution.objects.filter(
        pk=contribution_id, status=Contribution.Status.DECLARED
    ).update(decided_by=user, decided_at=timezone.now(), **fields)
    if moved != 1:
        raise PoolRefused(_("This gift was already received or refused."))
    contribution.refresh_from_db()
    return contribution


def contribution_receive(
    *, user, contribution_id: int, receipt_number: str, received_on: datetime.date
) -> Contribution:
    """The aggregator confirms it received the gift, with its own receipt number: only
    then may the gift fund its commitments."""
    receipt_number = receipt_number.strip()
    if not receipt_number or len(receipt_number) > 64 or "\x00" in receipt_number:
        raise PoolRefused(_("Give the number of your receipt (at most 64 characters)."))
    refusal = received_on_refusal(received_on, timezone.localdate())
    if refusal:
        raise PoolRefused(refusal)
    return _decide(
        user=user,
        contribution_id=contribution_id,
        status=Contribution.Status.RECEIVED,
        receipt_number=receipt_number,
        received_on=received_on,
    )


def contribution_refuse(*, user, contribution_id: int, reason: str) -> Contribution:
    """The aggregator says the gift never arrived (or it will not take it), with a reason."""
    reason = reason.strip()
    if not reason or len(reason) > 1000 or "\x00" in reason:
        raise PoolRefused(_("Please give a reason."))
    return _decide(
        user=user,
        contribution_id=contribution_id,
        status=Contribution.Status.REFUSED,
        refusal_reason=reason,
    )


# --- drawing on the pool ------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    contribution_id: int
    amount: int


def pool_needed(commitment: Commitment, kind: str) -> int | None:
    """What the shares of a commitment must add up to: its value in IDR (money) or its
    quantity (goods); None when a money commitment has no value to match."""
    if kind == Contribution.Kind.MONEY:
        return None if commitment.value_idr is None else int(commitment.value_idr)
    return commitment.quantity


def pool_shares_refusal(
    commitment: Commitment, contributions: dict[int, Contribution], shares: list[Share]
) -> str | None:
    """Why these shares cannot fund the commitment, as far as can be told before drawing."""
    if not shares:
        return _("Choose at least one gift to fund this commitment.")
    if len({s.contribution_id for s in shares}) != len(shares):
        return _("Each gift can be chosen once.")
    if any(not 1 <= s.amount <= AMOUNT_MAX for s in shares):
        return _("Each share must be at least 1.")
    chosen = [contributions.get(s.contribution_id) for s in shares]
    if any(c is None or c.aggregator_id != commitment.collaborator_id for c in chosen):
        return _("Fund the commitment from gifts that you hold.")
    kinds = {c.kind for c in chosen}
    if len(kinds) != 1:
        return _("Fund a commitment from gifts of money or of goods, not both.")
    kind = kinds.pop()
    if kind == Contribution.Kind.GOODS and any(
        c.donation_form_id != commitment.donation_form_id for c in chosen
    ):
        return _("Gifts of goods can only fund a commitment of the same goods.")
    needed = pool_needed(commitment, kind)
    if needed is None:
        return _("This need has no estimated value in IDR, so money cannot be matched to it.")
    total = sum(s.amount for s in shares)
    if total != needed:
        return _("The shares add up to %(total)s; they must add up to %(needed)s.") % {
            "total": f"{total:,}",
            "needed": f"{needed:,}",
        }
    return None


def pool_draw(*, commitment: Commitment, shares: list[Share]) -> list[Allocation]:
    """Fund `commitment` (just created, of an aggregator) from received gifts it holds.

    Call inside the transaction that created the commitment: a refusal (PoolRefused)
    must roll back that transaction, leaving no commitment and nothing drawn. Each share is
    taken with one conditional UPDATE (received, held by the commitment's collaborator,
    enough left), in id order so that concurrent draws lock gifts in the same order;
    PostgreSQL re-checks the condition on a row it waited for, SQLite serialises writers."""
    contributions = Contribution.objects.in_bulk([s.contribution_id for s in shares])
    refusal = pool_shares_refusal(commitment, contributions, shares)
    if refusal:
        raise PoolRefused(refusal)
    for share in sorted(shares, key=lambda s: s.contribution_id):
        drawn = Contribution.objects.filter(
            pk=share.contribution_id,
            status=Contribution.Status.RECEIVED,
            aggregator=commitment.collaborator_id,
            committed__lte=F("amount") - share.amount,
        ).update(committed=F("committed") + share.amount)
        if drawn != 1:
            raise PoolRefused(pool_shortfall(share))
    return Allocation.objects.bulk_create(
        Allocation(contribution_id=s.contribution_id, commitment=commitment, amount=s.amount)
        for s in shares
    )


def pool_shortfall(share: Share) -> str:
    """Why a share could not be drawn, as the gift reads now."""
    contribution = Contribution.objects.get(pk=share.contribution_id)
    if contribution.status != Contribution.Status.RECEIVED:
        return str(_("Gift #%(id)s has not been received.") % {"id": contribution.pk})
    return str(
        _("Only %(left)s is left of gift #%(id)s; you asked for %(amount)s.")
        % {"left": f"{contribution.left:,}", "id": contribution.pk, "amount": f"{share.amount:,}"}
    )


def pool_release(*, commitment_id: int) -> int:
    """Give back the shares of a commitment that was cancelled, rejected or expired: each
    share is marked released once (conditional UPDATE) and only then returned to its gift.
    Call inside the transition's transaction. Returns the number of shares released."""
    released = 0
    now = timezone.now()
    shares = Allocation.objects.filter(commitment_id=commitment_id, released_at__isnull=True)
    for share in shares.order_by("contribution_id"):
        if Allocation.objects.filter(pk=share.pk, released_at__isnull=True).update(released_at=now):
            Contribution.objects.filter(pk=share.contribution_id).update(
                committed=F("committed") - share.amount
            )
            released += 1
    return released


# --- the executor distributes -------------------------------------------------------------------


class ProofFile(Protocol):
    """A checked upload (commitments.lifecycle.uploads.CleanUpload)."""

    kind: str
    content_type: str

    def as_file(self): ...


def may_record_distribution(user, commitment: Commitment) -> bool:
    """The executor's facilitator (of the commitment's site or area) or an administrator."""
    roles = roles_for(
        user,
        collaborator_id=None,
        area=commitment.area,
        site=commitment.site,
        program_id=commitment.program_id,
    )
    return bool(roles & {FACILITATOR, ADMIN})


def distribution_record(
    *,
    user,
    delivery_id: int,
    quantity: int,
    distributed_on: datetime.date,
    households: int | None,
    persons: int | None,
    proof: ProofFile,
    note: str = "",
) -> Distribution:
    """Record that the executor handed `quantity` of a confirmed delivery on to
    beneficiaries. The delivery row is locked for the transaction, so that concurrent
    records cannot together distribute more than was received."""
    stored = None
    try:
        with transaction.atomic():
            delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
            commitment = Commitment.objects.select_related("area", "site").get(
                pk=delivery.commitment_id
            )
            if not may_record_distribution(user, commitment):
                raise PoolRefused(
                    _("Only the facilitator of the receiving site or area records this."),
                    forbidden=True,
                )
            _distribution_check(delivery, quantity=quantity, distributed_on=distributed_on)
            if any(n is not None and not 0 <= n <= INTEGER_MAX for n in (households, persons)):
                raise PoolRefused(_("Count the households and persons reached (or leave empty)."))
            stored = Distribution.objects.create(
                delivery=delivery,
                executor_area=commitment.area,
                executor_site=commitment.site,
                quantity=quantity,
                distributed_on=distributed_on,
                households=households,
                persons=persons,
                note=note,
                proof=proof.as_file(),
                proof_kind=proof.kind,
                proof_content_type=proof.content_type,
                recorded_by=user,
            )
    except Exception:
        if stored is not None and stored.proof:  # files are not transactional
            stored.proof.storage.delete(stored.proof.name)
        raise
    return stored


def _distribution_check(delivery: Delivery, *, quantity: int, distributed_on: datetime.date):
    """Refuse before receipt, a date in the future or before the delivery, and more than
    what was received and not yet distributed. Call with the delivery row locked."""
    if delivery.confirmed_at is None:
        raise PoolRefused(_("Record the distribution once the receipt is confirmed."))
    if distributed_on > timezone.localdate():
        raise PoolRefused(_("The distribution date cannot be in the future."))
    if distributed_on < delivery.delivered_on:
        raise PoolRefused(_("The distribution cannot be before the delivery."))
    left = delivery_left_to_distribute(delivery)
    if not 1 <= quantity <= left:
        raise PoolRefused(
            _("Only %(left)s of this delivery are left to distribute.") % {"left": left}
        )


def delivery_left_to_distribute(delivery: Delivery) -> int:
    done = Distribution.objects.filter(delivery=delivery).aggregate(total=Sum("quantity"))
    return max(delivery.quantity - (done["total"] or 0), 0)
