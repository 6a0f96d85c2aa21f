"""After-commit work runs once per transaction however many changes ask for it: a plan of
many lines publishes one summary refresh, one map version bump and one email job (so a slow
broker or cache costs its timeout once), and work asked for inside a savepoint that is
rolled back does not take the same work of the rest of the transaction with it."""

import uuid

import pytest
from django.db import transaction

from commitments.assistant.plans import plan_pledge
from commitments.jobs import REFRESH_SUMMARIES, SEND_PENDING_NOTIFICATIONS, requester
from commitments.models import Commitment, Notification
from ksbb.after_commit import on_commit_once
from locations.mapdata import needs_changed

from .factories import CollaboratorFactory, NeedFactory, facilitator_of, member_of

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def test_a_plan_of_six_lines_queues_each_job_once():
    needs = [NeedFactory(quantity_needed=10) for _ in range(6)]
    facilitator_of(needs[0].area.code)
    collaborator = CollaboratorFactory()
    before = len(transaction.get_connection().run_on_commit)
    plan_pledge(
        user=member_of(collaborator),
        collaborator=collaborator,
        lines=[(need.pk, 2) for need in needs],
        idempotency_key=uuid.uuid4().hex,
    )
    assert Commitment.objects.filter(collaborator=collaborator).count() == 6
    # What the plan left waiting for the commit.
    waiting = [
        func for _savepoints, func, _robust in transaction.get_connection().run_on_commit[before:]
    ]
    send_emails = requester(SEND_PENDING_NOTIFICATIONS)
    for job in (requester(REFRESH_SUMMARIES), needs_changed, send_emails):
        assert waiting.count(job) == 1, job
    # The one email job sends the facilitator's six notifications.
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 6
    assert send_emails() is True
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_work_of_a_savepoint_rolled_back_does_not_cancel_the_same_work_of_the_rest(
    django_capture_on_commit_callbacks,
):
    runs = []

    def job():
        runs.append(1)

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    on_commit_once(job)
                    raise Rollback
            except Rollback:
                pass
            with transaction.atomic():
                on_commit_once(job)  # in a savepoint released below: still runs
            on_commit_once(job)
            on_commit_once(job)
    assert runs == [1]
