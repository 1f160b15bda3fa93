"""Prioritization scores: pure functions of an item's inputs, no database.

Scores are advisory: they make different kinds of work comparable so the product owner can see
where the evidence says an item belongs. Every score carries its breakdown (inputs as given,
what the kind's rules derived, the formula with its numbers), so "why is this scored so?" has
an answer. Models:

- **WSJF** (default): cost of delay = business value + time criticality + risk reduction
  (each on the 1, 2, 3, 5, 8, 13, 20 scale, times the product's weights), divided by size
  (the estimate, at least 1). Each kind fills in what its people cannot be expected to give:
  a defect's business value comes from its severity and its time criticality rises with age;
  technical debt's time criticality comes from its interest (hours lost per sprint); an
  operational item's time criticality comes from its ITIL priority and is maximal once its SLA
  is breached; a spike's risk reduction is the value of its answer. A value given by a person
  wins over a derived one, except that a breached SLA is always maximal.
- **RICE**: reach × impact × confidence / effort.
- **MoSCoW**: a category to group by, not a score.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from accounts.models import DEFAULT_SCORE_WEIGHTS as DEFAULT_WEIGHTS
from accounts.models import Product

WSJF, RICE, MOSCOW = Product.ScoringModel.values
MODELS = (WSJF, RICE, MOSCOW)
MAX_VALUE = 20  # the top of the 1, 2, 3, 5, 8, 13, 20 scale

SEVERITY_VALUE = {"critical": 20, "major": 13, "minor": 5, "trivial": 2}
# (upper bound exclusive, value): the first band the input falls below.
DEFECT_AGE_DAYS = ((7, 1), (14, 2), (30, 3), (60, 5), (90, 8), (180, 13))
DEBT_INTEREST_HOURS = ((1, 1), (2, 2), (4, 3), (8, 5), (16, 8), (32, 13))
ITIL_TIME_CRITICALITY = {1: 20, 2: 13, 3: 8, 4: 3, 5: 1}


@dataclass(frozen=True)
class Score:
    model: str
    value: float | None  # None: not enough inputs (or MoSCoW, which does not score)
    inputs: dict[str, Any]  # as given on the item
    derived: dict[str, Any] = field(default_factory=dict)  # filled in by the kind's rules, with why
    formula: str = ""
    missing: tuple[str, ...] = ()
    category: str | None = None  # MoSCoW

    def breakdown(self) -> dict[str, Any]:
        """The score's explanation, as stored and shown (inputs that were not given are left out).

        Plain JSON types only (decimals become floats), so it serializes on the fast path.
        """
        return {
            "model": self.model,
            "inputs": {
                name: float(value) if isinstance(value, Decimal) else value
                for name, value in self.inputs.items()
                if value is not None and value != ""
            },
            "derived": self.derived,
            "formula": self.formula,
            "missing": list(self.missing),
            "category": self.category,
        }


def _band(value: Any, bands: tuple[tuple[Any, int], ...]) -> int:
    for upper, scaled in bands:
        if value < upper:
            return scaled
    return MAX_VALUE


def _number(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


# Rounding and printing are defined so that PostgreSQL computes the very same values and text
# (``backlog.score_sql`` scores a whole product in one statement per chunk): a double is taken at
# 15 significant digits (what PostgreSQL's float-to-numeric conversion keeps), scores are rounded
# to 3 decimals half away from zero, and numbers print in plain notation without trailing zeros.
def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.15g}")


def _round(value: float) -> float:
    return float(_decimal(value).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def _plain_number(value: float) -> str:
    """``value`` as the formulas show it: 15 significant digits, plain notation, no trailing zeros."""
    return format(_decimal(value), "f")


def wsjf(item: Any, *, now: datetime, weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> Score:
    """Weighted Shortest Job First for one item (a model instance or anything with its fields)."""
    given = {
        "business_value": item.business_value,
        "time_criticality": item.time_criticality,
        "risk_reduction": item.risk_reduction,
        "estimate": item.estimate,
    }
    used = {name: _number(value) for name, value in given.items() if name != "estimate"}
    derived: dict[str, Any] = {}

    def derive(name: str, value: float, why: str, *, force: bool = False) -> None:
        if used[name] is None or force:
            used[name] = float(value)
            derived[name] = {"value": value, "why": why}

    if item.kind == "defect" and item.severity:
        derive("business_value", SEVERITY_VALUE[item.severity], f"severity {item.severity}")
        age = now - item.created_at
        bands = tuple((timedelta(days=days), value) for days, value in DEFECT_AGE_DAYS)
        derive("time_criticality", _band(age, bands), f"open for {age.days} day{'' if age.days == 1 else 's'}")
    elif item.kind == "tech_debt" and item.interest_hours is not None:
        hours = float(item.interest_hours)
        derive("time_criticality", _band(hours, DEBT_INTEREST_HOURS), f"interest {_plain_number(hours)} h per sprint")
    elif item.kind == "operational" and item.itil_priority:
        breached = item.sla_due_at is not None and now >= item.sla_due_at
        if breached:
            derive("time_criticality", MAX_VALUE, "SLA breached", force=True)
        else:
            priority = item.itil_priority
            derive("time_criticality", ITIL_TIME_CRITICALITY[priority], f"ITIL priority P{priority}")
    elif item.kind == "spike" and used["risk_reduction"] is not None:
        derived["risk_reduction"] = {"value": used["risk_reduction"], "why": "the value of the spike's answer"}

    missing = tuple(name for name, value in used.items() if value is None)
    for name in missing:
        used[name] = 0.0
    size = max(float(item.estimate or 0), 1.0)
    parts = {name: used[name] * float(weights.get(name, 1.0)) for name in used}
    cost_of_delay = sum(parts.values())
    value = _round(cost_of_delay / size)
    formula = (
        "("
        + " + ".join(_plain_number(parts[name]) for name in ("business_value", "time_criticality", "risk_reduction"))
        + f") / {_plain_number(size)} = {_plain_number(value)}"
    )
    if item.estimate is None:
        missing = (*missing, "estimate")
    return Score(WSJF, value, given, derived, formula, missing, category=item.moscow or None)


def rice(item: Any) -> Score:
    """Reach × impact × confidence / effort; no score without all four (or with zero effort)."""
    given = {
        "reach": item.rice_reach,
        "impact": item.rice_impact,
        "confidence": item.rice_confidence,
        "effort": item.rice_effort,
    }
    numbers = {name: _number(value) for name, value in given.items()}
    missing = tuple(name for name, value in numbers.items() if value is None)
    if numbers["effort"] == 0:
        missing = (*missing, "effort")  # zero effort would divide by zero: ask for a real estimate
    category = item.moscow or None
    if missing:
        formula = "needs reach, impact, confidence and a non-zero effort"
        return Score(RICE, None, given, formula=formula, missing=missing, category=category)
    value = _round(numbers["reach"] * numbers["impact"] * (numbers["confidence"] / 100) / numbers["effort"])
    reach, impact, confidence, effort = (
        _plain_number(numbers[name]) for name in ("reach", "impact", "confidence", "effort")
    )
    formula = f"{reach} × {impact} × {confidence}% / {effort} = {_plain_number(value)}"
    return Score(RICE, value, given, formula=formula, category=category)


def moscow(item: Any) -> Score:
    """MoSCoW groups; it does not rank."""
    category = item.moscow or None
    return Score(MOSCOW, None, {"moscow": item.moscow}, formula="a category, not a score", category=category)


def score(item: Any, *, model: str, now: datetime, weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> Score:
    """Score an item with the product's chosen model."""
    if model == WSJF:
        return wsjf(item, now=now, weights=weights)
    if model == RICE:
        return rice(item)
    if model == MOSCOW:
        return moscow(item)
    raise ValueError(f"unknown scoring model {model!r}")
