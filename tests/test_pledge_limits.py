"""Hoarding: rejected collaborators cannot pledge; unverified ones pledge within the limits
their program sets, see those limits before pledging, and their pledges expire sooner.
Verified collaborators are unaffected."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from collaborators.models import ProgramVerification
from commitments.lifecycle.pledges import PledgeRefused, commitment_pledge
from commitments.lifecycle.transitions import commitments_expire
from commitments.models import Commitment
from locations.models import Need

from .factories import CollaboratorFactory, NeedFactory, UserFactory, member_of, program
from .world import pledge_by_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def need():
    return NeedFactory(quantity_needed=100, unit_value_idr=300_000)


def as_member(client, status="unverified", **kwargs):
    collaborator = CollaboratorFactory(verification_status=status, **kwargs)
    client.force_login(member_of(collaborator))
    return collaborator


def claimed(need) -> int:
    return Need.objects.get(pk=need.pk).quantity_claimed


def test_a_collaborator_rejected_by_an_administrator_cannot_pledge(english, need):
    rejected = as_member(english, status="rejected", name="PT Ditolak")
    page = english.get(reverse("pledge-create", args=[need.pk]))
    assert page.status_code == 403
    html = page.content.decode()
    assert "PT Ditolak has been rejected for this program and cannot pledge" in html
    assert 'name="quantity"' not in html  # said before the form, instead of it
    response = pledge_by_form(english, need, rejected, quantity=1)
    assert response.status_code == 403
    assert not Commitment.objects.exists() and claimed(need) == 0


def test_the_pledge_service_refuses_a_rejected_collaborator(need):
    rejected = CollaboratorFactory(verification_status="rejected")
    user = member_of(rejected)
    # In English whatever language an earlier test left active (tests share a thread).
    with translation.override("en"), pytest.raises(PledgeRefused, match="rejected"):
        commitment_pledge(
            user=user, collaborator=rejected, need=need, quantity=1, idempotency_key="k1"
        )
    assert not Commitment.objects.exists() and claimed(need) == 0


def test_a_lead_rejection_stops_pledges_to_that_program_only(english, need):
    collaborator = as_member(english)
    ProgramVerification.objects.create(
        collaborator=collaborator, program=need.program, status="rejected"
    )
    assert pledge_by_form(english, need, collaborator).status_code == 403
    other = NeedFactory(
        donation_form=program("pendidikan").donation_forms.first(), quantity_needed=10
    )
    assert pledge_by_form(english, other, collaborator).status_code == 302
    assert list(Commitment.objects.values_list("need", flat=True)) == [other.pk]


def test_an_unverified_collaborator_sees_its_limits_before_pledging(english, need):
    as_member(english, name="CV Baru")
    html = english.get(reverse("pledge-create", args=[need.pk])).content.decode()
    assert "Until CV Baru is verified, its pledges to this program are limited" in html
    assert "At most 25% of one need (25 here): 25 left for this need." in html
    assert "Open pledges worth at most IDR 10,000,000 in this program" in html
    assert "3 pledges per hour: 3 left this hour." in html
    assert "A pledge not confirmed within 3 days expires." in html
    # 25% of 100 and IDR 10 million / 300,000 = 33: the share is the lower limit.
    assert 'max="25"' in html


def test_the_form_counts_what_is_left_of_each_limit(english, need):
    pangan = need.program
    pangan.unverified_max_open_value_idr = 3_000_000
    pangan.save()
    collaborator = as_member(english)
    assert pledge_by_form(english, need, collaborator, quantity=4).status_code == 302
    html = english.get(reverse("pledge-create", args=[need.pk])).content.decode()
    assert "21 left for this need" in html
    assert "IDR 1,800,000 left" in html
    assert "2 left this hour" in html
    assert 'max="6"' in html  # IDR 1.8 million at 300,000 each


def test_more_than_the_share_of_one_need_is_refused(english, need):
    collaborator = as_member(english, name="CV Baru")
    response = pledge_by_form(english, need, collaborator, quantity=26)
    assert response.status_code == 409
    assert "until CV Baru is verified it may hold at most 25% of a need" in (
        response.content.decode()
    )
    assert pledge_by_form(english, need, collaborator, quantity=20).status_code == 302
    # Pledges to the same need add up.
    response = pledge_by_form(english, need, collaborator, quantity=6)
    assert response.status_code == 409 and "5 more can be pledged" in response.content.decode()
    assert claimed(need) == 20 and Commitment.objects.count() == 1


def test_the_open_value_in_a_program_is_limited(english, need):
    pangan = need.program
    pangan.unverified_max_open_value_idr = 1_000_000
    pangan.save()
    collaborator = as_member(english)
    response = pledge_by_form(english, need, collaborator, quantity=4)  # IDR 1.2 million
    assert response.status_code == 409
    assert "open pledges in this program may be worth at most IDR 1,000,000" in (
        response.content.decode()
    )
    assert pledge_by_form(english, need, collaborator, quantity=3).status_code == 302
    another = NeedFactory(quantity_needed=100, unit_value_idr=300_000)
    assert pledge_by_form(english, another, collaborator, quantity=1).status_code == 409
    assert claimed(need) == 3 and claimed(another) == 0


def test_pledges_per_hour_are_limited_and_a_retry_still_finds_its_pledge(english, need):
    pangan = need.program
    pangan.unverified_pledges_per_hour = 2
    pangan.save()
    collaborator = as_member(english, name="CV Baru")
    first_key = uuid.uuid4().hex
    first = pledge_by_form(english, need, collaborator, key=first_key)
    assert first.status_code == 302
    assert pledge_by_form(english, need, collaborator).status_code == 302
    third = pledge_by_form(english, need, collaborator)
    assert third.status_code == 409
    assert "until CV Baru is verified it may make 2 pledges per hour" in third.content.decode()
    retry = pledge_by_form(english, need, collaborator, key=first_key)
    assert retry.status_code == 302 and retry["Location"] == first["Location"]
    assert Commitment.objects.count() == 2 and claimed(need) == 2


def test_the_refusal_is_in_indonesian_too(client, need):
    collaborator = as_member(client, name="CV Baru")
    response = pledge_by_form(client, need, collaborator, quantity=26)
    assert response.status_code == 409
    assert "Batas tercapai" in response.content.decode()


def test_verified_collaborators_are_not_limited(english, need):
    verified = as_member(english, status="verified")
    html = english.get(reverse("pledge-create", args=[need.pk])).content.decode()
    assert "limited" not in html and 'max="100"' in html
    assert pledge_by_form(english, need, verified, quantity=100).status_code == 302
    assert claimed(need) == 100


def test_a_lead_verification_lifts_the_limits_in_that_program_only(english, need):
    collaborator = as_member(english)
    ProgramVerification.objects.create(
        collaborator=collaborator, program=need.program, status="verified"
    )
    assert pledge_by_form(english, need, collaborator, quantity=100).status_code == 302
    other = NeedFactory(
        donation_form=program("pendidikan").donation_forms.first(), quantity_needed=100
    )
    assert pledge_by_form(english, other, collaborator, quantity=50).status_code == 409


def test_unverified_pledges_expire_sooner(need):
    newcomer = CollaboratorFactory(verification_status="unverified")
    verified = CollaboratorFactory()
    four_days_ago = timezone.now() - datetime.timedelta(days=4)
    Need.objects.filter(pk=need.pk).update(quantity_claimed=2)  # what the two pledges hold
    made = {}
    for collaborator in (newcomer, verified):
        made[collaborator.pk] = Commitment.objects.create(
            collaborator=collaborator,
            need=need,
            area=need.area,
            program=need.program,
            donation_form=need.donation_form,
            quantity=1,
            idempotency_key=uuid.uuid4().hex,
            created_at=four_days_ago,
        )
    assert commitments_expire() == 1
    statuses = {pk: Commitment.objects.get(pk=c.pk).status for pk, c in made.items()}
    assert statuses == {newcomer.pk: "expired", verified.pk: "pledged"}


def test_administrators_set_the_limits_in_the_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    pangan = program("pangan")
    url = reverse("admin:programs_program_change", args=[pangan.pk])
    html = client.get(url).content.decode()
    for field in (
        "unverified_max_share_percent",
        "unverified_max_open_value_idr",
        "unverified_pledges_per_hour",
        "unverified_confirm_within_days",
    ):
        assert f'name="{field}"' in html
