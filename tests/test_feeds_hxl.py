"""Atom feeds of deliveries per area and per program, and the public figures as an HXL CSV
(issue 23, part 1): they parse, carry the right entries and rows, link public photos only
and name no anonymous donor, facilitator or contact."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from commitments.figures.summaries import summaries_rebuild
from commitments.models import Commitment

from .accountability_world import HIDDEN, RW, SECRETS, make_world

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def world():
    return make_world()


def feed_entries(client, url: str) -> tuple[bytes, list]:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return response.content, root.findall(f"{ATOM}entry")


@pytest.mark.parametrize(
    "url",
    [
        reverse("area-deliveries-feed", args=[RW]),
        reverse("area-deliveries-feed", args=["31.73"]),  # the kota above it
        reverse("program-deliveries-feed", args=["pangan"]),
    ],
)
def test_the_feed_is_atom_with_one_entry_per_delivery(client, world, url):
    body, entries = feed_entries(client, url)
    assert len(entries) == 3
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(set(ids)) == 3
    by_delivery = {
        entry.find(f"{ATOM}link[@rel='alternate']").get("href").rsplit("#", 1)[1]: entry
        for entry in entries
    }
    received = by_delivery[f"delivery-{world.received.pk}"]
    assert "10 packages" in received.find(f"{ATOM}title").text
    assert "Ketua RW 01" in received.find(f"{ATOM}summary").text
    enclosures = [link.get("href") for link in received.findall(f"{ATOM}link[@rel='enclosure']")]
    assert enclosures == [
        "http://testserver" + reverse("proof-public-file", args=[world.public_photo.pk])
    ]
    anonymous = by_delivery[f"delivery-{world.anonymous_delivery.pk}"]
    assert "anonymous" in anonymous.find(f"{ATOM}title").text
    assert anonymous.findall(f"{ATOM}link[@rel='enclosure']") == []
    waiting = by_delivery[f"delivery-{world.waiting.pk}"]
    assert "not yet confirmed" in waiting.find(f"{ATOM}summary").text
    text = body.decode()
    for proof in (world.private_photo, world.receipt_photo, world.document):
        assert reverse("proof-public-file", args=[proof.pk]) not in text
    for secret in SECRETS:
        assert secret not in text, secret


def test_unknown_feeds_are_404(client, db):
    assert client.get(reverse("area-deliveries-feed", args=["99.99"])).status_code == 404
    assert client.get(reverse("program-deliveries-feed", args=["nope"])).status_code == 404


def test_the_hxl_csv_has_hashtags_under_the_header_and_the_figures(client, world):
    summaries_rebuild()
    response = client.get(reverse("public-figures-hxl"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, tags, *data = rows
    assert header[0] == "month" and tags[0] == "#date+month"
    assert all(tag.startswith("#") for tag in tags) and len(tags) == len(header)
    assert {"#org+reporting", "#sector+code", "#adm1+code", "#adm2+name", "#value+idr"} <= set(tags)
    line = [dict(zip(header, row, strict=True)) for row in data]
    pangan = [row for row in line if row["program_code"] == "pangan"]
    # Three confirmed commitments of the RW's kecamatan this month, on the portal.
    assert sum(int(row["commitments"]) for row in pangan) == 3
    assert sum(int(row["quantity"]) for row in pangan) == 10 + 5 + 8
    assert sum(int(row["households_reached"]) for row in pangan) == 4 + 2
    assert sum(int(row["persons_reached"]) for row in pangan) == 12 + 7
    assert {row["kecamatan_code"] for row in pangan} == {"31.73.04"}
    text = response.content.decode()
    assert HIDDEN not in text and "Terbuka" not in text and "@" not in text
    # Cache-friendly: the same version answers 304, a change gives a new one.
    etag = response["ETag"]
    assert client.get(reverse("public-figures-hxl"), HTTP_IF_NONE_MATCH=etag).status_code == 304
    Commitment.objects.filter(pk=world.pending.pk).update(value_idr=1_000_000)
    summaries_rebuild()
    again = client.get(reverse("public-figures-hxl"), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag
    assert "1000000" in again.content.decode()
