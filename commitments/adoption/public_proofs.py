"""Proof photos marked public: shown on public adoption pages (and served to anyone by the
public proof route) once the facilitator of the commitment's area or site, the program lead
or an administrator marks them. Faces and documents are never public by default; a document
never at all (DeliveryProof's check constraint holds it in the database too)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.roles import scopes_for
from locations.models import area_geometry_deferred

from ..models import Commitment, DeliveryProof
from ..workflow import CONFIRM_DELIVERY_ROLES, commitment_roles
from .models import Adoption

# The roles that confirm receipt are those that saw the delivery: they judge what a photo
# shows. The collaborator alone may not publish its own proof.
PUBLISH_ROLES = CONFIRM_DELIVERY_ROLES
# Most public photos an adoption page shows (newest first).
PAGE_PHOTOS = 24


class ProofRefused(Exception):
    def __init__(self, message, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def proof_publish(*, user, commitment_id: int, proof_id: int, public: bool) -> DeliveryProof:
    """Mark (or unmark) a photo proof of the commitment public. DeliveryProof.DoesNotExist
    for a commitment the user may not see or a proof not of it (a 404); ProofRefused for
    someone without a publishing role (403) or a document."""
    commitment = (
        Commitment.objects.visible_to(scopes_for(user))
        .select_related("area", "site")
        .get(pk=commitment_id)
    )
    proof = DeliveryProof.objects.get(pk=proof_id, delivery__commitment=commitment)
    if not commitment_roles(user, commitment) & PUBLISH_ROLES:
        raise ProofRefused(
            _("Only the facilitator of the area or the program lead may publish a proof."),
            forbidden=True,
        )
    if proof.kind != DeliveryProof.Kind.PHOTO:
        raise ProofRefused(_("Only photos can be made public; documents stay private."))
    # One conditional UPDATE (kind=photo again): idempotent, and a marking and an unmarking
    # at once end with whichever came last, each recorded with its author.
    DeliveryProof.objects.filter(pk=proof.pk, kind=DeliveryProof.Kind.PHOTO).update(
        is_public=public, public_marked_by=user, public_marked_at=timezone.now()
    )
    proof.refresh_from_db()
    return proof


def public_photo(proof_id: int) -> DeliveryProof:
    """A proof anyone may see: a photo marked public. DeliveryProof.DoesNotExist otherwise."""
    return DeliveryProof.objects.get(pk=proof_id, is_public=True, kind=DeliveryProof.Kind.PHOTO)


def adoption_public_photos(adoption: Adoption) -> QuerySet[DeliveryProof]:
    """The public photos of the deliveries of the adoption's works, newest first."""
    return (
        DeliveryProof.objects.filter(
            is_public=True,
            kind=DeliveryProof.Kind.PHOTO,
            delivery__commitment__adoption_work__adoption=adoption,
        )
        .select_related(
            "delivery__commitment__donation_form",
            "delivery__commitment__area__parent",
        )
        .defer(
            *area_geometry_deferred(
                "delivery__commitment__area", "delivery__commitment__area__parent"
            )
        )
        .order_by("-delivery__delivered_on", "-pk")[:PAGE_PHOTOS]
    )
