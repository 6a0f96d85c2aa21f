"""Concurrent confirms in real threads on the real database, each followed (eager Celery,
after commit) by its summary job and its collaborator's totals: no deadlock, and the
program, donation form and collaborator figures end equal to a direct count."""

import uuid

import pytest
from django.db.models import Sum

from collaborators.models import Collaborator
from commitments.figures.summaries import summaries_rebuild
from commitments.figures.totals import totals_refresh
from commitments.lifecycle.transitions import commitment_transition
from commitments.models import CONFIRMED_STATUSES, Commitment
from programs.models import DonationForm, Program

from .factories import CollaboratorFactory, UserFactory
from .world import run_in_threads, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_confirms_keep_every_figure_exact():
    need = small_world(quantity_needed=1000)
    admin = UserFactory(is_staff=True)
    givers = [CollaboratorFactory() for _ in range(3)]
    pledges = [
        Commitment.objects.create(
            collaborator=givers[n % 3],
            need=need,
            area=need.area,
            program=need.program,
            donation_form=need.donation_form,
            quantity=1 + n,
            value_idr=100_000 * (1 + n),
            idempotency_key=uuid.uuid4().hex,
        )
        for n in range(10)
    ]
    summaries_rebuild()
    totals_refresh()

    def confirm(commitment_id):
        return lambda: commitment_transition(
            commitment_id=commitment_id, target="committed", actor=admin, reason=""
        )

    results = run_in_threads([confirm(c.pk) for c in pledges])

    assert [r for r in results if isinstance(r, Exception)] == []
    confirmed = Commitment.objects.filter(program=need.program, status__in=CONFIRMED_STATUSES)
    program = Program.objects.get(pk=need.program_id)
    assert (program.live_commitments, program.live_collaborators, program.live_rw_covered) == (
        10,
        3,
        1,
    )
    assert program.live_value_idr == confirmed.aggregate(v=Sum("value_idr"))["v"]
    form = DonationForm.objects.get(pk=need.donation_form_id)
    assert (form.live_commitments, form.live_quantity) == (10, 55)
    for giver in Collaborator.objects.filter(pk__in=[g.pk for g in givers]):
        assert giver.live_commitments == confirmed.filter(collaborator=giver).count()
        assert list(giver.programs.all()) == [program]
