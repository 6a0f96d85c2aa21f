"""Concurrent registrations on the real database, in real threads: two facilitators
confirming the same laptop delivery at once register its assets once; two deliveries
registering the same serial number at once register it once.

The rules hold through delivery_confirm's conditional update of the delivery and the partial
unique constraint on (donation form, serial number), on PostgreSQL and on a SQLite file."""

import uuid

import pytest
from django.utils import timezone

from commitments.assets.models import Asset, AssetEvent
from commitments.assets.registry import AssetEntry
from commitments.lifecycle.transitions import delivery_confirm, delivery_record
from commitments.models import Delivery
from commitments.workflow import TransitionRefused
from locations.models import Facilitator, Site

from .factories import UserFactory, collaborator_and_member, commitment_in
from .world import PROOF, run_in_threads, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def laptops(quantity: int):
    """A delivery of `quantity` laptops for a school in an RW of a world of its own, and two
    facilitators of that RW."""
    need = small_world(quantity_needed=20)
    form = need.donation_form
    form.creates_assets = form.asks_serials = True
    form.save(update_fields=["creates_assets", "asks_serials"])
    program = need.program
    program.asset_owners = ["school", "private"]
    program.save(update_fields=["asset_owners"])
    school = Site.objects.create(area=need.area, kind="school", name="SD Uji", lon=1, lat=1)
    collaborator, member = collaborator_and_member()
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=10)
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=member,
        quantity=quantity,
        delivered_on=timezone.localdate(),
        recipients_households=None,
        recipients_persons=None,
        proofs=[PROOF],
    )
    facilitators = [UserFactory(), UserFactory()]
    for user in facilitators:
        Facilitator.objects.create(user=user, area=need.area, title="Ketua RW")
    return delivery, school, facilitators


def entries(school, serials):
    return [
        AssetEntry(owner_kind="school", owner_site_id=school.pk, serial_number=serial)
        for serial in serials
    ]


def confirm_job(delivery, actor, assets):
    return lambda: delivery_confirm(delivery_id=delivery.pk, actor=actor, assets=assets)


def test_two_facilitators_confirming_one_delivery_register_its_assets_once():
    delivery, school, (first, second) = laptops(quantity=5)
    jobs = [
        confirm_job(delivery, first, entries(school, [f"A-{n}" for n in range(5)])),
        confirm_job(delivery, second, entries(school, [f"B-{n}" for n in range(5)])),
    ]
    results = run_in_threads(jobs)
    won = [r for r in results if isinstance(r, Delivery)]
    lost = [r for r in results if isinstance(r, TransitionRefused)]
    assert len(won) == 1 and len(lost) == 1, results
    assert Asset.objects.filter(delivery=delivery).count() == 5
    assert AssetEvent.objects.filter(asset__delivery=delivery).count() == 5
    prefixes = {s[0] for s in Asset.objects.values_list("serial_number", flat=True)}
    assert len(prefixes) == 1  # all five from the winner, none from the other


def test_one_serial_number_registered_by_two_deliveries_at_once_is_taken_once():
    first_delivery, school, (first, _second) = laptops(quantity=1)
    second_delivery, other_school, _facilitators = laptops(quantity=1)
    # The two worlds are separate programs and forms: put the second on the first's form.
    commitment = second_delivery.commitment
    commitment.donation_form = first_delivery.commitment.donation_form
    commitment.program = first_delivery.commitment.program
    commitment.save(update_fields=["donation_form", "program"])
    other_school.area = school.area
    other_school.save(update_fields=["area"])
    commitment.area = first_delivery.commitment.area
    commitment.save(update_fields=["area"])
    serial = f"SAME-{uuid.uuid4().hex[:6]}"
    results = run_in_threads(
        [
            confirm_job(first_delivery, first, entries(school, [serial])),
            confirm_job(second_delivery, first, entries(other_school, [serial])),
        ]
    )
    assert sum(isinstance(r, Delivery) for r in results) == 1, results
    refusal = next(r for r in results if isinstance(r, Exception))
    assert isinstance(refusal, TransitionRefused), refusal
    assert Asset.objects.filter(serial_number=serial).count() == 1
    confirmed = Delivery.objects.filter(
        pk__in=[first_delivery.pk, second_delivery.pk], confirmed_at__isnull=False
    )
    assert confirmed.count() == 1  # the refused one is not confirmed either
