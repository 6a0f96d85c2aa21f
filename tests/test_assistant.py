"""The donation assistant (issue 11): a plan never exceeds what a need still needs, never
goes to a closed, stale, non-residential or out-of-range need, is ranked by a score that is
the weighted sum of the parts it shows, says why in the same numbers, spreads or
concentrates as asked, respects a budget, and is the optimum of its own objective; program
leads tune their own program's weights, nobody else's; the method page explains it all."""

from __future__ import annotations

import datetime
import math
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitments.assistant.engine import (
    FEW_MAX_LINES,
    LEVEL_FLOOR,
    LEVEL_SLOPE,
    LEVEL_TARGET,
    AssistantRequest,
    RequestInvalid,
    Weights,
    allocate,
    distance_km,
    plan_problem,
    plan_propose,
    start_of,
)
from ksbb.formatting import number
from locations.models import Area, Need
from locations.vulnerability import vulnerability_ranks
from programs.models import ASSISTANT_WEIGHT_NAMES, DonationForm, Program

from .factories import NeedFactory, UserFactory, lead_of, pangan_groceries, program

pytestmark = pytest.mark.django_db

KALI_ANYAR_RW = [f"31.73.04.1002.{n:03d}" for n in range(1, 10)]
FAR_RW = "31.75.01.1001.001"  # Jakarta Timur, about 10 km from Kali Anyar


def rw(code: str) -> Area:
    return Area.objects.get(code=code)


def kali_anyar_start() -> tuple[float, float]:
    return start_of(Area.objects.get(code="31.73.04.1002"))


def request(**kwargs) -> AssistantRequest:
    form = kwargs.pop("donation_form", None) or pangan_groceries()
    return AssistantRequest(program=form.program, donation_form=form, **kwargs)


def need(code: str, **kwargs) -> Need:
    return NeedFactory(area=rw(code), **kwargs)


def claimed(n: Need, units: int) -> Need:
    Need.objects.filter(pk=n.pk).update(quantity_claimed=units)
    n.refresh_from_db()
    return n


@pytest.fixture
def needs() -> list[Need]:
    """Nine open needs in Kali Anyar, of every priority, partly pledged, some assessed lately."""
    now = timezone.now()
    made = []
    for index, code in enumerate(KALI_ANYAR_RW):
        made.append(
            claimed(
                need(
                    code,
                    quantity_needed=40 + 10 * index,
                    priority=1 + index % 3,
                    households=100 + 20 * index,
                    assessed_at=now - datetime.timedelta(days=3 * index),
                ),
                5 * (index % 4),
            )
        )
    return made


# --- what a plan may contain ------------------------------------------------------------------


def test_a_plan_never_gives_a_need_more_than_remains_of_it(needs):
    remaining = sum(n.quantity_remaining for n in needs)
    with translation.override("en"):
        plan = plan_propose(request(quantity=remaining + 500, start=kali_anyar_start()))
    by_need = {n.pk: n for n in needs}
    assert {line.need.pk for line in plan.lines} == set(by_need)
    for line in plan.lines:
        assert 1 <= line.quantity <= by_need[line.need.pk].quantity_remaining
    assert plan.total_quantity == remaining
    (unplaced,) = plan.unplaced
    assert unplaced.quantity == 500 and "covered" in unplaced.reason


def test_closed_expired_full_stale_non_residential_and_far_needs_are_left_out(needs):
    now = timezone.now()
    zone = Area.objects.filter(level="rw", is_residential=False).order_by("code").first()
    excluded = [
        need(KALI_ANYAR_RW[0], status=Need.Status.CLOSED),
        need(KALI_ANYAR_RW[1], valid_until=timezone.localdate() - datetime.timedelta(days=1)),
        claimed(need(KALI_ANYAR_RW[2], quantity_needed=30), 30),
        need(KALI_ANYAR_RW[3], assessed_at=now - datetime.timedelta(days=91)),
        NeedFactory(area=zone),
        need(FAR_RW),
        NeedFactory(area=Area.objects.get(code="31.73.04")),  # a kecamatan: not a need's level
        NeedFactory(
            donation_form=DonationForm.objects.get(program__slug="pangan", slug="eid-food")
        ),
    ]
    assert distance_km(kali_anyar_start(), start_of(rw(FAR_RW))) > 5
    plan = plan_propose(request(quantity=10_000, start=kali_anyar_start(), max_km=5))
    planned = {line.need.pk for line in plan.lines}
    assert planned == {n.pk for n in needs}
    assert not planned & {n.pk for n in excluded}
    assert plan.left_out == {"stale": 1, "not_residential": 1, "out_of_range": 1, "no_value": 0}
    assert all(line.distance_km <= 5 for line in plan.lines)


def test_without_a_starting_point_distance_plays_no_part(needs):
    with translation.override("en"):
        plan = plan_propose(request(quantity=100))
    assert plan.lines
    assert all(line.parts["proximity"] == 0 and line.distance_km is None for line in plan.lines)
    assert not any("km away" in reason for line in plan.lines for reason in line.reasons)


# --- the score and its reasons ------------------------------------------------------------


def test_the_score_is_the_weighted_sum_of_the_parts_shown_and_the_reasons_say_the_same(needs):
    now = timezone.now()
    weights = Weights(unmet=2.5, priority=1.5, vulnerability=3, freshness=1, proximity=2, equity=1)
    with translation.override("en"):
        plan = plan_propose(
            request(quantity=120, start=kali_anyar_start(), max_km=4), weights=weights, now=now
        )
    ranks = vulnerability_ranks()
    by_need = {n.pk: n for n in needs}
    assert plan.lines
    for line in plan.lines:
        n, parts = by_need[line.need.pk], line.parts
        assert set(parts) == set(ASSISTANT_WEIGHT_NAMES)
        assert all(0 <= value <= 1 for value in parts.values())
        assert math.isclose(
            line.score, sum(getattr(weights, name) * parts[name] for name in parts), rel_tol=1e-12
        )
        text = ", ".join(line.reasons)

        covered = round(100 * n.quantity_claimed / n.quantity_needed)
        share = n.quantity_claimed / n.quantity_needed
        assert plan.level == LEVEL_TARGET  # Jakarta as a whole is far below it
        below = share < plan.level
        assert math.isclose(
            parts["unmet"],
            1 - LEVEL_SLOPE * share / plan.level
            if below
            else LEVEL_FLOOR * (1 - share) / (1 - plan.level),
        )
        assert f"{covered}% covered" in text
        assert parts["priority"] == {1: 1.0, 2: 0.5, 3: 0.0}[n.priority]
        assert {1: "high priority", 2: "medium priority", 3: "low priority"}[n.priority] in text

        rank = ranks[n.area.code]
        assert math.isclose(parts["vulnerability"], rank.index)
        with translation.override("en"):
            assert f"{number(int(round(rank.density)))} people/km²" in text
        years = rank.flooded_years
        assert all(str(year) in text for year in years)
        assert ("flooded in" in text) if years else ("no flooding recorded" in text)

        days = (now - n.assessed_at).days
        assert math.isclose(parts["freshness"], 1 - days / Need.STALE_AFTER_DAYS)
        assert (f"assessed {days} days ago" in text) if days > 1 else ("assessed" in text)

        km = distance_km(kali_anyar_start(), start_of(n.area))
        assert math.isclose(line.distance_km, km)
        assert math.isclose(parts["proximity"], 1 - km / 4)
        assert f"{line.facts['distance_km']:.1f} km away" in text
        assert abs(line.facts["distance_km"] - km) <= 0.05

        received = line.facts["received_per_household"]
        assert ("nothing received yet" in text) if received == 0 else (f"{received:g}" in text)
        assert parts["equity"] <= 1 and (received > 0) == (parts["equity"] < 1)


def test_the_reasons_speak_indonesian_with_indonesian_numbers(needs):
    with translation.override("id"):
        plan = plan_propose(request(quantity=50, start=kali_anyar_start()))
    text = " ".join(plan.lines[0].reasons)
    assert "terpenuhi" in text and "km" in text and "jiwa/km²" in text
    assert re.search(r"\d+\.\d{3} jiwa/km²", text)  # 48.000, not 48,000


def test_lines_are_ranked_by_score(needs):
    plan = plan_propose(request(quantity=300, start=kali_anyar_start()))
    scores = [line.score for line in plan.lines]
    assert len(scores) > 3 and scores == sorted(scores, reverse=True)


def test_a_higher_weight_moves_a_need_up(needs):
    near, far = need(KALI_ANYAR_RW[0], priority=3), need(FAR_RW, priority=1)
    Need.objects.exclude(pk__in=[near.pk, far.pk]).update(status=Need.Status.CLOSED)
    base = request(quantity=10, start=kali_anyar_start(), spread="few")
    by_distance = plan_propose(base, weights=Weights(priority=0, proximity=10))
    by_priority = plan_propose(base, weights=Weights(priority=10, proximity=0))
    assert by_distance.lines[0].need == near
    assert by_priority.lines[0].need == far


# --- spreading, budgets, optimality -------------------------------------------------------


def test_many_raises_needs_to_the_level_and_few_gives_more_to_at_most_five_needs(needs):
    def reached(line) -> int:
        return line.need.quantity_claimed + line.quantity

    def to_level(n: Need, level: float) -> int:
        return math.ceil(level * n.quantity_needed)

    by_need = {n.pk: n for n in needs}
    below_level = sum(to_level(n, LEVEL_TARGET) - n.quantity_claimed for n in needs)
    assert below_level > 300
    many = plan_propose(request(quantity=300, start=kali_anyar_start(), spread="many"))
    few = plan_propose(request(quantity=300, start=kali_anyar_start(), spread="few"))
    assert many.total_quantity == few.total_quantity == 300
    # Many areas: no need is raised past the level while others within reach are below it.
    assert len(many.lines) > FEW_MAX_LINES
    assert all(reached(line) <= to_level(line.need, many.level) for line in many.lines)
    # A few areas: at most five needs, each raised to the level and then given more.
    assert len(few.lines) == FEW_MAX_LINES
    assert all(reached(line) >= to_level(line.need, few.level) for line in few.lines)
    assert any(reached(line) > to_level(line.need, few.level) for line in few.lines)

    capped = plan_propose(request(quantity=10_000, start=kali_anyar_start(), spread="few"))
    assert len(capped.lines) == FEW_MAX_LINES
    assert all(line.quantity == by_need[line.need.pk].quantity_remaining for line in capped.lines)
    assert "few areas" in capped.unplaced[0].reason or "beberapa" in capped.unplaced[0].reason


def test_the_level_rises_with_what_jakarta_has_pledged(needs):
    before = plan_propose(request(quantity=20, start=kali_anyar_start()))
    for n in needs:
        claimed(n, math.ceil(0.9 * n.quantity_needed))
    after = plan_propose(request(quantity=20, start=kali_anyar_start()))
    assert before.level == LEVEL_TARGET < after.level <= 1
    assert after.level_percent >= 90


def test_a_budget_buys_units_at_each_needs_value_and_never_more_than_the_budget(needs):
    no_value = need(KALI_ANYAR_RW[4], unit_value_idr=None)
    dear = need(KALI_ANYAR_RW[5], unit_value_idr=450_000)
    plan = plan_propose(request(budget_idr=20_000_000, start=kali_anyar_start()))
    assert plan.lines and plan.total_value_idr <= 20_000_000
    assert 20_000_000 - plan.total_value_idr < 450_000  # not even one more unit fits
    assert no_value.pk not in {line.need.pk for line in plan.lines}
    assert plan.left_out["no_value"] == 1
    for line in plan.lines:
        assert line.value_idr == line.quantity * int(line.need.unit_value_idr)
    if dear.pk in {line.need.pk for line in plan.lines}:
        assert any(line.value_idr == line.quantity * 450_000 for line in plan.lines)


def test_a_bad_request_is_refused_with_a_reason():
    form = pangan_groceries()
    other = DonationForm.objects.filter(program__slug="umkm").first()
    cases = [
        {},
        {"quantity": 5, "budget_idr": 5},
        {"quantity": 0},
        {"quantity": 2**31},
        {"budget_idr": -1},
        {"quantity": 5, "max_km": 3},
        {"quantity": 5, "start": (200.0, 0.0)},
        {"quantity": 5, "start": (float("nan"), 0.0)},
        {"quantity": True},
        {"quantity": 2.5},
        {"quantity": 5, "start": (106.8,)},
        {"quantity": 5, "start": "106.8,-6.2"},
        {"quantity": 5, "start": (106.8, -6.2), "max_km": float("inf")},
        {"quantity": 5, "spread": "everywhere"},
    ]
    for kwargs in cases:
        with pytest.raises(RequestInvalid):
            AssistantRequest(program=form.program, donation_form=form, **kwargs)
    with pytest.raises(RequestInvalid):
        AssistantRequest(program=form.program, donation_form=other, quantity=1)
    assert form.unit_value_idr is None  # so a budget can buy only needs with their own value


def test_the_greedy_plan_is_the_exact_optimum_of_the_linear_program(needs):
    np = pytest.importorskip("numpy")
    linprog = pytest.importorskip("scipy.optimize").linprog
    need(KALI_ANYAR_RW[6], unit_value_idr=120_000, quantity_needed=70)
    for kwargs in (
        {"quantity": 37},
        {"quantity": 260, "start": kali_anyar_start()},
        {"budget_idr": 9_000_000, "start": kali_anyar_start(), "max_km": 3},
    ):
        problem = plan_problem(request(**kwargs))
        allocation, _ = allocate(problem)
        chunks = [
            (chunk, c.unit_cost)
            for i, c in enumerate(problem.candidates)
            for chunk in problem.chunks(i)
        ]
        result = linprog(
            -np.array([chunk[2] for chunk, _ in chunks]),
            A_ub=np.array([[cost for _, cost in chunks]], dtype=float),
            b_ub=[problem.capacity],
            bounds=[(0, chunk[1]) for chunk, _ in chunks],
            method="highs",
        )
        assert result.status == 0
        value = problem.objective(allocation)
        assert value <= -result.fun * (1 + 1e-9)
        if "quantity" in kwargs:  # whole units are no constraint without a budget
            assert math.isclose(value, -result.fun, rel_tol=1e-9)
        else:  # whole units under a budget: short of the optimum by less than one unit's score
            assert -result.fun - value <= max(chunk[2] for chunk, _ in chunks)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.tuples(
            st.integers(0, len(KALI_ANYAR_RW) - 1),  # area
            st.integers(1, 400),  # needed
            st.integers(0, 100),  # claimed, in percent of needed
            st.integers(1, 3),  # priority
            st.integers(0, 120),  # days since assessed
            st.sampled_from([None, 50_000, 300_000]),  # unit value
        ),
        min_size=1,
        max_size=8,
    ),
    quantity=st.integers(1, 3000),
    budget=st.one_of(st.none(), st.integers(1, 200_000_000)),
    max_km=st.one_of(st.none(), st.floats(0.05, 5)),
    spread=st.sampled_from(["few", "many"]),
)
def test_plans_keep_their_invariants_on_random_needs(db, lines, quantity, budget, max_km, spread):
    Need.objects.all().delete()
    now = timezone.now()
    made = {}
    for area, needed, percent, priority, days, value in lines:
        n = need(
            KALI_ANYAR_RW[area],
            quantity_needed=needed,
            priority=priority,
            unit_value_idr=value,
            assessed_at=now - datetime.timedelta(days=days),
        )
        made[n.pk] = claimed(n, needed * percent // 100)
    kwargs = {"budget_idr": budget} if budget else {"quantity": quantity}
    start = start_of(rw(KALI_ANYAR_RW[0]))
    plan = plan_propose(request(start=start, max_km=max_km, spread=spread, **kwargs), now=now)

    assert sum(line.quantity for line in plan.lines) == plan.total_quantity
    if budget:
        assert (plan.total_value_idr or 0) <= budget
    else:
        assert plan.total_quantity <= quantity
    if spread == "few":
        assert len(plan.lines) <= FEW_MAX_LINES
    scores = [line.score for line in plan.lines]
    assert scores == sorted(scores, reverse=True)
    for line in plan.lines:
        n = made[line.need.pk]
        assert 1 <= line.quantity <= n.quantity_remaining
        assert n.is_open() and not n.is_stale(now)
        assert max_km is None or line.distance_km <= max_km
        assert not budget or n.unit_value_idr is not None
        assert math.isclose(
            line.score,
            sum(getattr(plan.weights, k) * v for k, v in line.parts.items()),
            rel_tol=1e-12,
        )
    placed = plan.total_value_idr if budget else plan.total_quantity
    left = sum((u.budget_idr if budget else u.quantity) for u in plan.unplaced)
    assert (placed or 0) + left == (budget or quantity)


# --- weights ----------------------------------------------------------------------------------


def test_a_programs_stored_weights_are_the_defaults_unless_overridden(needs):
    pangan = program("pangan")
    assert Weights.for_program(pangan) == Weights()
    Program.objects.filter(pk=pangan.pk).update(assistant_weights={"equity": 7, "proximity": 0})
    pangan.refresh_from_db()
    weights = Weights.for_program(pangan)
    assert weights.equity == 7 and weights.proximity == 0 and weights.unmet == Weights().unmet
    assert plan_propose(request(quantity=5)).weights == weights


@pytest.mark.parametrize(
    "stored",
    [
        {"bogus": 1},
        {"unmet": -0.1},
        {"unmet": 10.5},
        {"unmet": float("nan")},
        {"unmet": float("inf")},
        {"unmet": "3"},
        {"unmet": True},
        ["unmet", 3],
    ],
)
def test_the_model_refuses_unknown_or_out_of_range_weights(stored):
    pangan = program("pangan")
    pangan.assistant_weights = stored
    with pytest.raises(ValidationError) as refused:
        pangan.full_clean()
    assert "assistant_weights" in refused.value.message_dict


def weights_url(slug: str = "pangan") -> str:
    return reverse("assistant-weights", kwargs={"slug": slug})


def test_a_lead_tunes_their_programs_weights_and_the_method_page_shows_them(client, needs):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(lead_of("pangan"))
    assert client.get(reverse("assistant-weights-programs"))["Location"] == weights_url()
    page = client.get(weights_url())
    assert page.status_code == 200
    assert "Sample plan" in page.content.decode() and page.context["sample"]["lines"]

    preview = client.post(weights_url(), {"action": "preview", "proximity": "0", "equity": "9"})
    assert preview.status_code == 200 and preview.context["weights"]["equity"] == 9
    assert Program.objects.get(slug="pangan").assistant_weights == {}

    saved = client.post(
        weights_url(),
        {"action": "save", "proximity": "0", "equity": "9", "unmet": f"{Weights().unmet:g}"},
    )
    assert saved.status_code == 302
    # Only what differs from the defaults is stored.
    assert Program.objects.get(slug="pangan").assistant_weights == {"proximity": 0, "equity": 9}
    html = client.get(reverse("assistant-method")).content.decode()
    assert html.count("own weights: ") == 1 and "Received so far <strong>9</strong>" in html

    client.post(weights_url(), {"action": "reset"})
    assert Program.objects.get(slug="pangan").assistant_weights == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unmet", "-1"),
        ("unmet", "10.01"),
        ("priority", "nan"),
        ("equity", "inf"),
        ("equity", "1e309"),
        ("proximity", "lots"),
        ("freshness", "9" * 400),
        ("sample_quantity", "0"),
        ("sample_quantity", str(2**40)),
        ("sample_form", "999999999999"),
    ],
)
def test_bad_weights_are_refused_with_a_message_and_nothing_is_saved(client, field, value):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    Program.objects.filter(slug="pangan").update(assistant_weights={"equity": 4})
    client.force_login(lead_of("pangan"))
    response = client.post(weights_url(), {"action": "save", "unmet": "2", field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'class="errorlist' in response.content.decode()
    assert Program.objects.get(slug="pangan").assistant_weights == {"equity": 4}


def test_weights_are_tuned_only_by_the_programs_leads_and_administrators(client):
    pangan_lead = lead_of("pangan")
    client.force_login(pangan_lead)
    assert client.get(weights_url("umkm")).status_code == 403
    assert client.post(weights_url("umkm"), {"action": "save", "equity": "9"}).status_code == 403
    assert client.post(weights_url("umkm"), {"action": "reset"}).status_code == 403
    assert client.get(weights_url("no-such-program")).status_code == 404
    assert Program.objects.get(slug="umkm").assistant_weights == {}

    client.force_login(UserFactory())
    assert client.get(reverse("assistant-weights-programs")).status_code == 403
    assert client.post(weights_url(), {"action": "save", "equity": "9"}).status_code == 403

    client.logout()
    assert client.get(weights_url()).status_code == 302  # to sign in

    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("assistant-weights-programs")).status_code == 200
    assert client.post(weights_url("umkm"), {"action": "save", "equity": "9"}).status_code == 302
    assert Program.objects.get(slug="umkm").assistant_weights == {"equity": 9}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["How the donation assistant chooses", "Share of the need still open", "score ="]),
        ("id", ["Cara asisten donasi memilih", "Bagian kebutuhan yang belum terpenuhi", "skor ="]),
    ],
)
def test_the_public_method_page_explains_the_formula_in_both_languages(client, language, words):
    response = client.get(reverse("assistant-method"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    for word in words:
        assert word in html
    for part in response.context["parts"]:
        assert part["meaning"] and part["source"]
        assert f'id="part-{part["name"]}"' in html
    assert reverse("assistant-method") in client.get("/").content.decode()  # the footer link


def test_the_method_page_says_needs_are_raised_to_the_level_and_what_few_areas_means(client):
    response = client.get(reverse("assistant-method"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{round(100 * LEVEL_TARGET)}% covered" in html
    assert "instead of filling one need to 100% while others wait" in html
    assert f"but at most {FEW_MAX_LINES} needs" in html
    assert "each is filled before the next is opened" not in html
