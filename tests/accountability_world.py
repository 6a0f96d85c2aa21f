"""A world for the public accountability tests (issue 23, part 1): deliveries in one RW of
the Pangan program, through the real services, with everything a public page must never
show present: a private photo, a document, an anonymous donor's name, the facilitator's and
the members' names and emails.

- named: "PT Terbuka Jaya", 10 packages delivered, received by the RW's facilitator
  ("Ketua RW 01"), who took a photo at receipt and made one delivery photo public;
- anonymous: "Yayasan Tersembunyi Sekali", pledged anonymously, 5 delivered, received by the
  program lead;
- pending: the named collaborator's second commitment, 3 delivered, receipt not confirmed."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from commitments.adoption.public_proofs import proof_publish
from commitments.lifecycle.transitions import delivery_confirm, delivery_record
from commitments.lifecycle.uploads import CleanUpload
from commitments.models import Commitment, Delivery, DeliveryProof

from .factories import (
    NeedFactory,
    collaborator_and_member,
    commitment_in,
    facilitator_of,
    jpeg_with_location,
    lead_of,
)

RW = "31.73.04.1002.001"
NAMED = "PT Terbuka Jaya"
HIDDEN = "Yayasan Tersembunyi Sekali"
FACILITATOR_NAME = ("Siti", "Rahasiawati")
SECRETS = (HIDDEN, "Rahasiawati", "@example.org", "bukti.pdf", "/komitmen/")


def photo(name: str = "foto.jpg") -> CleanUpload:
    return CleanUpload(
        name=name, content=jpeg_with_location(64, 48), content_type="image/jpeg", kind="photo"
    )


DOCUMENT = CleanUpload(
    name="bukti.pdf", content=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf", kind="document"
)


@dataclass
class World:
    named: Commitment
    hidden: Commitment
    pending: Commitment
    facilitator: object
    lead: object
    named_member: object
    hidden_member: object
    received: Delivery
    anonymous_delivery: Delivery
    waiting: Delivery
    public_photo: DeliveryProof
    private_photo: DeliveryProof
    receipt_photo: DeliveryProof
    document: DeliveryProof


def deliver(commitment, member, quantity: int, proofs, households=None, persons=None):
    return delivery_record(
        commitment_id=commitment.pk,
        actor=member,
        quantity=quantity,
        delivered_on=timezone.localdate(),
        recipients_households=households,
        recipients_persons=persons,
        proofs=proofs,
    )


def make_world() -> World:
    facilitator = facilitator_of(RW, title="Ketua RW 01")
    facilitator.first_name, facilitator.last_name = FACILITATOR_NAME
    facilitator.save()
    lead = lead_of("pangan")
    need = NeedFactory(quantity_needed=100)
    named_collaborator, named_member = collaborator_and_member(name=NAMED)
    hidden_collaborator, hidden_member = collaborator_and_member(name=HIDDEN)
    named = commitment_in("committed", need=need, collaborator=named_collaborator, quantity=10)
    hidden = commitment_in("committed", need=need, collaborator=hidden_collaborator, quantity=5)
    Commitment.objects.filter(pk=hidden.pk).update(is_anonymous=True)
    pending = commitment_in("committed", need=need, collaborator=named_collaborator, quantity=8)

    received = deliver(named, named_member, 10, [photo(), photo("lain.jpg"), DOCUMENT], 4, 12)
    delivery_confirm(delivery_id=received.pk, actor=facilitator, photos=[photo("terima.jpg")])
    proofs = list(received.proofs.order_by("pk"))
    public, private, document, receipt = proofs
    proof_publish(user=facilitator, commitment_id=named.pk, proof_id=public.pk, public=True)
    anonymous_delivery = deliver(hidden, hidden_member, 5, [photo()], 2, 7)
    delivery_confirm(delivery_id=anonymous_delivery.pk, actor=lead)
    waiting = deliver(pending, named_member, 3, [DOCUMENT])
    return World(
        named=named,
        hidden=hidden,
        pending=pending,
        facilitator=facilitator,
        lead=lead,
        named_member=named_member,
        hidden_member=hidden_member,
        received=received,
        anonymous_delivery=anonymous_delivery,
        waiting=waiting,
        public_photo=public,
        private_photo=private,
        receipt_photo=receipt,
        document=document,
    )
