"""Who a user is, and over what: the one place roles and their scopes are worked out.

- collaborator member: acts for the collaborators they belong to (approved memberships).
- facilitator: assigned to areas (covering everything below them) or to sites.
- program lead: assigned to programs.
- administrator: staff; may do everything.

Views and services ask here; templates only hide what the server refuses anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q
from django.utils.translation import gettext as _

from locations.models import Area, Facilitator, Site, path_within
from programs.models import ProgramLead

from .models import Collaborator, Membership

COLLABORATOR = "collaborator"
FACILITATOR = "facilitator"
LEAD = "lead"
ADMIN = "admin"
SYSTEM = "system"  # the expiry task, acting for nobody


@dataclass
class Scopes:
    """What one user may act on; built once per request (three small queries)."""

    collaborator_ids: set[int] = field(default_factory=set)
    owner_of: set[int] = field(default_factory=set)
    area_paths: list[str] = field(default_factory=list)
    site_ids: set[int] = field(default_factory=set)
    program_ids: set[int] = field(default_factory=set)
    is_admin: bool = False

    @property
    def is_facilitator(self) -> bool:
        return bool(self.area_paths or self.site_ids)

    @property
    def is_lead(self) -> bool:
        return bool(self.program_ids)

    @property
    def confirms_anything(self) -> bool:
        """Facilitators, leads and administrators confirm pledges and receive deliveries."""
        return self.is_facilitator or self.is_lead or self.is_admin

    def facilitates(self, area: Area | None, site: Site | None = None) -> bool:
        if site is not None and site.pk in self.site_ids:
            return True
        if area is None:
            return False
        return any(path_within(area.path, p) for p in self.area_paths)

    def keeps_needs_in(self, area: Area | None, site: Site | None = None) -> bool:
        """Whether this user keeps some of the needs of `area` (or `site`): administrators,
        every program lead (their programs' needs anywhere), the area's facilitators."""
        return self.is_admin or self.is_lead or self.facilitates(area, site)

    def may_keep_need(self, area: Area | None, site: Site | None, program) -> bool:
        """Whether this user may add, edit, close or re-confirm a need of `program` (a Program
        or its id) in `area` / at `site`; the one-instance twin of Need.objects.editable_by."""
        program_id = getattr(program, "pk", program)
        return self.is_admin or self.facilitates(area, site) or program_id in self.program_ids

    def roles_towards(
        self, *, collaborator_id: int | None, area: Area, site: Site | None, program_id: int
    ) -> set[str]:
        """The roles held towards a commitment of `collaborator_id` (None: of nobody yet,
        e.g. one being recorded offline) in an area or site and a program."""
        roles = set()
        if collaborator_id is not None and collaborator_id in self.collaborator_ids:
            roles.add(COLLABORATOR)
        if self.facilitates(area, site):
            roles.add(FACILITATOR)
        if program_id in self.program_ids:
            roles.add(LEAD)
        if self.is_admin:
            roles.add(ADMIN)
        return roles

    @cached_property
    def area_ids(self) -> list[int]:
        """The ids of the areas this user facilitates and of everything below them."""
        if not self.area_paths:
            return []
        return list(Area.objects.within(*self.area_paths).values_list("pk", flat=True))

    def area_q(self, prefix: str = "") -> Q:
        """Rows whose area (or site) this user facilitates, as a filter on `prefix`.

        The areas are a list of ids (read once per Scopes) rather than a join on the rows'
        area path, so the database finds the rows through their area index instead of
        reading every row to compare its area's path; and, knowing which areas, it can
        tell how many rows they hold (from a subquery it guesses, and a guess too low sends
        a list ordered by date walking the whole table's index for them)."""
        q = Q(pk__in=[])
        if self.area_ids:
            q |= Q(**{f"{prefix}area__in": self.area_ids})
        if self.site_ids:
            q |= Q(**{f"{prefix}site__in": self.site_ids})
        return q


def scopes_for(user) -> Scopes:
    if not user or not user.is_authenticated or not user.is_active:
        return Scopes()
    cached = getattr(user, "_ksbb_scopes", None)
    if cached is not None:
        return cached
    memberships = Membership.objects.filter(user=user).exclude(role=Membership.Role.PENDING)
    facilitations = Facilitator.objects.filter(user=user).select_related("area")
    scopes = Scopes(
        collaborator_ids=set(memberships.values_list("collaborator_id", flat=True)),
        owner_of=set(
            memberships.filter(role=Membership.Role.OWNER).values_list("collaborator_id", flat=True)
        ),
        area_paths=[f.area.path for f in facilitations if f.area_id],
        site_ids={f.site_id for f in facilitations if f.site_id},
        program_ids=set(ProgramLead.objects.filter(user=user).values_list("program_id", flat=True)),
        is_admin=user.is_staff or user.is_superuser,
    )
    user._ksbb_scopes = scopes
    return scopes


def roles_for(user, *, collaborator_id: int | None, area: Area, site: Site | None, program_id: int):
    """The roles `user` holds towards one commitment (or a pledge about to be made)."""
    return scopes_for(user).roles_towards(
        collaborator_id=collaborator_id, area=area, site=site, program_id=program_id
    )


def pledge_for_refusal(user, collaborator_id: int) -> str | None:
    """Why `user` may not pledge for this collaborator (not an approved member of it), for
    the form, the API and the domain alike; None if they may."""
    if collaborator_id in scopes_for(user).collaborator_ids:
        return None
    return _("You can only pledge for a collaborator you belong to.")


def collaborators_for(user):
    """Collaborators the user may act for (approved memberships), in a stable order."""
    return Collaborator.objects.filter(pk__in=scopes_for(user).collaborator_ids).order_by("name")


def facilitator_whatsapp_numbers(
    viewer,
    *,
    area: Area,
    site: Site | None,
    program_id: int,
    collaborator_id: int | None,
    awaiting_receipt: bool,
) -> list[tuple[Facilitator, str]]:
    """The verified WhatsApp numbers of the facilitators of `area` / `site` that `viewer`
    may see about one commitment there; [] when they may see none.

    The one rule for who sees a WhatsApp number: its owner (their account page, and nobody
    else's), administrators, a program's leads (for the facilitators of the places where
    their program's commitments are), and a collaborator's members while a delivery of
    theirs waits there for a facilitator to confirm receipt.
    """
    scopes = scopes_for(viewer)
    entitled = (
        scopes.is_admin
        or program_id in scopes.program_ids
        or (awaiting_receipt and collaborator_id in scopes.collaborator_ids)
    )
    if not entitled:
        return []
    facilitators = (
        Facilitator.objects.covering(area, site)
        .filter(user__whatsapp__verified_at__isnull=False)
        .exclude(user_id=getattr(viewer, "pk", None))
        .select_related("user__whatsapp")
        .order_by("pk")
    )
    # One line per person: the head of a kelurahan may also facilitate one of its RW.
    by_user = {f.user_id: f for f in reversed(facilitators)}
    return [(f, f.user.whatsapp.number) for f in sorted(by_user.values(), key=lambda f: f.pk)]
