"""The calculated priority, hand-computed: impact from affected users by thresholds, ITIL P1–P5."""

import pytest

from service.priority import impact_from_users, priority_of


@pytest.mark.parametrize(
    ("users", "impact"),
    [(0, "low"), (49, "low"), (50, "medium"), (999, "medium"), (1000, "high"), (250_000, "high")],
)
def test_default_thresholds(users, impact):
    assert impact_from_users(users, high_users=1000, medium_users=50) == impact


def test_thresholds_are_the_products():
    assert impact_from_users(10, high_users=100, medium_users=10) == "medium"
    assert impact_from_users(100, high_users=100, medium_users=10) == "high"
    assert impact_from_users(9, high_users=100, medium_users=10) == "low"


# The ITIL matrix written out by hand: rows impact, columns urgency high / medium / low.
MATRIX = {
    "high": {"high": 1, "medium": 2, "low": 3},
    "medium": {"high": 2, "medium": 3, "low": 4},
    "low": {"high": 3, "medium": 4, "low": 5},
}


@pytest.mark.parametrize("impact", ["high", "medium", "low"])
@pytest.mark.parametrize("urgency", ["high", "medium", "low"])
def test_matrix_with_impact_given(impact, urgency):
    result = priority_of(affected_users=0, urgency=urgency, impact_given=impact, high_users=1000, medium_users=50)
    assert result.priority == MATRIX[impact][urgency]
    assert result.why["impact"] == {"value": impact, "why": "given"}
    assert result.why["formula"] == f"impact {impact} × urgency {urgency} = P{MATRIX[impact][urgency]}"


def test_impact_derived_when_not_given_and_explained():
    result = priority_of(affected_users=1200, urgency="medium", high_users=1000, medium_users=50)
    assert (result.impact, result.priority) == ("high", 2)
    assert result.why["impact"] == {"value": "high", "why": "1,200 affected users ≥ 1,000"}
    low = priority_of(affected_users=3, urgency="low", high_users=1000, medium_users=50)
    assert (low.impact, low.priority, low.why["impact"]["why"]) == ("low", 5, "3 affected users < 50")


def test_a_given_impact_wins_over_the_users():
    result = priority_of(affected_users=5000, urgency="low", impact_given="low", high_users=1000, medium_users=50)
    assert result.priority == 5
