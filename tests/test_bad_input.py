"""Bad input gets a clear 400 (or the form again with its error) and writes nothing:
decompression bombs, integers no column can hold, absurd filters, NUL bytes, over-long text.
Each case was a server error on PostgreSQL or silently stored on SQLite."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from collaborators.models import Membership
from commitments.models import Commitment, Delivery
from locations.models import Need

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    member_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def english(client):
    """Messages are asserted in English; the Indonesian page is checked once below."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def committed(client):
    need = NeedFactory(quantity_needed=20)
    collaborator = CollaboratorFactory()
    client.force_login(member_of(collaborator))
    return commitment_in("committed", need=need, collaborator=collaborator, quantity=10)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def decompression_bomb(side: int = 30_000) -> bytes:
    """A real, complete 1-bit grey PNG of side x side black pixels: ~110 KB of file that
    decodes to 900 million pixels."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 1000) for _ in range(side // 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def small_photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 40)).save(out, format="PNG")
    return SimpleUploadedFile("foto.png", out.getvalue(), content_type="image/png")


def delivery_post(client, commitment, **fields):
    data = {"quantity": 5, "delivered_on": "2026-01-02", "proofs": small_photo(), **fields}
    return client.post(reverse("delivery-create", args=[commitment.pk]), data)


def test_a_decompression_bomb_as_proof_is_refused(client, committed):
    bomb = decompression_bomb()
    assert len(bomb) < 150_000
    upload = SimpleUploadedFile("bukti.png", bomb, content_type="image/png")
    response = delivery_post(client, committed, proofs=upload)
    assert response.status_code == 400
    assert "bukti.png has too many pixels" in response.content.decode()
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("recipients_households", "2147483648"),
        ("recipients_persons", "10000000000000000000"),
    ],
)
def test_recipients_beyond_what_a_column_holds_are_refused(client, committed, field, value):
    response = delivery_post(client, committed, **{field: value})
    assert response.status_code == 400
    assert "2147483647" in response.content.decode()  # says what the limit is
    assert not Delivery.objects.exists()
    committed.refresh_from_db()
    assert committed.quantity_delivered == 0
    # The bound is the column's, not tighter.
    assert delivery_post(client, committed, **{field: "2147483647"}).status_code == 302
    assert getattr(Delivery.objects.get(), field) == 2147483647


def test_the_admin_refuses_a_need_quantity_beyond_the_column(client):
    need = NeedFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:locations_need_change", args=[need.pk])
    data = {
        "area": need.area_id,
        "program": need.program_id,
        "donation_form": need.donation_form_id,
        "quantity_needed": "2147483648",
        "priority": "2",
        "households": "99999999999",
        "assessed_at_0": "2026-01-01",
        "assessed_at_1": "10:00:00",
        "valid_until": "2027-01-01",
        "status": "open",
        "description": "x" * 5001,
    }
    response = client.post(url, data)
    assert response.status_code == 200  # the admin shows the form again with its errors
    page = response.content.decode()
    assert page.count("2147483647") >= 2  # quantity needed and households
    assert "at most 5000 characters" in page
    need.refresh_from_db()
    assert need.quantity_needed == 100
    assert need.description == ""


@pytest.mark.parametrize("url", ["/peta/", "/peta/data/rw/kebutuhan.json"])
def test_a_freshness_filter_beyond_any_date_is_ignored(client, url):
    # 800,000 days before today is before year 1: the filter means "any age" and is dropped.
    response = client.get(url, {"fresh": "800000"})
    assert response.status_code == 200
    assert client.get(url, {"fresh": "30"}).status_code == 200


@pytest.mark.parametrize(
    "method, url, data",
    [
        ("get", "/peta/cari/", {"q": "kali\x00anyar"}),
        ("get", "/kolaborator/", {"program": "pangan\x00"}),
        ("get", "/peta/", {"fresh\x00": "30"}),
        ("post", "/akun/verifikasi-ulang/", {"email": "someone\x00@example.org"}),
        ("post", "/akun/masuk/", {"username": "a\x00@example.org", "password": "x"}),
        ("get", "/wilayah/31.73.04\x00/", {}),
    ],
)
def test_a_nul_byte_anywhere_is_a_clear_400(client, method, url, data):
    response = getattr(client, method)(url, data)
    assert response.status_code == 400
    assert "a character that is not allowed" in response.content.decode()


def test_the_nul_byte_page_speaks_indonesian_by_default(client):
    client.defaults.pop("HTTP_ACCEPT_LANGUAGE")
    response = client.get("/peta/cari/", {"q": "\x00"})
    assert response.status_code == 400
    assert "karakter yang tidak diizinkan" in response.content.decode()


def test_a_pledge_with_a_nul_byte_writes_nothing(client):
    need = NeedFactory()
    client.force_login(member_of(CollaboratorFactory()))
    page = client.get(reverse("pledge-create", args=[need.pk]))
    form = page.context["form"]
    data = {
        "key": form.initial["key"],
        "collaborator": form.fields["collaborator"].queryset.get().pk,
        "quantity": 3,
        "planned_delivery_on": form.initial["planned_delivery_on"],
        "note": "antar\x00 besok",
    }
    response = client.post(reverse("pledge-create", args=[need.pk]), data)
    assert response.status_code == 400
    assert "a character that is not allowed" in response.content.decode()
    assert not Commitment.objects.exists()
    assert Need.objects.get(pk=need.pk).quantity_claimed == 0


def test_an_admin_search_longer_than_any_real_one_is_a_clear_400(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:locations_area_changelist"), {"q": "x" * 1_000_000})
    assert response.status_code == 400
    assert "The search is too long: use at most 200 characters." in response.content.decode()
    ok = client.get(reverse("admin:locations_area_changelist"), {"q": "Kali Anyar"})
    assert ok.status_code == 200


@pytest.mark.parametrize("user", ["0000-00-00", "-99999999999999999999", "9" * 5000])
def test_an_autocomplete_field_with_no_key_shows_the_form_error(client, user):
    """The admin's autocomplete widget looked a non-key up in the database when showing the
    form again: a server error on both databases instead of "select a valid choice"."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    before = Membership.objects.count()
    response = client.post(
        reverse("admin:collaborators_membership_add"),
        {"user": user, "collaborator": CollaboratorFactory().pk, "role": "member"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Membership.objects.count() == before
