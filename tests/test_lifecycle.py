"""The commitment lifecycle over HTTP: every transition for every role, object-level
permissions, releases of quantity, the audit trail and expiry."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from commitments.lifecycle.transitions import commitments_expire
from commitments.models import Commitment, CommitmentEvent, Status
from commitments.workflow import TRANSITIONS
from locations.models import Area, Need

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


@pytest.fixture
def world():
    need = NeedFactory(quantity_needed=50)  # RW 01 Kali Anyar, Pangan
    a = CollaboratorFactory(name="Kolaborator A")
    b = CollaboratorFactory(name="Kolaborator B")
    users = {
        "member": member_of(a),
        "other_member": member_of(b),
        "facilitator": facilitator_of("31.73.04.1002.001", "Ketua RW 01"),
        "kelurahan_head": facilitator_of("31.73.04.1002", "Lurah Kali Anyar"),
        "other_rw_facilitator": facilitator_of("31.73.04.1002.002", "Ketua RW 02"),
        "lead": lead_of("pangan"),
        "other_lead": lead_of("tenaga-kerja"),
        "admin": UserFactory(is_staff=True),
        "stranger": UserFactory(),
    }
    return {"need": need, "a": a, "b": b, "users": users}


def make(world, status: str, quantity: int = 5) -> Commitment:
    return commitment_in(status, need=world["need"], collaborator=world["a"], quantity=quantity)


ROLE_OF = {
    "member": {"collaborator"},
    "facilitator": {"facilitator"},
    "kelurahan_head": {"facilitator"},
    "lead": {"lead"},
    "admin": {"admin"},
}
INVISIBLE = ["other_member", "other_rw_facilitator", "other_lead", "stranger"]
STATUS_FORM = [(s, t) for (s, t), tr in TRANSITIONS.items() if not tr.by_delivery]


@pytest.mark.parametrize("source,target", STATUS_FORM)
@pytest.mark.parametrize("who", [*ROLE_OF, *INVISIBLE])
def test_every_transition_for_every_role(client, world, who, source, target):
    commitment = make(world, source)
    client.force_login(world["users"][who])
    response = client.post(
        reverse("commitment-status", args=[commitment.pk]),
        {"target": target, "reason": "Sudah dipenuhi dari sumber lain"},
    )
    commitment.refresh_from_db()
    allowed = bool(ROLE_OF.get(who, set()) & TRANSITIONS[(source, target)].roles)
    if who in INVISIBLE:
        assert response.status_code == 404  # another's commitment does not exist for them
    elif allowed:
        assert response.status_code == 302
    else:
        assert response.status_code == 403
    assert commitment.status == (target if allowed else source)
    events = CommitmentEvent.objects.filter(commitment=commitment)
    if allowed:
        event = events.get()
        assert (event.from_status, event.to_status) == (source, target)
        assert event.actor == world["users"][who]
        assert event.actor_role in ROLE_OF[who]
    else:
        assert not events.exists()


@pytest.mark.parametrize("source", ["completed", "cancelled", "rejected", "expired", "delivered"])
def test_no_way_out_of_final_states_by_the_status_form(client, world, source):
    commitment = make(world, source)
    client.force_login(world["users"]["admin"])
    for target in Status.values:
        client.post(
            reverse("commitment-status", args=[commitment.pk]), {"target": target, "reason": "x"}
        )
        commitment.refresh_from_db()
        assert commitment.status == source


def test_unknown_target_is_refused_cleanly(client, world):
    commitment = make(world, "pledged")
    client.force_login(world["users"]["facilitator"])
    for target in ("bogus", "", "x" * 50):
        response = client.post(
            reverse("commitment-status", args=[commitment.pk]), {"target": target}
        )
        assert response.status_code in (302, 409)
    commitment.refresh_from_db()
    assert commitment.status == "pledged"


def test_rejection_needs_a_reason_and_releases_the_quantity(client, world):
    commitment = make(world, "pledged", quantity=7)
    client.force_login(world["users"]["facilitator"])
    client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "rejected"})
    commitment.refresh_from_db()
    assert commitment.status == "pledged"
    client.post(
        reverse("commitment-status", args=[commitment.pk]),
        {"target": "rejected", "reason": "Sudah terpenuhi"},
    )
    commitment.refresh_from_db()
    world["need"].refresh_from_db()
    assert commitment.status == "rejected"
    assert world["need"].quantity_claimed == 0
    assert commitment.events.get().reason == "Sudah terpenuhi"


def test_cancelling_releases_the_quantity(client, world):
    commitment = make(world, "committed", quantity=4)
    client.force_login(world["users"]["member"])
    client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "cancelled"})
    world["need"].refresh_from_db()
    assert world["need"].quantity_claimed == 0


def test_visibility_of_commitment_pages(client, world):
    commitment = make(world, "pledged")
    expectations = {**dict.fromkeys(ROLE_OF, 200), **dict.fromkeys(INVISIBLE, 404)}
    for who, code in expectations.items():
        client.force_login(world["users"][who])
        assert client.get(commitment.get_absolute_url()).status_code == code, who
    client.logout()
    assert client.get(commitment.get_absolute_url()).status_code == 302  # sign in first


def test_workspaces_show_only_what_is_yours(client, world):
    mine = make(world, "pledged")
    import uuid

    need_b = NeedFactory(area=Area.objects.get(code="31.73.04.1002.002"))
    theirs = Commitment.objects.create(
        collaborator=world["b"],
        need=need_b,
        area=need_b.area,
        program=need_b.program,
        donation_form=need_b.donation_form,
        quantity=2,
        idempotency_key=uuid.uuid4().hex,
    )
    client.force_login(world["users"]["member"])
    page = client.get(reverse("my-commitments")).content.decode()
    assert f"#{mine.pk}<" in page and f"#{theirs.pk}<" not in page
    client.force_login(world["users"]["facilitator"])
    inbox = client.get(reverse("facilitator-inbox")).content.decode()
    assert f"#{mine.pk}<" in inbox and f"#{theirs.pk}<" not in inbox
    client.force_login(world["users"]["other_rw_facilitator"])
    inbox = client.get(reverse("facilitator-inbox")).content.decode()
    assert f"#{mine.pk}<" not in inbox and f"#{theirs.pk}<" in inbox
    client.force_login(world["users"]["kelurahan_head"])  # covers both RW
    inbox = client.get(reverse("facilitator-inbox")).content.decode()
    assert f"#{mine.pk}<" in inbox and f"#{theirs.pk}<" in inbox
    client.force_login(world["users"]["member"])
    assert client.get(reverse("facilitator-inbox")).status_code == 403
    assert client.get(reverse("verification-queue")).status_code == 403


def test_pending_pledges_and_undelivered_commitments_expire(world):
    pangan = world["need"].program
    old = make(world, "pledged", quantity=3)
    Commitment.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=pangan.confirm_within_days + 1)
    )
    fresh = make(world, "pledged", quantity=2)
    late = make(world, "committed", quantity=4)
    Commitment.objects.filter(pk=late.pk).update(
        planned_delivery_on=timezone.localdate()
        - datetime.timedelta(days=pangan.deliver_within_days + 1)
    )
    Need.objects.filter(pk=world["need"].pk).update(quantity_claimed=9)
    assert commitments_expire() == 2
    assert commitments_expire() == 0  # idempotent
    statuses = dict(Commitment.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "expired", fresh.pk: "pledged", late.pk: "expired"}
    world["need"].refresh_from_db()
    assert world["need"].quantity_claimed == 2
    event = old.events.get()
    assert event.actor is None and event.actor_role == "system"


def test_the_timeline_shows_who_when_and_why(client, world):
    commitment = make(world, "pledged")
    client.force_login(world["users"]["facilitator"])
    client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "committed"})
    client.force_login(world["users"]["member"])
    client.post(
        reverse("commitment-status", args=[commitment.pk]),
        {"target": "cancelled", "reason": "Anggaran dialihkan"},
    )
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert "Anggaran dialihkan" in page
    assert world["users"]["facilitator"].email in page
    assert page.count("→") >= 2


def test_deleting_users_keeps_the_audit_trail(client, world):
    commitment = make(world, "pledged")
    client.force_login(world["users"]["facilitator"])
    client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "committed"})
    get_user_model().objects.filter(pk=world["users"]["facilitator"].pk).delete()
    event = commitment.events.get()
    assert event.actor is None and event.actor_role == "facilitator"


def test_every_event_moves_last_event_at_and_quiet_lists_follow_each_programs_days(client, world):
    """The "no news for N days" list reads Commitment.last_event_at: each event (a
    transition, a delivery recorded or confirmed) moves it, and each program's own N holds."""
    commitment = make(world, Status.PLEDGED)
    long_ago = timezone.now() - datetime.timedelta(days=40)
    Commitment.objects.filter(pk=commitment.pk).update(last_event_at=long_ago)
    program = commitment.program
    program.no_news_days = 30
    program.save(update_fields=["no_news_days"])
    assert list(Commitment.objects.quiet([program])) == [commitment]
    program.no_news_days = 60
    assert list(Commitment.objects.quiet([program])) == []

    client.force_login(world["users"]["facilitator"])
    client.post(reverse("commitment-status", args=[commitment.pk]), {"target": "committed"})
    commitment.refresh_from_db()
    newest = CommitmentEvent.objects.filter(commitment=commitment).latest("at", "pk")
    assert commitment.status == Status.COMMITTED
    assert commitment.last_event_at == newest.at > long_ago
    program.no_news_days = 1
    assert list(Commitment.objects.quiet([program])) == []
    later = timezone.now() + datetime.timedelta(days=2)
    assert list(Commitment.objects.quiet([program], now=later)) == [commitment]
    Commitment.objects.filter(pk=commitment.pk).update(status=Status.COMPLETED)
    assert list(Commitment.objects.quiet([program], now=later)) == []  # finished: no wait
