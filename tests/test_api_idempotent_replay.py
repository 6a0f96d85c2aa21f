"""Idempotency-Key on the API writes an offline outbox sends (api.idempotency): the same
request sent twice writes once and gets the first answer again, marked replayed; the same
key with another body is a 409 and writes nothing; a refused request stores nothing, so a
corrected one can follow under the same key; concurrent duplicates (PostgreSQL) write once.
Refusals because the commitment moved meanwhile carry it as it is now (`current`)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from api.idempotency import KEEP_DAYS, idempotent_requests_forget
from api.models import IdempotentRequest
from api.tasks import forget_idempotent_requests
from commitments.lifecycle.transitions import delivery_record
from commitments.lifecycle.uploads import CleanUpload
from commitments.models import Commitment, CommitmentEvent, Delivery, DeliveryProof, Status
from locations.models import Need, NeedChange

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    collaborator_and_member,
    commitment_in,
    facilitator_of,
    lead_of,
    png,
)
from .world import run_in_threads, signed_in, small_world

RW_X = "31.73.04.1002.001"  # where NeedFactory puts its needs
RW_Y = "31.73.04.1002.002"
PROBLEM = "application/problem+json"
REPLAYED = "Idempotency-Replayed"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


def api(user) -> APIClient:
    return signed_in(user, APIClient)


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:2000]
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and "/api/problems/#" in body["type"]
    return body


def soon(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def stored(root) -> set:
    return {p for p in root.rglob("*") if p.is_file()}


def photo(color=(10, 200, 30), name="foto.png") -> SimpleUploadedFile:
    out = BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def a_delivery(commitment, actor) -> Delivery:
    return delivery_record(
        commitment_id=commitment.pk,
        actor=actor,
        quantity=commitment.quantity,
        delivered_on=timezone.localdate(),
        recipients_households=2,
        recipients_persons=5,
        proofs=[CleanUpload("bukti.png", png(), "image/png", "photo")],
    )


@dataclass
class Case:
    """One endpoint: who sends what, and what counts as written."""

    user: object
    method: str
    url: str
    good: Callable[[], dict]
    other: Callable[[], dict]
    bad: Callable[[], dict]
    written: Callable[[], object]
    multipart: bool = False

    def send(self, body: dict, key: str | None, client: APIClient | None = None):
        client = client or api(self.user)
        headers = {"Idempotency-Key": key} if key else {}
        fmt = "multipart" if self.multipart else "json"
        return getattr(client, self.method)(self.url, body, format=fmt, headers=headers)


def need_create_case(need: Need) -> Case:
    form = need.donation_form

    def body(**extra):
        return {
            "area": need.area.code,
            "program": form.program_id,
            "donation_form": form.pk,
            "quantity_needed": 40,
            "priority": 1,
            "valid_until": soon(60),
            **extra,
        }

    return Case(
        facilitator_of(need.area.code),
        "post",
        reverse("api-need-list"),
        good=body,
        other=lambda: body(quantity_needed=41),
        bad=lambda: body(quantity_needed=0),
        written=lambda: Need.objects.count(),
    )


def need_edit_case(need: Need) -> Case:
    return Case(
        facilitator_of(need.area.code),
        "patch",
        reverse("api-need-detail", args=[need.pk]),
        good=lambda: {"quantity_needed": 30, "version": 1},
        other=lambda: {"quantity_needed": 31, "version": 1},
        bad=lambda: {"quantity_needed": 30},  # no version: 428
        written=lambda: NeedChange.objects.filter(need=need, action="updated").count(),
    )


def reconfirm_case(need: Need) -> Case:
    return Case(
        facilitator_of(need.area.code),
        "post",
        reverse("api-need-reconfirm"),
        good=lambda: {"area": need.area.code},
        other=lambda: {"area": RW_Y},
        bad=lambda: {"area": "nowhere"},
        written=lambda: Need.objects.get(pk=need.pk).version,
    )


def transition_case(need: Need) -> Case:
    collaborator, _member = collaborator_and_member()
    commitment = commitment_in("pledged", need=need, collaborator=collaborator, quantity=2)
    return Case(
        facilitator_of(need.area.code),
        "post",
        reverse("api-commitment-transitions", args=[commitment.pk]),
        good=lambda: {"to_status": "committed", "reason": ""},
        other=lambda: {"to_status": "rejected", "reason": "Tidak sesuai"},
        bad=lambda: {"to_status": "committed", "reason": "\x00"},
        written=lambda: CommitmentEvent.objects.filter(commitment=commitment).count(),
    )


def delivery_case(need: Need) -> Case:
    collaborator, member = collaborator_and_member()
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=3)

    def body(**extra):
        return {
            "quantity": 2,
            "delivered_on": timezone.localdate().isoformat(),
            "proofs": [photo()],
            **extra,
        }

    return Case(
        member,
        "post",
        reverse("api-commitment-deliveries", args=[commitment.pk]),
        good=body,
        other=lambda: body(proofs=[photo((200, 10, 10))]),
        bad=lambda: body(proofs=[SimpleUploadedFile("foto.jpg", b"MZ not an image")]),
        written=lambda: (Delivery.objects.count(), DeliveryProof.objects.count()),
        multipart=True,
    )


def confirm_case(need: Need) -> Case:
    collaborator, member = collaborator_and_member()
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=3)
    delivery = a_delivery(commitment, member)
    return Case(
        facilitator_of(need.area.code),
        "post",
        reverse("api-commitment-delivery-confirm", args=[commitment.pk, delivery.pk]),
        good=lambda: {"photos": [photo()]},
        other=lambda: {"photos": [photo((0, 0, 250))]},
        bad=lambda: {"photos": [SimpleUploadedFile("foto.png", b"\x89PNG\r\n\x1a\nrusak")]},
        written=lambda: (
            Delivery.objects.filter(confirmed_at__isnull=False).count(),
            DeliveryProof.objects.filter(at_receipt=True).count(),
            CommitmentEvent.objects.count(),
        ),
        multipart=True,
    )


CASES = {
    "need-create": need_create_case,
    "need-edit": need_edit_case,
    "need-reconfirm": reconfirm_case,
    "commitment-transition": transition_case,
    "delivery-record": delivery_case,
    "delivery-confirm": confirm_case,
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", CASES)
def test_the_same_key_twice_writes_once_and_answers_the_same(name):
    case = CASES[name](NeedFactory(quantity_needed=10))
    before = case.written()
    key = str(uuid.uuid4())
    first = case.send(case.good(), key)
    assert 200 <= first.status_code < 300, first.content.decode()[:2000]
    assert REPLAYED not in first
    written = case.written()
    assert written != before

    again = case.send(case.good(), key)  # another session of the same user, too
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again[REPLAYED] == "true"
    assert case.written() == written

    body = is_problem(case.send(case.other(), key), 409)
    assert "Idempotency-Key" in body["detail"]
    assert case.written() == written
    assert IdempotentRequest.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", CASES)
def test_a_refused_request_stores_nothing_and_its_corrected_retry_goes_through(name, private_files):
    case = CASES[name](NeedFactory(quantity_needed=10))
    before = case.written()
    files = stored(private_files)
    key = str(uuid.uuid4())
    refused = case.send(case.bad(), key)
    assert 400 <= refused.status_code < 500 and REPLAYED not in refused
    assert case.written() == before
    assert IdempotentRequest.objects.count() == 0
    assert stored(private_files) == files

    corrected = case.send(case.good(), key)
    assert 200 <= corrected.status_code < 300, corrected.content.decode()[:2000]
    assert case.written() != before
    assert case.send(case.good(), key)[REPLAYED] == "true"


@pytest.mark.django_db
def test_without_a_key_nothing_is_stored_and_a_bad_key_is_a_400():
    case = need_create_case(NeedFactory(quantity_needed=10))
    assert case.send(case.good(), None).status_code == 201
    assert case.send(case.good(), None).status_code == 201
    assert Need.objects.count() == 3 and IdempotentRequest.objects.count() == 0
    body = is_problem(case.send(case.good(), "x" * 101), 400)
    assert "Idempotency-Key" in body["errors"]
    assert Need.objects.count() == 3


@pytest.mark.django_db
def test_keys_are_per_user_and_per_request():
    """Another user's key is not this user's; a key reused on another endpoint is a 409."""
    case = need_create_case(NeedFactory(quantity_needed=10))
    key = str(uuid.uuid4())
    assert case.send(case.good(), key).status_code == 201
    other_facilitator = facilitator_of(RW_X)
    assert case.send(case.good(), key, client=api(other_facilitator)).status_code == 201
    assert Need.objects.count() == 3
    reconfirm = api(case.user).post(
        reverse("api-need-reconfirm"),
        {"area": RW_X},
        format="json",
        headers={"Idempotency-Key": key},
    )
    is_problem(reconfirm, 409)


@pytest.mark.django_db
def test_pledges_and_offline_commitments_replay_with_the_contract_header():
    need = NeedFactory(quantity_needed=10)
    collaborator = CollaboratorFactory()
    client = api(lead_of("pangan"))
    body = {
        "collaborator": collaborator.pk,
        "need": need.pk,
        "quantity": 4,
        "made_on": timezone.localdate().isoformat(),
    }
    url = reverse("api-offline-commitment-list")
    headers = {"Idempotency-Key": "rapat-2026-12"}
    first = client.post(url, body, format="json", headers=headers)
    again = client.post(url, body, format="json", headers=headers)
    assert first.status_code == again.status_code == 201 and REPLAYED not in first
    assert again[REPLAYED] == "true" and again["Idempotent-Replayed"] == "true"
    assert Commitment.objects.count() == 1


# --- conflict bodies ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_stale_need_edit_is_a_409_with_the_need_as_it_is_now():
    need = NeedFactory(quantity_needed=10)
    client = api(facilitator_of(RW_X))
    url = reverse("api-need-detail", args=[need.pk])
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    assert (
        client.patch(url, {"quantity_needed": 30, "version": 1}, format="json").status_code == 200
    )
    body = is_problem(
        client.patch(url, {"priority": 3, "version": 1}, format="json", headers=headers), 409
    )
    assert body["current"]["version"] == 2 and body["current"]["quantity_needed"] == 30
    # One's own change kept after seeing both: the current version, a new key.
    keep = client.patch(
        url,
        {"priority": 3, "version": body["current"]["version"]},
        format="json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert keep.status_code == 200 and keep.json()["priority"] == 3


@pytest.mark.django_db
def test_confirming_a_pledge_cancelled_meanwhile_is_a_422_with_the_commitment_now():
    collaborator, _member = collaborator_and_member()
    need = NeedFactory(quantity_needed=10)
    commitment = commitment_in("pledged", need=need, collaborator=collaborator, quantity=2)
    Commitment.objects.filter(pk=commitment.pk).update(status=Status.CANCELLED)
    url = reverse("api-commitment-transitions", args=[commitment.pk])
    body = is_problem(
        api(facilitator_of(RW_X)).post(
            url,
            {"to_status": "committed", "reason": ""},
            format="json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ),
        422,
    )
    assert body["current"]["id"] == commitment.pk and body["current"]["status"] == "cancelled"
    assert IdempotentRequest.objects.count() == 0


@pytest.mark.django_db
def test_confirming_a_receipt_twice_is_a_422_with_the_commitment_now():
    collaborator, member = collaborator_and_member()
    need = NeedFactory(quantity_needed=10)
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=3)
    delivery = a_delivery(commitment, member)
    client = api(facilitator_of(RW_X))
    url = reverse("api-commitment-delivery-confirm", args=[commitment.pk, delivery.pk])
    assert client.post(url, {}, format="json").status_code == 200
    body = is_problem(client.post(url, {}, format="json"), 422)
    assert body["current"]["status"] == "completed"


# --- the purge ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_purge_forgets_keys_older_than_the_keeping_time_only():
    case = need_create_case(NeedFactory(quantity_needed=10))
    for _ in range(3):
        assert case.send(case.good(), str(uuid.uuid4())).status_code == 201
    now = timezone.now()
    old, edge, fresh = IdempotentRequest.objects.order_by("pk")
    IdempotentRequest.objects.filter(pk=old.pk).update(
        created_at=now - datetime.timedelta(days=KEEP_DAYS, seconds=1)
    )
    IdempotentRequest.objects.filter(pk=edge.pk).update(
        created_at=now - datetime.timedelta(days=KEEP_DAYS) + datetime.timedelta(minutes=1)
    )
    assert idempotent_requests_forget(now=now) == 1
    assert set(IdempotentRequest.objects.values_list("pk", flat=True)) == {edge.pk, fresh.pk}
    assert forget_idempotent_requests() == 0  # the scheduled job; running it again is harmless
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "api.tasks.forget_idempotent_requests" in scheduled


# --- concurrent duplicates (PostgreSQL) ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="the race is run on PostgreSQL (DATABASE_URL)",
)
@pytest.mark.parametrize("name", ["need-create", "delivery-confirm", "commitment-transition"])
def test_concurrent_duplicates_write_once_and_answer_alike(name):
    case = CASES[name](small_world(quantity_needed=10))
    before = case.written()
    key = str(uuid.uuid4())
    clients = [api(case.user) for _ in range(6)]
    bodies = [case.good() for _ in clients]
    results = run_in_threads(
        [
            (lambda c=client, b=body: case.send(b, key, client=c))
            for client, body in zip(clients, bodies, strict=True)
        ]
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    assert {r.status_code for r in results} == {results[0].status_code}
    assert 200 <= results[0].status_code < 300
    assert len({r.content for r in results}) == 1
    assert sum(r.get(REPLAYED) == "true" for r in results) == len(results) - 1
    assert case.written() != before
    if name == "need-create":
        assert Need.objects.count() == 2
    if name == "delivery-confirm":
        assert DeliveryProof.objects.filter(at_receipt=True).count() == 1
    if name == "commitment-transition":
        assert CommitmentEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_if_match_header_is_part_of_the_request():
    need = NeedFactory(quantity_needed=10)
    client = api(facilitator_of(RW_X))
    url = reverse("api-need-detail", args=[need.pk])
    key = str(uuid.uuid4())
    first = client.patch(
        url, {"priority": 3}, format="json", headers={"Idempotency-Key": key, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    other = client.patch(
        url, {"priority": 3}, format="json", headers={"Idempotency-Key": key, "If-Match": '"2"'}
    )
    is_problem(other, 409)
