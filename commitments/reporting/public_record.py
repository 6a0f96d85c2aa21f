"""The public record of what was delivered (issue 23, part 1): each area, program and
collaborator page lists the deliveries recorded there, newest first, with their receipt
state; the Atom feeds and the "more" pages read the same rows.

What a row shows, and only that: the delivery date, the donation form and the quantity with
its unit, the giver by Commitment.public_name ("anonymous" for anonymous gifts, and whatever
else public_name withholds), who confirmed receipt as a ROLE (the facilitator's public title
for the place, else "program lead" / "administrator": never a person), and the proof photos a
facilitator or lead marked public (commitments.adoption.public_proofs). Never a document, a
private photo, a note, a contact or a person's name.

Decision: every recorded delivery is listed, received or not, with its state ("received on
..." or "receipt not yet confirmed"), so the public sees a delivery waiting for its
facilitator too; figures elsewhere count what the programs count.

A page of rows costs four queries whatever its length: the deliveries with their commitment,
giver, form and area joined; their public photos; the receipt events; the confirmers'
facilitator titles."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from locations.models import Area, Facilitator, area_geometry_deferred, subtree_q
from programs.units import quantity_with_unit

from ..models import CommitmentEvent, Delivery, DeliveryProof, Status

# Rows on an area, program or collaborator page; the "more" pages show this many a page.
PAGE_ROWS = 20
# The "more" pages stop here (newest first: 50 pages of 20 is a thousand deliveries; the
# Atom feeds and the HXL figures cover the rest).
MAX_PAGES = 50
# The receipt event is written in the transaction that confirms the delivery, after it.
RECEIPT_ROLES = ("facilitator", "lead", "admin")


@dataclass
class DeliveryRow:
    """One delivery as the public sees it."""

    id: int
    delivered_on: datetime.date
    what: str
    how_much: str
    quantity: int
    unit: str
    giver: str
    area: Area
    program_name: str
    program_slug: str
    received: bool
    received_on: datetime.date | None
    received_by: str
    households: int | None
    persons: int | None
    photos: list[DeliveryProof] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"delivery-{self.id}"

    @property
    def public_url(self) -> str:
        """Where the row is shown: its area's page, at the row."""
        return f"{self.area.get_absolute_url()}#{self.anchor}"

    @property
    def photo_urls(self) -> list[str]:
        return [reverse("proof-public-file", args=[photo.pk]) for photo in self.photos]


def public_photos() -> QuerySet[DeliveryProof]:
    """The proofs anyone may see: photos marked public (never a document)."""
    return DeliveryProof.objects.filter(is_public=True, kind=DeliveryProof.Kind.PHOTO)


def deliveries_in_area(area: Area) -> QuerySet[Delivery]:
    if area.level == Area.Level.RW:
        return Delivery.objects.filter(commitment__area_id=area.pk)
    if area.level == Area.Level.PROVINCE and not area.parent_id:
        return Delivery.objects.all()
    return Delivery.objects.filter(subtree_q([area.path], prefix="commitment__area__"))


def deliveries_of_program(program) -> QuerySet[Delivery]:
    return Delivery.objects.filter(commitment__program_id=program.pk)


def deliveries_of_collaborator(collaborator) -> QuerySet[Delivery]:
    """Its named gifts only: an anonymous gift listed on the giver's own page would name it."""
    return Delivery.objects.filter(
        commitment__collaborator_id=collaborator.pk, commitment__is_anonymous=False
    )


def record_rows(deliveries: QuerySet[Delivery], *, offset: int = 0, limit: int = PAGE_ROWS):
    """(rows, has_more): `limit` deliveries from `offset`, newest first."""
    page = list(
        deliveries.exclude(commitment__status=Status.REJECTED)
        .select_related(
            "commitment__collaborator",
            "commitment__donation_form",
            "commitment__program",
            "commitment__area__parent",
        )
        .defer(*area_geometry_deferred("commitment__area", "commitment__area__parent"))
        .prefetch_related(
            Prefetch("proofs", queryset=public_photos().order_by("pk"), to_attr="public_photos")
        )
        .order_by("-delivered_on", "-pk")[offset : offset + limit + 1]
    )
    has_more = len(page) > limit
    page = page[:limit]
    _names_settle(page)
    roles = receipt_roles(page)
    return [_row(delivery, roles.get(delivery.pk, "")) for delivery in page], has_more


def _names_settle(page: list[Delivery]) -> None:
    """Whether each giver may be named, for the page in one query (public_name asks
    Collaborator.is_publicly_named, one query per individual otherwise)."""
    collaborators = {d.commitment.collaborator_id: d.commitment.collaborator for d in page}
    individuals = {pk for pk, c in collaborators.items() if c.kind == Collaborator.Kind.INDIVIDUAL}
    named = set(
        Collaborator.objects.filter(pk__in=individuals)
        .publicly_named()
        .values_list("pk", flat=True)
        if individuals
        else ()
    )
    for pk, collaborator in collaborators.items():
        # Pre-fills the cached_property (organisations are always named).
        collaborator.__dict__["is_publicly_named"] = pk not in individuals or pk in named


def _row(delivery: Delivery, received_by: str) -> DeliveryRow:
    commitment = delivery.commitment
    form = commitment.donation_form
    return DeliveryRow(
        id=delivery.pk,
        delivered_on=delivery.delivered_on,
        what=form.name,
        how_much=quantity_with_unit(delivery.quantity, form.unit),
        quantity=delivery.quantity,
        unit=form.unit,
        giver=commitment.public_name,
        area=commitment.area,
        program_name=commitment.program.name,
        program_slug=commitment.program.slug,
        received=delivery.confirmed_at is not None,
        received_on=timezone.localdate(delivery.confirmed_at) if delivery.confirmed_at else None,
        received_by=received_by,
        households=delivery.recipients_households if delivery.confirmed_at else None,
        persons=delivery.recipients_persons if delivery.confirmed_at else None,
        photos=list(delivery.public_photos),
    )


def receipt_roles(deliveries: list[Delivery]) -> dict[int, str]:
    """Who confirmed each confirmed delivery, as a role: the event the confirmation wrote
    (its actor's role then), refined for a facilitator by their public title for the place
    ("Ketua RW 05"). Two queries for the whole list."""
    confirmed = [d for d in deliveries if d.confirmed_at is not None]
    if not confirmed:
        return {}
    events: dict[int, list[tuple]] = {}
    for commitment_id, actor_id, role, at in (
        CommitmentEvent.objects.filter(
            commitment_id__in={d.commitment_id for d in confirmed},
            at__gte=min(d.confirmed_at for d in confirmed),
            actor_role__in=RECEIPT_ROLES,
            to_status__in=(Status.DELIVERED, Status.COMPLETED),
        )
        .order_by("at", "pk")
        .values_list("commitment_id", "actor_id", "actor_role", "at")
    ):
        events.setdefault(commitment_id, []).append((actor_id, role, at))
    titles = _facilitator_titles({d.confirmed_by_id for d in confirmed if d.confirmed_by_id})
    roles = {}
    for delivery in confirmed:
        role = next(
            (
                role
                for actor_id, role, at in events.get(delivery.commitment_id, [])
                if at >= delivery.confirmed_at
                and (delivery.confirmed_by_id is None or actor_id == delivery.confirmed_by_id)
            ),
            "",
        )
        title = _title_for(titles.get(delivery.confirmed_by_id, []), delivery.commitment)
        if title and role in ("facilitator", ""):
            roles[delivery.pk] = title
        elif role:
            roles[delivery.pk] = str(CommitmentEvent.ROLE_LABELS[role])
    return roles


def _facilitator_titles(user_ids: set[int]) -> dict[int, list[tuple]]:
    titles: dict[int, list[tuple]] = {}
    for user_id, code, site_id, title in Facilitator.objects.filter(
        user_id__in=user_ids
    ).values_list("user_id", "area__code", "site_id", "title"):
        titles.setdefault(user_id, []).append((code, site_id, title))
    return titles


def _title_for(facilitations: list[tuple], commitment) -> str:
    """The title of the facilitation nearest the commitment's place (its site, else the
    deepest area above it)."""
    place = [*commitment.area.ancestor_codes, commitment.area.code]
    best, depth = "", -1
    for code, site_id, title in facilitations:
        if site_id and site_id == commitment.site_id:
            return title
        if code in place and place.index(code) > depth:
            best, depth = title, place.index(code)
    return best


def receipt_state(row: DeliveryRow) -> str:
    """The row's receipt state as a sentence (feeds, notifications)."""
    if not row.received:
        return _("Receipt not yet confirmed.")
    if row.received_by:
        return _("Received on %(date)s, confirmed by %(role)s.") % {
            "date": row.received_on.isoformat(),
            "role": row.received_by,
        }
    return _("Received on %(date)s.") % {"date": row.received_on.isoformat()}


def page_number(raw: str | None) -> int:
    """A ?page= value as a page from 1 to MAX_PAGES (anything else: 1)."""
    try:
        page = int(raw or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGES)
