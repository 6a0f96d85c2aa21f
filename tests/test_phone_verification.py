"""A person's WhatsApp number: normalised for Indonesia, verified by a six-digit code sent
through the provider (a local fake of the Cloud API here), kept hashed, ten minutes, five
tries, re-sends rate-limited; only then WhatsApp can be the notification channel. Without a
provider the page says why WhatsApp cannot be chosen."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from collaborators.models import WhatsAppNumber
from ksbb.whatsapp import normalise_indonesian_number

from .factories import UserFactory
from .whatsapp_fake import fake_cloud_api, use_fake

pytestmark = pytest.mark.django_db

URL = "/akun/whatsapp/"
NUMBER = "+6281234567890"


@pytest.mark.parametrize(
    "typed",
    ["081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(0812) 3456.7890"],
)
def test_indonesian_mobile_numbers_are_normalised_to_e164(typed):
    assert normalise_indonesian_number(typed) == NUMBER


@pytest.mark.parametrize(
    "typed",
    [
        "021 555 1234",  # a Jakarta landline: no WhatsApp
        "+1 650 555 1234",
        "0812345",
        "08123456789012345",
        "０８１２３４５６７８９０",  # full-width digits
        "0812\x003456789",
        "9" * 5000,
        "",
    ],
)
def test_other_numbers_are_refused(typed):
    assert normalise_indonesian_number(typed) is None


@pytest.fixture
def api(settings):
    with fake_cloud_api() as api:
        use_fake(settings, api)
        yield api


def _sent_code(api) -> str:
    return re.search(r"\b(\d{6})\b", api.texts_to(NUMBER)[-1])[1]


def test_a_number_counts_once_its_code_is_typed_back(client, api):
    user = UserFactory()
    client.force_login(user)
    response = client.post(URL, {"action": "number", "number": "0812 3456 7890"}, follow=True)
    assert "Kami mengirim kode ke WhatsApp Anda" in response.content.decode()
    record = WhatsAppNumber.objects.get(user=user)
    assert (record.number, record.verified_at) == (NUMBER, None)
    code = _sent_code(api)
    assert code not in record.code_hash and len(record.code_hash) == 64

    # WhatsApp cannot be chosen yet.
    assert client.post(URL, {"action": "channel", "channel": "whatsapp"}).status_code == 400
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(URL, {"action": "verify", "code": wrong})
    assert refused.status_code == 400 and "4" in refused.content.decode()
    client.post(URL, {"action": "verify", "code": code})
    record.refresh_from_db()
    assert record.is_verified and record.code_hash == ""

    assert client.post(URL, {"action": "channel", "channel": "whatsapp"}).status_code == 302
    record.refresh_from_db()
    assert record.channel == "whatsapp"

    # A new number starts over: unverified, and email again.
    client.post(URL, {"action": "number", "number": "0813 1111 2222"})
    record.refresh_from_db()
    assert (record.number, record.verified_at, record.channel) == ("+6281311112222", None, "email")


def test_five_wrong_tries_use_up_a_code(client, api):
    user = UserFactory()
    client.force_login(user)
    client.post(URL, {"action": "number", "number": NUMBER})
    code = _sent_code(api)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert client.post(URL, {"action": "verify", "code": wrong}).status_code == 400
    refused = client.post(URL, {"action": "verify", "code": code})
    assert refused.status_code == 400
    assert "Terlalu banyak percobaan yang salah" in refused.content.decode()
    assert not WhatsAppNumber.objects.get(user=user).is_verified


def test_a_code_expires_after_ten_minutes(client, api):
    user = UserFactory()
    client.force_login(user)
    client.post(URL, {"action": "number", "number": NUMBER})
    code = _sent_code(api)
    WhatsAppNumber.objects.filter(user=user).update(
        code_sent_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    assert client.post(URL, {"action": "verify", "code": code}).status_code == 400
    assert not WhatsAppNumber.objects.get(user=user).is_verified


def test_sending_codes_again_is_rate_limited(client, api):
    user = UserFactory()
    client.force_login(user)
    client.post(URL, {"action": "number", "number": NUMBER})
    assert client.post(URL, {"action": "send"}).status_code == 400  # within a minute
    for _ in range(4):
        WhatsAppNumber.objects.filter(user=user).update(
            code_sent_at=timezone.now() - datetime.timedelta(minutes=2)
        )
        assert client.post(URL, {"action": "send"}).status_code == 302
    WhatsAppNumber.objects.filter(user=user).update(
        code_sent_at=timezone.now() - datetime.timedelta(minutes=2)
    )
    refused = client.post(URL, {"action": "send"})
    assert refused.status_code == 400 and "besok" in refused.content.decode()
    assert len(api.received) == 5
    # Only the last code counts.
    client.post(URL, {"action": "verify", "code": _sent_code(api)})
    assert WhatsAppNumber.objects.get(user=user).is_verified


def test_without_a_provider_the_page_says_why_whatsapp_cannot_be_chosen(client, settings):
    settings.WHATSAPP_PROVIDER = ""
    user = UserFactory()
    client.force_login(user)
    response = client.post(URL, {"action": "number", "number": "081234567890"}, follow=True)
    page = response.content.decode()
    assert 'data-testid="whatsapp-not-configured"' in page
    assert re.search(r'value="whatsapp"[^>]*disabled', page)
    assert WhatsAppNumber.objects.get(user=user).number == NUMBER
    assert client.post(URL, {"action": "send"}).status_code == 400
    assert client.post(URL, {"action": "channel", "channel": "whatsapp"}).status_code == 400
    assert WhatsAppNumber.objects.get(user=user).channel == "email"

    client.get(reverse("set_language"))  # English too
    client.cookies["django_language"] = "en"
    assert "does not send WhatsApp messages yet" in client.get(URL).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "number", "number": "x" * 100_000},
        {"action": "number", "number": "0812\x003456789"},
        {"action": "number", "number": "+44 20 7946 0958"},
        {"action": "verify", "code": "9" * 5000},
        {"action": "channel", "channel": "pigeon"},
        {"action": "teleport"},
    ],
)
def test_bad_input_gets_a_clear_error_and_writes_nothing(client, data):
    client.force_login(UserFactory())
    response = client.post(URL, data)
    assert response.status_code == 400
    page = response.content.decode()
    # The form's error, the refusal's message, or the portal's page for a NUL byte.
    assert any(sign in page for sign in ('class="errorlist', "message-error", "NUL"))
    assert not WhatsAppNumber.objects.exists()


def test_removing_the_number_erases_it(client):
    user = UserFactory()
    WhatsAppNumber.objects.create(user=user, number=NUMBER)
    client.force_login(user)
    client.post(URL, {"action": "remove"})
    assert not WhatsAppNumber.objects.exists()


def test_the_page_needs_a_sign_in(client):
    assert client.get(URL).status_code == 302
