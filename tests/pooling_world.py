"""The world of the pooling tests: two sources, a zakat agency (an aggregator), two needs
of food packages in two RW and their RW heads, and the steps of the chain through the real
services (tests/test_pooling*.py)."""

import uuid
from types import SimpleNamespace

from django.utils import timezone

from commitments.lifecycle.pooled import commitment_pledge_pooled
from commitments.lifecycle.transitions import (
    commitment_transition,
    delivery_confirm,
    delivery_record,
)
from commitments.pooling.models import Contribution
from commitments.pooling.rules import (
    Share,
    contribution_declare,
    contribution_receive,
    distribution_record,
)
from locations.models import Area

from .factories import CollaboratorFactory, NeedFactory, facilitator_of, member_of
from .world import PROOF

RW_1 = "31.73.04.1002.001"
RW_2 = "31.73.04.1002.002"


class Chain:
    """Two sources and their members, an aggregator (a zakat agency) and its member, two
    needs of food packages (300,000 IDR each) in two RW and the RW heads."""

    def __init__(self):
        self.source = CollaboratorFactory(name="PT Sumber Rezeki")
        self.source_member = member_of(self.source)
        self.other_source = CollaboratorFactory(name="Arisan Melati")
        self.other_member = member_of(self.other_source)
        self.agency = CollaboratorFactory(name="Baznas (Bazis) Uji", is_aggregator=True)
        self.agency_member = member_of(self.agency)
        self.needs = [
            NeedFactory(area=Area.objects.get(code=code), quantity_needed=20)
            for code in (RW_1, RW_2)
        ]
        self.rw_heads = [facilitator_of(RW_1), facilitator_of(RW_2)]

    def gift(self, amount=1_500_000, source=None, received=True, **fields) -> Contribution:
        source = source or self.source
        member = self.source_member if source == self.source else self.other_member
        gift, _created = contribution_declare(
            user=member,
            source=source,
            aggregator=self.agency,
            kind=fields.pop("kind", "money"),
            amount=amount,
            idempotency_key=uuid.uuid4().hex,
            **fields,
        )
        if received:
            gift = contribution_receive(
                user=self.agency_member,
                contribution_id=gift.pk,
                receipt_number=f"KW-{gift.pk}",
                received_on=timezone.localdate(),
            )
        return gift

    def commit(self, need, quantity, shares, key=None):
        return commitment_pledge_pooled(
            user=self.agency_member,
            aggregator=self.agency,
            need=need,
            quantity=quantity,
            shares=[Share(gift.pk, amount) for gift, amount in shares],
            idempotency_key=key or uuid.uuid4().hex,
        ).commitment

    def delivered_and_received(self, commitment, quantity=None) -> object:
        """Confirmed by the RW head, delivered by the agency, receipt confirmed."""
        head = self.rw_heads[[n.pk for n in self.needs].index(commitment.need_id)]
        commitment_transition(commitment_id=commitment.pk, target="committed", actor=head)
        delivery = delivery_record(
            commitment_id=commitment.pk,
            actor=self.agency_member,
            quantity=quantity or commitment.quantity,
            delivered_on=timezone.localdate(),
            recipients_households=None,
            recipients_persons=None,
            proofs=[PROOF],
        )
        return delivery_confirm(delivery_id=delivery.pk, actor=head)


def make_pooled_chain(*, source, source_member, need, facilitator, name="Bazis Dunia Uji"):
    """One row of each model of the chain, through the services, for worlds that need them
    (the admin's pages, the every-URL walk): a received gift of 5 of the need's goods from
    `source` to a new aggregator, a share of 2 funding the aggregator's commitment to
    `need`, its delivery confirmed by `facilitator` (of the need's area) and 1 of the 2
    distributed, so that 1 is still to distribute."""
    agency = CollaboratorFactory(name=name, is_aggregator=True)
    agency_member = member_of(agency)
    today = timezone.localdate()
    gift, _created = contribution_declare(
        user=source_member,
        source=source,
        aggregator=agency,
        kind="goods",
        donation_form=need.donation_form,
        amount=5,
        idempotency_key=uuid.uuid4().hex,
    )
    gift = contribution_receive(
        user=agency_member, contribution_id=gift.pk, receipt_number="KW-UJI-1", received_on=today
    )
    commitment = commitment_pledge_pooled(
        user=agency_member,
        aggregator=agency,
        need=need,
        quantity=2,
        shares=[Share(gift.pk, 2)],
        idempotency_key=uuid.uuid4().hex,
    ).commitment
    commitment_transition(commitment_id=commitment.pk, target="committed", actor=facilitator)
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=agency_member,
        quantity=2,
        delivered_on=today,
        recipients_households=None,
        recipients_persons=None,
        proofs=[PROOF],
    )
    delivery = delivery_confirm(delivery_id=delivery.pk, actor=facilitator)
    distribution = distribution_record(
        user=facilitator,
        delivery_id=delivery.pk,
        quantity=1,
        distributed_on=today,
        households=1,
        persons=4,
        proof=PROOF,
    )
    return SimpleNamespace(
        agency=agency,
        agency_member=agency_member,
        gift=gift,
        commitment=commitment,
        delivery=delivery,
        distribution=distribution,
    )
