"""Freshness: the periodic job expires needs past their validity (they leave the map) and
reminds each facilitator once, in the portal and by email, of needs about to expire."""

from __future__ import annotations

import datetime
import gzip
import json
import threading

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from commitments.models import Notification
from commitments.needs.upkeep import NeedChanged, need_update
from commitments.tasks import freshen_needs
from locations.models import Area, Facilitator, Need

from .factories import NeedFactory, UserFactory, facilitator_of

RW1 = "31.73.04.1002.001"
RW2 = "31.73.04.1002.002"


def rw_areas(client) -> dict:
    response = client.get(reverse("map-need-state", args=["rw"]), HTTP_ACCEPT_ENCODING="gzip")
    return json.loads(gzip.decompress(response.content))["areas"]


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.mark.django_db
def test_needs_past_validity_expire_leave_the_map_and_get_a_history_row(
    client, django_capture_on_commit_callbacks
):
    ended = NeedFactory(valid_until=days(-1))
    current = NeedFactory(area=Area.objects.get(code=RW2), valid_until=days(20))
    with django_capture_on_commit_callbacks(execute=True):
        freshen_needs.delay()
    ended.refresh_from_db()
    current.refresh_from_db()
    assert (ended.status, ended.version) == ("expired", 2)
    assert current.status == "open"
    change = ended.changes.get()
    assert change.action == "expired" and change.actor is None
    assert RW1 not in rw_areas(client) and RW2 in rw_areas(client)
    # Running again changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        freshen_needs.delay()
    assert ended.changes.count() == 1
    # The facilitator finds it among the expired needs, and reopens it with a new date.
    keeper = facilitator_of(RW1)
    client.force_login(keeper)
    listing = client.get(reverse("my-needs"), {"show": "expired"}).content.decode()
    assert reverse("need-detail", args=[ended.pk]) in listing
    need_update(actor=keeper, need_id=ended.pk, expected_version=2, valid_until=days(30))
    ended.refresh_from_db()
    assert ended.status == "open"


@pytest.mark.django_db
def test_each_facilitator_is_reminded_once_in_the_portal_and_by_email(
    client, django_capture_on_commit_callbacks
):
    head = facilitator_of("31.73.04.1002", title="Lurah")
    ketua = facilitator_of(RW1)
    stranger = facilitator_of("31.71.01.1001")
    soon = NeedFactory(valid_until=days(3))
    sooner = NeedFactory(area=Area.objects.get(code=RW2), valid_until=days(1))
    later = NeedFactory(valid_until=days(30))
    with django_capture_on_commit_callbacks(execute=True):
        freshen_needs.delay()
    head_notes = Notification.objects.filter(user=head)
    assert head_notes.count() == 1  # one message listing both of its needs
    note = head_notes.get()
    assert "2" in note.subject
    assert note.url == reverse("my-needs") + "?show=expiring"
    assert Notification.objects.filter(user=ketua).count() == 1  # only RW 001's
    assert "RW 002" not in Notification.objects.get(user=ketua).body
    assert not Notification.objects.filter(user=stranger).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([head.email, ketua.email])
    # In the portal too.
    client.force_login(head)
    assert note.subject in client.get(reverse("notifications")).content.decode()
    # Twice: nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        freshen_needs.delay()
    assert Notification.objects.filter(user__in=[head, ketua]).count() == 2
    assert len(mail.outbox) == 2
    # Extending a need re-arms its reminder for when the new date comes near.
    Need.objects.filter(pk=soon.pk).update(valid_until=days(5))
    with django_capture_on_commit_callbacks(execute=True):
        freshen_needs.delay()
    assert Notification.objects.filter(user=head).count() == 2
    assert Notification.objects.filter(user=ketua).count() == 2
    assert not later.changes.exists() and not sooner.changes.exists()


@pytest.mark.django_db
def test_a_need_without_facilitators_is_claimed_and_nobody_is_bothered():
    NeedFactory(area=Area.objects.get(code="31.71.01.1001.001"), valid_until=days(2))
    freshen_needs.delay()
    assert Notification.objects.count() == 0
    assert Need.objects.filter(expiry_reminded_for__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_editors_in_real_threads_one_wins_the_other_is_told():
    """On the real database (PostgreSQL in CI): both read version 1 and save at once."""
    from .world import small_world

    need = small_world(quantity_needed=10)
    editors = []
    for n in range(2):
        user = UserFactory()
        Facilitator.objects.create(user=user, area=need.area, title=f"Ketua {n}")
        editors.append(user)
    barrier = threading.Barrier(2)
    results = [None, None]

    def edit(index):
        try:
            barrier.wait()
            results[index] = need_update(
                actor=editors[index],
                need_id=need.pk,
                expected_version=1,
                quantity_needed=20 + index,
            )
        except Exception as exc:  # noqa: BLE001 - checked below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [r for r in results if isinstance(r, Need)]
    told = [r for r in results if isinstance(r, NeedChanged)]
    assert len(winners) == 1 and len(told) == 1, results
    need.refresh_from_db()
    assert need.version == 2 and need.quantity_needed == winners[0].quantity_needed
    assert need.changes.count() == 1
    assert told[0].current.quantity_needed == need.quantity_needed
