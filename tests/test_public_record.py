"""The "what was delivered" record (issue 23, part 1) on the area, program and collaborator
pages and their "more" pages: date, what and how much, the giver's public name, the receipt
as a role, public photos only; never a private photo, a document, a contact, a
facilitator's or an anonymous donor's name. A page costs the same queries at any length."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collaborators.models import Collaborator
from commitments.lifecycle.transitions import delivery_confirm
from commitments.reporting.public_record import deliveries_in_area, record_rows
from locations.models import Area
from programs.models import Program

from .accountability_world import HIDDEN, NAMED, RW, SECRETS, deliver, make_world, photo
from .factories import NeedFactory, collaborator_and_member, commitment_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def world():
    return make_world()


def public_pages(world) -> dict[str, str]:
    named = world.named.collaborator
    urls = {
        "area": reverse("area-detail", args=[RW]),
        "kelurahan": reverse("area-detail", args=[RW.rsplit(".", 1)[0]]),
        "area-more": reverse("area-deliveries", args=[RW]),
        "program": reverse("program-detail", args=["pangan"]),
        "program-more": reverse("program-deliveries", args=["pangan"]),
        "collaborator": reverse("collaborator-detail", args=[named.slug]),
        "collaborator-more": reverse("collaborator-deliveries", args=[named.slug]),
    }
    return {name: url for name, url in urls.items()}


def get(client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, url
    return response.content.decode()


def test_every_page_lists_the_deliveries_with_roles_and_public_photos_only(client, world):
    public_url = reverse("proof-public-file", args=[world.public_photo.pk])
    for name, url in public_pages(world).items():
        page = get(client, url)
        assert f'id="delivery-{world.received.pk}"' in page, name
        assert "10 packages" in page and NAMED in page, name
        assert "Ketua RW 01" in page, name
        assert public_url in page, name
        # The filter: the private photo, the photo at receipt and the document of the same
        # delivery are never linked, by either route.
        for proof in (world.private_photo, world.receipt_photo, world.document):
            assert reverse("proof-public-file", args=[proof.pk]) not in page, name
            assert reverse("proof-file", args=[world.received.commitment_id, proof.pk]) not in page
        for secret in SECRETS:
            assert secret not in page, (name, secret)
        assert f"{reverse('feedback-new')}?delivery={world.received.pk}" in page, name


def test_the_anonymous_gift_is_listed_as_anonymous_and_received_by_the_lead(client, world):
    page = get(client, reverse("area-deliveries", args=[RW]))
    row = page.split(f'id="delivery-{world.anonymous_delivery.pk}"')[1].split("</li>")[0]
    assert "anonymous" in row and "program lead" in row and "5 packages" in row
    assert HIDDEN not in page
    # Not on the anonymous giver's own page either: that would name it.
    hidden = world.hidden.collaborator
    own = get(client, reverse("collaborator-deliveries", args=[hidden.slug]))
    assert f"delivery-{world.anonymous_delivery.pk}" not in own


def test_a_delivery_waiting_for_receipt_shows_its_state(client, world):
    page = get(client, reverse("area-deliveries", args=[RW]))
    row = page.split(f'id="delivery-{world.waiting.pk}"')[1].split("</li>")[0]
    assert "receipt not yet confirmed" in row and "3 packages" in row


def test_feed_link_in_the_head_of_area_and_program_pages(client, world):
    for url, feed in (
        (reverse("area-detail", args=[RW]), reverse("area-deliveries-feed", args=[RW])),
        (
            reverse("program-detail", args=["pangan"]),
            reverse("program-deliveries-feed", args=["pangan"]),
        ),
    ):
        head = get(client, url).split("</head>")[0]
        assert f'rel="alternate" type="application/atom+xml" href="{feed}"' in head


def test_more_pages_page_and_refuse_nonsense(client, world):
    assert client.get(reverse("area-deliveries", args=[RW]) + "?page=x").status_code == 200
    assert client.get(reverse("area-deliveries", args=[RW]) + "?page=7").status_code == 404
    assert client.get(reverse("area-deliveries", args=["99.99"])).status_code == 404
    assert client.get(reverse("program-deliveries", args=["nope"])).status_code == 404
    unverified, _member = collaborator_and_member(
        verification_status=Collaborator.Verification.UNVERIFIED
    )
    assert client.get(reverse("collaborator-deliveries", args=[unverified.slug])).status_code == 404


def test_a_page_of_rows_costs_the_same_queries_at_any_length(world):
    area = Area.objects.get(code=RW)
    need = NeedFactory(quantity_needed=100)

    def add(count: int) -> None:
        for n in range(count):
            collaborator, member = collaborator_and_member(kind=Collaborator.Kind.INDIVIDUAL)
            commitment = commitment_in(
                "committed", need=need, collaborator=collaborator, quantity=2
            )
            delivery = deliver(commitment, member, 2, [photo()])
            if n % 2:
                delivery_confirm(delivery_id=delivery.pk, actor=world.facilitator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rows, _more = record_rows(deliveries_in_area(area))
            assert all(row.giver for row in rows)
        return len(captured), len(rows)

    add(2)
    before, few = queries()
    add(8)
    after, many = queries()
    assert many > few and after == before


def test_the_program_page_links_the_monthly_reports(client, world):
    page = get(client, reverse("program-detail", args=["pangan"]))
    assert reverse("program-reports", args=["pangan"]) in page
    assert Program.objects.filter(slug="pangan").exists()
