"""Deliveries with proof: partial deliveries, receipt, completion, and uploads checked by
content (wrong type renamed, oversized, corrupt), with location metadata removed."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from commitments.models import Delivery, DeliveryProof
from locations.models import Need

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    commitment_in,
    facilitator_of,
    jpeg_with_location,
    member_of,
)

pytestmark = pytest.mark.django_db


def photo(name="foto.jpg", data=None):
    return SimpleUploadedFile(name, data or jpeg_with_location(), content_type="image/jpeg")


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def committed(client):
    need = NeedFactory(quantity_needed=20)
    collaborator = CollaboratorFactory()
    member = member_of(collaborator)
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=10)
    client.force_login(member)
    return commitment


def deliver(client, commitment, files, quantity=4, **extra):
    data = {
        "quantity": quantity,
        "delivered_on": extra.pop("delivered_on", timezone.localdate().isoformat()),
        "recipients_households": 12,
        "recipients_persons": 40,
        "proofs": files,
        **extra,
    }
    return client.post(reverse("delivery-create", args=[commitment.pk]), data)


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_partial_deliveries_then_receipt_completes(client, committed, private_files):
    first = deliver(client, committed, [photo()], quantity=4)
    assert first.status_code == 302
    committed.refresh_from_db()
    assert (committed.status, committed.quantity_delivered) == ("delivered", 4)
    deliver(client, committed, [photo("struk.jpg")], quantity=6)
    committed.refresh_from_db()
    assert committed.quantity_delivered == 10
    assert deliver(client, committed, [photo()], quantity=1).status_code in (400, 403, 409)

    facilitator = facilitator_of("31.73.04.1002.001")
    client.force_login(facilitator)
    for delivery in committed.deliveries.order_by("pk"):
        client.post(reverse("delivery-confirm", args=[committed.pk, delivery.pk]))
        committed.refresh_from_db()
    assert committed.status == "completed"
    need = Need.objects.get(pk=committed.need_id)
    assert need.quantity_delivered == 10
    transitions = list(committed.events.values_list("from_status", "to_status"))
    assert ("committed", "delivered") in transitions and ("delivered", "completed") in transitions
    assert len(stored_files(private_files)) == 2


def test_location_metadata_is_gone_from_stored_photos(client, committed, private_files):
    original = jpeg_with_location()
    deliver(client, committed, [photo(data=original)])
    proof = DeliveryProof.objects.get()
    stored = proof.file.open("rb").read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (640, 480)
    assert not image.getexif()  # no EXIF at all, so no GPS
    assert b"Exif" not in stored and b"KameraHP" not in stored
    # The photo is served to those involved, and to no one else.
    url = reverse("proof-file", args=[committed.pk, proof.pk])
    assert b"".join(client.get(url).streaming_content) == stored
    client.force_login(member_of(CollaboratorFactory()))
    assert client.get(url).status_code == 404
    assert proof.file.url.startswith("/private/")  # not under the public MEDIA_URL


@pytest.mark.parametrize(
    "upload, message",
    [
        (
            SimpleUploadedFile("foto.jpg", b"MZ\x90\x00 this is a program, not a photo" * 20),
            "bukan",
        ),
        (SimpleUploadedFile("foto.jpg", jpeg_with_location()[:1500]), "rusak"),
        (SimpleUploadedFile("bukti.pdf", b"%PDF-1.4\n1 0 obj\n<< >>\n"), "PDF"),
        (SimpleUploadedFile("kosong.jpg", b""), ""),
        (SimpleUploadedFile("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ""),
    ],
    ids=["renamed-executable", "corrupt-jpeg", "truncated-pdf", "empty", "gif"],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    client, committed, private_files, upload, message
):
    response = deliver(client, committed, [photo("baik.jpg"), upload])
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'class="errorlist' in body
    committed.refresh_from_db()
    assert committed.status == "committed" and committed.quantity_delivered == 0
    assert not Delivery.objects.exists() and not DeliveryProof.objects.exists()
    assert stored_files(private_files) == []


def test_oversized_uploads_are_refused(client, committed, private_files, settings):
    settings.UPLOAD_MAX_BYTES = 20_000
    big = jpeg_with_location(2000, 2000)
    assert len(big) > 20_000
    response = deliver(client, committed, [photo(data=big)])
    assert response.status_code == 400
    assert "MB" in response.content.decode()
    assert stored_files(private_files) == [] and not Delivery.objects.exists()


def test_pdf_proof_and_a_proof_is_required(client, committed, private_files):
    assert deliver(client, committed, []).status_code == 400
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    response = deliver(client, committed, [SimpleUploadedFile("tanda-terima.pdf", pdf)])
    assert response.status_code == 302
    proof = DeliveryProof.objects.get()
    assert (proof.kind, proof.content_type) == ("document", "application/pdf")


def test_future_dates_and_outsiders_are_refused(client, committed):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert deliver(client, committed, [photo()], delivered_on=tomorrow).status_code == 400
    client.force_login(member_of(CollaboratorFactory()))
    assert deliver(client, committed, [photo()]).status_code == 404
    client.force_login(facilitator_of("31.73.04.1002.001"))
    assert deliver(client, committed, [photo()]).status_code == 403  # theirs is to confirm
    assert not Delivery.objects.exists()


def test_only_the_areas_facilitator_confirms_receipt(client, committed):
    deliver(client, committed, [photo()], quantity=10)
    delivery = Delivery.objects.get()
    url = reverse("delivery-confirm", args=[committed.pk, delivery.pk])
    client.force_login(facilitator_of("31.73.04.1002.002"))  # another RW
    assert client.post(url).status_code == 404
    client.force_login(member_of(committed.collaborator))  # the giver cannot confirm
    assert client.post(url).status_code == 403
    delivery.refresh_from_db()
    assert delivery.confirmed_at is None
    client.force_login(facilitator_of("31.73.04.1002.001"))
    client.post(url)
    assert client.post(url).status_code == 302  # twice: refused politely, nothing doubled
    assert Need.objects.get(pk=committed.need_id).quantity_delivered == 10
