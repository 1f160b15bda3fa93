"""The set-based scoring statement gives exactly what the Python models give: same score, same
breakdown, same text, over generated items (every kind, missing inputs, band edges, breached and
running SLAs, awkward weights and rounding ties)."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import ProductFactory
from backlog import score_sql, scoring
from backlog.models import VALUE_SCALE, Item

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
numbers = count(1)

# Exactly on a band's edge, a microsecond either side, and anywhere.
EDGE_DAYS = [d for days, _ in scoring.DEFECT_AGE_DAYS for d in (days, days - 1e-6 / 86400, days + 1e-6 / 86400)]
EDGE_DAYS += [1, 2 - 1e-6 / 86400, 1 - 1e-6 / 86400]  # "open for 1 day", not "1 days"
ages = st.one_of(st.sampled_from(EDGE_DAYS), st.floats(min_value=-2, max_value=400, allow_nan=False))
EDGE_HOURS = [Decimal(h) + delta for h, _ in scoring.DEBT_INTEREST_HOURS for delta in (0, Decimal("-0.1"))]
interest = st.one_of(st.sampled_from(EDGE_HOURS), st.decimals(min_value=0, max_value=99999, places=1, allow_nan=False))
value_inputs = st.one_of(st.none(), st.sampled_from(VALUE_SCALE), st.integers(min_value=0, max_value=32767))
weights = st.fixed_dictionaries(
    {
        name: st.one_of(
            st.sampled_from([0.0, 1.0, 0.1, 0.3, 1.1, 0.0125, 2.675, 10.0]),
            st.floats(min_value=0, max_value=10, allow_nan=False),
        )
        for name in scoring.DEFAULT_WEIGHTS
    }
)


@st.composite
def items(draw) -> dict:
    kind = draw(st.sampled_from(Item.Kind.values))
    fields = {
        "kind": kind,
        "business_value": draw(value_inputs),
        "time_criticality": draw(value_inputs),
        "risk_reduction": draw(value_inputs),
        "estimate": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=200))),
        "moscow": draw(st.sampled_from(["", *Item.MoSCoW.values])),
        "rice_reach": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2**31 - 1))),
        "rice_impact": draw(st.sampled_from(["", *Item.RiceImpact.values])),
        "rice_confidence": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=100))),
        "rice_effort": draw(
            st.one_of(st.none(), st.just(Decimal(0)), st.decimals(min_value=0, max_value=9999, places=2))
        ),
        "created_at": NOW - timedelta(days=draw(ages)),
    }
    if kind == Item.Kind.DEFECT:
        fields["severity"] = draw(st.sampled_from(Item.Severity.values))
    elif kind == Item.Kind.TECH_DEBT:
        fields["interest_hours"] = draw(interest)
    elif kind == Item.Kind.SPIKE:
        fields.update(timebox_days=2, question="Will it scale?")
    elif kind == Item.Kind.OPERATIONAL:
        sla = draw(st.sampled_from([None, timedelta(0), timedelta(microseconds=1), timedelta(microseconds=-1)]))
        sla = sla if sla is not None else draw(st.one_of(st.none(), st.timedeltas(timedelta(-30), timedelta(30))))
        fields.update(
            impact="high",
            urgency="low",
            itil_priority=draw(st.integers(min_value=1, max_value=5)),
            sla_due_at=None if sla is None else NOW + sla,
        )
    return fields


def generated(**fields) -> dict:
    base = {"kind": Item.Kind.STORY, "moscow": "", "rice_impact": "", "created_at": NOW}
    return {**base, **fields}


BREACHED = generated(kind=Item.Kind.OPERATIONAL, impact="high", urgency="low", itil_priority=4, sla_due_at=NOW)
RUNNING = {**BREACHED, "sla_due_at": NOW + timedelta(microseconds=1)}
TIE = generated(business_value=1, estimate=1)  # 1 × 0.0125 / 1: a tie at the third decimal
RICE_TIE = generated(rice_reach=1, rice_impact="0.25", rice_confidence=5, rice_effort=Decimal(1))  # 0.0125


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(batch=[BREACHED, RUNNING], model=scoring.WSJF, weights=scoring.DEFAULT_WEIGHTS)
@example(batch=[TIE], model=scoring.WSJF, weights={**scoring.DEFAULT_WEIGHTS, "business_value": 0.0125})
@example(batch=[RICE_TIE], model=scoring.RICE, weights=scoring.DEFAULT_WEIGHTS)
@given(
    batch=st.lists(items(), min_size=1, max_size=25),
    model=st.sampled_from(scoring.MODELS),
    weights=weights,
)
def test_the_statement_scores_as_the_python_models_do(batch, model, weights):
    product = ProductFactory(scoring_model=model, score_weights=weights)
    created = Item.objects.bulk_create(
        Item(product=product, number=next(numbers), title="Generated", **fields) for fields in batch
    )
    written = score_sql.score_items([item.pk for item in created], model=model, weights=weights, now=NOW)
    assert written == len(created)
    for item in Item.objects.filter(product=product):
        expected = scoring.score(item, model=model, now=NOW, weights=weights)
        assert item.score == expected.value
        assert item.score_breakdown == json.loads(json.dumps(expected.breakdown())), item.kind
        assert item.score_computed_at == NOW


def test_an_unknown_model_is_refused(product):
    with pytest.raises(ValueError, match="unknown scoring model"):
        score_sql.score_items([], model="astrology", weights={}, now=NOW)
