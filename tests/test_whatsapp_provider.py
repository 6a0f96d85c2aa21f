"""The WhatsApp provider against a local fake of the Cloud API (tests/whatsapp_fake.py), and
notifications going out on each person's channel: WhatsApp for those who chose it with a
verified number, email otherwise and whenever WhatsApp fails for good or keeps failing."""

import socket

import pytest
from django.core import mail
from django.utils import timezone

from collaborators.models import WhatsAppNumber
from commitments.models import Notification
from commitments.notify.notifications import WHATSAPP_TRIES, notifications_send
from ksbb.whatsapp import CloudApiProvider, WhatsAppError, whatsapp_provider

from .factories import UserFactory
from .whatsapp_fake import PHONE_NUMBER_ID, TOKEN, fake_cloud_api, use_fake

NUMBER = "+6281234567890"


@pytest.fixture
def api(settings):
    with fake_cloud_api() as api:
        use_fake(settings, api)
        yield api


def test_a_text_is_posted_as_the_cloud_api_expects_and_its_id_returned(api):
    message_id = whatsapp_provider().send_text(NUMBER, "Halo dari KSBB")
    assert message_id == "wamid.FAKE1"
    assert api.received == [
        {
            "messaging_product": "whatsapp",
            "to": "6281234567890",
            "type": "text",
            "text": {"preview_url": True, "body": "Halo dari KSBB"},
        }
    ]


def test_with_a_template_name_the_message_goes_as_that_template(api, settings):
    settings.WHATSAPP_TEMPLATE_NAME = "ksbb_notification"
    whatsapp_provider().send_text(NUMBER, "Komitmen Anda dikonfirmasi")
    (message,) = api.received
    assert message["type"] == "template"
    assert message["template"]["name"] == "ksbb_notification"
    assert message["template"]["language"] == {"code": "id"}
    assert api.texts_to(NUMBER) == ["Komitmen Anda dikonfirmasi"]


@pytest.mark.parametrize(
    ("status", "transient", "code"),
    [(429, True, 130429), (500, True, 131000), (400, False, 131030)],
)
def test_errors_are_told_apart_transient_or_permanent(api, status, transient, code):
    api.failures.append(status)
    with pytest.raises(WhatsAppError) as raised:
        whatsapp_provider().send_text(NUMBER, "x")
    assert (raised.value.transient, raised.value.code) == (transient, code)
    assert whatsapp_provider().send_text(NUMBER, "x") == "wamid.FAKE1"  # the next one goes


def test_a_wrong_token_is_permanent(api, settings):
    settings.WHATSAPP_TOKEN = "expired"
    with pytest.raises(WhatsAppError) as raised:
        whatsapp_provider().send_text(NUMBER, "x")
    assert (raised.value.transient, raised.value.code) == (False, 190)
    assert api.received == []


def test_unreachable_or_silent_servers_are_transient_and_bounded_by_the_timeout():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nobody = CloudApiProvider(f"http://127.0.0.1:{port}/v21.0", PHONE_NUMBER_ID, TOKEN)
    with pytest.raises(WhatsAppError) as raised:
        nobody.send_text(NUMBER, "x")
    assert raised.value.transient

    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v21.0"
        started = timezone.now()
        with pytest.raises(WhatsAppError) as raised:
            CloudApiProvider(url, PHONE_NUMBER_ID, TOKEN, timeout=0.5).send_text(NUMBER, "x")
    assert raised.value.transient
    assert (timezone.now() - started).total_seconds() < 3


def test_no_provider_without_settings(settings):
    settings.WHATSAPP_PROVIDER = ""
    assert whatsapp_provider() is None
    settings.WHATSAPP_PROVIDER = "cloud_api"
    settings.WHATSAPP_TOKEN = ""
    assert whatsapp_provider() is None


# --- notifications on the chosen channel ---------------------------------------------------


def _person(channel: str = "whatsapp", verified: bool = True):
    user = UserFactory()
    WhatsAppNumber.objects.create(
        user=user,
        number=NUMBER,
        verified_at=timezone.now() if verified else None,
        channel=channel,
    )
    return user


def _notify(user) -> Notification:
    return Notification.objects.create(
        user=user, subject="Komitmen Anda dikonfirmasi", body="Sembako × 3", url="/komitmen/7/"
    )


@pytest.mark.django_db
def test_whatsapp_chosen_goes_by_whatsapp_with_the_link(api, settings):
    settings.SITE_URL = "https://ksbb.example"
    note = _notify(_person())
    assert notifications_send([note.pk]) == 1
    (text,) = api.texts_to(NUMBER)
    assert text.startswith("Komitmen Anda dikonfirmasi")
    assert text.endswith("https://ksbb.example/komitmen/7/")
    assert mail.outbox == []
    note.refresh_from_db()
    assert note.emailed_at is not None  # sent: not picked up again
    assert notifications_send() == 0


@pytest.mark.django_db
def test_email_chosen_or_no_provider_goes_by_email(api, settings):
    email_person = _person(channel="email")
    assert notifications_send([_notify(email_person).pk]) == 1
    settings.WHATSAPP_PROVIDER = ""
    assert notifications_send([_notify(_person()).pk]) == 1
    assert api.received == []
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_permanent_failure_falls_back_to_email_at_once(api):
    api.failures.append(400)
    user = _person()
    assert notifications_send([_notify(user).pk]) == 1
    assert [m.to for m in mail.outbox] == [[user.email]]


@pytest.mark.django_db
def test_transient_failures_are_retried_then_fall_back_to_email(api):
    api.failures.extend([429, 500])
    user = _person()
    note = _notify(user)
    assert notifications_send() == 0
    note.refresh_from_db()
    assert (note.emailed_at, note.email_attempts) == (None, 1)  # pending, like an email
    assert notifications_send() == 0
    assert notifications_send() == 1  # the third try goes through
    assert api.texts_to(NUMBER) and mail.outbox == []

    api.failures.extend([500] * WHATSAPP_TRIES)
    second = _notify(user)
    for _ in range(WHATSAPP_TRIES - 1):
        assert notifications_send([second.pk]) == 0
    assert notifications_send([second.pk]) == 1
    assert [m.to for m in mail.outbox] == [[user.email]]
