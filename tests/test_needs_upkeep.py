"""Facilitators and program leads keep needs current in the portal: add, edit, close,
re-confirm, with scope on every view, a version check between concurrent editors, and a
history of every change; the map follows at once."""

from __future__ import annotations

import datetime
import gzip
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment, Notification
from commitments.needs.upkeep import need_create
from locations.models import Area, Need, NeedChange
from programs.models import DonationForm

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
    pangan_groceries,
)

pytestmark = pytest.mark.django_db

KELURAHAN = "31.73.04.1002"  # Kali Anyar
RW1 = "31.73.04.1002.001"
RW2 = "31.73.04.1002.002"


def other_rw() -> Area:
    """An RW of another kelurahan."""
    return (
        Area.objects.filter(level="rw", is_residential=True)
        .exclude(path__contains=KELURAHAN)
        .order_by("code")
        .first()
    )


def signed_in(client, user):
    client.force_login(user)
    return client


def rw_state(client, code: str):
    response = client.get(reverse("map-need-state", args=["rw"]), HTTP_ACCEPT_ENCODING="gzip")
    data = json.loads(gzip.decompress(response.content))
    entry = data["areas"].get(code)
    return dict(zip(data["fields"], entry, strict=True)) if entry else None


def edit_data(need: Need, **changes) -> dict:
    data = {
        "version": need.version,
        "quantity_needed": need.quantity_needed,
        "unit_value_idr": need.unit_value_idr or "",
        "priority": need.priority,
        "households": need.households or "",
        "persons": need.persons or "",
        "valid_until": need.valid_until.isoformat(),
        "description": need.description,
    }
    data.update(changes)
    return data


def in_days(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


# --- add ----------------------------------------------------------------------------------


def test_a_kelurahan_head_adds_a_need_to_one_of_its_rw_and_the_map_shows_it(
    client, django_capture_on_commit_callbacks
):
    head = facilitator_of(KELURAHAN, title="Lurah Kali Anyar")
    signed_in(client, head)
    assert rw_state(client, RW2) is None
    page = client.get(reverse("need-add"))
    assert page.status_code == 200
    assert RW2 in page.content.decode()  # its RW are offered
    assert other_rw().code not in page.content.decode()
    form = pangan_groceries()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("need-add"),
            {
                "area": RW2,
                "program": form.program_id,
                "donation_form": form.pk,
                "quantity_needed": 40,
                "priority": 1,
                "households": 40,
                "persons": 150,
                "valid_until": in_days(30),
                "description": "Lansia di RT 03",
            },
        )
    need = Need.objects.get(area__code=RW2)
    assert response.status_code == 302 and response["Location"] == reverse(
        "need-detail", args=[need.pk]
    )
    assert (need.quantity_needed, need.assessed_by, need.assessed_by_role) == (
        40,
        head,
        "Lurah Kali Anyar",
    )
    change = need.changes.get()
    assert change.action == "created" and change.actor == head
    assert change.changes["quantity_needed"] == [None, 40]
    assert rw_state(client, RW2)["qty"] == 40  # the map's state changed at once


def test_adding_refuses_a_form_of_another_program_and_a_past_date(client):
    signed_in(client, facilitator_of(KELURAHAN))
    other_form = DonationForm.objects.exclude(program__slug="pangan").first()
    pangan = pangan_groceries().program
    response = client.post(
        reverse("need-add"),
        {
            "area": RW1,
            "program": pangan.pk,
            "donation_form": other_form.pk,
            "quantity_needed": 0,
            "priority": 2,
            "valid_until": in_days(-1),
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "another program" in body or "program lain" in body
    assert not Need.objects.filter(area__code=RW1).exists()


def test_a_need_is_assessed_for_two_years_at_most_through_every_door(client):
    """The limit lives on Need: the web form, the API and the domain function refuse a need
    valid for longer (the bulk import's check is in test_needs_import)."""
    head = facilitator_of(KELURAHAN)
    groceries = pangan_groceries()
    too_far = timezone.localdate() + datetime.timedelta(days=Need.MAX_VALID_DAYS + 1)
    fields = {
        "area": RW1,
        "program": groceries.program_id,
        "donation_form": groceries.pk,
        "quantity_needed": 10,
        "priority": 2,
        "valid_until": too_far.isoformat(),
    }
    signed_in(client, head)
    body = client.post(reverse("need-add"), fields).content.decode()
    assert "within two years" in body or "dua tahun" in body
    response = client.post(
        "/api/v1/needs/", {**fields, "area": RW1}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert "valid_until" in response.json()["errors"]
    with pytest.raises(ValidationError) as refused:
        need_create(
            actor=head,
            area=Area.objects.get(code=RW1),
            site=None,
            program=groceries.program,
            donation_form=groceries,
            quantity_needed=10,
            priority=2,
            households=None,
            persons=None,
            valid_until=too_far,
        )
    assert "valid_until" in refused.value.message_dict
    assert not Need.objects.filter(area__code=RW1).exists()


# --- scope --------------------------------------------------------------------------------


def test_a_facilitator_of_one_kelurahan_cannot_see_or_touch_anothers_needs(
    client, django_capture_on_commit_callbacks
):
    theirs = NeedFactory(area=other_rw())
    signed_in(client, facilitator_of(KELURAHAN))
    for name in ("need-detail", "need-edit", "need-close"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("need-edit", args=[theirs.pk]), edit_data(theirs)).status_code == 404
    assert (
        client.post(
            reverse("need-close", args=[theirs.pk]), {"version": 1, "reason": "x"}
        ).status_code
        == 404
    )
    code = theirs.area.code
    assert client.get(reverse("needs-reconfirm", args=[code])).status_code == 404
    assert client.post(reverse("needs-reconfirm", args=[code])).status_code == 404
    assert client.get(reverse("my-needs"), {"area": code}).status_code == 404
    listing = client.get(reverse("my-needs")).content.decode()
    assert reverse("need-detail", args=[theirs.pk]) not in listing
    # Adding a need to their area is refused as an unknown choice.
    form = pangan_groceries()
    response = client.post(
        reverse("need-add"),
        {
            "area": code,
            "program": form.program_id,
            "donation_form": form.pk,
            "quantity_needed": 5,
            "priority": 2,
            "valid_until": in_days(10),
        },
    )
    assert response.status_code == 200
    assert Need.objects.filter(area__code=code).count() == 1
    theirs.refresh_from_db()
    assert (theirs.version, theirs.status) == (1, "open")


def test_a_collaborator_cannot_keep_needs(client):
    need = NeedFactory()
    signed_in(client, member_of(CollaboratorFactory()))
    for url in (
        reverse("my-needs"),
        reverse("need-add"),
        reverse("need-detail", args=[need.pk]),
        reverse("need-edit", args=[need.pk]),
        reverse("need-close", args=[need.pk]),
        reverse("needs-reconfirm", args=[RW1]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("need-edit", args=[need.pk]), edit_data(need)).status_code == 403
    need.refresh_from_db()
    assert need.version == 1
    assert client.get(reverse("workspace")).content.decode().count(reverse("my-needs")) == 0


def test_a_lead_keeps_the_needs_of_their_program_only(client):
    pangan_need = NeedFactory(area=other_rw())
    umkm_form = DonationForm.objects.filter(program__slug="umkm").first()
    umkm_need = NeedFactory(donation_form=umkm_form)
    signed_in(client, lead_of("pangan"))
    response = client.post(
        reverse("need-edit", args=[pangan_need.pk]), edit_data(pangan_need, quantity_needed=150)
    )
    assert response.status_code == 302
    pangan_need.refresh_from_db()
    assert pangan_need.quantity_needed == 150
    assert client.get(reverse("need-edit", args=[umkm_need.pk])).status_code == 404
    listing = client.get(reverse("my-needs")).content.decode()
    assert reverse("need-detail", args=[pangan_need.pk]) in listing
    assert reverse("need-detail", args=[umkm_need.pk]) not in listing


def test_the_area_page_links_to_keeping_its_needs_for_its_keepers_only(client):
    url = reverse("area-detail", args=[RW1])
    keep = reverse("my-needs") + f"?area={RW1}"
    assert keep not in client.get(url).content.decode()
    signed_in(client, facilitator_of(other_rw().code))
    assert keep not in client.get(url).content.decode()
    signed_in(client, facilitator_of(KELURAHAN))
    assert keep in client.get(url).content.decode()
    assert reverse("my-needs") in client.get(reverse("workspace")).content.decode()


# --- edit ---------------------------------------------------------------------------------


def test_a_need_cannot_be_reduced_below_what_is_pledged(client):
    need = NeedFactory(quantity_needed=100)
    commitment_in("committed", need=need, collaborator=CollaboratorFactory(), quantity=30)
    need.refresh_from_db()
    signed_in(client, facilitator_of(RW1))
    response = client.post(
        reverse("need-edit", args=[need.pk]), edit_data(need, quantity_needed=20)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "30" in body and ("already pledged" in body or "sudah dijanjikan" in body)
    need.refresh_from_db()
    assert (need.quantity_needed, need.version) == (100, 1)
    assert not need.changes.exists()
    # Down to exactly what is pledged is allowed.
    response = client.post(
        reverse("need-edit", args=[need.pk]), edit_data(need, quantity_needed=30)
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.quantity_needed == 30 and need.quantity_remaining == 0


def test_two_editors_of_one_version_the_second_is_told_and_nothing_is_lost(client):
    need = NeedFactory(quantity_needed=100, households=250)
    first, second = client, type(client)()
    signed_in(first, facilitator_of(RW1))
    signed_in(second, facilitator_of(KELURAHAN))
    # Both load the form of version 1.
    assert (
        'name="version" value="1"'
        in first.get(reverse("need-edit", args=[need.pk])).content.decode()
    )
    assert (
        'name="version" value="1"'
        in second.get(reverse("need-edit", args=[need.pk])).content.decode()
    )
    saved = first.post(reverse("need-edit", args=[need.pk]), edit_data(need, quantity_needed=120))
    assert saved.status_code == 302
    told = second.post(
        reverse("need-edit", args=[need.pk]),
        edit_data(need, households=999, description="Dari RW kedua"),
    )
    body = told.content.decode()
    assert told.status_code == 200
    assert "Someone else changed this need" in body or "Orang lain mengubah" in body
    assert "Dari RW kedua" in body and 'value="999"' in body  # their input is kept
    assert "120" in body  # the first editor's value is shown
    assert 'name="version" value="2"' in body  # saving again is a deliberate choice
    need.refresh_from_db()
    assert (need.quantity_needed, need.households, need.version) == (120, 250, 2)
    assert need.changes.filter(action="updated").count() == 1
    # Saving again replaces the first editor's values with the second's.
    again = second.post(
        reverse("need-edit", args=[need.pk]),
        edit_data(need, households=999, description="Dari RW kedua", quantity_needed=120),
    )
    assert again.status_code == 302
    need.refresh_from_db()
    assert (need.households, need.version) == (999, 3)


def test_every_change_is_recorded_and_shown_as_the_needs_history(
    client, django_capture_on_commit_callbacks
):
    need = NeedFactory(quantity_needed=100)
    editor = facilitator_of(RW1)
    signed_in(client, editor)
    assert rw_state(client, RW1)["qty"] == 100
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("need-edit", args=[need.pk]),
            edit_data(need, quantity_needed=120, valid_until=in_days(45)),
        )
    assert rw_state(client, RW1)["qty"] == 120  # the map follows at once
    change = NeedChange.objects.get(need=need)
    assert change.actor == editor and change.action == "updated"
    assert change.changes["quantity_needed"] == [100, 120]
    assert set(change.changes) == {"quantity_needed", "valid_until"}
    page = client.get(reverse("need-detail", args=[need.pk])).content.decode()
    assert "100 → 120" in page
    assert editor.email in page


# --- close --------------------------------------------------------------------------------


def test_closing_a_need_says_what_happens_to_its_pledges_then_does_it(
    client, django_capture_on_commit_callbacks
):
    need = NeedFactory(quantity_needed=100)
    donor = CollaboratorFactory()
    donor_user = member_of(donor)
    pledge = commitment_in("pledged", need=need, collaborator=donor, quantity=5)
    confirmed = commitment_in("committed", need=need, collaborator=donor, quantity=10)
    need.refresh_from_db()
    signed_in(client, facilitator_of(RW1))
    assert rw_state(client, RW1) is not None
    page = client.get(reverse("need-close", args=[need.pk])).content.decode()
    assert "1 pledge not yet confirmed (5) will be rejected" in page or (
        "1 janji yang belum dikonfirmasi (5) akan ditolak" in page
    )
    assert "1 confirmed commitment (10) stays and can still be delivered" in page or (
        "1 komitmen terkonfirmasi (10) tetap" in page
    )
    assert Commitment.objects.get(pk=pledge.pk).status == "pledged"  # nothing yet
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("need-close", args=[need.pk]),
            {"version": need.version, "reason": "Sudah dibantu dinas"},
        )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == "closed" and need.quantity_claimed == 10
    assert Commitment.objects.get(pk=pledge.pk).status == "rejected"
    assert Commitment.objects.get(pk=confirmed.pk).status == "committed"
    assert Notification.objects.filter(user=donor_user, commitment=pledge).exists()
    assert rw_state(client, RW1) is None  # left the map
    change = need.changes.get()
    assert change.action == "closed" and change.reason == "Sudah dibantu dinas"
    # A closed need cannot be edited or closed again.
    assert client.post(reverse("need-edit", args=[need.pk]), edit_data(need)).status_code == 302
    need.refresh_from_db()
    assert need.changes.count() == 1


def test_closing_needs_a_reason(client):
    need = NeedFactory()
    signed_in(client, facilitator_of(RW1))
    response = client.post(reverse("need-close", args=[need.pk]), {"version": 1, "reason": " "})
    assert response.status_code == 200
    need.refresh_from_db()
    assert need.status == "open"


# --- re-confirm ---------------------------------------------------------------------------


def test_reconfirming_an_area_marks_its_open_needs_assessed_now(
    client, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - datetime.timedelta(days=120)
    soon = timezone.localdate() + datetime.timedelta(days=3)
    stale = NeedFactory(area=Area.objects.get(code=RW1), assessed_at=long_ago, valid_until=soon)
    other = NeedFactory(area=Area.objects.get(code=RW2), assessed_at=long_ago)
    closed = NeedFactory(area=Area.objects.get(code=RW2), assessed_at=long_ago, status="closed")
    elsewhere = NeedFactory(area=other_rw(), assessed_at=long_ago)
    head = facilitator_of(KELURAHAN)
    signed_in(client, head)
    listing = client.get(reverse("my-needs"), {"show": "stale"}).content.decode()
    assert reverse("need-detail", args=[stale.pk]) in listing
    page = client.get(reverse("needs-reconfirm", args=[KELURAHAN])).content.decode()
    assert "Re-confirm 2 needs" in page or "Konfirmasi ulang 2 kebutuhan" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("needs-reconfirm", args=[KELURAHAN]))
    assert response.status_code == 302
    for need in (stale, other, closed, elsewhere):
        need.refresh_from_db()
    assert stale.assessed_by == head and timezone.now() - stale.assessed_at < datetime.timedelta(
        minutes=1
    )
    # Its validity window (123 days from the old assessment) starts again from today.
    assert stale.valid_until == timezone.localdate() + (soon - timezone.localdate(long_ago))
    assert other.changes.get().action == "reconfirmed"
    assert closed.assessed_at == long_ago and not closed.changes.exists()
    assert elsewhere.assessed_at == long_ago
    listing = client.get(reverse("my-needs"), {"show": "stale"}).content.decode()
    assert reverse("need-detail", args=[stale.pk]) not in listing
    age = rw_state(client, RW1)["age"]
    assert age == 0
