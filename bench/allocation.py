"""Does the donation assistant spread help more fairly than donors choosing alone?

    .venv/bin/python bench/allocation.py [--donors 1000] [--samples 100] [--seed 11]
        [--weights JSON] [--sqlite] [--keep]

Creates its own database (PostgreSQL at BENCH_POSTGRES, postgres://postgres@127.0.0.1:5432;
--sqlite: a temporary SQLite file), loads the programs, Jakarta's real areas and indicators
(load_jakarta) and the demo data (seed_demo), then adds generated needs (below). 1,000 donors
arrive one by one (a seeded generator: donation form, quantity or budget, a starting point in
a residential RW, a distance limit or none, a few areas or many) and give, twice from the same
initial state:

- today: each donor takes the open needs of highest priority, nearest first, giving each as
  much as it takes until the gift is used up;
- assistant: each donor follows plan_propose.

Both see the same needs (open, assessed within Need.STALE_AFTER_DAYS, residential, within the
donor's limit: what the assistant's plan_problem returns). Progress goes to stderr; stdout
ends with one line:

donors=... gini_today=... gini_assistant=... vulnerable_share_today=...
vulnerable_share_assistant=... mean_km_today=... mean_km_assistant=...
objective_vs_optimum=... plan_ms_p95=...

- gini: Gini coefficient of need coverage (claimed / needed over the RW's needs that were open
  and fresh at the start), across those RW, after all donors;
- vulnerable_share: the share of the donors' units that reached the most vulnerable quarter of
  Jakarta's RW by the assistant's vulnerability part (VulnerabilityRank.index);
- mean_km: the mean distance a donated unit travels from its donor's starting point;
- objective_vs_optimum: the MINIMUM over --samples requests (every tenth donor of the
  assistant run, planned as "many areas" on the state the donor met) of the plan's objective
  over the exact optimum of the same objective, a linear program over every need's chunks
  (scipy.optimize.linprog, HiGHS). "Few areas" plans cap their lines and fill a need before
  opening the next on purpose: that trades objective for fewer lines, so they are not
  compared with an optimum that has no such cap (their mean ratio is printed on stderr);
- plan_ms_p95: 95th percentile of plan_propose's wall time over the assistant run's donors.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN_URL, database_create, database_drop, progress  # noqa: E402

SEED = 11
# The demo has about 650 RW with needs, a third of them stale, and a few dozen needs outside
# food: too few for 1,000 donors and for "all of Jakarta". So every residential RW without a
# fresh open food need gets one, and each other (non-rupiah) donation form gets needs in
# GENERATED_OTHER_RW random RW; their priorities are random, as an assessment's would be.
GENERATED_OTHER_RW = 60
# Donors bring, in total, about this share of the open quantity of the forms they give.
SUPPLY_SHARE = 0.6
# Donor behaviour: a distance limit (km, or none), a few areas or many, a budget or units.
DISTANCE_LIMITS = [(None, 0.3), (3.0, 0.2), (5.0, 0.3), (10.0, 0.2)]
FEW_SHARE = 0.3
BUDGET_SHARE = 0.2


# --- database --------------------------------------------------------------------------------


def setup() -> None:
    # A local-memory cache and eager Celery, as under `make run`.
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
    import django

    django.setup()
    from django.core.management import call_command

    out = io.StringIO()
    call_command("migrate", verbosity=0, stdout=out)
    call_command("load_programs", stdout=out)
    call_command("load_jakarta", stdout=out, stderr=out)
    call_command("seed_demo", stdout=out)


def needs_generate(rng: random.Random) -> int:
    import datetime

    from django.utils import timezone

    from commitments.housekeeping.demo import UNIT_VALUES
    from locations.models import Area, Need
    from programs.models import DonationForm

    now = timezone.now()
    fresh_since = now - datetime.timedelta(days=Need.STALE_AFTER_DAYS)
    food = list(
        DonationForm.objects.filter(program__slug="pangan").exclude(unit=DonationForm.Unit.IDR)
    )
    covered = set(
        Need.objects.open()
        .filter(donation_form__in=food, assessed_at__gte=fresh_since)
        .values_list("area_id", flat=True)
    )
    residential = list(Area.objects.filter(level="rw", is_residential=True).order_by("code"))
    others = list(
        DonationForm.objects.exclude(program__slug="pangan")
        .exclude(unit=DonationForm.Unit.IDR)
        .select_related("program")
    )

    def need(area, form, quantity, households):
        assessed = now - datetime.timedelta(days=rng.randint(0, 80))
        return Need(
            area=area,
            program=form.program,
            donation_form=form,
            quantity_needed=quantity,
            unit_value_idr=UNIT_VALUES.get(form.slug),
            priority=rng.choices([1, 2, 3], weights=[0.25, 0.45, 0.3])[0],
            households=households,
            persons=int(households * 3.6) if households else None,
            assessed_by_role="Ketua RW",
            assessed_at=assessed,
            valid_until=(now + datetime.timedelta(days=rng.randint(30, 150))).date(),
            description="bench",
        )

    needs = []
    for area in residential:
        if area.pk not in covered:
            households = rng.randint(120, 900)
            quantity = max(20, int(households * rng.uniform(0.15, 0.6)))
            needs.append(need(area, rng.choice(food), quantity, households))
    for form in others:
        for area in rng.sample(residential, GENERATED_OTHER_RW):
            needs.append(need(area, form, rng.randint(2, 40), rng.randint(120, 900)))
    Need.objects.bulk_create(needs, batch_size=500)
    return len(needs)


# --- donors ----------------------------------------------------------------------------------


def donors_generate(rng: random.Random, count: int) -> list[dict]:
    """Donors of the forms that have open needs, each form chosen in proportion to its number
    of open needs, giving about a quarter of a typical need of it (so the total is about
    SUPPLY_SHARE of the open quantity)."""
    from django.db.models import Avg, Count, Sum

    from locations.models import Area, Need
    from programs.models import DonationForm

    forms = {f.pk: f for f in DonationForm.objects.select_related("program")}
    stats = list(
        Need.objects.open()
        .values("donation_form_id")
        .annotate(n=Count("pk"), remaining=Sum("quantity_needed") - Sum("quantity_claimed"))
        .order_by("donation_form_id")
    )
    values = dict(
        Need.objects.open()
        .filter(unit_value_idr__isnull=False)
        .values("donation_form_id")
        .annotate(v=Avg("unit_value_idr"))
        .values_list("donation_form_id", "v")
    )
    total_needs = sum(s["n"] for s in stats)
    starts = list(
        Area.objects.filter(level="rw", is_residential=True).values_list(
            "centroid_lon", "centroid_lat"
        )
    )
    donors = []
    for _ in range(count):
        s = rng.choices(stats, weights=[s["n"] for s in stats])[0]
        form = forms[s["donation_form_id"]]
        mean_gift = SUPPLY_SHARE * s["remaining"] / (count * s["n"] / total_needs)
        quantity = max(1, round(mean_gift * rng.uniform(0.2, 1.8)))
        limit = rng.choices([d for d, _ in DISTANCE_LIMITS], [w for _, w in DISTANCE_LIMITS])[0]
        donor = {
            "program": form.program,
            "donation_form": form,
            "start": rng.choice(starts),
            "max_km": limit,
            "spread": "few" if rng.random() < FEW_SHARE else "many",
        }
        unit_value = values.get(form.pk) or form.unit_value_idr
        if unit_value and form.unit != DonationForm.Unit.IDR and rng.random() < BUDGET_SHARE:
            donor["budget_idr"] = int(quantity * unit_value)
        else:
            donor["quantity"] = quantity
        donors.append(donor)
    return donors


# --- the two ways of giving ------------------------------------------------------------------


def give(allocation: list[tuple[int, int, tuple]], start, record: dict) -> None:
    """Claim (need id, units, need's point) like a pledge does (a conditional UPDATE), and
    record where the units went and how far they travelled."""
    from django.db import transaction
    from django.db.models import F

    from commitments.assistant.engine import distance_km
    from locations.models import Need

    with transaction.atomic():
        for need_id, units, point in allocation:
            claimed = Need.objects.filter(
                pk=need_id, quantity_claimed__lte=F("quantity_needed") - units
            ).update(quantity_claimed=F("quantity_claimed") + units)
            if claimed != 1:
                raise SystemExit(f"need {need_id}: {units} units could not be claimed")
            record["units"][need_id] = record["units"].get(need_id, 0) + units
            record["km_units"] += units * distance_km(start, point)
            record["total"] += units


def today_allocation(problem) -> list[tuple[int, int, tuple]]:
    """The highest priority first, nearest first within it, each filled in turn."""
    left = problem.capacity
    out = []
    order = sorted(problem.candidates, key=lambda c: (c.priority, c.distance_km, c.need_id))
    for c in order:
        if left <= 0:
            break
        units = min(c.remaining, left // c.unit_cost)
        if units > 0:
            out.append((c.need_id, units, c.point))
            left -= units * c.unit_cost
    return out


def lp_optimum(problem) -> float:
    """The exact optimum of the plan's objective: a variable per chunk of every need, at most
    its units, their cost within the capacity (scipy.optimize.linprog, HiGHS)."""
    import numpy as np
    from scipy.optimize import linprog

    scores, bounds, costs = [], [], []
    for index, c in enumerate(problem.candidates):
        for _, size, score in problem.chunks(index):
            scores.append(score)
            bounds.append((0, size))
            costs.append(c.unit_cost)
    if not scores:
        return 0.0
    result = linprog(
        -np.array(scores),
        A_ub=np.array([costs], dtype=float),
        b_ub=[problem.capacity],
        bounds=bounds,
        method="highs",
    )
    if result.status != 0:
        raise SystemExit(f"linprog: {result.message}")
    return -result.fun


def run_donors(donors: list[dict], *, assistant: bool, samples: int) -> dict:
    from dataclasses import replace

    from commitments.assistant.engine import AssistantRequest, allocate, plan_problem, plan_propose

    record = {"units": {}, "km_units": 0.0, "total": 0, "plan_ms": [], "ratios": [], "few": []}
    every = max(1, len(donors) // samples) if samples else 0
    for number, donor in enumerate(donors):
        request = AssistantRequest(**donor)
        if assistant:
            # Every tenth donor, or the next one when a request has nothing to plan.
            due = every and number >= len(record["ratios"]) * every
            if due and len(record["ratios"]) < samples:
                many = replace(request, spread="many")
                problem = plan_problem(many)
                allocation, _ = allocate(problem)
                optimum = lp_optimum(problem)
                if optimum > 0:
                    record["ratios"].append(problem.objective(allocation) / optimum)
                    if request.spread == "few":
                        few_problem = plan_problem(request)
                        few_allocation, _ = allocate(few_problem)
                        record["few"].append(few_problem.objective(few_allocation) / optimum)
            started = time.perf_counter()
            plan = plan_propose(request)
            record["plan_ms"].append((time.perf_counter() - started) * 1000)
            allocation = [(line.need.pk, line.quantity, line.point) for line in plan.lines]
        else:
            allocation = today_allocation(plan_problem(request))
        give(allocation, request.start, record)
        if (number + 1) % 200 == 0:
            progress(f"{'assistant' if assistant else 'today'}: {number + 1} donors")
    return record


# --- measures --------------------------------------------------------------------------------


def gini(values: list[float]) -> float:
    values = sorted(values)
    n, total = len(values), sum(values)
    if not n or total == 0:
        return 0.0
    return sum((2 * i - n - 1) * v for i, v in enumerate(values, start=1)) / (n * total)


def coverage_gini(universe: dict[int, tuple[int, int]]) -> float:
    """Gini of claimed / needed per RW over the needs open and fresh at the start."""
    from locations.models import Need

    claimed = dict(Need.objects.filter(pk__in=list(universe)).values_list("pk", "quantity_claimed"))
    by_rw: dict[int, list[int]] = {}
    for pk, (area_id, needed) in universe.items():
        totals = by_rw.setdefault(area_id, [0, 0])
        totals[0] += claimed[pk]
        totals[1] += needed
    return gini([c / n for c, n in by_rw.values()])


def vulnerable_share(record: dict, vulnerable_areas: set[int], area_of: dict[int, int]) -> float:
    if not record["total"]:
        return 0.0
    reached = sum(u for pk, u in record["units"].items() if area_of[pk] in vulnerable_areas)
    return reached / record["total"]


def reset_claims(initial: dict[int, int], touched) -> None:
    from django.db import transaction

    from locations.models import Need

    with transaction.atomic():
        for pk in touched:
            Need.objects.filter(pk=pk).update(quantity_claimed=initial[pk])


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--donors", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=100, help="requests checked by the LP")
    parser.add_argument("--seed", type=int, default=SEED, help="of the needs and donors")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--weights",
        type=json.loads,
        default=None,
        help="weights for every program, to try others than the defaults: '{\"equity\": 3}'",
    )
    args = parser.parse_args()

    name = sqlite = None
    if args.sqlite:
        from bench.common import setup_django

        os.environ.pop("DATABASE_URL", None)
        sqlite = setup_django()
        progress(f"SQLite {sqlite}")
    else:
        name = database_create()
        os.environ["DATABASE_URL"] = f"{ADMIN_URL}/{name}"
        progress(f"database {name}")
    try:
        results = run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            progress(f"kept database {name or sqlite}")
        elif name:
            database_drop(name)
        elif sqlite:
            shutil.rmtree(Path(sqlite).parent, ignore_errors=True)
    print(
        "donors={donors} gini_today={gini_today:.3f} gini_assistant={gini_assistant:.3f} "
        "vulnerable_share_today={vulnerable_share_today:.3f} "
        "vulnerable_share_assistant={vulnerable_share_assistant:.3f} "
        "mean_km_today={mean_km_today:.2f} mean_km_assistant={mean_km_assistant:.2f} "
        "objective_vs_optimum={objective_vs_optimum:.4f} plan_ms_p95={plan_ms_p95:.1f}".format(
            **results
        )
    )


def run(args) -> dict:
    setup()
    import datetime

    from django.utils import timezone

    from locations.models import Area, Need
    from locations.vulnerability import vulnerability_ranks

    rng = random.Random(args.seed)
    progress(f"areas, programs and demo loaded; {needs_generate(rng)} needs generated")
    fresh = Need.objects.open().filter(
        area__level="rw",
        area__is_residential=True,
        assessed_at__gte=timezone.now() - datetime.timedelta(days=Need.STALE_AFTER_DAYS),
    )
    universe = {pk: (a, n) for pk, a, n in fresh.values_list("pk", "area_id", "quantity_needed")}
    initial = dict(Need.objects.values_list("pk", "quantity_claimed"))
    area_of = dict(Need.objects.values_list("pk", "area_id"))
    ranks = vulnerability_ranks()
    rw = dict(Area.objects.filter(level="rw").values_list("code", "pk"))
    indexes = sorted(ranks[code].index for code in rw)
    threshold = indexes[int(0.75 * len(indexes))]
    vulnerable = {pk for code, pk in rw.items() if ranks[code].index >= threshold}
    progress(
        f"{len(universe)} open fresh needs in {len({a for a, _ in universe.values()})} RW; "
        f"the most vulnerable quarter: index >= {threshold:.3f}"
    )
    if args.weights is not None:
        from programs.models import Program

        Program.objects.update(assistant_weights=args.weights)
        progress(f"weights: {args.weights}")
    donors = donors_generate(rng, args.donors)
    supply = sum(d.get("quantity", 0) for d in donors)
    budgets = sum(d.get("budget_idr", 0) for d in donors)
    progress(f"{len(donors)} donors: {supply} units and budgets of {budgets} IDR")

    results = {"donors": len(donors)}
    for label, assistant in (("today", False), ("assistant", True)):
        started = time.perf_counter()
        record = run_donors(donors, assistant=assistant, samples=args.samples)
        results[f"gini_{label}"] = coverage_gini(universe)
        results[f"vulnerable_share_{label}"] = vulnerable_share(record, vulnerable, area_of)
        results[f"mean_km_{label}"] = record["km_units"] / max(1, record["total"])
        progress(
            f"{label}: {record['total']} units to {len(record['units'])} needs in "
            f"{time.perf_counter() - started:.0f} s; gini {results[f'gini_{label}']:.3f}, "
            f"vulnerable {results[f'vulnerable_share_{label}']:.3f}, "
            f"km {results[f'mean_km_{label}']:.2f}"
        )
        if assistant:
            results["objective_vs_optimum"] = min(record["ratios"]) if record["ratios"] else 0.0
            results["plan_ms_p95"] = statistics.quantiles(record["plan_ms"], n=20)[-1]
            progress(
                f"objective/optimum over {len(record['ratios'])} requests: min "
                f"{results['objective_vs_optimum']:.4f}, "
                f"mean {statistics.mean(record['ratios']):.4f}"
                + (
                    f"; 'few areas' plans of the sampled few-donors: mean "
                    f"{statistics.mean(record['few']):.3f} of the uncapped optimum"
                    if record["few"]
                    else ""
                )
                + f"; plan ms median {statistics.median(record['plan_ms']):.1f}, "
                f"max {max(record['plan_ms']):.1f}"
            )
        else:
            reset_claims(initial, record["units"])
            now = dict(Need.objects.values_list("pk", "quantity_claimed"))
            if now != initial:
                raise SystemExit("the needs are not back to their initial state")
    return results


if __name__ == "__main__":
    main()
