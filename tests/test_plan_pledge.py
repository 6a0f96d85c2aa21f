"""Pledging a whole plan in one action (issue 11 part 3): one commitment per line, all or
nothing; the lines that changed are reported exactly, with the adjusted plan to accept;
the same plan sent twice creates its commitments once; through the domain, the web form
and the API."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from commitments.assistant.plans import (
    MAX_PLAN_LINES,
    LineReview,
    PlanChanged,
    plan_line_key,
    plan_pledge,
)
from commitments.lifecycle.pledges import PledgeRefused
from commitments.models import Commitment, CommitmentEvent, Notification
from locations.models import Need
from programs.models import DonationForm, Program

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    collaborator_and_member,
    facilitator_of,
    member_of,
)
from .world import pledge_directly

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The domain's words in English (a request chooses its own language)."""
    with translation.override("en"):
        yield


@pytest.fixture
def needs():
    """Three open needs of food packages in Kali Anyar."""
    return [NeedFactory(quantity_needed=n) for n in (10, 20, 30)]


def pledge_plan(donor, lines, key=None, **kwargs):
    collaborator, user = donor
    return plan_pledge(
        user=user,
        collaborator=collaborator,
        lines=lines,
        idempotency_key=key or uuid.uuid4().hex,
        **kwargs,
    )


def claimed(*needs) -> list[int]:
    return [Need.objects.get(pk=n.pk).quantity_claimed for n in needs]


def take(need, quantity):
    """Another donor pledges meanwhile."""
    other, member = collaborator_and_member()
    pledge_directly(need, other, member, quantity)


# --- the domain ---------------------------------------------------------------------------


def test_a_plan_creates_one_commitment_per_line(donor, needs, django_capture_on_commit_callbacks):
    facilitator_of("31.73.04.1002")
    a, b, c = needs
    with django_capture_on_commit_callbacks(execute=True):
        result = pledge_plan(donor, [(c.pk, 7), (a.pk, 4), (b.pk, 5)], key="k1", note="Lewat RW")
    assert result.created and result.same_request
    made = result.commitments
    assert [(m.need_id, m.quantity) for m in made] == [(a.pk, 4), (b.pk, 5), (c.pk, 7)]
    assert all(m.status == "pledged" and m.note == "Lewat RW" for m in made)
    assert [m.idempotency_key for m in made] == [plan_line_key("k1", n.pk) for n in (a, b, c)]
    assert all(len(m.idempotency_key) == 64 for m in made)
    assert claimed(a, b, c) == [4, 5, 7]
    assert CommitmentEvent.objects.filter(commitment__in=made, to_status="pledged").count() == 3
    assert Notification.objects.filter(commitment__in=made).count() == 3  # the facilitator's


def test_one_changed_line_stops_the_whole_plan_and_is_reported_exactly(donor, needs):
    a, b, c = needs
    take(b, 17)  # 3 of 20 left
    Need.objects.filter(pk=c.pk).update(status=Need.Status.CLOSED)
    before = Commitment.objects.count()
    with pytest.raises(PlanChanged) as raised:
        pledge_plan(donor, [(a.pk, 4), (b.pk, 5), (c.pk, 7)])
    changed = raised.value
    assert Commitment.objects.count() == before
    assert claimed(a, b, c) == [0, 17, 0]
    assert changed.changed == [
        LineReview(b.pk, 5, 3, "Only 3 remain to be pledged for this need; you asked for 5."),
        LineReview(c.pk, 7, 0, "This need is no longer open for pledges."),
    ]
    assert [line.need_id for line in changed.lines] == [a.pk, b.pk, c.pk]
    assert changed.adjusted == [(a.pk, 4), (b.pk, 3)]


def test_a_need_taken_between_the_check_and_the_claim_rolls_back_the_lines_claimed_before(
    donor, needs, monkeypatch
):
    """The race the review cannot see: the first line is claimed, the second finds its need
    taken; the first line's claim is undone and the plan reported as changed."""
    import commitments.assistant.plans as plans

    a, b, _c = needs
    real_review = plans.plan_review
    calls = []

    def review_then_race(lines, found, **kwargs):
        calls.append(1)
        reviews = real_review(lines, found, **kwargs)
        if len(calls) == 1:  # looked fine; then another donor takes b
            take(b, 18)
        return reviews

    monkeypatch.setattr(plans, "plan_review", review_then_race)
    with pytest.raises(PlanChanged) as raised:
        pledge_plan(donor, [(b.pk, 5), (a.pk, 4)])
    assert claimed(a, b) == [0, 18]
    assert raised.value.changed == [
        LineReview(b.pk, 5, 2, "Only 2 remain to be pledged for this need; you asked for 5.")
    ]
    assert not Commitment.objects.filter(collaborator=donor[0]).exists()


def test_the_adjusted_plan_accepted_creates_exactly_its_lines(donor, needs):
    a, b, c = needs
    take(b, 17)
    with pytest.raises(PlanChanged) as raised:
        pledge_plan(donor, [(a.pk, 4), (b.pk, 5), (c.pk, 7)])
    result = pledge_plan(donor, raised.value.adjusted)
    assert [(m.need_id, m.quantity) for m in result.commitments] == [
        (a.pk, 4),
        (b.pk, 3),
        (c.pk, 7),
    ]
    assert Commitment.objects.filter(collaborator=donor[0]).count() == 3
    assert claimed(a, b, c) == [4, 20, 7]


def test_the_same_plan_sent_twice_creates_its_commitments_once(donor, needs):
    a, b, _c = needs
    first = pledge_plan(donor, [(a.pk, 4), (b.pk, 5)], key="same")
    take(a, 6)  # the need is full now: a retry still gets its answer
    again = pledge_plan(donor, [(b.pk, 5), (a.pk, 4)], key="same")
    assert again.same_request and not again.created
    assert [m.pk for m in again.commitments] == [m.pk for m in first.commitments]
    assert Commitment.objects.filter(collaborator=donor[0]).count() == 2
    assert claimed(a, b) == [10, 5]


def test_a_retry_that_finds_the_needs_taken_by_its_own_first_submission_is_a_replay(
    donor, needs, monkeypatch
):
    """The retry looked for the plan just before the first submission committed, then
    found the units gone: they went to the plan itself, so it answers what was created."""
    import commitments.assistant.plans as plans

    a, _b, _c = needs
    first = pledge_plan(donor, [(a.pk, 10)], key="same")
    real = plans.plan_commitments
    looks = []

    def not_yet_on_the_first_look(collaborator, key):
        looks.append(1)
        return [] if len(looks) == 1 else real(collaborator, key)

    monkeypatch.setattr(plans, "plan_commitments", not_yet_on_the_first_look)
    again = pledge_plan(donor, [(a.pk, 10)], key="same")
    assert not again.created and again.same_request
    assert [m.pk for m in again.commitments] == [m.pk for m in first.commitments]


@pytest.mark.parametrize(
    "other",
    [
        "more",  # a line added
        "less",  # a line dropped
        "quantity",  # a quantity changed
        "note",  # another note
    ],
)
def test_another_plan_with_the_same_key_is_refused(donor, needs, other):
    a, b, c = needs
    pledge_plan(donor, [(a.pk, 4), (b.pk, 5)], key="same", note="x")
    lines, note = {
        "more": ([(a.pk, 4), (b.pk, 5), (c.pk, 1)], "x"),
        "less": ([(a.pk, 4)], "x"),
        "quantity": ([(a.pk, 4), (b.pk, 6)], "x"),
        "note": ([(a.pk, 4), (b.pk, 5)], "y"),
    }[other]
    result = pledge_plan(donor, lines, key="same", note=note)
    assert not result.same_request and not result.created
    assert Commitment.objects.filter(collaborator=donor[0]).count() == 2
    assert claimed(a, b, c) == [4, 5, 0]


def test_the_key_belongs_to_the_collaborator(needs):
    a, _b, _c = needs
    first, second = CollaboratorFactory(), CollaboratorFactory()
    pledge_plan((first, member_of(first)), [(a.pk, 2)], key="shared")
    result = pledge_plan((second, member_of(second)), [(a.pk, 2)], key="shared")
    assert result.created
    assert claimed(a) == [4]


def test_every_reason_a_line_cannot_be_taken(donor, needs):
    a, b, c = needs
    expired = NeedFactory(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    stale = NeedFactory(assessed_at=timezone.now() - datetime.timedelta(days=120))
    paused = NeedFactory(donation_form=DonationForm.objects.filter(program__slug="umkm").first())
    Program.objects.filter(pk=paused.program_id).update(status=Program.Status.PAUSED)
    lines = [
        (a.pk, 2),
        (b.pk, 0),
        (a.pk, 1),
        (expired.pk, 1),
        (stale.pk, 1),
        (10**18, 1),
        (c.pk, 31),
    ]
    with pytest.raises(PlanChanged) as raised:
        pledge_plan(donor, lines)
    reasons = {(line.need_id, line.asked): line for line in raised.value.changed}
    assert reasons[(b.pk, 0)].reason == "Pledge at least 1."
    assert reasons[(a.pk, 1)].reason == "This need is already on another line of the plan."
    assert reasons[(expired.pk, 1)].reason == "This need is no longer open for pledges."
    assert "more than 90 days old" in reasons[(stale.pk, 1)].reason
    assert reasons[(10**18, 1)].reason == "This need no longer exists."
    assert reasons[(c.pk, 31)].available == 30
    assert (a.pk, 2) not in reasons
    assert raised.value.adjusted == [(a.pk, 2), (c.pk, 30)]
    with pytest.raises(PlanChanged) as raised:
        pledge_plan(donor, [(paused.pk, 1)])
    assert raised.value.changed[0].reason == "This program is not taking pledges at the moment."
    assert raised.value.adjusted == []
    assert not Commitment.objects.exists()


def test_a_plan_holds_at_most_fifty_lines(donor):
    many = [NeedFactory(quantity_needed=5) for _ in range(MAX_PLAN_LINES + 2)]
    with pytest.raises(PlanChanged) as raised:
        pledge_plan(donor, [(n.pk, 1) for n in many])
    assert [line.need_id for line in raised.value.changed] == [n.pk for n in many[-2:]]
    assert "at most 50 lines" in raised.value.changed[0].reason
    assert len(raised.value.adjusted) == MAX_PLAN_LINES
    result = pledge_plan(donor, raised.value.adjusted)
    assert len(result.commitments) == MAX_PLAN_LINES


def test_only_members_pledge_a_plan(needs):
    a, _b, _c = needs
    outsider = CollaboratorFactory()
    with pytest.raises(PledgeRefused, match="collaborator you belong to"):
        plan_pledge(
            user=member_of(CollaboratorFactory()),
            collaborator=outsider,
            lines=[(a.pk, 1)],
            idempotency_key="k",
        )
    with pytest.raises(PledgeRefused, match="collaborator you belong to"):
        plan_pledge(
            user=member_of(CollaboratorFactory()),
            collaborator=outsider,
            lines=[(10**15, 1)],
            idempotency_key="k",
        )
    with pytest.raises(PledgeRefused, match="no lines"):
        pledge_plan((outsider, member_of(outsider)), [])
    assert claimed(a) == [0]


def test_the_limits_hold_for_the_plan_as_a_whole(needs):
    """Unverified: each line within the open-value limit, together over it: nothing saved."""
    a, b, _c = needs  # 300,000 a package
    collaborator = CollaboratorFactory(verification_status="unverified", name="Warga Baru")
    unverified = (collaborator, member_of(collaborator))
    Program.objects.filter(pk=a.program_id).update(
        unverified_max_open_value_idr=2_000_000, unverified_max_share_percent=100
    )
    with pytest.raises(PledgeRefused) as raised:
        pledge_plan(unverified, [(a.pk, 4), (b.pk, 4)])  # 1.2 M each, 2.4 M together
    assert "Limit reached" in raised.value.message and "Warga Baru" in raised.value.message
    assert claimed(a, b) == [0, 0]
    assert not Commitment.objects.filter(collaborator=collaborator).exists()
    rejected = CollaboratorFactory(verification_status="rejected")
    with pytest.raises(PledgeRefused, match="rejected"):
        pledge_plan((rejected, member_of(rejected)), [(a.pk, 1)])


def test_a_planned_date_in_the_past_is_refused(donor, needs):
    with pytest.raises(PledgeRefused, match="past"):
        pledge_plan(
            donor,
            [(needs[0].pk, 1)],
            planned_delivery_on=timezone.localdate() - datetime.timedelta(days=1),
        )


# --- the web form, over HTTP --------------------------------------------------------------

PLEDGE_URL = "/asisten/ikrar/"


def soon() -> str:
    return (timezone.localdate() + datetime.timedelta(days=7)).isoformat()


def plan_post(client, collaborator, lines, key=None, **extra):
    return client.post(
        PLEDGE_URL,
        {
            "key": key or uuid.uuid4().hex,
            "collaborator": collaborator.pk,
            "need": [need for need, _quantity in lines],
            "quantity": [quantity for _need, quantity in lines],
            "planned_delivery_on": soon(),
        },
        **extra,
    )


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_url_is_named_for_the_assistant_page():
    assert reverse("assistant-pledge") == PLEDGE_URL


def test_the_web_form_pledges_a_plan_and_says_how_many(english, donor, needs):
    collaborator, user = donor
    english.force_login(user)
    a, b, _c = needs
    key = uuid.uuid4().hex
    response = plan_post(english, collaborator, [(a.pk, 4), (b.pk, 5)], key=key)
    assert response.status_code == 302 and response["Location"] == reverse("my-commitments")
    page = english.get(response["Location"]).content.decode()
    assert "2 commitments created" in page
    assert claimed(a, b) == [4, 5]
    again = plan_post(english, collaborator, [(a.pk, 4), (b.pk, 5)], key=key, follow=True)
    assert again.redirect_chain == [(reverse("my-commitments"), 302)]
    assert "This plan was already pledged." in again.content.decode()
    assert Commitment.objects.filter(collaborator=collaborator).count() == 2
    other = plan_post(english, collaborator, [(a.pk, 1)], key=key)
    assert other.status_code == 409 and "already used for another plan" in other.content.decode()
    indonesian = plan_post(english, collaborator, [(a.pk, 1)], HTTP_ACCEPT_LANGUAGE="id")
    assert "1 komitmen dibuat" in english.get(indonesian["Location"]).content.decode()


def hidden_pairs(html: str) -> list[tuple[int, int]]:
    needs = re.findall(r'name="need" value="(\d+)"', html)
    quantities = re.findall(r'name="quantity" value="(\d+)"', html)
    return [(int(n), int(q)) for n, q in zip(needs, quantities, strict=True)]


def test_the_changed_lines_page_then_the_adjusted_plan_accepted(client, donor, needs):
    collaborator, user = donor
    client.force_login(user)
    a, b, c = needs
    take(b, 17)
    Need.objects.filter(pk=c.pk).update(status=Need.Status.CLOSED)
    key = uuid.uuid4().hex
    response = plan_post(client, collaborator, [(a.pk, 4), (b.pk, 5), (c.pk, 7)], key=key)
    assert response.status_code == 409
    html = response.content.decode()
    assert not Commitment.objects.filter(collaborator=collaborator).exists()
    # Only the changed lines are listed, each asked -> available and why (in Indonesian,
    # the default language).
    assert html.count('class="keep-item"') == 2
    assert "5 paket" in html and "3 paket" in html and "7 paket" in html and "0 paket" in html
    assert "tersisa" in html  # "Only 3 remain ..." in Indonesian
    assert "Tidak ada yang tersimpan" in html or "Belum ada yang disimpan" in html
    # The accept form: the adjusted plan under a new key.
    assert hidden_pairs(html) == [(a.pk, 4), (b.pk, 3)]
    new_key = re.search(r'name="key" value="([0-9a-f]{32})"', html).group(1)
    assert new_key != key
    accepted = client.post(
        PLEDGE_URL,
        {
            "key": new_key,
            "collaborator": collaborator.pk,
            "need": [a.pk, b.pk],
            "quantity": [4, 3],
            "planned_delivery_on": soon(),
        },
    )
    assert accepted.status_code == 302
    made = Commitment.objects.filter(collaborator=collaborator).order_by("need_id")
    assert [(m.need_id, m.quantity) for m in made] == [(a.pk, 4), (b.pk, 3)]
    assert claimed(a, b, c) == [4, 20, 0]


def test_a_plan_nothing_of_which_is_left_offers_no_button(english, donor, needs):
    collaborator, user = donor
    english.force_login(user)
    a = needs[0]
    take(a, 10)
    response = plan_post(english, collaborator, [(a.pk, 4)])
    assert response.status_code == 409
    html = response.content.decode()
    assert "Nothing of this plan can be pledged now." in html
    assert 'name="need"' not in html


def test_the_web_form_is_for_members_only(client, donor, needs):
    a = needs[0]
    outsider = CollaboratorFactory()
    client.force_login(donor[1])
    response = plan_post(client, outsider, [(a.pk, 1)])
    assert response.status_code == 403
    client.logout()
    anonymous = plan_post(client, outsider, [(a.pk, 1)])
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/akun/masuk/")
    assert claimed(a) == [0]


def test_the_web_form_refuses_a_limit_with_its_message(english, needs):
    collaborator = CollaboratorFactory(verification_status="rejected", name="PT Ditolak")
    english.force_login(member_of(collaborator))
    response = plan_post(english, collaborator, [(needs[0].pk, 1)])
    assert response.status_code == 409
    assert "PT Ditolak has been rejected" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"need": ["1"], "quantity": []},
        {"need": ["1", "2"], "quantity": ["1"]},
        {"need": ["x"], "quantity": ["1"]},
        {"need": ["1"], "quantity": ["-1"]},
        {"need": ["1\x00"], "quantity": ["1"]},
        {"need": ["99999999999999999999"], "quantity": ["1"]},
        {"need": ["1"], "quantity": ["2147483648"]},
        {"need": ["1"] * 101, "quantity": ["1"] * 101},
        {"need": ["1"], "quantity": ["1"], "key": "not-a-uuid"},
        {"need": ["1"], "quantity": ["1"], "note": "x" * 1001},
        {"need": ["1"], "quantity": ["1"], "planned_delivery_on": "2001-01-01"},
        {"need": ["1"], "quantity": ["1"], "collaborator": "99999999999999999999"},
        {"need": ["9" * 5000], "quantity": ["9" * 5000], "collaborator": "9" * 5000},
        {"need": ["1"], "quantity": ["1"], "note": "x" * 1_000_000, "key": "ü漢字🙂" * 2500},
    ],
)
def test_bad_input_is_a_clear_400(client, donor, data):
    collaborator, user = donor
    client.force_login(user)
    body = {"key": uuid.uuid4().hex, "collaborator": collaborator.pk, **data}
    response = client.post(PLEDGE_URL, body)
    assert response.status_code == 400
    values = [v for value in data.values() for v in ([value] if isinstance(value, str) else value)]
    if not any("\x00" in v for v in values):  # NUL: refused before any view, elsewhere
        assert 'role="alert"' in response.content.decode()
    assert not Commitment.objects.exists()


def test_a_get_goes_to_where_plans_are_made(client, donor):
    client.force_login(donor[1])
    response = client.get(PLEDGE_URL)
    assert response.status_code == 302


# --- the API ------------------------------------------------------------------------------

PLANS_API = "/api/v1/plans/"


def api_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def api_plan(client, collaborator, lines, key="k-1", **extra):
    body = {
        "collaborator": collaborator.pk,
        "lines": [{"need": n, "quantity": q} for n, q in lines],
        **extra,
    }
    return client.post(PLANS_API, body, format="json", headers={"Idempotency-Key": key})


def test_the_api_pledges_a_plan_once(donor, needs):
    collaborator, user = donor
    client = api_client(user)
    a, b, _c = needs
    created = api_plan(client, collaborator, [(b.pk, 5), (a.pk, 4)])
    assert created.status_code == 201, created.content
    body = created.json()
    assert [(c["need"], c["quantity"]) for c in body["commitments"]] == [(a.pk, 4), (b.pk, 5)]
    replay = api_plan(client, collaborator, [(b.pk, 5), (a.pk, 4)])
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == body
    other = api_plan(client, collaborator, [(a.pk, 1)])
    assert other.status_code == 409
    assert other["Content-Type"].startswith("application/problem+json")
    assert "lines" not in other.json()
    assert Commitment.objects.filter(collaborator=collaborator).count() == 2


def test_the_api_answers_a_changed_plan_with_its_lines_and_the_adjusted_plan(donor, needs):
    collaborator, user = donor
    a, b, _c = needs
    take(b, 17)
    response = api_plan(api_client(user), collaborator, [(a.pk, 4), (b.pk, 5)])
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 409 and body["detail"]
    assert body["lines"] == [
        {
            "need": b.pk,
            "asked": 5,
            "available": 3,
            "adjusted": 3,
            "reason": body["lines"][0]["reason"],
        }
    ]
    assert body["adjusted_plan"] == [{"need": a.pk, "quantity": 4}, {"need": b.pk, "quantity": 3}]
    assert not Commitment.objects.filter(collaborator=collaborator).exists()


def test_the_api_refusals(donor, needs):
    collaborator, user = donor
    client = api_client(user)
    a = needs[0]
    outsider = CollaboratorFactory()
    assert api_plan(client, outsider, [(a.pk, 1)]).status_code == 403
    no_key = client.post(
        PLANS_API,
        {"collaborator": collaborator.pk, "lines": [{"need": a.pk, "quantity": 1}]},
        format="json",
    )
    assert no_key.status_code == 428
    assert api_plan(client, collaborator, []).status_code == 400
    too_many = [(a.pk, 1)] * 101
    assert api_plan(client, collaborator, too_many).status_code == 400
    rejected = CollaboratorFactory(verification_status="rejected")
    refused = api_plan(api_client(member_of(rejected)), rejected, [(a.pk, 1)])
    assert refused.status_code == 422 and "rejected" in refused.json()["detail"]
    assert APIClient().post(PLANS_API, {}, format="json").status_code == 401
    assert claimed(a) == [0]
