"""What the pages made to stay flat as commitments grow (bench/pages.py) still show: the
workspace counts what waits up to a limit and says "more than" past it; the API's summaries
give the same count and time whether the first page holds every group or not; "my
commitments" flags the commitments with no news exactly as the quiet list finds them."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from commitments.figures.summaries import summaries_rebuild
from commitments.models import Commitment, Delivery
from commitments.web.workspace_views import COUNT_UP_TO
from locations.models import Area
from programs.models import Program

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
)

pytestmark = pytest.mark.django_db


def _pledges(need, collaborator, count: int) -> None:
    Commitment.objects.bulk_create(
        Commitment(
            collaborator=collaborator,
            need=need,
            area=need.area,
            program=need.program,
            donation_form=need.donation_form,
            quantity=1,
            idempotency_key=uuid.uuid4().hex,
        )
        for _ in range(count)
    )


def test_the_workspace_counts_pledges_up_to_its_limit_then_says_more_than(client):
    need = NeedFactory(quantity_needed=10_000)
    lead = lead_of(need.program.slug)
    client.force_login(lead)
    _pledges(need, CollaboratorFactory(), 3)
    page = client.get(reverse("workspace")).content.decode()
    assert "3 janji donasi perlu dikonfirmasi" in page
    assert "lebih dari" not in page
    _pledges(need, CollaboratorFactory(), COUNT_UP_TO)
    page = client.get(reverse("workspace")).content.decode()
    assert f"lebih dari {COUNT_UP_TO} janji donasi perlu dikonfirmasi" in page
    assert "0 penyaluran perlu diterima" in page


def test_summaries_count_and_time_agree_on_a_whole_page_and_a_partial_one():
    api = APIClient()
    need = NeedFactory()
    for status in ("committed", "completed", "pledged", "cancelled"):
        commitment_in(status, need=need, collaborator=CollaboratorFactory(), quantity=2)
    summaries_rebuild()
    whole = api.get("/api/v1/summaries/?group_by=status").json()
    assert whole["count"] == 4 and len(whole["results"]) == 4 and whole["next"] is None
    first = api.get("/api/v1/summaries/?group_by=status&page_size=3").json()
    assert first["count"] == 4 and len(first["results"]) == 3 and first["next"]
    assert first["computed_at"] == whole["computed_at"] is not None
    second = api.get(first["next"]).json()
    assert second["count"] == 4 and second["computed_at"] == whole["computed_at"]
    assert [r["status"] for r in first["results"] + second["results"]] == [
        r["status"] for r in whole["results"]
    ]
    assert api.get("/api/v1/summaries/?group_by=status&page=3&page_size=3").status_code == 404


def test_my_commitments_flags_no_news_as_the_quiet_list_does(client):
    need = NeedFactory(quantity_needed=100)
    collaborator = CollaboratorFactory()
    member = member_of(collaborator)
    old = timezone.now() - datetime.timedelta(days=need.program.no_news_days + 3)
    waiting = commitment_in("committed", need=need, collaborator=collaborator, quantity=1)
    done = commitment_in("completed", need=need, collaborator=collaborator, quantity=1)
    fresh = commitment_in("committed", need=need, collaborator=collaborator, quantity=1)
    Commitment.objects.filter(pk__in=[waiting.pk, done.pk]).update(last_event_at=old)
    quiet = set(Commitment.objects.quiet(Program.objects.all()).values_list("pk", flat=True))
    assert {waiting.pk, done.pk, fresh.pk} & quiet == {waiting.pk}
    client.force_login(member)
    page = client.get(reverse("my-commitments")).content.decode()
    rows = {pk: page.split(f"#{pk}<", 1)[1].split("</tr>", 1)[0] for pk in (waiting.pk, done.pk)}
    assert "no-news" in rows[waiting.pk]
    assert "no-news" not in rows[done.pk]
    assert "no-news" not in page.split(f"#{fresh.pk}<", 1)[1].split("</tr>", 1)[0]


def test_a_kelurahan_head_receives_the_deliveries_of_its_rw_only(client):
    need = NeedFactory(quantity_needed=100)
    elsewhere = NeedFactory(
        quantity_needed=100,
        area=Area.objects.filter(level="rw").exclude(parent=need.area.parent).first(),
    )
    collaborator = CollaboratorFactory()
    mine = commitment_in("committed", need=need, collaborator=collaborator, quantity=2)
    theirs = commitment_in("committed", need=elsewhere, collaborator=collaborator, quantity=2)
    received = commitment_in("committed", need=need, collaborator=collaborator, quantity=2)
    today = timezone.localdate()
    for commitment in (mine, theirs, received):
        Delivery.objects.create(commitment=commitment, quantity=1, delivered_on=today)
    Delivery.objects.filter(commitment=received).update(confirmed_at=timezone.now())
    client.force_login(facilitator_of(need.area.parent.code, title="Lurah"))
    inbox = client.get(reverse("facilitator-inbox")).content.decode()
    assert f"#{mine.pk}<" in inbox
    assert f"#{theirs.pk}<" not in inbox and f"#{received.pk}<" not in inbox
    page = client.get(reverse("workspace")).content.decode()
    assert "1 penyaluran perlu diterima" in page
