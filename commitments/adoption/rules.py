"""The rules of an adoption: who proposes, who is consulted, who decides, and the one-open-
adoption-per-area-and-program rule (held by AdoptionArea's partial unique index).

Functions are keyword-only and named <thing>_<action>; each commits its own transaction and
must not run inside an outer one (an IntegrityError would abort it on PostgreSQL).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from collaborators.models import Collaborator
from collaborators.roles import Scopes, scopes_for
from ksbb.after_commit import on_commit_once
from ksbb.bounds import INTEGER_MAX
from locations.models import Area, Facilitator
from programs.models import DonationForm, Program

from .expiry import adoption_areas_release
from .mapdata import adopted_areas_forget
from .models import (
    HOLDING,
    Adoption,
    AdoptionArea,
    AdoptionStatus,
    FacilitatorComment,
    Phase,
    PhaseItem,
)
from .notices import notify_adopter, notify_decision_makers

# Bounds of a proposal, so that a form can never ask for more than a page can show.
MAX_RW = 60
MAX_PHASES = 12
MAX_ITEMS = 12
MAX_YEARS = 10
VALUE_MAX = Decimal(10**14 - 1)  # max_digits=14


class AdoptionRefused(Exception):
    """A step that cannot be taken; the message is for the person trying it."""

    def __init__(self, message, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


@dataclass
class PlannedItem:
    donation_form: DonationForm
    quantity: int | None = None
    value_idr: Decimal | None = None


@dataclass
class PlannedPhase:
    title: str
    target_on: datetime.date
    items: list[PlannedItem] = field(default_factory=list)


@dataclass
class Proposal:
    """What an adopter proposes (and edits when the lead asks for changes)."""

    name: str
    areas: list[Area]
    starts_on: datetime.date
    ends_on: datetime.date
    phases: list[PlannedPhase]
    description: str = ""

    @property
    def areas_all(self) -> list[Area]:
        """The chosen areas with everything below them: what the adoption claims."""
        return areas_expand(self.areas)


# --- who -------------------------------------------------------------------------------------


def adopter_refusal(*, user, collaborator: Collaborator, program: Program) -> str | None:
    """Why `user` may not propose an adoption for `collaborator` in `program`: only members
    of a collaborator verified for the program may."""
    if collaborator.pk not in scopes_for(user).collaborator_ids:
        return _("You can only propose an adoption for a collaborator you belong to.")
    if collaborator.standing_in(program.pk) != Collaborator.Verification.VERIFIED:
        return _(
            "%(name)s is not verified for this program: only verified collaborators may "
            "adopt an area."
        ) % {"name": collaborator.name}
    return None


def adopting_collaborators(user) -> list[Collaborator]:
    """The collaborators `user` may propose adoptions for (verified in some program or
    everywhere); the program is checked again when they propose."""
    ids = scopes_for(user).collaborator_ids
    return list(Collaborator.objects.filter(pk__in=ids).verified().order_by("name"))


def adoption_roles(scopes: Scopes, adoption: Adoption) -> set[str]:
    """adopter / lead / facilitator / admin: what `scopes` is towards this adoption."""
    roles = set()
    if adoption.collaborator_id in scopes.collaborator_ids:
        roles.add("adopter")
    if adoption.program_id in scopes.program_ids:
        roles.add("lead")
    if scopes.is_admin:
        roles.update({"lead", "admin"})
    if commented_area(scopes, adoption) is not None:
        roles.add("facilitator")
    return roles


def commented_area(scopes: Scopes, adoption: Adoption) -> Area | None:
    """The adopted area `scopes` facilitates (a chosen one first), if any."""
    if not scopes.is_facilitator:
        return None
    claims = adoption.claims.select_related("area").order_by("-is_chosen", "area__code")
    return next((c.area for c in claims if scopes.facilitates(c.area)), None)


def area_facilitators(adoption: Adoption):
    """The facilitators consulted: those of an adopted area or of an area above one."""
    claims = list(adoption.claims.select_related("area"))
    above = {code for c in claims if c.is_chosen for code in c.area.ancestor_codes}
    return Facilitator.objects.filter(
        Q(area__in=[c.area_id for c in claims]) | Q(area__code__in=above)
    ).select_related("user")


# --- what ------------------------------------------------------------------------------------


def areas_expand(areas: list[Area]) -> list[Area]:
    """The chosen areas and every area below them (a kelurahan brings its RW)."""
    seen = {a.pk: a for a in areas}
    below = Area.objects.none()
    for area in areas:
        if area.level == Area.Level.KELURAHAN:
            below |= Area.objects.filter(parent=area)
    for area in below.only("pk", "code", "parent_id", "level", "name", "path"):
        seen.setdefault(area.pk, area)
    return list(seen.values())


def proposal_refusal(proposal: Proposal, *, program: Program, today: datetime.date) -> str | None:
    """Why this proposal cannot be taken as it is, before any area is claimed."""
    areas = proposal.areas
    levels = {a.level for a in areas}
    if not areas:
        return _("Choose the area to adopt.")
    if not levels <= {Area.Level.RW, Area.Level.KELURAHAN}:
        return _("An adoption covers an RW, a kelurahan, or a kampung drawn as several RW.")
    if Area.Level.KELURAHAN in levels and len(areas) > 1:
        return _("Choose one kelurahan, or one or more RW.")
    if len(areas) > MAX_RW:
        return _("Choose at most %(n)s RW.") % {"n": MAX_RW}
    if proposal.ends_on < proposal.starts_on:
        return _("The period must end after it starts.")
    if proposal.ends_on < today:
        return _("The period has already ended.")
    if proposal.ends_on > proposal.starts_on + datetime.timedelta(days=366 * MAX_YEARS):
        return _("Propose a period of at most %(n)s years.") % {"n": MAX_YEARS}
    return phases_refusal(proposal.phases, program=program)


def phases_refusal(phases: list[PlannedPhase], *, program: Program) -> str | None:
    if not phases:
        return _("Plan at least one phase of works.")
    if len(phases) > MAX_PHASES:
        return _("Plan at most %(n)s phases.") % {"n": MAX_PHASES}
    for phase in phases:
        if not phase.items:
            return _("Give each phase at least one donation form with a quantity or a value.")
        if len(phase.items) > MAX_ITEMS:
            return _("Plan at most %(n)s donation forms in a phase.") % {"n": MAX_ITEMS}
        for item in phase.items:
            if item.donation_form.program_id != program.pk:
                return _("Choose donation forms of the program.")
            if item.quantity is None and item.value_idr is None:
                return _("Give each donation form a quantity or a value in IDR.")
            if item.quantity is not None and not 0 < item.quantity <= INTEGER_MAX:
                return _("Quantities must be between 1 and %(max)s.") % {"max": INTEGER_MAX}
            if item.value_idr is not None and not 0 < item.value_idr <= VALUE_MAX:
                return _("Values must be positive and below 100 trillion rupiah.")
    return None


def holder_refusal(
    *, areas: list[Area], program: Program, exclude: int | None = None
) -> str | None:
    """If an open adoption already holds one of these areas for the program: who holds it."""
    claim = (
        AdoptionArea.objects.filter(area__in=[a.pk for a in areas], program=program, holds=True)
        .exclude(adoption_id=exclude)
        .select_related("adoption", "adoption__collaborator", "area", "area__parent")
        .order_by("area__code")
        .first()
    )
    if claim is None:
        return None
    return _(
        "%(area)s is already under an adoption by %(holder)s (“%(name)s”, %(status)s) in "
        "this program."
    ) % {
        "area": claim.area.display_name,
        "holder": claim.adoption.collaborator.name,
        "name": claim.adoption.name,
        "status": claim.adoption.get_status_display(),
    }


def _claim(adoption: Adoption, areas: list[Area]) -> None:
    chosen = {a.pk for a in areas}
    AdoptionArea.objects.bulk_create(
        AdoptionArea(
            adoption=adoption,
            area=area,
            program_id=adoption.program_id,
            is_chosen=area.pk in chosen,
            holds=True,
        )
        for area in sorted(areas_expand(areas), key=lambda a: a.pk)
    )


def _phases_write(adoption: Adoption, phases: list[PlannedPhase]) -> None:
    for order, planned in enumerate(phases, start=1):
        phase = Phase.objects.create(
            adoption=adoption, order=order, title=planned.title, target_on=planned.target_on
        )
        PhaseItem.objects.bulk_create(
            PhaseItem(
                phase=phase,
                donation_form=item.donation_form,
                quantity=item.quantity,
                value_idr=item.value_idr,
            )
            for item in planned.items
        )


def adoption_propose(
    *, user, collaborator: Collaborator, program: Program, proposal: Proposal
) -> Adoption:
    """Propose that `collaborator` adopts the areas for `program`. Refused for anyone but a
    member of a collaborator verified in the program, and when an open adoption (proposed,
    changes requested or active) holds one of the areas: the partial unique index on
    AdoptionArea decides between concurrent proposals, and the loser hears who won."""
    refusal = adopter_refusal(user=user, collaborator=collaborator, program=program)
    if refusal:
        raise AdoptionRefused(refusal, forbidden=True)
    refusal = proposal_refusal(proposal, program=program, today=timezone.localdate())
    refusal = refusal or holder_refusal(areas=proposal.areas_all, program=program)
    if refusal:
        raise AdoptionRefused(refusal)
    try:
        with transaction.atomic():
            adoption = Adoption.objects.create(
                collaborator=collaborator,
                program=program,
                name=proposal.name,
                description=proposal.description,
                starts_on=proposal.starts_on,
                ends_on=proposal.ends_on,
                proposed_by=user,
            )
            _claim(adoption, proposal.areas)
            _phases_write(adoption, proposal.phases)
            notify_decision_makers(adoption, area_facilitators(adoption), proposed=True)
    except IntegrityError:
        raise AdoptionRefused(_overlap_message(proposal, program)) from None
    return adoption


def _overlap_message(proposal: Proposal, program: Program, exclude: int | None = None) -> str:
    # The winner of a concurrent proposal has committed by the time the index refuses ours.
    return holder_refusal(areas=proposal.areas_all, program=program, exclude=exclude) or _(
        "Another adoption of this area was proposed at the same moment; reload and try again."
    )


def adoption_for(*, user, adoption_id: int, roles: set[str]) -> Adoption:
    """The adoption, if `user` holds one of `roles` towards it; else AdoptionRefused
    (forbidden), or Adoption.DoesNotExist for one they may not even see (a 404)."""
    scopes = scopes_for(user)
    adoption = (
        Adoption.objects.visible_to(scopes)
        .select_related("collaborator", "program")
        .get(pk=adoption_id)
    )
    if not adoption_roles(scopes, adoption) & roles:
        raise AdoptionRefused(_("You may not do this for this adoption."), forbidden=True)
    return adoption


def adoption_resubmit(*, user, adoption_id: int, proposal: Proposal) -> Adoption:
    """The adopter's edited proposal after the lead asked for changes: proposed again, with
    its areas claimed anew (the same index decides) and its phases replaced."""
    adoption = adoption_for(user=user, adoption_id=adoption_id, roles={"adopter"})
    refusal = proposal_refusal(proposal, program=adoption.program, today=timezone.localdate())
    refusal = refusal or holder_refusal(
        areas=proposal.areas_all, program=adoption.program, exclude=adoption.pk
    )
    if refusal:
        raise AdoptionRefused(refusal)
    try:
        with transaction.atomic():
            moved = Adoption.objects.filter(
                pk=adoption.pk, status=AdoptionStatus.CHANGES_REQUESTED
            ).update(
                status=AdoptionStatus.PROPOSED,
                name=proposal.name,
                description=proposal.description,
                starts_on=proposal.starts_on,
                ends_on=proposal.ends_on,
                proposed_at=timezone.now(),
            )
            if moved != 1:
                raise AdoptionRefused(_("Only a proposal the lead sent back can be edited."))
            adoption.claims.all().delete()
            PhaseItem.objects.filter(phase__adoption=adoption).delete()
            adoption.phases.all().delete()
            _claim(adoption, proposal.areas)
            _phases_write(adoption, proposal.phases)
            adoption.refresh_from_db()
            notify_decision_makers(adoption, area_facilitators(adoption), proposed=False)
    except IntegrityError:
        raise AdoptionRefused(
            _overlap_message(proposal, adoption.program, exclude=adoption.pk)
        ) from None
    return adoption


# --- consulting and deciding -----------------------------------------------------------------


def adoption_comment(*, user, adoption_id: int, text: str) -> FacilitatorComment:
    """A facilitator of an adopted area records their comment on a proposal."""
    adoption = adoption_for(user=user, adoption_id=adoption_id, roles={"facilitator"})
    if adoption.status not in (AdoptionStatus.PROPOSED, AdoptionStatus.CHANGES_REQUESTED):
        raise AdoptionRefused(_("This adoption is no longer open for comments."))
    text = text.strip()
    if not text:
        raise AdoptionRefused(_("Write your comment."))
    scopes = scopes_for(user)
    area = commented_area(scopes, adoption)
    title = (
        Facilitator.objects.filter(user=user, area__code__in=[*area.ancestor_codes, area.code])
        .values_list("title", flat=True)
        .first()
    )
    comment = FacilitatorComment.objects.create(
        adoption=adoption, author=user, author_title=title or "", area=area, text=text
    )
    notify_decision_makers(adoption, [], proposed=False, commented=comment)
    return comment


def agreement_refusal(adoption: Adoption) -> tuple[str | None, bool]:
    """(why the lead may not agree yet, whether the area has no facilitator at all)."""
    facilitators = area_facilitators(adoption)
    if not facilitators.exists():
        return None, True
    if not adoption.comments.exists():
        return _("A facilitator of the area must comment before the adoption is agreed."), False
    return None, False


def _decide(
    adoption: Adoption, *, user, source: tuple, target: str, note: str, **changes
) -> Adoption:
    now = timezone.now()
    with transaction.atomic():
        moved = Adoption.objects.filter(pk=adoption.pk, status__in=source).update(
            status=target, decided_by=user, decided_at=now, decision_note=note, **changes
        )
        if moved != 1:
            raise AdoptionRefused(
                _("This adoption was changed meanwhile; reload the page to see its status.")
            )
        if target not in HOLDING:
            # Its areas are free and its needs open to everyone from now on.
            adoption_areas_release(adoption_ids=[adoption.pk], now=now)
        on_commit_once(adopted_areas_forget)  # after commit: no reader caches the old state
        adoption.refresh_from_db()
        notify_adopter(adoption)
    return adoption


def adoption_agree(*, user, adoption_id: int, note: str = "") -> Adoption:
    """The program's lead (or an administrator) agrees a proposal, once a facilitator of
    the area has commented, or when the area has no facilitator to consult (said in the
    note)."""
    adoption = adoption_for(user=user, adoption_id=adoption_id, roles={"lead"})
    refusal, unfacilitated = agreement_refusal(adoption)
    if adoption.ends_on < timezone.localdate():
        refusal = _("The proposed period has already ended: decline it, or ask for changes.")
    if refusal:
        raise AdoptionRefused(refusal)
    if unfacilitated:
        said = _("No facilitator is assigned to this area: agreed without their comment.")
        note = f"{note}\n{said}".strip()
    now = timezone.now()
    return _decide(
        adoption,
        user=user,
        source=(AdoptionStatus.PROPOSED,),
        target=AdoptionStatus.ACTIVE,
        note=note[:1000],
        agreed_at=now,
    )


def adoption_request_changes(*, user, adoption_id: int, note: str) -> Adoption:
    adoption = adoption_for(user=user, adoption_id=adoption_id, roles={"lead"})
    if not note.strip():
        raise AdoptionRefused(_("Say what should change."))
    return _decide(
        adoption,
        user=user,
        source=(AdoptionStatus.PROPOSED,),
        target=AdoptionStatus.CHANGES_REQUESTED,
        note=note.strip(),
    )


def adoption_decline(*, user, adoption_id: int, note: str) -> Adoption:
    adoption = adoption_for(user=user, adoption_id=adoption_id, roles={"lead"})
    if not note.strip():
        raise AdoptionRefused(_("Give the reason for declining."))
    return _decide(
        adoption,
        user=user,
        source=(AdoptionStatus.PROPOSED, AdoptionStatus.CHANGES_REQUESTED),
        target=AdoptionStatus.DECLINED,
        note=note.strip(),
    )


def adoption_withdraw(*, user, adoption_id: int) -> Adoption:
    """The adopter withdraws a proposal not agreed yet; its areas are free again."""
    adoption = adoption_for(user=user, adoption_id=adoption_id, roles={"adopter"})
    return _decide(
        adoption,
        user=user,
        source=(AdoptionStatus.PROPOSED, AdoptionStatus.CHANGES_REQUESTED),
        target=AdoptionStatus.WITHDRAWN,
        note=_("Withdrawn by the adopter."),
    )


def adoption_end(*, user, adoption_id: int, note: str = "") -> Adoption:
    """The lead ends an active adoption; its areas are free again, its works stay."""
    adoption = adoption_for(user=user, adoption_id=adoption_id, roles={"lead"})
    return _decide(
        adoption,
        user=user,
        source=(AdoptionStatus.ACTIVE,),
        target=AdoptionStatus.ENDED,
        note=note.strip(),
        ended_at=timezone.now(),
    )
