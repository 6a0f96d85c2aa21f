"""The rules of the donated-asset register: registering the assets a delivery left behind
(called by commitments.lifecycle.transitions.delivery_confirm, inside its transaction), and
keeping their history (status changes and handovers).

Functions are keyword-only. Refusals are commitments.workflow.TransitionRefused, whose
message the form, the API and the page show as it is; a refusal writes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.roles import ADMIN, FACILITATOR, LEAD, scopes_for
from locations.models import Area, Site
from programs.models import AssetOwner, Program

from ..models import Commitment, Delivery
from ..workflow import TransitionRefused
from .models import (
    NAME_MAX,
    NOTE_MAX,
    SERIAL_MAX,
    Asset,
    AssetCondition,
    AssetEvent,
    AssetStatus,
    EventKind,
)

# The status changes a keeper records (a handover is its own step, with the new owner).
STATUS_EVENTS = (EventKind.IN_USE, EventKind.REPAIRED, EventKind.BROKEN, EventKind.LOST)
# The most assets one delivery registers (the page, the API and this module alike): a bound on
# the request and the transaction; a larger delivery is recorded as several deliveries.
MAX_ASSETS = 5000
# Serial numbers asked about per query (below every backend's limit of bound parameters).
IN_CHUNK = 500


@dataclass
class AssetEntry:
    """One asset as the facilitator describes it at receipt, or a new owner at a handover.
    `photo` is an upload already checked and re-encoded by the web layer
    (commitments.lifecycle.uploads.CleanUpload, which has as_file())."""

    owner_kind: str
    owner_site_id: int | None = None
    owner_name: str = ""
    serial_number: str = ""
    condition: str = AssetCondition.GOOD
    kind: str = ""
    photo: Any = None


def allowed_owners(program: Program) -> list[str]:
    """The program's allowed owners, in the order AssetOwner lists them."""
    return [owner for owner in AssetOwner.values if owner in (program.asset_owners or [])]


def schools_for(commitment: Commitment) -> QuerySet[Site]:
    """The schools that may own what this commitment delivered: its own site if it is a
    school, and the schools in its area or below it."""
    area = commitment.area
    return Site.objects.filter(kind=Site.Kind.SCHOOL).filter(
        Q(pk=commitment.site_id)
        | Q(area__path=area.path)
        | Q(area__path__startswith=area.path + "/")
    )


def _kelurahan_of(area: Area) -> Area | None:
    if area.level == Area.Level.KELURAHAN:
        return area
    if area.level == Area.Level.RW:
        return area.parent
    return None


def _text_refusal(value: str, limit: int, label: str) -> str | None:
    if "\x00" in value:
        return _("%(field)s contains a character that is not allowed.") % {"field": label}
    if len(value) > limit:
        return _("%(field)s is too long (at most %(limit)s characters).") % {
            "field": label,
            "limit": limit,
        }
    return None


def school_ids_for(commitment: Commitment) -> set[int]:
    return set(schools_for(commitment).values_list("pk", flat=True))


def owner_refusal(
    entry: AssetEntry, *, commitment: Commitment, school_ids: set[int] | None = None
) -> str | None:
    """Why `entry`'s owner may not own what `commitment` delivered (not one of the program's
    allowed owners, a school that is not a school of its area, a private owner without a
    name, an RW owner for an area that is not an RW); None if it may. `school_ids`
    (school_ids_for) spares a query per entry when many are asked about."""
    allowed = allowed_owners(commitment.program)
    if entry.owner_kind not in allowed:
        return _("The owner must be one of: %(owners)s.") % {
            "owners": ", ".join(str(AssetOwner(o).label) for o in allowed) or "–"
        }
    if entry.owner_kind == AssetOwner.SCHOOL:
        if school_ids is None:
            school_ids = school_ids_for(commitment)
        if not entry.owner_site_id or entry.owner_site_id not in school_ids:
            return _("Choose a school of %(area)s.") % {"area": commitment.area.name}
    elif entry.owner_kind == AssetOwner.PRIVATE:
        if not entry.owner_name.strip():
            return _("Give the private owner's name.")
        return _text_refusal(entry.owner_name, NAME_MAX, _("The owner's name"))
    elif entry.owner_kind == AssetOwner.RW and commitment.area.level != Area.Level.RW:
        return _("An RW can own this only when it was given to an RW.")
    elif entry.owner_kind == AssetOwner.KELURAHAN and _kelurahan_of(commitment.area) is None:
        return _("A kelurahan can own this only when it was given in a kelurahan.")
    return None


def entry_refusal(
    entry: AssetEntry, *, commitment: Commitment, school_ids: set[int] | None = None
) -> str | None:
    """Why one asset cannot be accepted (the form asks here line by line, and
    assets_register for all of them); None if it can."""
    refusal = owner_refusal(entry, commitment=commitment, school_ids=school_ids)
    if refusal:
        return refusal
    serial = entry.serial_number.strip()
    if commitment.donation_form.asks_serials and not serial:
        return _("Give the serial number.")
    refusal = _text_refusal(serial, SERIAL_MAX, _("The serial number")) or _text_refusal(
        entry.kind, NAME_MAX, _("The kind")
    )
    if refusal:
        return refusal
    if entry.condition not in AssetCondition.values:
        return _("Choose the condition.")
    return None


def _owner_fields(entry: AssetEntry, commitment: Commitment) -> dict:
    kind = entry.owner_kind
    return {
        "owner_kind": kind,
        "owner_site_id": entry.owner_site_id if kind == AssetOwner.SCHOOL else None,
        "owner_area": (
            commitment.area
            if kind == AssetOwner.RW
            else _kelurahan_of(commitment.area)
            if kind == AssetOwner.KELURAHAN
            else None
        ),
        "owner_name": entry.owner_name.strip() if kind == AssetOwner.PRIVATE else "",
    }


def _batch_refusal(entries: list[AssetEntry], *, delivery: Delivery, commitment) -> str | None:
    """Why this set of rows cannot register the delivery's assets; None if it can."""
    if len(entries) > MAX_ASSETS:
        return _("At most %(most)s assets are registered with one delivery.") % {"most": MAX_ASSETS}
    if len(entries) != delivery.quantity:
        return _(
            "This delivery is of %(quantity)s; register exactly %(quantity)s assets "
            "(%(given)s given)."
        ) % {"quantity": delivery.quantity, "given": len(entries)}
    school_ids = school_ids_for(commitment)
    for number, entry in enumerate(entries, start=1):
        refusal = entry_refusal(entry, commitment=commitment, school_ids=school_ids)
        if refusal:
            return _("Asset %(number)s: %(refusal)s") % {"number": number, "refusal": refusal}
    serials = [e.serial_number.strip() for e in entries if e.serial_number.strip()]
    repeated = sorted(s for s, n in Counter(serials).items() if n > 1)
    if repeated:
        return _("The serial number %(serial)s is given twice.") % {"serial": repeated[0]}
    taken = serials_taken(serials, donation_form_id=commitment.donation_form_id)
    if taken:
        return _("The serial number %(serial)s is already registered.") % {"serial": taken[0]}
    return None


def serials_taken(serials: list[str], *, donation_form_id: int) -> list[str]:
    """Those of `serials` already registered for the donation form, sorted."""
    taken: set[str] = set()
    for start in range(0, len(serials), IN_CHUNK):
        taken.update(
            Asset.objects.filter(
                donation_form=donation_form_id, serial_number__in=serials[start : start + IN_CHUNK]
            ).values_list("serial_number", flat=True)
        )
    return sorted(taken)


def assets_register(
    *, delivery: Delivery, commitment: Commitment, entries: list[AssetEntry], actor, role: str
) -> list[Asset]:
    """Register the assets of `delivery` (all of them, or none: a refusal writes nothing).

    Called by delivery_confirm inside its transaction, with the commitment row locked and
    the delivery just claimed by its conditional update; so a delivery's assets are
    registered once however many facilitators confirm it at the same time. A serial number
    taken meanwhile by another delivery is refused by the unique constraint. Entries that
    share one photo (a group on the page) share one stored file."""
    if not entries:
        raise TransitionRefused(
            _("Register the %(count)s assets first: receipt is confirmed together with them.")
            % {"count": delivery.quantity}
        )
    refusal = _batch_refusal(entries, delivery=delivery, commitment=commitment)
    if refusal:
        raise TransitionRefused(refusal)
    stored: dict[int, str] = {}  # id(photo) -> its stored name
    try:
        with transaction.atomic():  # a savepoint: a unique violation leaves the rest usable
            for entry in entries:
                if entry.photo is not None and id(entry.photo) not in stored:
                    stored[id(entry.photo)] = _photo_store(entry.photo)
            created = Asset.objects.bulk_create(
                _new_assets(entries, delivery, commitment, actor, stored), batch_size=IN_CHUNK
            )
            AssetEvent.objects.bulk_create(
                (
                    AssetEvent(
                        asset=asset,
                        kind=EventKind.REGISTERED,
                        to_status=asset.status,
                        actor=actor,
                        actor_role=role,
                        at=asset.registered_at,
                    )
                    for asset in created
                ),
                batch_size=IN_CHUNK,
            )
    except IntegrityError:
        _photos_delete(stored.values())
        raise TransitionRefused(
            _("A serial number was registered by someone else meanwhile; check the numbers.")
        ) from None
    except Exception:
        _photos_delete(stored.values())  # files are not transactional
        raise
    return created


def _new_assets(entries, delivery, commitment, actor, stored: dict[int, str]) -> list[Asset]:
    need = commitment.need
    unit_value = (need.unit_value_idr if need else None) or commitment.donation_form.unit_value_idr
    location = {site.pk: site.area_id for site in schools_for(commitment)}
    now = timezone.now()
    assets = []
    for entry in entries:
        fields = _owner_fields(entry, commitment)
        assets.append(
            Asset(
                program_id=commitment.program_id,
                donation_form_id=commitment.donation_form_id,
                delivery=delivery,
                kind=entry.kind.strip() or commitment.donation_form.name_id,
                serial_number=entry.serial_number.strip(),
                area_id=location.get(fields["owner_site_id"], commitment.area_id),
                condition=entry.condition,
                photo=stored.get(id(entry.photo), "") if entry.photo is not None else "",
                value_idr=unit_value,
                acquired_on=delivery.delivered_on,
                registered_by=actor,
                registered_at=now,
                **fields,
            )
        )
    return assets


def _photo_store(photo) -> str:
    """Store a checked, re-encoded photo (CleanUpload) where Asset.photo keeps its files."""
    field = Asset._meta.get_field("photo")
    return field.storage.save(field.generate_filename(None, photo.name), photo.as_file())


def _photos_delete(names) -> None:
    for name in set(names):
        Asset._meta.get_field("photo").storage.delete(name)


def _keeper_role(actor, asset: Asset) -> str:
    """The role in which `actor` keeps `asset`'s history; refused if they do not."""
    scopes = scopes_for(actor)
    if scopes.is_admin:
        return ADMIN
    if asset.program_id in scopes.program_ids:
        return LEAD
    if scopes.facilitates(asset.area, asset.owner_site):
        return FACILITATOR
    raise TransitionRefused(_("You may not do this for this asset."), forbidden=True)


def asset_record_event(
    *, asset_id: int, actor, kind: str, note: str = "", owner: AssetEntry | None = None
) -> AssetEvent:
    """Record a status change (in use, repaired, broken, lost) or a handover to another
    allowed owner (`owner`), by the asset's keeper: a facilitator of its area or school, a
    lead of its program, an administrator. Locks the asset row for the transaction."""
    note = note.strip()
    refusal = _text_refusal(note, NOTE_MAX, _("The note"))
    if refusal:
        raise TransitionRefused(refusal)
    with transaction.atomic():
        asset = (
            Asset.objects.select_for_update(of=("self",))
            .select_related("area", "owner_site", "delivery__commitment__area", "program")
            .get(pk=asset_id)
        )
        role = _keeper_role(actor, asset)
        source = asset.status
        changes = _event_changes(asset, kind=kind, owner=owner)
        moved = Asset.objects.filter(pk=asset.pk, status=source).update(**changes)
        if moved != 1:
            raise TransitionRefused(_("This asset was changed meanwhile; reload the page."))
        handover = {k: v for k, v in changes.items() if k.startswith("owner_")}
        return AssetEvent.objects.create(
            asset=asset,
            kind=kind,
            from_status=source,
            to_status=changes["status"],
            note=note,
            actor=actor,
            actor_role=role,
            **handover,
        )


def _event_changes(asset: Asset, *, kind: str, owner: AssetEntry | None) -> dict:
    """The asset's new field values for an event of `kind`; refused if it makes no sense."""
    if kind in STATUS_EVENTS:
        if asset.status == kind:
            raise TransitionRefused(
                _("The asset is already %(status)s.") % {"status": asset.get_status_display()}
            )
        return {"status": kind}
    if kind != EventKind.HANDED_OVER or owner is None:
        raise TransitionRefused(_("Choose what happened to the asset."))
    if asset.status == AssetStatus.LOST:
        raise TransitionRefused(_("A lost asset cannot be handed over; mark it found first."))
    commitment = asset.delivery.commitment
    commitment.program = asset.program
    refusal = owner_refusal(owner, commitment=commitment)
    if refusal:
        raise TransitionRefused(refusal)
    fields = _owner_fields(owner, commitment)
    if fields["owner_site_id"]:
        fields["area_id"] = Site.objects.values_list("area_id", flat=True).get(
            pk=fields["owner_site_id"]
        )
    if {k: fields[k] for k in fields if k.startswith("owner_")} == {
        "owner_kind": asset.owner_kind,
        "owner_site_id": asset.owner_site_id,
        "owner_area": asset.owner_area,
        "owner_name": asset.owner_name,
    }:
        raise TransitionRefused(_("The asset already belongs to this owner."))
    return {"status": AssetStatus.HANDED_OVER, **fields}
