"""Aggregator commitments drawing on the same pooled gift at the same moment, through the
real view stack in real threads on the real database (PostgreSQL, or a SQLite file): the
gift is never over-committed, every refusal leaves no commitment, and nothing errors."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment
from commitments.pooling.models import Allocation, Contribution
from commitments.pooling.rules import contribution_declare, contribution_receive
from locations.models import Need

from .factories import collaborator_and_member
from .world import in_days, run_in_threads, signed_in, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_commitments_never_over_commit_a_pooled_gift():
    needs = [small_world(quantity_needed=50), small_world(quantity_needed=50)]  # two RW
    source, source_member = collaborator_and_member()
    agency, agency_member = collaborator_and_member(is_aggregator=True)
    gift, _ = contribution_declare(
        user=source_member,
        source=source,
        aggregator=agency,
        kind="money",
        amount=1_000_000,
        idempotency_key=uuid.uuid4().hex,
    )
    contribution_receive(
        user=agency_member,
        contribution_id=gift.pk,
        receipt_number="BZ-1",
        received_on=timezone.localdate(),
    )

    def job(need):
        client = signed_in(agency_member)  # one session each, as on separate phones
        data = {
            "key": uuid.uuid4().hex,
            "quantity": 3,  # 3 x 100,000 IDR
            "planned_delivery_on": in_days(5),
            f"share_{gift.pk}": 300_000,
        }
        url = reverse("pooling-commit", args=[agency.slug, need.pk])
        return lambda: client.post(url, data)

    results = run_in_threads([job(needs[i % 2]) for i in range(10)])

    assert [r for r in results if isinstance(r, Exception)] == []
    codes = sorted(r.status_code for r in results)
    # A refusal is 409 when the lock saw the pool run dry, or 400 when the form was built
    # after it had: the share field then already knows what is left. Either way the
    # person sees why, on the form they sent.
    assert codes.count(302) == 3 and codes.count(400) + codes.count(409) == 7, codes
    for refused in (r for r in results if r.status_code != 302):
        assert 'class="errorlist' in refused.content.decode(), refused.status_code
    gift = Contribution.objects.get(pk=gift.pk)
    assert (gift.committed, gift.left) == (900_000, 100_000)
    assert Allocation.objects.filter(contribution=gift).count() == 3
    assert Commitment.objects.count() == 3  # the refused ones left no commitment
    assert sum(Need.objects.filter(pk__in=[n.pk for n in needs]).values_list(
        "quantity_claimed", flat=True)) == 9  # fmt: skip
