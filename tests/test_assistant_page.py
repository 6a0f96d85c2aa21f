"""The donor's assistant page (/asisten/): members of a collaborator ask for a plan with a
bookmarkable GET, see exactly what plan_propose proposes (lines, reasons, totals, what could
not be placed), and the pledge form under it carries the same lines; bad requests are the
form's errors with a 400, never a server error; others are sent to sign in or register."""

from __future__ import annotations

import math
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from collaborators.models import Collaborator
from commitments.assistant.engine import AssistantRequest, plan_propose, start_of
from commitments.assistant.plans import MAX_PLAN_LINES
from commitments.models import Commitment
from locations.models import Area, Need
from programs.models import DonationForm

from .factories import CollaboratorFactory, NeedFactory, UserFactory, member_of, pangan_groceries

pytestmark = pytest.mark.django_db

KALI_ANYAR = "31.73.04.1002"


@pytest.fixture
def member(db):
    return member_of(CollaboratorFactory(name="Toko Sembako Maju"))


@pytest.fixture
def needs(db) -> list[Need]:
    """A few open needs for groceries in Kali Anyar and its neighbours (real RW)."""
    codes = ["31.73.04.1002.001", "31.73.04.1002.003", "31.73.04.1002.005", "31.73.04.1008.001"]
    return [
        NeedFactory(area=Area.objects.get(code=code), quantity_needed=quantity)
        for code, quantity in zip(codes, (120, 80, 60, 90), strict=True)
    ]


def ask(client, lang="id", **params):
    return client.get(reverse("assistant") + "?" + urlencode(params), HTTP_ACCEPT_LANGUAGE=lang)


def shown_lines(html: str) -> list[tuple[int, int]]:
    return [
        (int(need), int(quantity))
        for need, quantity in re.findall(r'data-need="(\d+)" data-quantity="(\d+)"', html)
    ]


def pledge_form_of(html: str) -> str:
    match = re.search(r'<form method="post" action="/asisten/ikrar/".*?</form>', html, re.S)
    assert match, "the page has no pledge form"
    return match.group(0)


def hidden_lines(form_html: str) -> list[tuple[int, int]]:
    return [
        (int(need), int(quantity))
        for need, quantity in re.findall(
            r'name="need" value="(\d+)"><input type="hidden" name="quantity" value="(\d+)"',
            form_html,
        )
    ]


def hidden(form_html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', form_html)
    return match.group(1) if match else ""


def proposed(**kwargs):
    form = pangan_groceries()
    return plan_propose(AssistantRequest(program=form.program, donation_form=form, **kwargs))


# --- who may ask ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = ask(client, form=pangan_groceries().pk, quantity=10)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/asisten/")


def test_a_user_of_no_collaborator_is_sent_to_register_one(client):
    client.force_login(UserFactory())
    response = client.get(reverse("assistant"))
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding")


def test_the_empty_page_offers_only_forms_with_open_needs(client, member, needs):
    client.force_login(member)
    response = client.get(reverse("assistant"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="plan-heading"' not in html
    offered = set(map(int, re.findall(r'<option value="(\d+)"', html.split('name="start"')[0])))
    assert offered == {pangan_groceries().pk}
    assert DonationForm.objects.count() > 1
    assert f'value="{KALI_ANYAR}"' in html and "Kali Anyar (Tambora)" in html


# --- the plan ------------------------------------------------------------------------------


def test_the_plan_shown_is_plan_propose_and_the_pledge_form_carries_it(client, member, needs):
    client.force_login(member)
    start = start_of(Area.objects.get(code=KALI_ANYAR))
    response = ask(client, form=pangan_groceries().pk, quantity=200, start=KALI_ANYAR, max_km=3)
    assert response.status_code == 200
    html = response.content.decode()
    plan = proposed(quantity=200, start=start, max_km=3.0)
    expected = [(line.need.pk, line.quantity) for line in plan.lines]
    assert expected and sum(q for _, q in expected) == 200
    assert shown_lines(html) == expected
    form = pledge_form_of(html)
    assert hidden_lines(form) == expected
    assert re.fullmatch(r"[0-9a-f]{32}", hidden(form, "key"))
    assert hidden(form, "collaborator") == str(member.memberships.get().collaborator_id)
    for line in plan.lines:
        assert ", ".join(line.reasons) in html
        assert line.need.area.get_absolute_url() in html
    assert "200 paket" in html  # the total, in the default language (Indonesian)
    assert "Janjikan rencana ini" in html
    # The map's data: a marker per line at its point, and the start.
    data = response.context["plan_map"]
    assert [(m["x"], m["y"]) for m in data["lines"]] == [line.point for line in plan.lines]
    assert data["start"] == list(start)
    # The outlines: the lines' areas and the start kelurahan (the map needs no tiles).
    assert len(data["areas"]["features"]) == len({line.need.area_id for line in plan.lines}) + 1


def test_a_fresh_key_each_time_the_plan_is_shown(client, member, needs):
    client.force_login(member)
    keys = {
        hidden(
            pledge_form_of(ask(client, form=pangan_groceries().pk, quantity=5).content.decode()),
            "key",
        )
        for _ in range(2)
    }
    assert len(keys) == 2


def test_pledging_the_shown_plan_creates_its_commitments(client, member, needs):
    client.force_login(member)
    html = ask(client, form=pangan_groceries().pk, quantity=150, start=KALI_ANYAR).content.decode()
    form = pledge_form_of(html)
    lines = hidden_lines(form)
    data = {
        "csrfmiddlewaretoken": "x",
        "key": hidden(form, "key"),
        "collaborator": hidden(form, "collaborator"),
        "need": [need for need, _ in lines],
        "quantity": [quantity for _, quantity in lines],
    }
    response = client.post(reverse("assistant-pledge"), data)
    assert response.status_code == 302 and response["Location"] == reverse("my-commitments")
    made = Commitment.objects.filter(collaborator_id=int(data["collaborator"]))
    assert sorted(made.values_list("need_id", "quantity")) == sorted(lines)
    for need, quantity in lines:
        assert Need.objects.get(pk=need).quantity_claimed == quantity


def test_what_could_not_be_placed_is_said(client, member, needs):
    client.force_login(member)
    total = sum(n.quantity_needed for n in needs)
    response = ask(client, lang="en", form=pangan_groceries().pk, quantity=total + 25)
    html = response.content.decode()
    assert response.status_code == 200
    assert "25 packages: Every open need of this kind is covered by this plan." in html
    assert len(shown_lines(html)) == len(needs)


def test_the_plan_says_needs_are_raised_to_the_level_first(client, member, needs):
    client.force_login(member)
    many = ask(client, lang="en", form=pangan_groceries().pk, quantity=100)
    html = many.content.decode()
    assert many.status_code == 200
    assert "Each need is first raised to 65% covered" in html
    assert "A few areas: at most" not in html
    # The lines do it: none goes past 65% while another need is below it.
    for need, quantity in shown_lines(html):
        assert quantity <= math.ceil(0.65 * Need.objects.get(pk=need).quantity_needed)
    few = ask(client, lang="en", form=pangan_groceries().pk, quantity=500, spread="few")
    html = few.content.decode()
    assert few.status_code == 200
    assert "A few areas: at most 5 needs, given more (up to full) rather than opening others." in (
        html
    )
    assert len(shown_lines(html)) <= 5
    indonesian = ask(client, lang="id", form=pangan_groceries().pk, quantity=500, spread="few")
    assert (
        "Setiap kebutuhan lebih dulu dinaikkan hingga 65% terpenuhi" in indonesian.content.decode()
    )
    assert "Beberapa wilayah: paling banyak 5 kebutuhan" in indonesian.content.decode()


def test_a_budget_buys_units_at_their_value(client, member, needs):
    client.force_login(member)
    response = ask(client, form=pangan_groceries().pk, budget=3_000_000, spread="few")
    assert response.status_code == 200
    plan = proposed(budget_idr=3_000_000, spread="few")
    assert shown_lines(response.content.decode()) == [
        (line.need.pk, line.quantity) for line in plan.lines
    ]
    assert plan.total_quantity == 10  # 300,000 a package


def test_a_plan_longer_than_one_pledge_pledges_its_best_lines(client, member):
    client.force_login(member)
    rws = Area.objects.filter(
        level=Area.Level.RW, is_residential=True, code__startswith="31.73.04."
    )
    for area in rws.order_by("code")[: MAX_PLAN_LINES + 3]:
        NeedFactory(area=area, quantity_needed=10)
    response = ask(client, form=pangan_groceries().pk, quantity=10 * (MAX_PLAN_LINES + 3))
    html = response.content.decode()
    assert len(shown_lines(html)) == MAX_PLAN_LINES + 3
    assert hidden_lines(pledge_form_of(html)) == shown_lines(html)[:MAX_PLAN_LINES]
    assert f"satu janji memuat paling banyak {MAX_PLAN_LINES}" in html


def test_several_collaborators_choose_which_one_pledges_rejected_ones_cannot(client, needs):
    first = CollaboratorFactory(name="A Satu")
    user = member_of(first)
    second = CollaboratorFactory(name="B Dua")
    rejected = CollaboratorFactory(
        name="C Ditolak", verification_status=Collaborator.Verification.REJECTED
    )
    for collaborator in (second, rejected):
        user.memberships.create(collaborator=collaborator, role="member")
    client.force_login(user)
    form = pledge_form_of(ask(client, form=pangan_groceries().pk, quantity=5).content.decode())
    options = re.findall(r'<option value="(\d+)"', form)
    assert options == [str(first.pk), str(second.pk)]


# --- bad requests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"quantity": 10, "budget": 1000}, "Give a quantity or a budget, not both."),
        ({}, "Give either a quantity or a budget."),
        ({"quantity": 0}, "Ensure this value is greater than or equal to 1."),
        ({"quantity": "2147483648"}, "Ensure this value is less than or equal to 2147483647."),
        ({"quantity": "9" * 5000}, "Enter a whole number."),
        ({"budget": 10**14}, "Ensure this value is less than or equal to 99999999999999."),
        ({"quantity": 5, "max_km": 3}, "A distance limit needs a starting point."),
        ({"quantity": 5, "start": KALI_ANYAR, "max_km": "nan"}, "Enter a number."),
        ({"quantity": 5, "start": KALI_ANYAR, "max_km": 5000}, "less than or equal to 1000"),
        ({"quantity": 5, "start": "31.73.04.1002.001"}, "Select a valid choice."),
        ({"quantity": 5, "lon": 106.8}, "The starting point is not a place on Earth."),
        ({"quantity": 5, "lon": 500, "lat": 0}, "less than or equal to 180"),
        ({"quantity": 5, "spread": "everywhere"}, "Select a valid choice."),
        ({"quantity": 5, "form": "-1"}, "Select a valid choice."),
        ({"quantity": 5, "form": "x" * 100_000}, "Select a valid choice."),
    ],
)
def test_bad_requests_are_the_forms_errors_with_a_400(client, member, needs, params, message):
    client.force_login(member)
    params = {"form": pangan_groceries().pk, **params}
    response = ask(client, lang="en", **params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="plan-heading"' not in html and "/asisten/ikrar/" not in html


def test_a_form_without_open_needs_is_refused_not_planned(client, member, needs):
    client.force_login(member)
    closed = DonationForm.objects.get(program__slug="pangan", slug="instant-food")
    response = ask(client, lang="en", form=closed.pk, quantity=5)
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_a_rejected_only_member_sees_the_plan_but_no_pledge_form(client, needs):
    user = member_of(CollaboratorFactory(verification_status=Collaborator.Verification.REJECTED))
    client.force_login(user)
    response = ask(client, lang="en", form=pangan_groceries().pk, quantity=5)
    html = response.content.decode()
    assert response.status_code == 200 and shown_lines(html)
    assert "/asisten/ikrar/" not in html
    assert "None of your collaborators may pledge in this program." in html


def test_the_page_is_linked_for_collaborators(client, member):
    client.force_login(member)
    assistant = f'href="{reverse("assistant")}"'
    assert assistant in client.get(reverse("my-commitments")).content.decode()
    assert assistant in client.get(reverse("needs-map")).content.decode()
    assert assistant in client.get(reverse("home")).content.decode()
