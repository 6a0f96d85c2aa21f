"""Adoptions end on their own (issue 21, part 1): the hourly job ends the active adoptions
whose end date has passed, frees their areas and ends their needs' running first offers;
a proposal whose proposed period passed unagreed is declined the same way. Idempotent, a
fixed number of queries, and the freed area can be adopted again."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments import tasks
from commitments.adoption.expiry import adoptions_end_expired
from commitments.adoption.models import Adoption, AdoptionArea, NeedFirstOffer
from commitments.adoption.rules import AdoptionRefused, adoption_agree
from commitments.models import Notification
from locations.models import Area

from .adoption_world import PROGRAM, RW1, RW2, RW3, make_adoption
from .factories import NeedFactory, collaborator_and_member, lead_of

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def ending(adoption: Adoption, days_ago: int) -> Adoption:
    """Move the adoption's period so that it ended `days_ago` days ago (0: ends today)."""
    today = timezone.localdate()
    Adoption.objects.filter(pk=adoption.pk).update(
        starts_on=today - 400 * DAY, ends_on=today - days_ago * DAY
    )
    return adoption


def first_offer(adoption: Adoption, code: str) -> NeedFirstOffer:
    need = NeedFactory(area=Area.objects.get(code=code), program=adoption.program)
    return NeedFirstOffer.objects.create(
        need=need, adoption=adoption, until=timezone.now() + 10 * DAY
    )


@pytest.fixture
def ypo():
    return collaborator_and_member(name="Yayasan Berakhir Uji")


def test_an_adoption_past_its_end_is_ended_its_areas_freed_and_first_offers_ended(ypo):
    past = ending(make_adoption(ypo[0], codes=(RW1,)), days_ago=1)
    today = ending(make_adoption(ypo[0], codes=(RW2,), name="Masih berjalan"), days_ago=0)
    offer_past, offer_today = first_offer(past, RW1), first_offer(today, RW2)
    Notification.objects.all().delete()

    assert adoptions_end_expired() == 1
    past.refresh_from_db()
    assert past.status == "ended" and past.ended_at is not None
    assert not AdoptionArea.objects.filter(adoption=past, holds=True).exists()
    offer_past.refresh_from_db()
    assert not offer_past.is_running()
    # The adoption whose last day is today runs to its end.
    assert Adoption.objects.get(pk=today.pk).status == "active"
    assert NeedFirstOffer.objects.get(pk=offer_today.pk).is_running()
    assert AdoptionArea.objects.filter(adoption=today, holds=True).count() == 1
    # The adopter hears of it.
    assert Notification.objects.filter(user=ypo[1], url=past.get_absolute_url()).count() == 1

    # Idempotent: a second run changes nothing and writes nothing.
    assert adoptions_end_expired() == 0
    assert Notification.objects.count() == 1
    # The area is free: another adoption may hold it now.
    make_adoption(collaborator_and_member()[0], codes=(RW1,), name="Penerus")


def test_a_proposal_left_past_its_end_date_is_declined_and_frees_its_areas(ypo):
    proposal = ending(make_adoption(ypo[0], status="proposed", codes=(RW1,)), days_ago=3)
    sent_back = ending(
        make_adoption(ypo[0], status="changes_requested", codes=(RW2,), name="B"), days_ago=3
    )
    assert adoptions_end_expired() == 2
    for adoption in (proposal, sent_back):
        adoption.refresh_from_db()
        assert adoption.status == "declined" and adoption.decided_by is None
        assert adoption.decision_note
        assert not adoption.claims.filter(holds=True).exists()


def test_the_lead_cannot_agree_a_proposal_whose_period_has_passed(ypo):
    proposal = ending(make_adoption(ypo[0], status="proposed", codes=(RW3,)), days_ago=1)
    with pytest.raises(AdoptionRefused):
        adoption_agree(user=lead_of(PROGRAM), adoption_id=proposal.pk)
    assert Adoption.objects.get(pk=proposal.pk).status == "proposed"


def test_the_lead_ending_an_adoption_ends_its_running_first_offers(ypo):
    from commitments.adoption.rules import adoption_end

    adoption = make_adoption(ypo[0], codes=(RW1,))
    offer = first_offer(adoption, RW1)
    adoption_end(user=lead_of(PROGRAM), adoption_id=adoption.pk)
    offer.refresh_from_db()
    assert not offer.is_running()


def test_the_job_is_set_based_and_scheduled(ypo):
    ending(make_adoption(ypo[0], codes=(RW1,), name="A"), 2)
    ending(make_adoption(ypo[0], status="proposed", codes=(RW2,), name="P"), 2)
    with CaptureQueriesContext(connection) as two:
        assert adoptions_end_expired() == 2
    for n, code in enumerate((RW1, RW2, RW3)):
        ending(make_adoption(ypo[0], codes=(code,), name=f"B{n}"), 2)
    ending(make_adoption(ypo[0], status="proposed", codes=("31.73.04.1002.004",)), 2)
    with CaptureQueriesContext(connection) as four:
        assert adoptions_end_expired() == 4
    assert len(four) == len(two)
    assert tasks.end_adoptions() == 0
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "commitments.tasks.end_adoptions" in scheduled
