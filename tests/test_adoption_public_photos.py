"""Proof photos marked public (issue 21, part 1): the facilitator of the area, the program
lead or an administrator marks a photo proof public on the commitment page (not the
collaborator alone; documents never); the public route serves only public photos; the
adoption page shows the public photos of its works. Through real requests."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from commitments.models import Delivery, DeliveryProof

from .adoption_world import PROGRAM, RW1, make_adoption
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    collaborator_and_member,
    commitment_in,
    facilitator_of,
    jpeg_with_location,
    lead_of,
)
from .world import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


def proof_of(commitment, kind: str = "photo") -> DeliveryProof:
    delivery = Delivery.objects.create(
        commitment=commitment, quantity=1, delivered_on=datetime.date(2026, 5, 2)
    )
    proof = DeliveryProof(
        delivery=delivery,
        kind=kind,
        content_type="image/jpeg" if kind == "photo" else "application/pdf",
        size_bytes=10,
    )
    data = jpeg_with_location() if kind == "photo" else b"%PDF-1.4\n%%EOF\n"
    proof.file.save(f"bukti.{'jpg' if kind == 'photo' else 'pdf'}", ContentFile(data))
    return proof


@pytest.fixture
def work():
    """An active adoption with one delivered work, its photo and its document."""
    collaborator, member = collaborator_and_member(name="Yayasan Foto Uji")
    adoption = make_adoption(collaborator, codes=(RW1,), works=[("delivered", 4)])
    commitment = adoption.works.get().commitment
    return {
        "adoption": adoption,
        "commitment": commitment,
        "member": member,
        "photo": proof_of(commitment),
        "document": proof_of(commitment, "document"),
    }


def toggle(client, commitment, proof, public: bool):
    url = reverse("proof-public", args=[commitment.pk, proof.pk])
    return client.post(url, {"public": "1" if public else "0"})


def public_url(proof) -> str:
    return reverse("proof-public-file", args=[proof.pk])


def test_the_facilitator_marks_a_photo_public_and_private_again(work):
    facilitator = facilitator_of(RW1)
    client = signed_in(facilitator, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(work["commitment"].get_absolute_url()).content.decode()
    assert reverse("proof-public", args=[work["commitment"].pk, work["photo"].pk]) in page
    # No toggle for a document.
    assert reverse("proof-public", args=[work["commitment"].pk, work["document"].pk]) not in page

    response = toggle(client, work["commitment"], work["photo"], True)
    assert response.status_code == 302
    photo = DeliveryProof.objects.get(pk=work["photo"].pk)
    assert photo.is_public and photo.public_marked_by == facilitator
    assert photo.public_marked_at is not None
    page = client.get(work["commitment"].get_absolute_url()).content.decode()
    assert "Make private" in page

    assert toggle(client, work["commitment"], work["photo"], False).status_code == 302
    assert not DeliveryProof.objects.get(pk=work["photo"].pk).is_public


def test_the_lead_and_an_administrator_may_mark_too(work, admin_user):
    for user in (lead_of(PROGRAM), admin_user):
        assert toggle(signed_in(user), work["commitment"], work["photo"], True).status_code == 302
        assert DeliveryProof.objects.get(pk=work["photo"].pk).public_marked_by == user


def test_the_collaborator_alone_may_not_and_others_do_not_even_see_it(work):
    member = signed_in(work["member"])
    page = member.get(work["commitment"].get_absolute_url()).content.decode()
    assert (
        "proof-public" not in page
        and reverse("proof-public", args=[work["commitment"].pk, work["photo"].pk]) not in page
    )
    assert toggle(member, work["commitment"], work["photo"], True).status_code == 403
    # A stranger and another program's lead: the commitment does not exist for them.
    for user in (UserFactory(), lead_of("pangan")):
        assert toggle(signed_in(user), work["commitment"], work["photo"], True).status_code == 404
    # A proof of another commitment, named under this one: 404 even for its facilitator.
    other = commitment_in(
        "delivered", need=NeedFactory(), collaborator=CollaboratorFactory(), quantity=1
    )
    stray = proof_of(other)
    facilitator = signed_in(facilitator_of(RW1))
    assert toggle(facilitator, work["commitment"], stray, True).status_code == 404
    assert not DeliveryProof.objects.filter(is_public=True).exists()


def test_documents_are_never_public(work):
    client = signed_in(lead_of(PROGRAM), HTTP_ACCEPT_LANGUAGE="en")
    response = toggle(client, work["commitment"], work["document"], True)
    assert response.status_code == 409
    assert "Only photos can be made public" in response.content.decode()
    assert not DeliveryProof.objects.get(pk=work["document"].pk).is_public
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryProof.objects.filter(pk=work["document"].pk).update(is_public=True)


def test_bad_input_is_a_message_not_an_error(work):
    client = signed_in(facilitator_of(RW1))
    url = reverse("proof-public", args=[work["commitment"].pk, work["photo"].pk])
    assert client.post(url, {"public": "ya"}).status_code == 302
    assert client.post(url, {"public": "1\x00"}).status_code == 400  # refused before the view
    assert client.get(url).status_code == 405
    assert not DeliveryProof.objects.get(pk=work["photo"].pk).is_public


def test_the_public_route_serves_public_photos_only(client, work):
    photo, document = work["photo"], work["document"]
    assert client.get(public_url(photo)).status_code == 404
    assert client.get(public_url(document)).status_code == 404
    assert client.get(reverse("proof-public-file", args=[10**9])).status_code == 404
    toggle(signed_in(facilitator_of(RW1)), work["commitment"], photo, True)
    response = client.get(public_url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    toggle(signed_in(lead_of(PROGRAM)), work["commitment"], photo, False)
    assert client.get(public_url(photo)).status_code == 404


def test_the_adoption_page_shows_only_the_public_photos_of_its_works(client, work):
    second = proof_of(work["commitment"])
    outside = commitment_in(
        "delivered", need=NeedFactory(), collaborator=CollaboratorFactory(), quantity=1
    )
    elsewhere = proof_of(outside)
    DeliveryProof.objects.filter(pk__in=[work["photo"].pk, elsewhere.pk]).update(is_public=True)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(work["adoption"].get_absolute_url()).content.decode()
    shown = re.findall(r'<img src="([^"]+)" alt="([^"]+)" loading="lazy"', html)
    assert [src for src, _alt in shown] == [public_url(work["photo"])]
    assert shown[0][1].startswith("Delivery of ") and "2 May 2026" in shown[0][1]
    assert public_url(second) not in html and public_url(elsewhere) not in html
    # No public photo: no section at all.
    DeliveryProof.objects.update(is_public=False)
    html = client.get(work["adoption"].get_absolute_url()).content.decode()
    assert "Photos of the works" not in html


def test_a_photo_missing_from_storage_is_a_404_everywhere_it_is_served(client, work, caplog):
    """A database restored without its media, or a file deleted by hand: the pages go on,
    and each file answer says the file is missing rather than failing (logged)."""
    photo, commitment = work["photo"], work["commitment"]
    toggle(signed_in(facilitator_of(RW1)), commitment, photo, True)
    photo.file.storage.delete(photo.file.name)
    assert client.get(public_url(photo)).status_code == 404
    member = signed_in(work["member"])
    private = reverse("proof-file", args=[commitment.pk, photo.pk])
    assert member.get(private).status_code == 404
    assert member.get(commitment.get_absolute_url()).status_code == 200
    assert "stored file missing" in caplog.text
