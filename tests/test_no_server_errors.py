"""Bad input of any kind gets a clear answer, never a server error: every page and endpoint,
with junk query strings and junk form posts, as a visitor and as each kind of user."""

import pytest
from django.urls import reverse

from commitments.models import Delivery

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    member_of,
)

pytestmark = pytest.mark.django_db

JUNK = {
    "q": "'; DROP TABLE x; --",
    "program": "abc",
    "form": "-1",
    "priority": "9" * 30,
    "fresh": "1e9",
    "open": "maybe",
    "page": "-7",
    "kind": "<script>",
    "status": "lost",
    "target": "teleported",
    "reason": "x" * 5000,
    "membership": "abc",
    "action": "approve",
    "decision": "perhaps",
    "collaborator": "not-a-number",
    "quantity": "99999999999999999999",
    "planned_delivery_on": "31/02/2026",
    "delivered_on": "yesterday",
    "key": "../../etc/passwd",
    "email": "not-an-email",
    "language": "xx",
}


def test_no_page_answers_with_a_server_error(client):
    need = NeedFactory()
    collaborator = CollaboratorFactory()
    member = member_of(collaborator)
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=2)
    delivery = Delivery.objects.create(commitment=commitment, quantity=1, delivered_on="2026-01-01")
    urls = [
        "/",
        "/peta/",
        reverse("area-search"),
        reverse("map-sites"),
        "/peta/data/rw/kebutuhan.json",
        "/peta/data/rw/geometri-x.json",
        "/wilayah/31.73.04.1002/",
        "/wilayah/31.73.04.1002/panel/",
        "/wilayah/nope/",
        "/program/pangan/",
        "/program/nope/",
        "/kolaborator/",
        f"/kolaborator/{collaborator.slug}/",
        "/akun/masuk/",
        "/akun/daftar/",
        "/akun/verifikasi/x/y/",
        "/akun/verifikasi-ulang/",
        "/akun/kolaborator/",
        f"/akun/tim/{collaborator.slug}/",
        "/akun/sandi/lupa/",
        "/ruang-kerja/",
        "/ruang-kerja/komitmen/",
        "/ruang-kerja/fasilitator/",
        "/ruang-kerja/verifikasi/",
        f"/ruang-kerja/verifikasi/{collaborator.slug}/",
        "/notifikasi/",
        f"/janji/{need.pk}/",
        "/janji/999999/",
        commitment.get_absolute_url(),
        f"/komitmen/{commitment.pk}/status/",
        f"/komitmen/{commitment.pk}/penyaluran/",
        f"/komitmen/{commitment.pk}/penyaluran/{delivery.pk}/terima/",
        f"/komitmen/{commitment.pk}/bukti/1/",
        f"/komitmen/{commitment.pk}/surat/",
        "/komitmen/999999/",
        "/i18n/setlang/",
    ]
    users = [
        None,
        member,
        facilitator_of("31.73.04.1002.001"),
        UserFactory(),
        UserFactory(is_staff=True),
    ]
    for user in users:
        client.logout()
        if user:
            client.force_login(user)
        for url in urls:
            for response in (client.get(url, JUNK), client.post(url, JUNK)):
                assert response.status_code < 500, (url, user, response.status_code)
    commitment.refresh_from_db()
    assert commitment.status == "committed"
    assert commitment.quantity_delivered == 0  # junk recorded no delivery
