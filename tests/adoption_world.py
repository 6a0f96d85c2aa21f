"""Adoptions made straight in the database, in any status, with a phase and works: for the
tests of what reads adoptions (the API, the dashboard, the map's panel), not of how they
are proposed and agreed (tests/test_adoption.py does that through the pages)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from commitments.adoption.models import (
    HOLDING,
    PUBLIC,
    Adoption,
    AdoptionArea,
    AdoptionWork,
    Phase,
    PhaseItem,
)
from commitments.models import Commitment
from locations.models import Area
from programs.models import DonationForm, Program

from .factories import NeedFactory, commitment_in

KELURAHAN = "31.73.04.1002"
RW1 = "31.73.04.1002.001"
RW2 = "31.73.04.1002.002"
RW3 = "31.73.04.1002.003"
PROGRAM = "penataan-pemukiman"
UNIT_VALUE = 1000  # IDR per unit of each work, to check the sums


def works_form(program: Program) -> DonationForm:
    return DonationForm.objects.filter(program=program).order_by("sort_order", "pk")[0]


def make_adoption(
    collaborator,
    *,
    status: str = "active",
    codes=(RW1,),
    program_slug: str = PROGRAM,
    name: str = "Kampung Uji",
    works=(),
    agreed_days_ago: int = 30,
) -> Adoption:
    """An adoption of the areas `codes` in `status`, with one phase planning 10 of the
    program's first donation form, and a work (a commitment) per (status, quantity) of
    `works`, each worth UNIT_VALUE per unit."""
    program = Program.objects.get(slug=program_slug)
    today = timezone.localdate()
    agreed = timezone.now() - datetime.timedelta(days=agreed_days_ago)
    adoption = Adoption.objects.create(
        collaborator=collaborator,
        program=program,
        name=name,
        description="Penataan kampung bersama warga",
        status=status,
        starts_on=today - datetime.timedelta(days=agreed_days_ago),
        ends_on=today + datetime.timedelta(days=365),
        agreed_at=agreed if status in PUBLIC else None,
        ended_at=timezone.now() if status == "ended" else None,
    )
    areas = [Area.objects.get(code=code) for code in codes]
    for area in areas:
        AdoptionArea.objects.create(
            adoption=adoption,
            area=area,
            program=program,
            is_chosen=True,
            holds=status in HOLDING,
        )
    phase = Phase.objects.create(
        adoption=adoption, order=1, title="Saluran air", target_on=today + datetime.timedelta(90)
    )
    form = works_form(program)
    PhaseItem.objects.create(phase=phase, donation_form=form, quantity=10)
    for work_status, quantity in works:
        need = NeedFactory(area=areas[0], donation_form=form, program=program)
        commitment = commitment_in(
            work_status, need=need, collaborator=collaborator, quantity=quantity
        )
        Commitment.objects.filter(pk=commitment.pk).update(
            value_idr=Decimal(quantity * UNIT_VALUE),
            quantity_delivered=quantity if work_status in ("delivered", "completed") else 0,
        )
        AdoptionWork.objects.create(adoption=adoption, phase=phase, commitment=commitment)
    return adoption


def api_adoptions(world) -> dict[str, Adoption]:
    """For the API tests' world (tests.api_world): an active adoption of collaborator B (an
    RW no other API test uses, program Q) and a proposal of collaborator A (RW X, program
    P), made once per world."""
    made = getattr(world, "_adoptions", None)
    if made is None:
        made = world._adoptions = {
            "active": make_adoption(world.collaborator_b, program_slug="umkm", codes=(RW3,)),
            "proposed": make_adoption(
                world.collaborator_a, status="proposed", program_slug="pangan", codes=(RW1,)
            ),
        }
    return made
