"""The database itself refuses impossible values, whatever code path writes them."""

import pytest
from django.db import IntegrityError, transaction

from collaborators.models import Collaborator
from commitments.models import Commitment, CommitmentEvent
from locations.models import Area, Need
from programs.models import DonationForm

from .factories import CollaboratorFactory, CommitmentFactory, NeedFactory

pytestmark = pytest.mark.django_db


def refused(queryset, **values) -> bool:
    try:
        with transaction.atomic():
            queryset.update(**values)
    except IntegrityError:
        return True
    return False


def test_negative_and_impossible_quantities_are_refused():
    need = NeedFactory(quantity_needed=10)
    needs = Need.objects.filter(pk=need.pk)
    assert refused(needs, quantity_needed=-1)
    assert refused(needs, quantity_needed=0)
    assert refused(needs, quantity_claimed=-1)
    assert refused(needs, quantity_claimed=11)  # never more pledged than needed
    assert refused(needs, households=-3)
    assert refused(needs, unit_value_idr=-1)
    assert not refused(needs, quantity_claimed=10)

    commitment = CommitmentFactory(need=need, quantity=5)
    commitments = Commitment.objects.filter(pk=commitment.pk)
    assert refused(commitments, quantity=-5)
    assert refused(commitments, quantity=0)
    assert refused(commitments, value_idr=-100)
    assert refused(commitments, quantity_delivered=6)
    form = DonationForm.objects.filter(slug="groceries")
    assert refused(form, unit_value_idr=-1)


def test_unknown_states_are_refused():
    commitment = CommitmentFactory()
    assert refused(Commitment.objects.filter(pk=commitment.pk), status="lost")
    assert refused(Commitment.objects.filter(pk=commitment.pk), channel="pigeon")
    assert refused(Need.objects.filter(pk=commitment.need_id), status="maybe")
    assert refused(Need.objects.filter(pk=commitment.need_id), priority=7)
    assert refused(Area.objects.filter(code="31"), level="planet")
    assert refused(
        Collaborator.objects.filter(pk=commitment.collaborator_id), verification_status="sure"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentEvent.objects.create(commitment=commitment, to_status="teleported")


def test_idempotency_key_is_unique_per_collaborator():
    first = CommitmentFactory(idempotency_key="abc")
    other = CollaboratorFactory()
    CommitmentFactory(idempotency_key="abc", collaborator=other)  # another collaborator: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentFactory(idempotency_key="abc", collaborator=first.collaborator)


def test_aggregator_cannot_be_the_collaborator_itself():
    commitment = CommitmentFactory()
    assert refused(Commitment.objects.filter(pk=commitment.pk), aggregator=commitment.collaborator)


def test_area_codes_are_unique_and_only_the_province_has_no_parent():
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(
            code="31.73.04.1002",
            level="kelurahan",
            name="Copy",
            parent=Area.objects.get(code="31.73.04"),
            path="x",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(code="99.99", level="kota", name="Orphan", path="99.99")
