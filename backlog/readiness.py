"""The Definition of Ready: a product's checklist, per item and as a query.

Each product chooses which checks apply (``Product.definition_of_ready``). An item is ready when
it passes every check that is on; ``readiness`` reports each check for one item, ``ready_q``
selects the ready items of a product in the database. Both read the same definitions below.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from accounts.models import DEFAULT_DEFINITION_OF_READY, Product

DERIVES_BUSINESS_VALUE = ("defect",)  # from its severity (backlog/scoring.py)
DERIVES_TIME_CRITICALITY = ("defect", "tech_debt", "operational")  # age, interest, ITIL priority


@dataclass(frozen=True)
class Check:
    name: str
    label: str  # the rule, as the checklist states it
    missing: str  # what an item that fails it lacks, as lists of unready items say it
    condition: Q
    passes: Callable[[Any], bool]


def _value_inputs(model: str) -> Check:
    """The scoring model's inputs are given (or derived from the item's kind, for WSJF)."""
    if model == Product.ScoringModel.RICE:
        condition = Q(rice_reach__isnull=False, rice_confidence__isnull=False, rice_effort__gt=0) & ~Q(rice_impact="")
        return Check(
            "value_inputs",
            "RICE inputs are given (reach, impact, confidence, a non-zero effort)",
            "RICE inputs missing (reach, impact, confidence, a non-zero effort)",
            condition,
            lambda item: (
                None not in (item.rice_reach, item.rice_confidence, item.rice_effort)
                and item.rice_effort > 0
                and item.rice_impact != ""
            ),
        )
    if model == Product.ScoringModel.MOSCOW:
        return Check(
            "value_inputs",
            "A MoSCoW category is chosen",
            "No MoSCoW category",
            ~Q(moscow=""),
            lambda item: item.moscow != "",
        )
    condition = (
        (Q(business_value__isnull=False) | Q(kind__in=DERIVES_BUSINESS_VALUE))
        & (Q(time_criticality__isnull=False) | Q(kind__in=DERIVES_TIME_CRITICALITY))
        & Q(risk_reduction__isnull=False)
    )
    return Check(
        "value_inputs",
        "WSJF inputs are given: business value, time criticality, risk reduction (or derived from the kind)",
        "WSJF inputs missing (business value, time criticality, risk reduction)",
        condition,
        lambda item: (
            (item.business_value is not None or item.kind in DERIVES_BUSINESS_VALUE)
            and (item.time_criticality is not None or item.kind in DERIVES_TIME_CRITICALITY)
            and item.risk_reduction is not None
        ),
    )


# The texts the Definition of Ready may ask to be written: (field, what the check says).
WRITTEN = [("acceptance_criteria", "Acceptance criteria are written"), ("description", "A description is written")]


def _written(field: str, label: str) -> Check:
    """The check that ``field`` is not empty (what is missing reads "No acceptance criteria")."""
    missing = "No " + field.replace("_", " ")
    return Check(field, label, missing, ~Q(**{field: ""}), lambda item: getattr(item, field) != "")


def checks_for(product: Product) -> list[Check]:
    """The checks that are on for ``product``, in checklist order."""
    chosen = {**DEFAULT_DEFINITION_OF_READY, **(product.definition_of_ready or {})}
    checks = []
    if chosen["estimate"]:
        checks.append(
            Check(
                "estimate",
                "An estimate is set",
                "No estimate",
                Q(estimate__isnull=False),
                lambda item: item.estimate is not None,
            )
        )
    if chosen["max_estimate"] is not None:
        limit = chosen["max_estimate"]
        checks.append(
            Check(
                "max_estimate",
                f"The estimate is at most {limit} points",
                f"No estimate of at most {limit} points",
                Q(estimate__lte=limit),
                lambda item: item.estimate is not None and item.estimate <= limit,
            )
        )
    for field, label in WRITTEN:
        if chosen[field]:
            checks.append(_written(field, label))
    if chosen["value_inputs"]:
        checks.append(_value_inputs(product.scoring_model))
    return checks


def ready_q(product: Product) -> Q:
    """The condition an item of ``product`` meets when it is ready (always true with no checks)."""
    condition = Q(pk__isnull=False)  # not Q(): excluding an empty Q would exclude nothing
    for check in checks_for(product):
        condition &= check.condition
    return condition


def readiness(item: Any, product: Product | None = None) -> dict[str, Any]:
    """Each check that is on, whether ``item`` passes it, and whether it is ready."""
    results = [
        {"check": check.name, "label": check.label, "missing": check.missing, "passed": bool(check.passes(item))}
        for check in checks_for(product or item.product)
    ]
    return {"ready": all(result["passed"] for result in results), "checks": results}
