"""Collaborators' members hear about their gifts (issue 23, part 1): one update per receipt
confirmed (it replaces the "now completed" message on the last one), with the link to the
public record; and a quarterly summary of what their gifts did, sent once per quarter
however often the job runs."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from commitments.lifecycle.transitions import delivery_confirm
from commitments.models import CollaboratorQuarterlySummary, Notification
from commitments.notify.quarterly import last_quarter, quarterly_summaries_send
from commitments.tasks import send_quarterly_summaries

from .accountability_world import NAMED, RW, deliver, make_world, photo
from .factories import (
    NeedFactory,
    collaborator_and_member,
    commitment_in,
    facilitator_of,
    member_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def receipts(user) -> list[Notification]:
    """Receipt updates: they link a delivery on the public record (any language)."""
    return list(Notification.objects.filter(user=user, url__contains="#delivery-"))


def test_each_member_gets_one_update_per_receipt(django_capture_on_commit_callbacks):
    collaborator, owner = collaborator_and_member(name=NAMED)
    second = member_of(collaborator)
    facilitator = facilitator_of(RW, title="Ketua RW 01")
    commitment = commitment_in(
        "committed", need=NeedFactory(), collaborator=collaborator, quantity=10
    )
    first = deliver(commitment, owner, 4, [photo()])
    rest = deliver(commitment, owner, 6, [photo()])
    before = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        delivery_confirm(delivery_id=first.pk, actor=facilitator)
    for user in (owner, second):
        [update] = receipts(user)
        assert "4 paket" in update.body and "Ketua RW 01" in update.body
        assert update.url.endswith(f"#delivery-{first.pk}") and RW in update.url
    assert Notification.objects.count() - before == 2  # nobody else, nothing else

    with django_capture_on_commit_callbacks(execute=True):
        delivery_confirm(delivery_id=rest.pk, actor=facilitator)
    for user in (owner, second):
        assert len(receipts(user)) == 2
        # The last receipt completes the commitment: said in the update, not in another.
        latest = Notification.objects.filter(user=user).order_by("-pk").first()
        assert "#delivery-" in latest.url and "6 paket" in latest.body
    assert Notification.objects.count() - before == 4


def test_the_update_links_public_photos_only(django_capture_on_commit_callbacks):
    world = make_world()
    [update] = receipts(world.named_member)
    assert update.url.endswith(f"#delivery-{world.received.pk}")
    # Made public after the receipt: the link (the public record) shows it; no new message.
    assert f"/bukti-publik/{world.private_photo.pk}/" not in update.body
    assert f"/bukti-publik/{world.receipt_photo.pk}/" not in update.body
    assert "Rahasiawati" not in update.body


def quarter_start_after(day: datetime.date) -> datetime.datetime:
    month = 3 * ((day.month - 1) // 3) + 4
    year = day.year + (month > 12)
    month = month - 12 if month > 12 else month
    return datetime.datetime(year, month, 1, 8, tzinfo=timezone.get_current_timezone())


def test_the_quarterly_summary_goes_once_per_quarter(settings):
    world = make_world()
    lonely, _member = collaborator_and_member()  # delivered nothing: no summary
    assert lonely
    now = quarter_start_after(timezone.localdate())
    start, end = last_quarter(now)
    assert start <= timezone.localdate() < end
    marker = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert quarterly_summaries_send(now=now) == 2  # the named and the anonymous giver
    assert quarterly_summaries_send(now=now) == 0
    assert send_quarterly_summaries() == 0  # this quarter's run: nothing received yet
    assert CollaboratorQuarterlySummary.objects.count() == 2
    [summary] = Notification.objects.filter(user=world.named_member, pk__gt=marker)
    # Received this quarter: the named giver's 10 packages (the 3 waiting are not received).
    assert "10 paket" in summary.body and "3 paket" not in summary.body
    assert "RW 01, Kali Anyar" in summary.body
    row = CollaboratorQuarterlySummary.objects.get(collaborator=world.named.collaborator)
    assert row.deliveries == 1 and row.quarter == start
    [hidden] = Notification.objects.filter(user=world.hidden_member, pk__gt=marker)
    assert "5 paket" in hidden.body
    # The next quarter's run may send again (a new quarter), not this one's.
    later = quarter_start_after(now.date() + datetime.timedelta(days=1))
    assert quarterly_summaries_send(now=later) == 0  # nothing received in that quarter
