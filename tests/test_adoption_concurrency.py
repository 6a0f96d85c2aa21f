"""Two proposals to adopt the same area at the same moment, through the real view stack in
real threads: exactly one wins, and the other is told who holds the area (the partial
unique index on AdoptionArea decides; PostgreSQL, or a SQLite file)."""

import pytest
from django.urls import reverse

from collaborators.models import Collaborator
from commitments.adoption.models import Adoption, AdoptionArea
from programs.models import DonationForm

from .factories import collaborator_and_member
from .world import in_days, run_in_threads, signed_in, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def proposal_job(client, collaborator, need):
    form = DonationForm.objects.get(program=need.program)
    url = f"{reverse('adoption-propose')}?area={need.area.code}&program={need.program.slug}"
    data = {
        "collaborator": collaborator.pk,
        "name": f"Kampung {collaborator.name}",
        "rw": [need.area.code],
        "starts_on": in_days(0),
        "ends_on": in_days(365),
        "phase1_title": "Tahap 1",
        "phase1_target_on": in_days(60),
        "phase1_item1_form": form.pk,
        "phase1_item1_quantity": 5,
    }
    return lambda: client.post(url, data)


@pytest.mark.parametrize("racers", [2, 6])
def test_proposals_for_one_area_at_the_same_moment_one_wins(racers):
    need = small_world()
    people = [collaborator_and_member(name=f"Pengadopsi {i}") for i in range(racers)]
    results = run_in_threads([proposal_job(signed_in(m), c, need) for c, m in people])

    assert [r for r in results if isinstance(r, Exception)] == []
    codes = sorted(r.status_code for r in results)
    assert codes == [302] + [409] * (racers - 1), codes
    winner = Adoption.objects.get()
    assert AdoptionArea.objects.filter(holds=True).count() == 1
    holder = Collaborator.objects.get(pk=winner.collaborator_id).name
    refused = [r.content.decode() for r in results if r.status_code == 409]
    assert all(holder in body for body in refused)


def test_the_hourly_job_twice_and_the_lead_at_the_same_moment_end_an_adoption_once():
    """Two runs of the job (a redelivered task) and the lead ending the same adoption past
    its end: it is ended once, its area freed, its adopter told once."""
    import datetime

    from django.utils import timezone

    from commitments.adoption.expiry import adoptions_end_expired
    from commitments.adoption.rules import AdoptionRefused, adoption_end
    from commitments.models import Notification

    from .factories import lead_of

    need = small_world()
    collaborator, member = collaborator_and_member(name="Pengadopsi Lama")
    today = timezone.localdate()
    adoption = Adoption.objects.create(
        collaborator=collaborator,
        program=need.program,
        name="Kampung Lama",
        status="active",
        starts_on=today - datetime.timedelta(days=400),
        ends_on=today - datetime.timedelta(days=1),
        agreed_at=timezone.now() - datetime.timedelta(days=400),
    )
    AdoptionArea.objects.create(
        adoption=adoption, area=need.area, program=need.program, is_chosen=True
    )
    lead = lead_of(need.program.slug)

    def lead_ends():
        try:
            adoption_end(user=lead, adoption_id=adoption.pk)
        except AdoptionRefused:
            return 0
        return 1

    results = run_in_threads([adoptions_end_expired, adoptions_end_expired, lead_ends])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(results) == 1, results
    assert Adoption.objects.get(pk=adoption.pk).status == "ended"
    assert not AdoptionArea.objects.filter(holds=True).exists()
    assert Notification.objects.filter(user=member, url=adoption.get_absolute_url()).count() == 1
