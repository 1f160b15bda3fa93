"""Each formula and per-kind derivation against hand-computed values."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from backlog import scoring

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def item(**fields) -> SimpleNamespace:
    base = {
        "kind": "story",
        "business_value": None,
        "time_criticality": None,
        "risk_reduction": None,
        "estimate": None,
        "severity": "",
        "interest_hours": None,
        "itil_priority": None,
        "sla_due_at": None,
        "created_at": NOW,
        "moscow": "",
        "rice_reach": None,
        "rice_impact": "",
        "rice_confidence": None,
        "rice_effort": None,
    }
    return SimpleNamespace(**{**base, **fields})


def test_wsjf_of_a_story():
    score = scoring.wsjf(item(business_value=8, time_criticality=5, risk_reduction=3, estimate=4), now=NOW)
    assert score.value == 4.0  # (8 + 5 + 3) / 4
    assert score.formula == "(8 + 5 + 3) / 4 = 4"
    assert score.derived == {}
    assert score.missing == ()


def test_wsjf_without_an_estimate_divides_by_one_and_says_so():
    score = scoring.wsjf(item(business_value=8, time_criticality=5, risk_reduction=3), now=NOW)
    assert score.value == 16.0
    assert score.missing == ("estimate",)


def test_wsjf_size_is_at_least_one():
    assert scoring.wsjf(item(business_value=2, estimate=0), now=NOW).value == 2.0


def test_wsjf_missing_inputs_count_as_zero_and_are_listed():
    score = scoring.wsjf(item(business_value=13, estimate=2), now=NOW)
    assert score.value == 6.5  # (13 + 0 + 0) / 2
    assert score.missing == ("time_criticality", "risk_reduction")


def test_wsjf_weights():
    weights = {"business_value": 2, "time_criticality": 1, "risk_reduction": 0.5}
    score = scoring.wsjf(
        item(business_value=8, time_criticality=5, risk_reduction=4, estimate=3), now=NOW, weights=weights
    )
    assert score.value == 7.667  # (16 + 5 + 2) / 3 = 7.666…
    assert score.formula == "(16 + 5 + 2) / 3 = 7.667"


@pytest.mark.parametrize(
    ("severity", "age_days", "value"),
    [
        ("critical", 0, (20 + 1) / 2),  # business value 20 from severity, time criticality 1 when new
        ("major", 1, (13 + 1) / 2),
        ("major", 10, (13 + 2) / 2),
        ("minor", 45, (5 + 5) / 2),
        ("trivial", 400, (2 + 20) / 2),
    ],
)
def test_defects_take_value_from_severity_and_urgency_from_age(severity, age_days, value):
    defect = item(kind="defect", severity=severity, estimate=2, created_at=NOW - timedelta(days=age_days))
    score = scoring.wsjf(defect, now=NOW)
    assert score.value == value
    assert score.derived["business_value"]["why"] == f"severity {severity}"
    assert score.derived["time_criticality"]["why"] == f"open for {age_days} day{'' if age_days == 1 else 's'}"


def test_what_a_person_gave_wins_over_what_is_derived():
    defect = item(
        kind="defect", severity="critical", business_value=3, time_criticality=1, created_at=NOW - timedelta(days=400)
    )
    score = scoring.wsjf(defect, now=NOW)
    assert score.value == 4.0
    assert score.derived == {}


@pytest.mark.parametrize(("hours", "criticality"), [(0, 1), (1, 2), (3.5, 3), (6, 5), (10, 8), (16, 13), (40, 20)])
def test_debt_urgency_from_interest(hours, criticality):
    debt = item(kind="tech_debt", interest_hours=Decimal(str(hours)), estimate=5, risk_reduction=5)
    score = scoring.wsjf(debt, now=NOW)
    assert score.derived["time_criticality"]["value"] == criticality
    assert score.value == round((criticality + 5) / 5, 3)


@pytest.mark.parametrize(("priority", "criticality"), [(1, 20), (2, 13), (3, 8), (4, 3), (5, 1)])
def test_operational_urgency_from_itil_priority(priority, criticality):
    ticket = item(kind="operational", itil_priority=priority, sla_due_at=NOW + timedelta(hours=1), business_value=2)
    assert scoring.wsjf(ticket, now=NOW).value == 2 + criticality


def test_a_breached_sla_is_maximal_even_over_a_given_value():
    ticket = item(kind="operational", itil_priority=5, time_criticality=1, sla_due_at=NOW - timedelta(minutes=1))
    score = scoring.wsjf(ticket, now=NOW)
    assert score.value == 20.0
    assert score.derived["time_criticality"] == {"value": 20, "why": "SLA breached"}


def test_spike_risk_reduction_is_the_value_of_the_answer():
    spike = item(kind="spike", risk_reduction=13, estimate=2)
    score = scoring.wsjf(spike, now=NOW)
    assert score.value == 6.5
    assert score.derived["risk_reduction"]["why"] == "the value of the spike's answer"


def test_rice():
    score = scoring.rice(item(rice_reach=500, rice_impact="2", rice_confidence=80, rice_effort=Decimal("4")))
    assert score.value == 200.0  # 500 × 2 × 0.8 / 4
    assert score.formula == "500 × 2 × 80% / 4 = 200"


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"rice_reach": 500, "rice_impact": "2", "rice_confidence": 80, "rice_effort": Decimal("0")}, ("effort",)),
        ({"rice_reach": 500, "rice_impact": "2", "rice_confidence": 80}, ("effort",)),
        ({"rice_impact": "0.5", "rice_effort": Decimal("1")}, ("reach", "confidence")),
    ],
)
def test_rice_without_all_inputs_or_with_zero_effort_has_no_score(fields, missing):
    score = scoring.rice(item(**fields))
    assert score.value is None
    assert score.missing == missing


def test_moscow_is_a_category_not_a_score():
    score = scoring.score(item(moscow="must"), model="moscow", now=NOW)
    assert score.value is None
    assert score.category == "must"
    assert score.breakdown()["formula"] == "a category, not a score"


def test_unknown_models_are_refused():
    with pytest.raises(ValueError, match="unknown scoring model"):
        scoring.score(item(), model="magic", now=NOW)
