"""Calculated priority: impact from affected users, ITIL priority from impact × urgency.

Pure functions, no database. The priority of a service ticket is a calculation from its data,
not a person's judgement; ``priority_of`` returns it with its explanation ("why"), shown like a
score's breakdown.
"""

from dataclasses import dataclass
from typing import Any

from backlog.models import itil_priority

LEVELS = ("high", "medium", "low")
_RANK = {"high": 0, "medium": 1, "low": 2}
DEFAULT_HIGH_USERS = 1000
DEFAULT_MEDIUM_USERS = 50


def higher_level(a: str, b: str) -> str:
    """The higher of two levels (blank counts as none)."""
    if not a:
        return b
    if not b:
        return a
    return a if _RANK[a] <= _RANK[b] else b


def impact_from_users(affected_users: int, *, high_users: int, medium_users: int) -> str:
    """The impact the product's thresholds give ``affected_users``: high, medium or low."""
    if affected_users >= high_users:
        return "high"
    if affected_users >= medium_users:
        return "medium"
    return "low"


@dataclass(frozen=True)
class Priority:
    impact: str
    urgency: str
    priority: int  # 1 (P1) … 5 (P5)
    why: dict[str, Any]


def priority_of(
    *, affected_users: int, urgency: str, impact_given: str = "", high_users: int, medium_users: int
) -> Priority:
    """The ticket's impact (given, else from affected users by the thresholds) and ITIL priority."""
    if impact_given:
        impact = impact_given
        impact_why = "given"
    else:
        impact = impact_from_users(affected_users, high_users=high_users, medium_users=medium_users)
        if impact == "high":
            impact_why = f"{affected_users:,} affected users ≥ {high_users:,}"
        elif impact == "medium":
            impact_why = f"{affected_users:,} affected users ≥ {medium_users:,}"
        else:
            impact_why = f"{affected_users:,} affected users < {medium_users:,}"
    priority = itil_priority(impact, urgency)
    why = {
        "affected_users": affected_users,
        "thresholds": {"high": high_users, "medium": medium_users},
        "impact": {"value": impact, "why": impact_why},
        "urgency": urgency,
        "priority": f"P{priority}",
        "formula": f"impact {impact} × urgency {urgency} = P{priority}",
    }
    return Priority(impact, urgency, priority, why)
