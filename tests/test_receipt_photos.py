"""Receipt confirmed with photos of what arrived, through the API (multipart `photos`, with
`assets` as a JSON string for asset-creating forms) and the commitment page's form: the
photos are checked as delivery proofs are, stored as proofs of that delivery in the same
transaction, and a bad one confirms nothing and leaves no file behind."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

import commitments.lifecycle.transitions as transitions
from commitments.assets.models import Asset
from commitments.lifecycle.transitions import delivery_confirm, delivery_record
from commitments.lifecycle.uploads import CleanUpload
from commitments.models import Delivery, DeliveryProof

from .asset_world import laptop_world
from .factories import (
    NeedFactory,
    collaborator_and_member,
    commitment_in,
    facilitator_of,
    jpeg_with_location,
    png,
)
from .world import signed_in

pytestmark = pytest.mark.django_db

RW_X = "31.73.04.1002.001"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def delivered():
    """A delivered commitment of 3 with its one delivery (one proof photo), and the RW's
    facilitator: (commitment, delivery, facilitator)."""
    collaborator, member = collaborator_and_member()
    need = NeedFactory(quantity_needed=10)
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=3)
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=member,
        quantity=3,
        delivered_on=timezone.localdate(),
        recipients_households=1,
        recipients_persons=4,
        proofs=[CleanUpload("bukti.png", png(), "image/png", "photo")],
    )
    return commitment, delivery, facilitator_of(RW_X)


def stored(root) -> set:
    return {p for p in root.rglob("*") if p.is_file()}


def photo(data: bytes | None = None, name="foto.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or jpeg_with_location(), content_type="image/jpeg")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(side: int = 30_000) -> bytes:
    """A complete 1-bit PNG of side x side pixels in a few tens of KB."""
    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 1000) for _ in range(side // 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def api_confirm(user, commitment, delivery, body, fmt="multipart"):
    url = reverse("api-commitment-delivery-confirm", args=[commitment.pk, delivery.pk])
    return signed_in(user, APIClient).post(url, body, format=fmt)


def test_receipt_photos_through_the_api_are_stored_with_the_delivery(delivered, private_files):
    commitment, delivery, facilitator = delivered
    response = api_confirm(facilitator, commitment, delivery, {"photos": [photo(), photo()]})
    assert response.status_code == 200, response.content
    assert response.json()["confirmed_at"] and response.json()["proofs"] == ["photo"] * 3
    receipt = DeliveryProof.objects.filter(delivery=delivery, at_receipt=True)
    assert receipt.count() == 2
    for proof in receipt:
        assert proof.kind == "photo" and proof.content_type == "image/jpeg"
        with proof.file.open("rb") as f:
            image = Image.open(io.BytesIO(f.read()))
            assert not image.getexif()  # the location went with the rest of the metadata
    commitment.refresh_from_db()
    assert commitment.status == "completed"
    # The delivery's own proof is told apart from the photos taken at receipt.
    assert DeliveryProof.objects.filter(delivery=delivery, at_receipt=False).count() == 1


def test_a_receipt_without_photos_still_works_as_json_and_as_multipart(delivered):
    commitment, delivery, facilitator = delivered
    assert api_confirm(facilitator, commitment, delivery, {}, fmt="json").status_code == 200
    assert not DeliveryProof.objects.filter(at_receipt=True).exists()
    collaborator, member = collaborator_and_member()
    other = commitment_in("committed", need=commitment.need, collaborator=collaborator, quantity=1)
    second = delivery_record(
        commitment_id=other.pk,
        actor=member,
        quantity=1,
        delivered_on=timezone.localdate(),
        recipients_households=None,
        recipients_persons=None,
        proofs=[CleanUpload("bukti.png", png(), "image/png", "photo")],
    )
    assert api_confirm(facilitator, other, second, {"note": ""}).status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: photo(b"MZ\x90\x00 not an image at all", "foto.jpg"), id="not-image"),
        pytest.param(lambda: photo(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00" * 20), id="nul-bytes"),
        pytest.param(lambda: photo(decompression_bomb(), "bom.png"), id="bomb"),
        pytest.param(lambda: photo(b"%PDF-1.4\n%%EOF\n", "nota.pdf"), id="pdf"),
        pytest.param(lambda: "just text", id="not-a-file"),
        pytest.param(lambda: "nul\x00byte", id="nul-text"),
        pytest.param(lambda: photo(b"x" * (8 * 1024 * 1024 + 1)), id="oversize"),
    ],
)
def test_a_bad_photo_confirms_nothing_and_leaves_no_file(delivered, private_files, bad):
    commitment, delivery, facilitator = delivered
    files = stored(private_files)
    response = api_confirm(facilitator, commitment, delivery, {"photos": [photo(), bad()]})
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    # A NUL byte anywhere is refused before the view (api.middleware), with its own detail.
    assert body.get("errors", {}).get("photos") or body["detail"], body
    delivery.refresh_from_db()
    assert delivery.confirmed_at is None
    assert not DeliveryProof.objects.filter(at_receipt=True).exists()
    assert stored(private_files) == files


def test_photo_files_are_removed_when_the_confirmation_fails_late(
    delivered, private_files, monkeypatch
):
    commitment, delivery, facilitator = delivered
    files = stored(private_files)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(transitions, "_move", broken)
    with pytest.raises(RuntimeError):
        delivery_confirm(
            delivery_id=delivery.pk,
            actor=facilitator,
            photos=[CleanUpload("a.jpg", png(), "image/jpeg", "photo")],
        )
    assert stored(private_files) == files
    assert Delivery.objects.get(pk=delivery.pk).confirmed_at is None


def test_assets_as_a_json_string_beside_photos_in_multipart(private_files):
    world = laptop_world(quantity=2)
    assets = [
        {"owner_kind": "school", "owner_site": world.school.pk, "serial_number": f"RC-{n}"}
        for n in range(2)
    ]
    body = {"assets": json.dumps(assets), "photos": [photo()]}
    response = api_confirm(world.facilitator, world.commitment, world.delivery, body)
    assert response.status_code == 200, response.content
    assert Asset.objects.filter(delivery=world.delivery).count() == 2
    assert DeliveryProof.objects.filter(delivery=world.delivery, at_receipt=True).count() == 1
    # Malformed JSON in `assets`: a 400 naming the field.
    world2 = laptop_world(quantity=1)
    for assets in ("[{", json.dumps([{"owner_kind": "school", "serial_number": "A\x00"}])):
        body = {"assets": assets, "photos": [photo()]}
        bad = api_confirm(world2.facilitator, world2.commitment, world2.delivery, body)
        assert bad.status_code == 400 and "assets" in bad.json()["errors"], bad.content
    world2.delivery.refresh_from_db()
    assert world2.delivery.confirmed_at is None


# --- the web form ----------------------------------------------------------------------------


def test_the_page_offers_a_camera_photo_with_the_receipt(client, delivered):
    commitment, _delivery, facilitator = delivered
    client.force_login(facilitator)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="photos"' in page and 'accept="image/*"' in page
    assert 'capture="environment"' in page


def test_the_web_form_confirms_with_a_photo(client, delivered):
    commitment, delivery, facilitator = delivered
    client.force_login(facilitator)
    url = reverse("delivery-confirm", args=[commitment.pk, delivery.pk])
    response = client.post(url, {"photos": [photo()]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.confirmed_at is not None
    assert DeliveryProof.objects.filter(delivery=delivery, at_receipt=True).count() == 1


def test_the_web_form_without_a_photo_confirms_as_before(client, delivered):
    commitment, delivery, facilitator = delivered
    client.force_login(facilitator)
    url = reverse("delivery-confirm", args=[commitment.pk, delivery.pk])
    assert client.post(url).status_code == 302
    delivery.refresh_from_db()
    assert delivery.confirmed_at is not None


def test_a_bad_photo_on_the_web_form_is_a_clear_400(client, delivered, private_files):
    commitment, delivery, facilitator = delivered
    client.force_login(facilitator)
    files = stored(private_files)
    url = reverse("delivery-confirm", args=[commitment.pk, delivery.pk])
    response = client.post(url, {"photos": [photo(), photo(b"%PDF-1.4\n%%EOF\n", "nota.pdf")]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "nota.pdf" in page and 'role="alert"' in page and 'name="photos"' in page
    delivery.refresh_from_db()
    assert delivery.confirmed_at is None
    assert stored(private_files) == files
