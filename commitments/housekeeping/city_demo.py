"""A small demo on another city's own areas (`manage.py load_city`): the demo builder's
collaborators, sites, needs and commitments in every state (commitments.housekeeping.demo),
on the city's lowest level (RW, or kelurahan where the city has no RW), with demo sign-ins
and a facilitator of one of its kelurahan. Jakarta's own stories (Kali Anyar, the adoption,
the zakat pool) are left out. Everything is marked `is_demo`."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from collaborators.models import Collaborator, Membership
from locations.models import Area, Facilitator, Need
from programs.models import Program, ProgramLead

from ..figures.summaries import summaries_rebuild
from ..figures.totals import needs_recount, totals_refresh
from .demo import DEMO_PASSWORD, SEED, DemoRefused, DemoResult, _Builder

CITY_DEMO_USERS = {
    "donor": "donatur.demo@example.org",
    "facilitator": "lurah.demo@example.org",
    "lead": "dinsos.demo@example.org",
}
CITY_DEMO_AREAS = 24  # areas given needs: a quarter to a half of a small city's kelurahan


class _CityBuilder(_Builder):
    def __init__(self, rng, today, *, city_code: str, city_name: str) -> None:
        super().__init__(rng, today)
        self.city_code = city_code
        self.city_name = city_name

    def build(self) -> DemoResult:
        self.programs = {p.slug: p for p in Program.objects.prefetch_related("donation_forms")}
        if "pangan" not in self.programs:
            raise DemoRefused("the demo needs the pangan program (load the city's programs)")
        self.collaborators = self._collaborators()
        under = Area.objects.filter(code__startswith=self.city_code + ".", is_residential=True)
        level = (
            Area.Level.RW if under.filter(level=Area.Level.RW).exists() else Area.Level.KELURAHAN
        )
        places = list(under.filter(level=level).select_related("parent").order_by("code"))
        if not places:
            raise DemoRefused(f"no areas under {self.city_code}: load the city's areas first")
        chosen = sorted(
            self.rng.sample(places, k=min(len(places), CITY_DEMO_AREAS)), key=lambda a: a.code
        )
        self.sites = self._sites(chosen)
        needs = self._needs(chosen, set())
        self._commitments(needs)
        self._city_users(chosen[0] if level == Area.Level.KELURAHAN else chosen[0].parent)
        return self.result

    def _collaborators(self) -> list[Collaborator]:
        made = super()._collaborators()
        for collaborator in made:
            if "Jakarta" in collaborator.name:
                collaborator.name = collaborator.name.replace("Jakarta", self.city_name)
                collaborator.save(update_fields=["name"])
        return made

    def _need(self, area, program, form, households, high) -> Need:
        need = super()._need(area, program, form, households, high)
        if need.site_id is None and need.area.level == Area.Level.KELURAHAN:
            # The base builder names an RW's head or its kelurahan's lurah.
            need.assessed_by_role = f"Lurah {need.area.name}"
            Need.objects.filter(pk=need.pk).update(assessed_by_role=need.assessed_by_role)
        return need

    def _city_users(self, kelurahan: Area) -> None:
        User = get_user_model()
        for role, email in CITY_DEMO_USERS.items():
            user = User.objects.create_user(email, email, DEMO_PASSWORD, first_name=f"Demo {role}")
            if role == "donor":
                Membership.objects.create(
                    user=user, collaborator=self.collaborators[0], role="owner"
                )
            elif role == "facilitator":
                Facilitator.objects.create(
                    user=user, area=kelurahan, title=f"Lurah {kelurahan.name}"
                )
            else:
                ProgramLead.objects.create(user=user, program=self.programs["pangan"])


def seed_city_demo(
    *, city_code: str, city_name: str, today: datetime.date | None = None
) -> DemoResult | None:
    """Demo data on the areas under `city_code`. None when demo data is already there."""
    if Collaborator.objects.filter(is_demo=True).exists():
        return None
    day = today or timezone.localdate()
    with transaction.atomic():
        builder = _CityBuilder(random.Random(SEED), day, city_code=city_code, city_name=city_name)
        result = builder.build()
        needs_recount()
        summaries_rebuild()
        totals_refresh()
    return result
