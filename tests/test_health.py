"""The health endpoint: what a monitor or a container healthcheck sees when everything is
up, when the broker or the database is down (503, answered fast), and when the summaries
are falling behind (still 200, "degraded", with their age)."""

import datetime
import os
import time

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from commitments.figures.summaries import summaries_rebuild
from commitments.models import CommitmentSummary, SummaryDirtyKey
from programs.models import Program

from .conftest import celery_broker
from .world import LifecycleWorld

pytestmark = pytest.mark.django_db

URL = "/kesehatan/"


def test_the_health_endpoint_is_named_and_public(client):
    assert reverse("health") == URL
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok"}
    # Tests run Celery eagerly, as the portal does without REDIS_URL.
    assert body["broker"] == {"status": "ok", "broker": "eager (none)"}
    assert body["summaries"]["status"] == "ok"
    assert body["summaries"]["stale_keys"] == 0
    assert client.head(URL).status_code == 200  # monitors that only look at the status
    assert client.post(URL).status_code == 405


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
def test_with_a_real_redis_broker_the_broker_is_reported_up(client):
    with celery_broker(os.environ["REDIS_URL"], eager=False):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["broker"]["status"] == "ok"
    assert os.environ["REDIS_URL"] not in response.content.decode()


@pytest.mark.parametrize("down", ["refused", "silent"])
def test_with_the_broker_down_it_answers_503_within_about_a_second(client, request, down):
    if down == "refused":
        url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    else:
        url = f"redis://127.0.0.1:{request.getfixturevalue('silent_port')}/0"
    with celery_broker(url, eager=False):
        started = time.monotonic()
        response = client.get(URL)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["broker"]["status"] == "down"
    assert body["database"] == {"status": "ok"}
    assert "127.0.0.1" not in response.content.decode()  # no addresses for the public
    assert elapsed < 1.5, elapsed  # REDIS_TIMEOUT is 0.5 s


def test_with_the_database_down_it_answers_503(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get(URL)
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"status": "down", "error": "OperationalError"}
    assert body["summaries"] == {"status": "unknown"}


def test_summaries_waiting_too_long_are_reported_with_their_age(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SUMMARY_MAX_AGE_SECONDS = 600
    world = LifecycleWorld()
    with django_capture_on_commit_callbacks(execute=True):
        world.pledge(0)  # summarised at once (eager)
    with celery_broker("redis://127.0.0.1:1/0", eager=False):
        with django_capture_on_commit_callbacks(execute=True):
            world.act("confirm", 0)  # the broker is down: the key stays stale
    assert SummaryDirtyKey.objects.count() == 1

    # Just marked stale: the periodic catch-up has time yet.
    summaries = client.get(URL).json()["summaries"]
    assert summaries["status"] == "ok"
    assert summaries["stale_keys"] == 1
    assert 0 <= summaries["age_seconds"] < 60
    assert 0 <= summaries["stale_for_seconds"] < 60

    # Two hours later nothing has drained it: degraded, but the portal still serves.
    now = timezone.now()
    CommitmentSummary.objects.update(computed_at=now - datetime.timedelta(hours=3))
    SummaryDirtyKey.objects.update(created_at=now - datetime.timedelta(hours=2))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    summaries = body["summaries"]
    assert summaries["status"] == "degraded"
    assert summaries["stale_keys"] == 1
    assert 3 * 3600 <= summaries["age_seconds"] < 3 * 3600 + 60
    assert 2 * 3600 <= summaries["stale_for_seconds"] < 2 * 3600 + 60
    assert summaries["max_age_seconds"] == 600


def test_a_rebuild_with_nothing_to_repair_moves_the_time_the_summaries_were_complete(client):
    world = LifecycleWorld()
    world.pledge(0)
    summaries_rebuild()
    hours_ago = timezone.now() - datetime.timedelta(hours=3)
    CommitmentSummary.objects.update(computed_at=hours_ago)
    Program.objects.update(live_updated_at=hours_ago)
    summaries = client.get(URL).json()["summaries"]
    assert summaries["complete_seconds"] >= 3 * 3600

    summaries_rebuild()

    summaries = client.get(URL).json()["summaries"]
    assert 0 <= summaries["complete_seconds"] < 60
    if connection.vendor == "postgresql":  # no row was written (SQLite writes them all)
        assert summaries["age_seconds"] >= 3 * 3600
