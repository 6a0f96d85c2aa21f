"""Notifications: facilitators hear of new pledges, collaborators of every status change,
by email and in the portal. A broker that is down: tests/test_broker_down.py."""

import os
import time
import uuid

import pytest
from django.core import mail
from django.urls import reverse

from commitments.models import Commitment, Notification

from .conftest import celery_broker
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    collaborator_and_member,
    facilitator_of,
    member_of,
)
from .world import pledge_by_form, pledge_directly, small_world

pytestmark = pytest.mark.django_db


def test_new_pledge_and_status_changes_notify_the_right_people(
    client, django_capture_on_commit_callbacks
):
    need = NeedFactory(quantity_needed=10)
    donor = CollaboratorFactory(name="PT Peduli")
    owner, colleague = member_of(donor), member_of(donor)
    facilitator = facilitator_of("31.73.04.1002", "Lurah Kali Anyar")
    other_facilitator = facilitator_of("31.73.04.1001", "Lurah Tambora")
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        pledge_by_form(client, need, quantity=3, collaborator=donor.pk)
    commitment = Commitment.objects.get()
    assert [m.to for m in mail.outbox] == [[facilitator.email]]
    assert "Kali Anyar" in mail.outbox[0].subject
    assert commitment.get_absolute_url() in mail.outbox[0].body

    client.force_login(facilitator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "committed"})
    told = sorted(m.to[0] for m in mail.outbox[1:])
    assert told == sorted([owner.email, colleague.email])
    assert not Notification.objects.filter(user=other_facilitator).exists()

    # In the portal: an unread count in the header and the list.
    client.force_login(owner)
    home = client.get("/").content.decode()
    assert 'class="count"' in home
    listing = client.get(reverse("notifications")).content.decode()
    assert "dikonfirmasi" in listing
    client.post(reverse("notifications"))
    assert 'class="count"' not in client.get("/").content.decode()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_notifications_travel_through_redis_to_a_worker():
    """With Redis as the broker, a real worker consumes the task and sends the email."""
    from celery.contrib.testing.worker import start_worker

    from locations.models import Facilitator

    from .factories import UserFactory

    need = small_world(quantity_needed=5)
    donor, user = collaborator_and_member()
    facilitator = UserFactory()
    Facilitator.objects.create(user=facilitator, area=need.area, title="Ketua RW")
    queue = f"test-{uuid.uuid4().hex}"
    with celery_broker(os.environ["REDIS_URL"], eager=False) as app:
        app.conf.task_default_queue = queue
        try:
            with start_worker(
                app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
            ):
                pledge_directly(need, donor, user)
                deadline = time.monotonic() + 20
                while not mail.outbox and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            app.conf.task_default_queue = "celery"
    assert [m.to for m in mail.outbox] == [[facilitator.email]]
    assert Notification.objects.get(user=facilitator).emailed_at is not None
