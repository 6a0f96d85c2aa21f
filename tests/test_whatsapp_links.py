"""WhatsApp share links: a need to donors, an adoption page, a receipt request to the
area's facilitator and a notification; each a plain wa.me link with the prepared text in
the page's language (Indonesian by default, English when chosen) ending in the absolute
link to the page. A facilitator's number is in the link only for those entitled to it."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from collaborators.models import WhatsAppNumber
from commitments.models import Delivery, Notification
from ksbb.whatsapp import share_url
from locations.models import Area

from .adoption_world import make_adoption
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
)

pytestmark = pytest.mark.django_db

SITE = "https://ksbb.example"
RW = "31.73.04.1002.001"
FACILITATOR_NUMBER = "+6281298765432"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def wa_links(page: str) -> list[tuple[str, str, str]]:
    """(number, text, label) of every wa.me link on the page."""
    links = []
    pattern = r'<a [^>]*href="(https://wa\.me/[^"]*)"[^>]*>([^<]*)</a>'
    for href, label in re.findall(pattern, page):
        url = urlsplit(html.unescape(href))
        links.append((url.path.strip("/"), parse_qs(url.query)["text"][0], label))
    return links


def in_english(client) -> None:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


def test_share_url_encodes_the_text_and_keeps_only_digits_of_a_number():
    assert share_url("Halo & terima kasih?") == "https://wa.me/?text=Halo%20%26%20terima%20kasih%3F"
    assert share_url("x", "+62 812-9876") == "https://wa.me/628129876?text=x"


def test_a_need_is_shared_with_donors_in_indonesian_and_english(client):
    need = NeedFactory(area=Area.objects.get(code=RW), quantity_needed=40)
    url = f"/wilayah/{RW}/"
    ((number, text, label),) = wa_links(client.get(url).content.decode())
    assert (number, label) == ("", "Bagikan ke donatur")
    assert text.startswith(f"{need.area.display_name} masih membutuhkan 40 ")
    assert need.donation_form.name in text and "Bantu dengan berikrar" in text
    assert text.endswith(f"{SITE}{url}")

    in_english(client)
    ((number, text, label),) = wa_links(client.get(url).content.decode())
    assert label == "Share with donors"
    assert text.startswith(f"{need.area.display_name} still needs 40 ")
    assert text.endswith(f"Help by pledging on the KSBB portal: {SITE}{url}")


def test_an_adoption_page_is_shared(client):
    adoption = make_adoption(CollaboratorFactory(name="PT Rumah Warga"), name="Kampung Asri")
    url = adoption.get_absolute_url()
    ((_, text, label),) = wa_links(client.get(url).content.decode())
    assert label == "Bagikan lewat WhatsApp"
    assert text.startswith("PT Rumah Warga mengasuh Kampung Asri dalam program ")
    assert text.endswith(f"{SITE}{url}")
    in_english(client)
    ((_, text, label),) = wa_links(client.get(url).content.decode())
    assert (label, text.split(" in the ")[0]) == (
        "Share on WhatsApp",
        "PT Rumah Warga takes care of Kampung Asri",
    )


def _delivered_commitment():
    need = NeedFactory(area=Area.objects.get(code=RW), quantity_needed=40)
    donor = CollaboratorFactory(name="PT Peduli")
    owner = member_of(donor)
    commitment = commitment_in("delivered", need=need, collaborator=donor, quantity=5)
    Delivery.objects.create(commitment=commitment, quantity=5, delivered_on=timezone.localdate())
    return commitment, owner


def _verified_facilitator(title="Ketua RW 01"):
    facilitator = facilitator_of(RW, title)
    WhatsAppNumber.objects.create(
        user=facilitator, number=FACILITATOR_NUMBER, verified_at=timezone.now()
    )
    return facilitator


def test_a_receipt_request_goes_to_the_facilitators_verified_number(client):
    commitment, owner = _delivered_commitment()
    _verified_facilitator()
    url = commitment.get_absolute_url()
    client.force_login(owner)
    ((number, text, label),) = wa_links(client.get(url).content.decode())
    assert number == FACILITATOR_NUMBER.lstrip("+")
    assert label == "Minta Ketua RW 01 mengonfirmasi penerimaan"
    assert text.startswith("Halo, PT Peduli telah menyalurkan ")
    assert f"(komitmen #{commitment.pk})" in text
    assert text.endswith(f"Mohon konfirmasi penerimaan di portal KSBB: {SITE}{url}")

    in_english(client)
    ((number, text, label),) = wa_links(client.get(url).content.decode())
    assert label == "Ask Ketua RW 01 to confirm receipt"
    assert text.endswith(f"Please confirm receipt on the KSBB portal: {SITE}{url}")

    lead = lead_of(commitment.program.slug)
    client.force_login(lead)
    assert [link[0] for link in wa_links(client.get(url).content.decode())] == [
        FACILITATOR_NUMBER.lstrip("+")
    ]


def test_without_a_verified_number_the_request_lets_them_pick_the_contact(client):
    commitment, owner = _delivered_commitment()
    unverified = facilitator_of(RW, "Ketua RW 01")
    WhatsAppNumber.objects.create(user=unverified, number=FACILITATOR_NUMBER)
    client.force_login(owner)
    page = client.get(commitment.get_absolute_url()).content.decode()
    ((number, _text, label),) = wa_links(page)
    assert (number, label) == ("", "Minta konfirmasi penerimaan")
    assert FACILITATOR_NUMBER not in page and FACILITATOR_NUMBER.lstrip("+") not in page


def test_no_request_and_no_number_when_nothing_waits_or_for_the_facilitator(client):
    commitment, owner = _delivered_commitment()
    facilitator = _verified_facilitator()
    client.force_login(facilitator)  # the one who confirms: nothing to ask
    assert wa_links(client.get(commitment.get_absolute_url()).content.decode()) == []

    Delivery.objects.filter(commitment=commitment).update(confirmed_at=timezone.now())
    client.force_login(owner)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert wa_links(page) == []
    assert FACILITATOR_NUMBER.lstrip("+") not in page


def test_a_member_of_another_collaborator_never_gets_the_number(client):
    commitment, _owner = _delivered_commitment()
    _verified_facilitator()
    other = member_of(CollaboratorFactory())
    client.force_login(other)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert FACILITATOR_NUMBER.lstrip("+") not in page


def test_each_notification_opens_in_whatsapp(client):
    user = UserFactory()
    Notification.objects.create(
        user=user, subject="Komitmen Anda dikonfirmasi", body="Sembako × 3", url="/komitmen/7/"
    )
    client.force_login(user)
    ((number, text, label),) = wa_links(client.get("/notifikasi/").content.decode())
    assert (number, label) == ("", "Buka di WhatsApp")
    assert text == f"Komitmen Anda dikonfirmasi\n\nSembako × 3\n\n{SITE}/komitmen/7/"
    in_english(client)
    ((_, _, label),) = wa_links(client.get("/notifikasi/").content.decode())
    assert label == "Open in WhatsApp"
