"""The offline outbox's server side of the page (issue 22): the outbox page, the header
badge, and the forms marked for the outbox, whose fields (renamed, dropped and completed as
static/js/outbox.js does) are what the API endpoint they name takes."""

import json
import re
import uuid
from html.parser import HTMLParser

import pytest
from django.urls import Resolver404, resolve, reverse

from api import write_serializers as w
from commitments.models import Commitment, Delivery
from locations.models import Need

from .factories import CollaboratorFactory, NeedFactory, commitment_in, facilitator_of

RW = "31.73.04.1002.001"
TEXT_FIELDS = {"description", "note", "reason"}  # as outbox.js: other empty values are null


class Forms(HTMLParser):
    """The page's forms marked data-outbox: their attributes and fields (initial values)."""

    def __init__(self):
        super().__init__()
        self.forms, self.current, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "data-outbox" in attrs:
            self.current = {"attrs": attrs, "fields": {}}
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input" and attrs.get("name") and attrs.get("type") != "file":
            self.current["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "input" and attrs.get("name"):
            self.current["fields"].setdefault(attrs["name"], None)
        elif tag in ("select", "textarea"):
            self.select = attrs.get("name")
            self.current["fields"].setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.current["fields"][self.select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag in ("select", "textarea"):
            self.select = None


def marked_forms(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def api_body(form: dict) -> dict:
    """The body outbox.js sends for a form, from its fields as rendered."""
    attrs = form["attrs"]
    drop = {"csrfmiddlewaretoken", *attrs.get("data-outbox-drop", "").split(",")}
    rename = dict(p.split(":") for p in attrs.get("data-outbox-rename", "").split(",") if p)
    body = {}
    for name, value in form["fields"].items():
        if name in drop or value is None:
            continue
        body[rename.get(name, name)] = value if value or name in TEXT_FIELDS else None
    body.update(json.loads(attrs.get("data-outbox-extra") or "{}"))
    return body


def api_route(form: dict):
    try:
        return resolve(form["attrs"]["data-outbox-url"])
    except Resolver404:
        pytest.fail(f"{form['attrs']['data-outbox-url']} is not an API route")


@pytest.mark.django_db
def test_the_outbox_page_needs_a_signed_in_person_and_carries_its_words(client):
    url = reverse("outbox")
    response = client.get(url)
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]
    client.force_login(facilitator_of(RW))
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    texts = json.loads(re.search(r'id="outbox-texts"[^>]*>(.*?)</script>', html, re.S)[1])
    assert texts["mine"] == "Versi Anda" and texts["current"] == "Versi sekarang"
    assert texts["keep_mine"] == "Pakai versi saya"
    assert texts["take_current"] == "Pakai versi sekarang"
    assert set(texts["fields"]) >= {"quantity_needed", "valid_until", "description"}
    assert 'id="outbox-page"' in html and "Kirim sekarang" in html


@pytest.mark.django_db
def test_every_page_has_the_badge_and_the_outbox_scripts(client):
    for signed_in in (False, True):
        if signed_in:
            client.force_login(facilitator_of(RW))
        html = client.get(reverse("home")).content.decode()
        badge = re.search(r'<a id="outbox-badge"[^>]*>', html)[0]
        assert " hidden" in badge and f'href="{reverse("outbox")}"' in badge
        assert "Menunggu dikirim ({n})" in badge and "Masuk lagi untuk mengirim" in badge
        assert "js/outbox-store.js" in html and "js/outbox.js" in html


@pytest.mark.django_db
def test_the_need_forms_map_onto_the_api_and_a_repeated_send_changes_once(client):
    keeper = facilitator_of(RW)
    need = NeedFactory(description="lama")
    client.force_login(keeper)
    html = client.get(reverse("need-edit", args=[need.pk])).content.decode()
    (form,) = marked_forms(html)
    assert form["attrs"]["data-outbox"] == "need-edit"
    assert form["attrs"]["data-outbox-method"] == "PATCH"
    assert api_route(form).url_name == "api-need-detail"
    body = api_body(form)
    assert set(body) <= set(w.NeedUpdateSerializer().fields)
    body.update(quantity_needed="120", description="diubah luring")
    key = str(uuid.uuid4())
    answers = [
        client.patch(
            form["attrs"]["data-outbox-url"],
            body,
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200], answers[0].content
    assert answers[0].json() == answers[1].json()
    need.refresh_from_db()
    assert (need.quantity_needed, need.version) == (120, int(body["version"]) + 1)
    assert need.changes.count() == 1

    (add,) = marked_forms(client.get(reverse("need-add")).content.decode())
    assert add["attrs"]["data-outbox"] == "need-add"
    assert api_route(add).url_name == "api-need-list"
    assert set(api_body(add)) <= set(w.NeedCreateSerializer().fields)


@pytest.mark.django_db
def test_the_reconfirm_status_offline_and_receipt_forms_map_onto_the_api(client):
    keeper = facilitator_of(RW)
    need = NeedFactory()
    client.force_login(keeper)
    html = client.get(reverse("needs-reconfirm", args=[RW])).content.decode()
    (reconfirm,) = marked_forms(html)
    assert api_route(reconfirm).url_name == "api-need-reconfirm"
    assert api_body(reconfirm) == {"area": RW}

    pledge = commitment_in("pledged", need=need, collaborator=CollaboratorFactory(), quantity=5)
    forms = marked_forms(client.get(pledge.get_absolute_url()).content.decode())
    statuses = [f for f in forms if f["attrs"]["data-outbox"] == "commitment-status"]
    assert statuses and all(api_route(f).url_name == "api-commitment-transitions" for f in statuses)
    confirm = next(f for f in statuses if api_body(f)["to_status"] == "committed")
    assert set(api_body(confirm)) <= set(w.TransitionSerializer().fields)

    (offline,) = marked_forms(
        client.get(reverse("offline-commitment-create") + f"?need={need.pk}").content.decode()
    )
    assert api_route(offline).url_name == "api-offline-commitment-list"
    body = api_body(offline)
    assert body["need"] == need.pk and "key" not in body
    assert set(body) <= set(w.OfflineCommitmentSerializer().fields)

    committed = commitment_in("committed", need=need, collaborator=pledge.collaborator, quantity=3)
    # Facilitators record the deliveries of commitments made outside the portal.
    Commitment.objects.filter(pk=committed.pk).update(channel=Commitment.Channel.OFFLINE)
    forms = marked_forms(
        client.get(reverse("delivery-create", args=[committed.pk])).content.decode()
    )
    (record,) = forms
    assert api_route(record).url_name == "api-commitment-deliveries"
    assert set(api_body(record)) | {"proofs"} <= set(w.DeliverySerializer().fields)
    assert "proofs" in record["fields"]

    delivery = Delivery.objects.create(
        commitment=committed, quantity=3, delivered_on=committed.created_at.date()
    )
    forms = marked_forms(client.get(committed.get_absolute_url()).content.decode())
    receipt = next(f for f in forms if f["attrs"]["data-outbox"] == "delivery-confirm")
    route = api_route(receipt)
    assert route.url_name == "api-commitment-delivery-confirm"
    assert int(route.kwargs["delivery_id"]) == delivery.pk
    assert Need.objects.filter(pk=need.pk).exists()
