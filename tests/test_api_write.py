"""API v1 writes through real HTTP requests: pledges with an Idempotency-Key, status
changes, deliveries with proof, needs upkeep, offline commitments and exports, each by role
(allowed, or refused with a problem-details body), with bad input refused and nothing
written."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from collaborators.models import Collaborator
from commitments.models import Commitment, Delivery, Export, Status
from ksbb.settings import redis_cache
from locations.models import Need, NeedChange

from .api_world import pledge_by_api
from .conftest import celery_broker
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
    png,
)

pytestmark = pytest.mark.django_db

RW_X = "31.73.04.1002.001"  # where NeedFactory puts its needs
RW_Y = "31.73.04.1002.002"
PROBLEM = "application/problem+json"
PLEDGES = reverse("api-commitment-list")
NEEDS = reverse("api-need-list")
OFFLINE = reverse("api-offline-commitment-list")
EXPORTS = reverse("api-export-list")


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:2000]
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and "/api/problems/#" in body["type"]
    return body


def soon(days=7) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def need():
    return NeedFactory(quantity_needed=10)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- pledges --------------------------------------------------------------------------------


def test_a_pledge_is_created_once_and_a_retry_gets_the_same_answer(need, donor):
    collaborator, member = donor
    client = api(member)
    first = pledge_by_api(
        client, need, collaborator, planned_delivery_on=soon(), note="Minggu depan"
    )
    assert first.status_code == 201, first.content
    body = first.json()
    commitment = Commitment.objects.get()
    assert body["id"] == commitment.pk and body["quantity"] == 2 and body["need"] == need.pk
    assert first["Location"] == body["url"] and body["url"].endswith(
        reverse("api-commitment-detail", args=[commitment.pk])
    )
    assert "Idempotent-Replayed" not in first
    assert commitment.status == Status.PLEDGED and commitment.created_by == member

    # The network dropped the answer: the client sends the same request again, and again
    # once the pledge has moved on.
    again = pledge_by_api(
        client, need, collaborator, planned_delivery_on=soon(), note="Minggu depan"
    )
    Commitment.objects.filter(pk=commitment.pk).update(status=Status.COMMITTED)
    later = pledge_by_api(
        client, need, collaborator, planned_delivery_on=soon(), note="Minggu depan"
    )
    for replay in (again, later):
        assert replay.status_code == 201
        assert replay.content == first.content
        assert replay["Idempotent-Replayed"] == "true"
        assert replay["Location"] == first["Location"]
    assert Commitment.objects.count() == 1
    need.refresh_from_db()
    assert need.quantity_claimed == 2
    # The pledge is then read at its URL, with its current status.
    assert client.get(body["url"]).json()["status"] == "committed"


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": 3},
        {"note": "something else"},
        {"is_anonymous": True},
        {"planned_delivery_on": soon(9)},
    ],
)
def test_a_reused_key_with_another_body_is_a_conflict_and_writes_nothing(need, donor, change):
    collaborator, member = donor
    client = api(member)
    assert pledge_by_api(client, need, collaborator).status_code == 201
    body = is_problem(pledge_by_api(client, need, collaborator, **change), 409)
    assert "Idempotency-Key" in body["detail"]
    assert Commitment.objects.count() == 1
    need.refresh_from_db()
    assert need.quantity_claimed == 2
    # A new key is a new pledge.
    assert pledge_by_api(client, need, collaborator, key="key-2", **change).status_code == 201


def test_a_reused_key_for_another_need_is_a_conflict(need, donor):
    collaborator, member = donor
    other = NeedFactory(quantity_needed=10)
    client = api(member)
    assert pledge_by_api(client, need, collaborator).status_code == 201
    is_problem(pledge_by_api(client, other, collaborator), 409)
    other.refresh_from_db()
    assert other.quantity_claimed == 0


def test_the_idempotency_key_is_required_and_bounded(need, donor):
    collaborator, member = donor
    client = api(member)
    assert (
        "Idempotency-Key"
        in is_problem(pledge_by_api(client, need, collaborator, key=None), 428)["detail"]
    )
    for bad in ("x" * 101, "tab\there", "   "):
        body = is_problem(pledge_by_api(client, need, collaborator, key=bad), 400)
        assert "Idempotency-Key" in body["errors"]
    assert Commitment.objects.count() == 0
    # Long and odd (but printable) keys are fine, and hashed to fit the column.
    key = "k" * 100
    assert pledge_by_api(client, need, collaborator, key=key).status_code == 201
    stored = Commitment.objects.get().idempotency_key
    assert len(stored) == 64 and stored != key


def test_refused_pledges_get_the_domains_message_as_a_422(need, donor):
    collaborator, member = donor
    client = api(member)
    body = is_problem(pledge_by_api(client, need, collaborator, quantity=11), 422)
    assert "10" in body["detail"]  # what remains
    stranger = CollaboratorFactory()  # not the member's: forbidden, and not named
    body = is_problem(pledge_by_api(client, need, stranger), 403)
    assert stranger.name not in body["detail"]
    Need.objects.filter(pk=need.pk).update(status=Need.Status.CLOSED)
    is_problem(pledge_by_api(client, need, collaborator), 422)
    assert Commitment.objects.count() == 0


def test_an_unverified_collaborator_pledges_within_its_limits(need):
    collaborator = CollaboratorFactory(verification_status=Collaborator.Verification.UNVERIFIED)
    client = api(member_of(collaborator))
    body = is_problem(pledge_by_api(client, need, collaborator, quantity=10), 422)
    assert "Limit" in body["detail"] or "Batas" in body["detail"]
    assert Commitment.objects.count() == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"quantity": 0},
        {"quantity": 2**31},
        {"quantity": "many"},
        {"need": 10**30},
        {"need": -1},
        {"collaborator": 9_223_372_036_854_775_807},
        {"aggregator": 10**20},
        {"note": "a\x00b"},
        {"note": "x" * 1001},
        {"planned_delivery_on": "1999-01-01"},
        {"planned_delivery_on": soon(400)},
        {"planned_delivery_on": "9999-99-99"},
        {"is_anonymous": "perhaps"},
    ],
)
def test_bad_pledge_input_is_a_400_and_writes_nothing(need, donor, bad):
    collaborator, member = donor
    body = is_problem(pledge_by_api(api(member), need, collaborator, **bad), 400)
    assert set(bad) <= set(body["errors"])
    assert Commitment.objects.count() == 0
    need.refresh_from_db()
    assert need.quantity_claimed == 0


def test_pledging_needs_a_signed_in_user_or_a_token(need, donor):
    collaborator, member = donor
    is_problem(pledge_by_api(api(), need, collaborator), 401)
    token, key = ApiToken.issue(user=member, name="ERP", collaborator=collaborator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert pledge_by_api(client, need, collaborator).status_code == 201
    # A token bound to one collaborator cannot pledge for another the user belongs to.
    other = CollaboratorFactory()
    from collaborators.models import Membership

    Membership.objects.create(user=member, collaborator=other, role=Membership.Role.OWNER)
    is_problem(pledge_by_api(client, need, other, key="key-9"), 403)


def test_a_statement_letter_is_checked_like_the_web_form(need, donor):
    collaborator, member = donor
    client = api(member)
    fake = SimpleUploadedFile("surat.pdf", png(), content_type="application/pdf")
    body = is_problem(
        pledge_by_api(client, need, collaborator, fmt="multipart", statement_letter=fake), 400
    )
    assert "statement_letter" in body["errors"]
    assert Commitment.objects.count() == 0
    letter = SimpleUploadedFile("surat.pdf", PDF, content_type="application/pdf")
    response = pledge_by_api(client, need, collaborator, fmt="multipart", statement_letter=letter)
    assert response.status_code == 201, response.content
    assert Commitment.objects.get().statement_letter.name.endswith(".pdf")


@pytest.mark.parametrize("down", ["redis://127.0.0.1:1/0"])
def test_with_the_broker_down_a_pledge_is_still_created(
    need, donor, down, settings, django_capture_on_commit_callbacks
):
    settings.CACHES = {"default": redis_cache(down, key_prefix="test-down")}
    collaborator, member = donor
    with celery_broker(down, eager=False), django_capture_on_commit_callbacks(execute=True):
        response = pledge_by_api(api(member), need, collaborator)
    assert response.status_code == 201, response.content
    assert Commitment.objects.count() == 1


def test_pledging_has_its_own_tighter_throttle(need, donor, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "pledge": "2/min",
        },
    }
    collaborator, member = donor
    client = api(member)
    assert pledge_by_api(client, need, collaborator, key="a", quantity=1).status_code == 201
    assert pledge_by_api(client, need, collaborator, key="b", quantity=1).status_code == 201
    is_problem(pledge_by_api(client, need, collaborator, key="c", quantity=1), 429)
    assert client.get(PLEDGES).status_code == 200  # reads are not counted with pledges


# --- transitions ----------------------------------------------------------------------------


def transitions(pk):
    return reverse("api-commitment-transitions", args=[pk])


def test_status_changes_by_role(need, donor):
    collaborator, member = donor
    commitment = commitment_in("pledged", need=need, collaborator=collaborator, quantity=4)
    facilitator = facilitator_of(RW_X)
    outsider = member_of(CollaboratorFactory())

    listed = api(member).get(transitions(commitment.pk))
    assert [t["to_status"] for t in listed.json()] == ["cancelled"]
    assert {t["to_status"] for t in api(facilitator).get(transitions(commitment.pk)).json()} == {
        "committed",
        "rejected",
    }
    # The collaborator may not confirm its own pledge; a stranger does not see it at all.
    is_problem(api(member).post(transitions(commitment.pk), {"to_status": "committed"}), 403)
    is_problem(api(outsider).post(transitions(commitment.pk), {"to_status": "cancelled"}), 404)
    is_problem(api(outsider).get(transitions(commitment.pk)), 404)
    # Rejecting needs a reason; an unknown status is a 400; a jump is refused.
    is_problem(api(facilitator).post(transitions(commitment.pk), {"to_status": "rejected"}), 422)
    is_problem(api(facilitator).post(transitions(commitment.pk), {"to_status": "lost"}), 400)
    is_problem(api(facilitator).post(transitions(commitment.pk), {"to_status": "completed"}), 422)
    commitment.refresh_from_db()
    assert commitment.status == Status.PLEDGED

    response = api(facilitator).post(transitions(commitment.pk), {"to_status": "committed"})
    assert response.status_code == 200 and response.json()["status"] == "committed"
    assert commitment.events.filter(to_status="committed", actor=facilitator).exists()

    response = api(member).post(
        transitions(commitment.pk), {"to_status": "cancelled", "reason": "Stok habis"}
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    need.refresh_from_db()
    assert need.quantity_claimed == 0  # released


def test_a_bad_reason_is_refused(need, donor):
    collaborator, member = donor
    commitment = commitment_in("pledged", need=need, collaborator=collaborator, quantity=4)
    for reason in ("x" * 1001, "nul\x00"):
        body = is_problem(
            api(member).post(
                transitions(commitment.pk),
                {"to_status": "cancelled", "reason": reason},
                format="json",
            ),
            400,
        )
        assert "reason" in body["errors"]
    commitment.refresh_from_db()
    assert commitment.status == Status.PLEDGED


# --- deliveries -----------------------------------------------------------------------------


def deliver(client, commitment, **extra):
    body = {
        "quantity": 3,
        "delivered_on": timezone.localdate().isoformat(),
        "recipients_households": 5,
        "proofs": [SimpleUploadedFile("foto.png", png(), content_type="image/png")],
        **extra,
    }
    return client.post(
        reverse("api-commitment-deliveries", args=[commitment.pk]), body, format="multipart"
    )


def confirm(client, delivery):
    url = reverse("api-commitment-delivery-confirm", args=[delivery.commitment_id, delivery.pk])
    return client.post(url)


def test_deliveries_are_recorded_by_the_collaborator_and_confirmed_by_the_facilitator(need, donor):
    collaborator, member = donor
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=3)
    facilitator = facilitator_of(RW_X)
    outsider = member_of(CollaboratorFactory())

    is_problem(deliver(api(facilitator), commitment), 403)  # a platform gift: its donor's
    is_problem(deliver(api(outsider), commitment), 404)
    response = deliver(api(member), commitment)
    assert response.status_code == 201, response.content
    assert response.json()["proofs"] == ["photo"]
    delivery = Delivery.objects.get()
    commitment.refresh_from_db()
    assert commitment.status == Status.DELIVERED

    is_problem(confirm(api(member), delivery), 403)
    is_problem(confirm(api(outsider), delivery), 404)
    response = confirm(api(facilitator), delivery)
    assert response.status_code == 200 and response.json()["confirmed_at"]
    commitment.refresh_from_db()
    assert commitment.status == Status.COMPLETED
    is_problem(confirm(api(facilitator), delivery), 422)  # already confirmed
    # A delivery of another commitment is not found under this one.
    url = reverse("api-commitment-delivery-confirm", args=[commitment.pk, delivery.pk + 1])
    is_problem(api(facilitator).post(url), 404)


@pytest.mark.parametrize(
    "bad",
    [
        {"proofs": [SimpleUploadedFile("foto.jpg", b"MZ not an image", content_type="image/jpeg")]},
        {"proofs": []},
        {"quantity": 0},
        {"quantity": 2**31},
        {"delivered_on": "2999-01-01"},
        {"recipients_persons": -1},
        {"recipients_persons": 2**31},
        {"note": "x" * 1001},
    ],
)
def test_bad_deliveries_are_refused_and_write_nothing(need, donor, bad, private_files):
    collaborator, member = donor
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=3)
    body = is_problem(deliver(api(member), commitment, **bad), 400)
    assert set(bad) <= set(body["errors"])
    assert Delivery.objects.count() == 0
    assert not any(p.is_file() for p in private_files.rglob("*"))


def test_more_than_is_left_to_deliver_is_a_422(need, donor, private_files):
    collaborator, member = donor
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=3)
    is_problem(deliver(api(member), commitment, quantity=4), 422)
    pledged = commitment_in("pledged", need=need, collaborator=collaborator, quantity=1)
    is_problem(deliver(api(member), pledged, quantity=1), 422)
    assert Delivery.objects.count() == 0
    assert not any(p.is_file() for p in private_files.rglob("*"))


# --- needs upkeep ---------------------------------------------------------------------------


def need_body(**extra):
    from tests.factories import pangan_groceries

    form = pangan_groceries()
    return {
        "area": RW_X,
        "program": form.program_id,
        "donation_form": form.pk,
        "quantity_needed": 40,
        "priority": 1,
        "households": 20,
        "valid_until": soon(60),
        **extra,
    }


def test_a_facilitator_adds_needs_in_their_area_only():
    facilitator = facilitator_of(RW_X, title="Ketua RW 01")
    response = api(facilitator).post(NEEDS, need_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["quantity_needed"] == 40 and body["version"] == 1
    assert body["assessed_by_role"] == "Ketua RW 01"
    is_problem(api(facilitator).post(NEEDS, need_body(area=RW_Y), format="json"), 403)
    is_problem(api(member_of(CollaboratorFactory())).post(NEEDS, need_body(), format="json"), 403)
    is_problem(api().post(NEEDS, need_body(), format="json"), 401)
    assert Need.objects.filter(area__code=RW_Y).count() == 0
    assert Need.objects.count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"quantity_needed": 0},
        {"quantity_needed": 2**31},
        {"households": 2**31},
        {"unit_value_idr": "1e20"},
        {"valid_until": "2000-01-01"},
        {"valid_until": soon(800)},
        {"description": "x" * 5001},
        {"description": "\x00"},
        {"area": "31.73"},  # a kota: needs are for RW and kelurahan
        {"area": "x" * 41},
        {"program": 10**25},
        {"priority": 9},
    ],
)
def test_bad_needs_are_refused(bad):
    facilitator = facilitator_of(RW_X)
    body = is_problem(api(facilitator).post(NEEDS, need_body(**bad), format="json"), 400)
    assert set(bad) <= set(body["errors"])
    assert Need.objects.count() == 0


def test_a_donation_form_of_another_program_is_refused():
    from programs.models import DonationForm

    other = DonationForm.objects.exclude(program__slug="pangan").first()
    facilitator = facilitator_of(RW_X)
    body = is_problem(
        api(facilitator).post(NEEDS, need_body(donation_form=other.pk), format="json"), 400
    )
    assert "donation_form" in body["errors"]


def test_a_need_is_changed_against_the_version_read(need):
    facilitator = facilitator_of(RW_X)
    client = api(facilitator)
    url = reverse("api-need-detail", args=[need.pk])
    is_problem(client.patch(url, {"quantity_needed": 30}, format="json"), 428)
    response = client.patch(url, {"quantity_needed": 30, "version": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["quantity_needed"] == 30 and response.json()["version"] == 2
    # Someone who read version 1 is told, with the need as it is now.
    body = is_problem(client.patch(url, {"priority": 3, "version": 1}, format="json"), 409)
    assert body["current"]["version"] == 2 and body["current"]["quantity_needed"] == 30
    # If-Match carries the version too.
    response = client.patch(url, {"priority": 3}, format="json", headers={"If-Match": '"2"'})
    assert response.status_code == 200 and response.json()["priority"] == 3
    is_problem(client.patch(url, {"priority": 2}, format="json", headers={"If-Match": "x"}), 400)
    need.refresh_from_db()
    assert need.version == 3 and need.priority == 3
    assert NeedChange.objects.filter(need=need, action="updated").count() == 2


def test_a_need_cannot_go_below_what_is_pledged(need, donor):
    collaborator, _member = donor
    commitment_in("pledged", need=need, collaborator=collaborator, quantity=6)
    client = api(facilitator_of(RW_X))
    url = reverse("api-need-detail", args=[need.pk])
    body = is_problem(client.patch(url, {"quantity_needed": 5, "version": 1}, format="json"), 422)
    assert "quantity_needed" in body["errors"]
    need.refresh_from_db()
    assert need.quantity_needed == 10 and need.version == 1


def test_a_facilitator_of_another_area_never_changes_the_need(need):
    elsewhere = facilitator_of(RW_Y)
    client = api(elsewhere)
    url = reverse("api-need-detail", args=[need.pk])
    is_problem(client.patch(url, {"quantity_needed": 1, "version": 1}, format="json"), 403)
    close = reverse("api-need-close", args=[need.pk])
    is_problem(client.post(close, {"reason": "no", "version": 1}, format="json"), 403)
    is_problem(api(lead_of("pendidikan")).post(close, {"reason": "no", "version": 1}), 403)
    need.refresh_from_db()
    assert need.version == 1 and need.status == Need.Status.OPEN


def test_closing_a_need_rejects_its_pledges(need, donor):
    collaborator, _member = donor
    pledged = commitment_in("pledged", need=need, collaborator=collaborator, quantity=2)
    client = api(lead_of("pangan"))
    close = reverse("api-need-close", args=[need.pk])
    is_problem(client.post(close, {"reason": "", "version": 1}, format="json"), 400)
    is_problem(client.post(close, {"reason": "Sudah cukup", "version": 7}, format="json"), 409)
    response = client.post(close, {"reason": "Sudah cukup", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    pledged.refresh_from_db()
    assert pledged.status == Status.REJECTED
    is_problem(client.post(close, {"reason": "again", "version": 2}, format="json"), 422)


def test_reconfirming_an_area(need):
    url = reverse("api-need-reconfirm")
    response = api(facilitator_of(RW_X)).post(url, {"area": RW_X}, format="json")
    assert response.status_code == 200 and response.json() == {"reconfirmed": 1}
    need.refresh_from_db()
    assert need.version == 2
    is_problem(api(facilitator_of(RW_Y)).post(url, {"area": RW_X}, format="json"), 403)
    is_problem(api(facilitator_of(RW_X)).post(url, {"area": "nowhere"}, format="json"), 400)
    need.refresh_from_db()
    assert need.version == 2


# --- offline commitments --------------------------------------------------------------------


def offline_body(need, collaborator, **extra):
    return {
        "collaborator": collaborator.pk,
        "need": need.pk,
        "quantity": 4,
        "made_on": timezone.localdate().isoformat(),
        **extra,
    }


def test_leads_record_offline_commitments_once(need):
    collaborator = CollaboratorFactory()
    lead = lead_of("pangan")
    client = api(lead)
    headers = {"Idempotency-Key": "rapat-2026-11"}
    first = client.post(OFFLINE, offline_body(need, collaborator), format="json", headers=headers)
    assert first.status_code == 201, first.content
    commitment = Commitment.objects.get()
    assert commitment.channel == "offline" and commitment.status == Status.COMMITTED
    again = client.post(OFFLINE, offline_body(need, collaborator), format="json", headers=headers)
    assert again.status_code == 201 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    is_problem(
        client.post(
            OFFLINE, offline_body(need, collaborator, quantity=5), format="json", headers=headers
        ),
        409,
    )
    assert Commitment.objects.count() == 1
    need.refresh_from_db()
    assert need.quantity_claimed == 4


def test_offline_commitments_by_role_and_bounds(need):
    collaborator = CollaboratorFactory()
    body = offline_body(need, collaborator)
    is_problem(api(member_of(collaborator)).post(OFFLINE, body, format="json"), 403)
    is_problem(api(lead_of("pendidikan")).post(OFFLINE, body, format="json"), 404)
    lead = api(lead_of("pangan"))
    is_problem(lead.post(OFFLINE, {**body, "quantity": 11}, format="json"), 422)
    is_problem(lead.post(OFFLINE, {**body, "made_on": soon(1)}, format="json"), 400)
    is_problem(lead.post(OFFLINE, {**body, "value_idr": "1" * 16}, format="json"), 400)
    is_problem(lead.post(OFFLINE, {**body, "need": None}, format="json"), 400)
    unverified = CollaboratorFactory(verification_status="unverified")
    is_problem(lead.post(OFFLINE, {**body, "collaborator": unverified.pk}, format="json"), 400)
    assert Commitment.objects.count() == 0
    # For an area and a donation form instead of a need.
    response = lead.post(
        OFFLINE,
        {**body, "need": None, "area": RW_Y, "donation_form": need.donation_form_id},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Commitment.objects.get().area.code == RW_Y


# --- exports --------------------------------------------------------------------------------


def test_a_lead_exports_and_downloads(need, donor, django_capture_on_commit_callbacks):
    collaborator, _member = donor
    commitment_in("committed", need=need, collaborator=collaborator, quantity=3)
    lead = lead_of("pangan")
    client = api(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EXPORTS, {"format": "hxl", "program": "pangan"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"]
    status = client.get(body["url"]).json()
    assert status["status"] == "done" and status["percent_done"] == 100
    assert [e["id"] for e in client.get(EXPORTS).json()["results"]] == [body["id"]]
    download = client.get(status["download_url"], headers={"Accept": "text/csv"})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert lines[1].startswith("#meta+id") and len(lines) == 3

    # Nobody else sees it; a collaborator has no dashboard to export.
    stranger = api(lead_of("pendidikan"))
    is_problem(stranger.get(body["url"]), 404)
    is_problem(stranger.get(status["download_url"]), 404)
    assert stranger.get(EXPORTS).json()["results"] == []
    is_problem(api(_member).post(EXPORTS, {"format": "csv"}, format="json"), 403)
    is_problem(stranger.post(EXPORTS, {"format": "csv", "program": "pangan"}, format="json"), 403)


def test_bad_export_requests_write_nothing():
    client = api(lead_of("pangan"))
    for bad in (
        {"format": "pdf"},
        {"format": "csv", "start": "2026-13"},
        {"format": "csv", "area": "nowhere"},
        {"format": "csv", "start": "2026-05", "end": "2026-03"},
        {"format": "csv", "program": "x" * 51},
        {"format": "csv", "channel": "carrier-pigeon"},
    ):
        is_problem(client.post(EXPORTS, bad, format="json"), 400)
    assert Export.objects.count() == 0


def test_an_export_not_ready_is_a_conflict():
    lead = lead_of("pangan")
    export = Export.objects.create(requested_by=lead, format="csv", filters={})
    is_problem(api(lead).get(reverse("api-export-download", args=[export.pk])), 409)
