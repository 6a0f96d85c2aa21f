"""The donation assistant (issue 11): where a gift of one donation form does the most good,
proposed as a plan of open needs and units, every line with its reasons in words.

The score of giving one more unit to a need is a weighted sum of parts, each from 0 to 1:

    score = Σ weight × part, over the parts below (weights: Weights, per program overrides)

    unmet          how far the need is below the level (coverage_level: 65% covered, or the
                   form's share pledged across Jakarta plus 2 points once higher), at its
                   coverage c = (claimed + planned) / needed: 1 − 0.2 × c / level below the
                   level, then 0.05 × (1 − c) / (1 − level) up to full; so a plan raises many
                   needs to the level, the nearest and least covered first, before it gives
                   any need more
    priority       1 high, 0.5 medium, 0 low, from the needs assessment
    vulnerability  the mean of the area's percentile ranks among Jakarta's RW in population
                   density, days flooded (PetaJakarta state 2 and above) and residents who
                   never attended school (locations.vulnerability.vulnerability_ranks)
    freshness      1 − days since the need was assessed / Need.STALE_AFTER_DAYS
    proximity      1 − km / max_km; without a limit 0.5 ** (km / PROXIMITY_HALF_KM); 0 for
                   every need when the donor gives no starting point
    equity         1 − (units the area has received + planned) per household, over what the
                   open needs of this form ask per household across Jakarta (floored at 0);
                   "planned" is what the plan gives this need, not the area's other needs,
                   so that the objective stays separable over needs

Unmet and equity are recomputed every tenth of a need (CHUNKS_PER_NEED) and where the need
reaches the level, so the value of a plan, the sum over its units of the score at which each
was given, is separable over needs, piecewise linear and concave in each need's units. Giving
chunk after chunk to the best score per unit (per rupiah under a budget) is then optimal (under
a budget, up to whole units: less than one unit's score short); bench/allocation.py and
tests/test_assistant.py check it against the exact linear program. A plan "for a few areas"
gives chunk after chunk the same way, but to at most FEW_MAX_LINES needs.

Pure domain code: reads needs, indicators and stored figures, writes nothing. Pledging a
plan is commitments.assistant.plans.
"""

from __future__ import annotations

import datetime
import heapq
import math
from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ksbb.bounds import INTEGER_MAX
from ksbb.formatting import number
from locations.models import Area, Need, area_geometry_deferred
from locations.vulnerability import VulnerabilityRank, VulnerabilityRanks, vulnerability_ranks
from programs.models import ASSISTANT_WEIGHT_NAMES, DonationForm, Program

SPREAD_FEW = "few"
SPREAD_MANY = "many"
SPREADS = (SPREAD_FEW, SPREAD_MANY)
# A plan "for a few areas" has at most this many lines: the first needs the plan opens, given
# more (past the level, up to full) rather than opening others.
FEW_MAX_LINES = 5
# Unmet share and equity are recomputed this often per need (every tenth of it): fine enough
# that a gift spreads, coarse enough that a plan over all of Jakarta takes milliseconds.
CHUNKS_PER_NEED = 10
# The level (see coverage_level): a plan first raises needs to LEVEL_TARGET covered, or, once the
# form's needs across Jakarta are pledged beyond it, to their share pledged plus LEVEL_MARGIN. Below
# the level the "unmet" part falls from 1 to 1 − LEVEL_SLOPE; from the level on it is at most
# LEVEL_FLOOR, so units go past the level where no need nearby is below it (the step at the
# level outweighs a few km; tuned with the weights).
LEVEL_TARGET = 0.65
LEVEL_MARGIN = 0.02
LEVEL_SLOPE = 0.2
LEVEL_FLOOR = 0.05
# Without a distance limit, proximity halves every this many km: steep enough that a gift
# stays near its donor, long enough that farther needs still rank by distance.
PROXIMITY_HALF_KM = 3.0
PRIORITY_PART = {Need.Priority.HIGH: 1.0, Need.Priority.MEDIUM: 0.5, Need.Priority.LOW: 0.0}
BUDGET_MAX_IDR = 10**14 - 1  # what a DecimalField(max_digits=14) holds
DISTANCE_MAX_KM = 1000.0
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Weights:
    """How much each part counts. Tuned with bench/allocation.py on its tuning seed only
    (bench SEED; its report uses five other seeds), on Jakarta's RW, with the LEVEL_ constants:
    the share still open, measured against the level, raises many needs to the level before
    any gets more, so that coverage ends up even across RW; distance weighs against it, so
    that units travel at most about 1.5 times as far as when donors give to the nearest need
    (the step at the level is worth a few km; PROXIMITY_HALF_KM is tuned with it);
    vulnerability still leads more units and rupiah to the most vulnerable quarter of RW than
    donors choosing alone; priority and freshness break near ties. What an area has received
    (equity) adds nothing the level does not already do: 0 by default, for leads to raise."""

    unmet: float = 6.0
    priority: float = 0.3
    vulnerability: float = 5.0
    freshness: float = 0.2
    proximity: float = 12.0
    equity: float = 0.0

    @classmethod
    def for_program(cls, program: Program) -> Weights:
        """The defaults with the program's own overrides (validated on the model; anything
        unknown or out of range that slipped into the column is ignored)."""
        stored = program.assistant_weights if isinstance(program.assistant_weights, dict) else {}
        overrides = {
            name: float(value)
            for name, value in stored.items()
            if name in ASSISTANT_WEIGHT_NAMES
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and 0 <= value <= 10
        }
        return cls(**overrides)

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in ASSISTANT_WEIGHT_NAMES}


# One list of names for the engine, the model's validator and the pages.
assert tuple(f.name for f in fields(Weights)) == ASSISTANT_WEIGHT_NAMES

# What each part means and where its figures come from: the public method page shows these.
PARTS = {
    "unmet": (
        gettext_lazy("Share of the need still open"),
        gettext_lazy(
            "How far the need is below the level every need is raised to first: "
            "%(level)s%% covered (or, once this kind of need across Jakarta is pledged beyond "
            "that, %(margin)s points more than Jakarta's share). With the need's coverage c = "
            "(units pledged so far + units this plan adds) / units needed: below the level, "
            "1 − %(slope)s × c / level; from the level on, %(floor)s × (1 − c) / (1 − level), "
            "0 when full. So a gift first brings several needs near you up to the level, the "
            "least covered first, instead of filling one need to 100%% while others wait."
        ),
        gettext_lazy("The need's own figures, kept current by its facilitator."),
    ),
    "priority": (
        gettext_lazy("Priority"),
        gettext_lazy("1 for high, 0.5 for medium, 0 for low."),
        gettext_lazy("The needs assessment by the RW, kelurahan or institution."),
    ),
    "vulnerability": (
        gettext_lazy("Vulnerability of the area"),
        gettext_lazy(
            "The mean of three percentile ranks among Jakarta's RW (the share of RW with a "
            "lower figure): population density, days flooded (10 cm of water or more), and "
            "residents aged 10 and over who never attended school."
        ),
        gettext_lazy(
            "Satu Data Jakarta (density, per kelurahan, 2024); PetaJakarta flood states per RW "
            "(2016, 2017); Susenas education by kota. An RW takes its kelurahan's density and "
            "its kota's education figure."
        ),
    ),
    "freshness": (
        gettext_lazy("Freshness of the assessment"),
        gettext_lazy(
            "1 − days since the need was assessed / %(days)s. Needs assessed longer ago are "
            "not proposed at all."
        ),
        gettext_lazy("The date of the assessment on the need."),
    ),
    "proximity": (
        gettext_lazy("Distance"),
        gettext_lazy(
            "1 − km / your distance limit; without a limit it halves every %(half_km)s km. "
            "0 for every need if you give no starting point. Distance is measured in a straight "
            "line from your starting point to the area (or the institution)."
        ),
        gettext_lazy("Area boundaries: Kemendagri and BPS; institutions' locations."),
    ),
    "equity": (
        gettext_lazy("Received so far"),
        gettext_lazy(
            "1 − (units of this kind the area has received or been pledged + units this plan "
            "adds) per household, over what open needs of this kind ask per household across "
            "Jakarta; never below 0. Areas given least come first."
        ),
        gettext_lazy(
            "Pledged and delivered units stored on the area's needs, and their households."
        ),
    ),
}


def part_explanations() -> list[dict]:
    """The parts in order with their label, meaning and source, for the method page."""
    values = {
        "days": Need.STALE_AFTER_DAYS,
        "half_km": number(int(PROXIMITY_HALF_KM)),
        "level": number(round(100 * LEVEL_TARGET)),
        "margin": number(round(100 * LEVEL_MARGIN)),
        "slope": number(Decimal(str(LEVEL_SLOPE))),
        "floor": number(Decimal(str(LEVEL_FLOOR))),
    }
    return [
        {"name": name, "label": label, "meaning": meaning % values, "source": source}
        for name, (label, meaning, source) in PARTS.items()
    ]


class RequestInvalid(ValueError):
    """The request cannot be planned; the message says why, in the user's language."""


@dataclass(frozen=True)
class AssistantRequest:
    """What a donor can give: `quantity` units, or `budget_idr` rupiah that buy units at each
    need's estimated unit value (needs without one are left out); from `start` (lon, lat),
    within `max_km` if given; spread over many needs, or few (at most FEW_MAX_LINES)."""

    program: Program
    donation_form: DonationForm
    quantity: int | None = None
    budget_idr: int | None = None
    start: tuple[float, float] | None = None
    max_km: float | None = None
    spread: str = SPREAD_MANY

    def __post_init__(self) -> None:
        if self.donation_form.program_id != self.program.pk:
            raise RequestInvalid(_("This donation form belongs to another program."))
        if (self.quantity is None) == (self.budget_idr is None):
            raise RequestInvalid(_("Give either a quantity or a budget."))
        if self.quantity is not None and not (
            _whole(self.quantity) and 1 <= self.quantity <= INTEGER_MAX
        ):
            raise RequestInvalid(
                _("The quantity must be a whole number from 1 to %(max)s.")
                % {"max": number(INTEGER_MAX)}
            )
        if self.budget_idr is not None and not (
            _whole(self.budget_idr) and 1 <= self.budget_idr <= BUDGET_MAX_IDR
        ):
            raise RequestInvalid(
                _("The budget must be a whole number of rupiah from 1 to %(max)s.")
                % {"max": number(BUDGET_MAX_IDR)}
            )
        if self.start is not None and not _on_earth(self.start):
            raise RequestInvalid(_("The starting point is not a place on Earth."))
        if self.max_km is not None:
            if self.start is None:
                raise RequestInvalid(_("A distance limit needs a starting point."))
            if not (
                isinstance(self.max_km, int | float)
                and math.isfinite(self.max_km)
                and 0 < self.max_km <= DISTANCE_MAX_KM
            ):
                raise RequestInvalid(
                    _("The distance limit must be more than 0 and at most %(max)s km.")
                    % {"max": number(int(DISTANCE_MAX_KM))}
                )
        if self.spread not in SPREADS:
            raise RequestInvalid(_("Choose a few areas or many."))


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _on_earth(point) -> bool:
    """A (lon, lat) pair of finite numbers within the globe."""
    if not isinstance(point, tuple | list) or len(point) != 2:
        return False
    lon, lat = point
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    return (
        numbers
        and math.isfinite(lon)
        and math.isfinite(lat)
        and -180 <= lon <= 180
        and -90 <= lat <= 90
    )


def start_of(place: Area | None) -> tuple[float, float] | None:
    """A starting point from an area (its label point, e.g. the donor's kelurahan)."""
    if place is None or place.centroid_lon is None or place.centroid_lat is None:
        return None
    return (place.centroid_lon, place.centroid_lat)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class PlanLine:
    need: Need
    quantity: int
    # The score of the line's first unit, and its parts: what ranks the line.
    score: float
    parts: dict[str, float]
    reasons: list[str]
    distance_km: float | None
    value_idr: int | None
    # (lon, lat) the distance is measured to: the institution's point, else the area's label.
    point: tuple[float, float] | None = None
    # The figures the parts and the reasons are both computed from.
    facts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Unplaced:
    """What the plan could not place: units (or rupiah under a budget), and why."""

    quantity: int | None
    budget_idr: int | None
    reason: str


@dataclass
class Plan:
    request: AssistantRequest
    weights: Weights
    lines: list[PlanLine]
    unplaced: list[Unplaced]
    # Open needs of the form that were not considered, by reason: stale, not_residential,
    # out_of_range, no_value (under a budget).
    left_out: dict[str, int]
    # Σ over the plan's units of the score at which each was given: what the plan maximises.
    objective: float
    # The coverage the plan raised needs to first (coverage_level), from 0 to 1.
    level: float = 1.0

    @property
    def level_percent(self) -> int:
        return round(100 * self.level)

    @property
    def few_max_lines(self) -> int:
        return FEW_MAX_LINES

    @property
    def total_quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total_value_idr(self) -> int | None:
        values = [line.value_idr for line in self.lines if line.value_idr is not None]
        return sum(values) if values else None

    def left_out_reasons(self) -> list[str]:
        words = {
            "stale": lambda n: ngettext(
                "%(n)s need assessed more than %(days)s days ago",
                "%(n)s needs assessed more than %(days)s days ago",
                n,
            ),
            "not_residential": lambda n: ngettext(
                "%(n)s need in a zone without residents",
                "%(n)s needs in zones without residents",
                n,
            ),
            "out_of_range": lambda n: ngettext(
                "%(n)s need beyond your distance limit", "%(n)s needs beyond your distance limit", n
            ),
            "no_value": lambda n: ngettext(
                "%(n)s need without an estimated value (a budget cannot buy it)",
                "%(n)s needs without an estimated value (a budget cannot buy it)",
                n,
            ),
        }
        return [
            words[reason](count) % {"n": number(count), "days": Need.STALE_AFTER_DAYS}
            for reason, count in self.left_out.items()
            if count
        ]


# --- the problem: candidates, their parts and chunks ----------------------------------------


@dataclass
class Candidate:
    """An open need the request may go to, as plain figures (a plan over all of Jakarta reads
    thousands; only its lines become Need objects)."""

    need_id: int
    area_id: int
    area_code: str
    priority: int
    quantity_needed: int
    quantity_claimed: int
    households: int | None
    point: tuple[float, float] | None  # the institution's, else the area's label point
    unit_cost: int  # 1 unit; under a budget: the unit's estimated value in IDR
    distance_km: float | None
    rank: VulnerabilityRank | None
    assessed_days: int
    area_received: int = 0  # units of this form claimed on all the area's needs
    area_households: int = 1
    static: dict[str, float] = field(default_factory=dict)  # parts that stay as the plan adds
    static_score: float = 0.0  # their weighted sum

    @property
    def remaining(self) -> int:
        return self.quantity_needed - self.quantity_claimed

    @property
    def chunk_size(self) -> int:
        return max(1, math.ceil(self.quantity_needed / CHUNKS_PER_NEED))


@dataclass
class Problem:
    """The candidates of one request and the score of each of their units: what the greedy
    allocates and what the benchmark's linear program optimises."""

    request: AssistantRequest
    weights: Weights
    candidates: list[Candidate]
    left_out: dict[str, int]
    need_per_household: float  # what open needs of the form ask per household, Jakarta-wide
    level: float = 1.0  # the coverage below which a need's units score most (see coverage_level)

    @property
    def capacity(self) -> int:
        """Units to give, or rupiah to spend."""
        request = self.request
        return request.quantity if request.quantity is not None else request.budget_idr

    def _moving(self, c: Candidate, added: int) -> tuple[float, float]:
        unmet = _unmet((c.quantity_claimed + added) / c.quantity_needed, self.level)
        received = (c.area_received + added) / c.area_households
        return unmet, max(0.0, 1 - received / self.need_per_household)

    def parts(self, index: int, added: int = 0) -> dict[str, float]:
        """The parts of the score of a need's next unit once the plan has added `added`."""
        c = self.candidates[index]
        unmet, equity = self._moving(c, added)
        return {"unmet": unmet, **c.static, "equity": equity}

    def score(self, index: int, added: int = 0) -> float:
        c = self.candidates[index]
        unmet, equity = self._moving(c, added)
        return c.static_score + self.weights.unmet * unmet + self.weights.equity * equity

    def chunk(self, index: int, added: int) -> tuple[int, int, float] | None:
        """The need's chunk from `added` units on: (added, units in it, score per unit in it),
        or None past the need's remaining quantity. A chunk is a tenth of the need, cut where
        the need reaches the level. Scores never rise as `added` grows: each need's value is
        piecewise linear and concave."""
        c = self.candidates[index]
        if added >= c.remaining:
            return None
        size = min(c.chunk_size, c.remaining - added)
        to_level = math.ceil(self.level * c.quantity_needed) - c.quantity_claimed
        if added < to_level < added + size:
            size = to_level - added
        return added, size, self.score(index, added)

    def chunks(self, index: int) -> list[tuple[int, int, float]]:
        out, added = [], 0
        while (chunk := self.chunk(index, added)) is not None:
            out.append(chunk)
            added += chunk[1]
        return out

    def objective(self, allocation: dict[int, int]) -> float:
        """Σ over the allocated units (candidate index -> units) of their score."""
        total = 0.0
        for index, units in allocation.items():
            for added, size, score in self.chunks(index):
                if units <= added:
                    break
                total += min(size, units - added) * score
        return total


CANDIDATE_COLUMNS = (
    "pk",
    "area_id",
    "area__code",
    "area__is_residential",
    "area__centroid_lon",
    "area__centroid_lat",
    "site__lon",
    "site__lat",
    "priority",
    "quantity_needed",
    "quantity_claimed",
    "unit_value_idr",
    "households",
    "assessed_at",
)


def plan_problem(
    request: AssistantRequest,
    *,
    weights: Weights | None = None,
    now: datetime.datetime | None = None,
) -> Problem:
    """The open needs the request may go to, each with its parts. A fixed number of queries:
    the open needs of the form (only the columns used), which of them are stale, the form's
    totals per area and across Jakarta (for the level), and the vulnerability ranks (cached)."""
    now = now or timezone.now()
    weights = weights or Weights.for_program(request.program)
    form = request.donation_form
    of_form = Need.objects.filter(program=request.program, donation_form=form)
    rows = (
        of_form.open(timezone.localdate(now))
        .filter(area__level__in=(Area.Level.RW, Area.Level.KELURAHAN))
        .order_by("pk")
        .values_list(*CANDIDATE_COLUMNS)
    )
    stale = set(of_form.stale(now).values_list("pk", flat=True))
    ranks = vulnerability_ranks()
    candidates, left_out, need_per_household = _candidates(
        request, rows, stale=stale, ranks=ranks, now=now
    )
    received = _received_by_area(of_form, {c.area_id for c in candidates})
    _static_parts_score(request, weights, candidates, received)
    return Problem(
        request=request,
        weights=weights,
        candidates=candidates,
        left_out=left_out,
        need_per_household=need_per_household,
        level=coverage_level(_form_coverage(of_form, now)),
    )


def _form_coverage(needs_of_form, now: datetime.datetime) -> float:
    """The share of what the form's current needs ask (open, valid, assessed within
    Need.STALE_AFTER_DAYS, in residential RW or kelurahan; fully pledged ones too) that is
    pledged: how far Jakarta as a whole has come."""
    totals = needs_of_form.filter(
        status=Need.Status.OPEN,
        valid_until__gte=timezone.localdate(now),
        assessed_at__gte=now - datetime.timedelta(days=Need.STALE_AFTER_DAYS),
        area__is_residential=True,
        area__level__in=(Area.Level.RW, Area.Level.KELURAHAN),
    ).aggregate(needed=Sum("quantity_needed"), claimed=Sum("quantity_claimed"))
    return (totals["claimed"] or 0) / totals["needed"] if totals["needed"] else 0.0


def _candidates(
    request: AssistantRequest,
    rows,
    *,
    stale: set[int],
    ranks: VulnerabilityRanks,
    now: datetime.datetime,
) -> tuple[list[Candidate], dict[str, int], float]:
    """The candidates among the rows, the others counted by reason, and the need per household."""
    unit_costs: dict = {}
    left_out = {"stale": 0, "not_residential": 0, "out_of_range": 0, "no_value": 0}
    candidates: list[Candidate] = []
    needed_total = households_total = 0
    for (
        pk,
        area_id,
        code,
        residential,
        area_lon,
        area_lat,
        site_lon,
        site_lat,
        priority,
        needed,
        claimed,
        unit_value,
        households,
        assessed_at,
    ) in rows:
        if not residential or pk in stale:
            left_out["not_residential" if not residential else "stale"] += 1
            continue
        needed_total += needed
        households_total += households or needed
        point = _need_point(area_lon, area_lat, site_lon, site_lat)
        km, out_of_range = _reach(request, point)
        if out_of_range:
            left_out["out_of_range"] += 1
            continue
        unit_cost = _unit_cost(request, unit_value, unit_costs)
        if unit_cost <= 0:
            left_out["no_value"] += 1
            continue
        candidates.append(
            Candidate(
                need_id=pk,
                area_id=area_id,
                area_code=code,
                priority=priority,
                quantity_needed=needed,
                quantity_claimed=claimed,
                households=households,
                point=point,
                unit_cost=unit_cost,
                distance_km=km,
                rank=ranks.get(code),
                assessed_days=max(0, (now - assessed_at).days),
            )
        )
    need_per_household = (needed_total / households_total) if households_total else 1.0
    return candidates, left_out, need_per_household


def coverage_level(covered: float) -> float:
    """The coverage a plan raises needs to first, given `covered`, the share of the form's
    current needs across Jakarta already pledged (_form_coverage): LEVEL_TARGET, or that share
    plus LEVEL_MARGIN once it is higher. Raising many needs to a level, rather than a few to
    100%, is what spreads help evenly; the level rises with Jakarta's coverage, so that more
    gifts than the target foresees still spread."""
    return min(1.0, max(LEVEL_TARGET, covered + LEVEL_MARGIN))


def _unmet(covered: float, level: float) -> float:
    """The unmet part at a need's coverage: from 1 (nothing pledged) down to 1 − LEVEL_SLOPE
    just below the level, LEVEL_FLOOR at it, then down to 0 when full. It never rises with the
    coverage, so each need's value stays concave."""
    covered = min(1.0, max(0.0, covered))
    if covered < level:
        return 1 - LEVEL_SLOPE * covered / level
    return LEVEL_FLOOR * (1 - covered) / (1 - level) if level < 1 else 0.0


def _need_point(area_lon, area_lat, site_lon, site_lat) -> tuple[float, float] | None:
    """Where a need is: its institution's point, else its area's label point, else None."""
    return (
        (site_lon, site_lat)
        if site_lon is not None
        else (area_lon, area_lat)
        if area_lon is not None
        else None
    )


def _reach(
    request: AssistantRequest, point: tuple[float, float] | None
) -> tuple[float | None, bool]:
    """The distance from the request's start to a point (None without a start or a point),
    and whether that is beyond the request's range."""
    km = None
    if request.start is not None:
        km = distance_km(request.start, point) if point else None
        if request.max_km is not None and (km is None or km > request.max_km):
            return km, True
    return km, False


def _unit_cost(request: AssistantRequest, unit_value, unit_costs: dict) -> int:
    """What one unit costs: 1, or under a budget its estimated value in IDR (0 for none),
    remembered in `unit_costs` by the need's unit value."""
    if request.budget_idr is None:
        return 1
    if unit_value not in unit_costs:
        form = request.donation_form
        # Need.estimate_value_idr is the one rule (the need's value, else the form's).
        estimate = Need(unit_value_idr=unit_value, donation_form=form).estimate_value_idr(1)
        unit_costs[unit_value] = estimate or 0
    return unit_costs[unit_value]


def _static_parts_score(
    request: AssistantRequest,
    weights: Weights,
    candidates: list[Candidate],
    received: dict[int, tuple[int, int]],
) -> None:
    """Set each candidate's area totals and the parts of its score that stay as the plan
    adds units, with their weighted sum."""
    for c in candidates:
        c.area_received, area_households = received.get(c.area_id, (0, 0))
        c.area_households = max(1, area_households)
        c.static = {
            "priority": PRIORITY_PART.get(c.priority, 0.0),
            "vulnerability": c.rank.index if c.rank else 0.0,
            "freshness": max(0.0, 1 - c.assessed_days / Need.STALE_AFTER_DAYS),
            "proximity": _proximity(c.distance_km, request.max_km),
        }
        c.static_score = sum(getattr(weights, name) * value for name, value in c.static.items())


def _proximity(km: float | None, max_km: float | None) -> float:
    if km is None:
        return 0.0
    if max_km is not None:
        return max(0.0, 1 - km / max_km)
    return 0.5 ** (km / PROXIMITY_HALF_KM)


def _received_by_area(needs_of_form, area_ids: set[int]) -> dict[int, tuple[int, int]]:
    """Per area: units of the form claimed (pledged to delivered) on all its needs, open or
    not, and the households those needs are for (a need without a household count counts one
    per unit needed). Stored figures on the needs: no commitment is read."""
    if not area_ids:
        return {}
    rows = (
        needs_of_form.values("area_id")
        .annotate(
            received=Sum("quantity_claimed"),
            households=Sum(Coalesce("households", "quantity_needed")),
        )
        .order_by()
        .values_list("area_id", "received", "households")
    )
    return {
        area_id: (received or 0, households or 0)
        for area_id, received, households in rows
        if area_id in area_ids
    }


# --- allocation ----------------------------------------------------------------------------


def allocate(problem: Problem) -> tuple[dict[int, int], list[Unplaced]]:
    """Candidate index -> units, and what could not be placed.

    Chunk after chunk to the best score per unit of cost; with every need's chunk scores
    falling (concave), this is the optimum of the linear program over chunks (a fractional
    knapsack), up to whole units under a budget. A few areas: the same, but once
    FEW_MAX_LINES needs have units, only those needs take more (to their remaining quantity)."""
    request = problem.request
    candidates = problem.candidates
    few = request.spread == SPREAD_FEW
    left = problem.capacity
    allocation: dict[int, int] = {}
    capped = False
    heap = []
    for index, c in enumerate(candidates):
        chunk = problem.chunk(index, 0)
        if chunk is not None:
            heap.append((-chunk[2] / c.unit_cost, c.need_id, index, 0, chunk[1]))
    heapq.heapify(heap)
    while heap and left > 0:
        _, need_id, index, added, size = heapq.heappop(heap)
        if few and index not in allocation and len(allocation) == FEW_MAX_LINES:
            capped = True
            continue
        c = candidates[index]
        units = min(size, left // c.unit_cost)
        if units <= 0:
            continue  # not even one unit of this need fits what is left of the budget
        allocation[index] = allocation.get(index, 0) + units
        left -= units * c.unit_cost
        if units == size and (chunk := problem.chunk(index, added + size)) is not None:
            heapq.heappush(heap, (-chunk[2] / c.unit_cost, need_id, index, *chunk[:2]))
    return allocation, _unplaced(problem, allocation, left, capped)


def _unplaced(problem: Problem, allocation, left: int, capped: bool) -> list[Unplaced]:
    if left <= 0:
        return []
    request = problem.request
    budget = request.budget_idr is not None
    if not problem.candidates:
        reason = (
            _("No open need of this kind within %(km)s km.") % {"km": number(_km(request.max_km))}
            if request.max_km is not None
            else _("No open need of this kind.")
        )
    elif capped:
        reason = _(
            "A plan for a few areas stops at %(n)s needs; choose many areas to place the rest."
        ) % {"n": FEW_MAX_LINES}
    elif budget and any(
        allocation.get(i, 0) < c.remaining for i, c in enumerate(problem.candidates)
    ):
        reason = _("Less than the value of one more unit is left.")
    else:
        reason = (
            _("Every open need of this kind within %(km)s km is covered by this plan.")
            % {"km": number(_km(request.max_km))}
            if request.max_km is not None
            else _("Every open need of this kind is covered by this plan.")
        )
    return [
        Unplaced(
            quantity=None if budget else left, budget_idr=left if budget else None, reason=reason
        )
    ]


def _km(value: float | None) -> Decimal | None:
    return Decimal(f"{value:.1f}") if value is not None else None


# --- the plan ------------------------------------------------------------------------------


def plan_propose(
    request: AssistantRequest,
    *,
    weights: Weights | None = None,
    now: datetime.datetime | None = None,
) -> Plan:
    """A plan for `request`: lines ordered by score (best first), never more than a need's
    remaining quantity, only open, fresh, residential needs within reach; what could not be
    placed and why. `weights` default to the program's; `now` to the current time."""
    problem = plan_problem(request, weights=weights, now=now)
    allocation, unplaced = allocate(problem)
    # Only the lines become Need objects: one query, with what a plan's page shows of them.
    needs = (
        Need.objects.filter(pk__in=[problem.candidates[i].need_id for i in allocation])
        .select_related("area", "area__parent", "site", "program", "donation_form")
        .defer(*area_geometry_deferred("area", "area__parent"))
        .in_bulk()
    )
    lines = [
        _line(problem, index, units, needs[problem.candidates[index].need_id])
        for index, units in allocation.items()
    ]
    lines.sort(key=lambda line: (-line.score, line.need.pk))
    return Plan(
        request=request,
        weights=problem.weights,
        lines=lines,
        unplaced=unplaced,
        left_out=problem.left_out,
        objective=problem.objective(allocation),
        level=problem.level,
    )


def _line(problem: Problem, index: int, units: int, need: Need) -> PlanLine:
    """A plan's line; its facts, parts and reasons all come from the candidate's figures (as
    they were when the plan was made, even if the need has moved since)."""
    c = problem.candidates[index]
    parts = problem.parts(index)
    score = sum(getattr(problem.weights, name) * parts[name] for name in ASSISTANT_WEIGHT_NAMES)
    facts = {
        "covered_percent": round(100 * c.quantity_claimed / c.quantity_needed),
        "priority": c.priority,
        "density": c.rank.density if c.rank else None,
        "flooded_years": c.rank.flooded_years if c.rank else [],
        "never_schooled_percent": c.rank.never_schooled_percent if c.rank else None,
        "assessed_days": c.assessed_days,
        "distance_km": round(c.distance_km, 1) if c.distance_km is not None else None,
        "received_per_household": round(c.area_received / c.area_households, 2),
    }
    return PlanLine(
        need=need,
        quantity=units,
        score=score,
        parts=parts,
        reasons=reasons_for(facts),
        distance_km=c.distance_km,
        value_idr=need.estimate_value_idr(units),
        point=c.point,
        facts=facts,
    )


def reasons_for(facts: dict) -> list[str]:
    """The facts a line's parts are computed from, in words, in the active language:
    "0% covered", "48,000 people/km²", "flooded in 2016 and 2017", "assessed 5 days ago",
    "2.1 km away"."""
    reasons = [_("%(percent)s%% covered") % {"percent": facts["covered_percent"]}]
    reasons.append(
        {
            Need.Priority.HIGH: _("high priority"),
            Need.Priority.MEDIUM: _("medium priority"),
            Need.Priority.LOW: _("low priority"),
        }.get(facts["priority"], _("low priority"))
    )
    if facts["density"] is not None:
        reasons.append(
            _("%(density)s people/km²") % {"density": number(int(round(facts["density"])))}
        )
    if facts["flooded_years"]:
        reasons.append(
            _("flooded in %(years)s")
            % {"years": get_text_list([str(y) for y in facts["flooded_years"]], _("and"))}
        )
    else:
        reasons.append(_("no flooding recorded"))
    if facts["never_schooled_percent"] is not None:
        reasons.append(
            _("%(percent)s%% in its kota never attended school")
            % {"percent": number(Decimal(f"{facts['never_schooled_percent']:.2f}").normalize())}
        )
    days = facts["assessed_days"]
    reasons.append(
        _("assessed today")
        if days == 0
        else ngettext("assessed %(days)s day ago", "assessed %(days)s days ago", days)
        % {"days": number(days)}
    )
    if facts["distance_km"] is not None:
        reasons.append(_("%(km)s km away") % {"km": number(_km(facts["distance_km"]))})
    received = facts["received_per_household"]
    reasons.append(
        _("nothing received yet")
        if received == 0
        else _("%(units)s per household received so far")
        % {"units": number(Decimal(f"{received:.2f}").normalize())}
    )
    return reasons
