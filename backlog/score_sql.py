"""The scoring models of ``backlog.scoring``, as one set-based PostgreSQL statement.

A full recompute (a product's model or weights changed, or the schedule refreshing ageing
defects and SLA clocks) scores thousands of items. Reading them into Python, scoring them there
and writing them back cost more than twice the bare UPDATE (bench/scoring.py), so on PostgreSQL
the chunk is scored where it lies: one UPDATE computes each item's score and breakdown with
exactly the rules, rounding and text of the Python functions. Those stay the definition (one
item's job, SQLite); ``backlog/tests/test_score_sql.py`` holds the two to the same results over
generated items.

Each statement scores one chunk of ids. Rows are read and written by the UPDATE itself, so an
edit committed meanwhile is scored from its new values.
"""

from collections.abc import Mapping

from django.db import connection

from backlog import scoring
from backlog.models import Item

TABLE = Item._meta.db_table


def _case(column: str, mapping: Mapping) -> str:
    whens = " ".join(f"WHEN {key!r} THEN {value}" for key, value in mapping.items())  # 'text' or a number
    return f"CASE {column} {whens} END"


def _bands(test: str, bands: tuple[tuple[int, int], ...]) -> str:
    """``CASE`` picking the first band whose ``test`` (formatted with the band's bound) holds."""
    whens = " ".join(f"WHEN {test.format(upper)} THEN {value}" for upper, value in bands)
    return f"CASE {whens} ELSE {scoring.MAX_VALUE} END"


def _plain_number_sql(number: str) -> str:
    """``scoring._plain_number`` in SQL: a double at 15 significant digits, plain notation, no
    trailing zeros."""
    return f"trim_scale(({number})::float8::numeric)::text"


def _given(columns: Mapping[str, str]) -> str:
    """The inputs as given, leaving out those not given (``Score.breakdown``)."""
    pairs = ", ".join(f"'{name}', {column}" for name, column in columns.items())
    return f"jsonb_strip_nulls(jsonb_build_object({pairs}))"


def _names_where(tests: Mapping[str, str]) -> str:
    """A JSON array of the names whose test holds, in order."""
    cases = ", ".join(f"CASE WHEN {test} THEN '{name}' END" for name, test in tests.items())
    return f"to_jsonb(array_remove(ARRAY[{cases}]::text[], NULL))"


_DEFECT = "i.kind = 'defect' AND i.severity <> ''"
_DEBT = "i.kind = 'tech_debt' AND i.interest_hours IS NOT NULL"
_OPERATIONAL = "i.kind = 'operational' AND i.itil_priority IS NOT NULL AND i.itil_priority <> 0"
_BREACHED = f"{_OPERATIONAL} AND i.sla_due_at IS NOT NULL AND p.now >= i.sla_due_at"
_SPIKE = "i.kind = 'spike' AND i.risk_reduction IS NOT NULL"

# What each kind's rules derive (NULL where they derive nothing), and why: the ``wsjf`` branches.
_DERIVED_BUSINESS_VALUE = f"CASE WHEN {_DEFECT} THEN {_case('i.severity', scoring.SEVERITY_VALUE)} END"
_WHY_BUSINESS_VALUE = "'severity ' || i.severity"
_AGE_BAND = _bands("i.created_at > p.now - interval '{} days'", scoring.DEFECT_AGE_DAYS)  # age < N days
_DERIVED_TIME_CRITICALITY = (
    f"CASE WHEN {_DEFECT} THEN {_AGE_BAND}"
    f" WHEN {_DEBT} THEN {_bands('i.interest_hours < {}', scoring.DEBT_INTEREST_HOURS)}"
    f" WHEN {_BREACHED} THEN {scoring.MAX_VALUE}"
    f" WHEN {_OPERATIONAL} THEN {_case('i.itil_priority', scoring.ITIL_TIME_CRITICALITY)} END"
)
_AGE_DAYS = "floor(extract(epoch FROM p.now - i.created_at) / 86400)"
_WHY_TIME_CRITICALITY = (
    f"CASE WHEN {_DEFECT} THEN 'open for ' || {_AGE_DAYS}"
    f" || CASE WHEN {_AGE_DAYS} = 1 THEN ' day' ELSE ' days' END"
    f" WHEN {_DEBT} THEN 'interest ' || {_plain_number_sql('i.interest_hours')} || ' h per sprint'"
    f" WHEN {_BREACHED} THEN 'SLA breached'"
    f" WHEN {_OPERATIONAL} THEN 'ITIL priority P' || i.itil_priority END"
)

# What a person gave, else what the kind derived; a breached SLA is always maximal.
_BUSINESS_VALUE = f"COALESCE(i.business_value, {_DERIVED_BUSINESS_VALUE})"
_TIME_CRITICALITY = (
    f"CASE WHEN {_BREACHED} THEN {scoring.MAX_VALUE} ELSE COALESCE(i.time_criticality, {_DERIVED_TIME_CRITICALITY}) END"
)
_PARTS = {
    "business_value": f"(COALESCE({_BUSINESS_VALUE}, 0)::float8 * p.w_bv)",
    "time_criticality": f"(COALESCE({_TIME_CRITICALITY}, 0)::float8 * p.w_tc)",
    "risk_reduction": "(COALESCE(i.risk_reduction, 0)::float8 * p.w_rr)",
}
_SIZE = "GREATEST(COALESCE(i.estimate, 0), 1)::float8"
_WSJF_VALUE = f"round((({' + '.join(_PARTS.values())}) / {_SIZE})::numeric, 3)"

_WSJF_BREAKDOWN = f"""jsonb_build_object(
    'model', '{scoring.WSJF}',
    'inputs', {_given({name: f"i.{name}" for name in (*_PARTS, "estimate")})},
    'derived',
        CASE WHEN i.business_value IS NULL AND {_DEFECT} THEN jsonb_build_object('business_value',
            jsonb_build_object('value', {_DERIVED_BUSINESS_VALUE}, 'why', {_WHY_BUSINESS_VALUE})) ELSE '{{}}' END
        || CASE WHEN ({_BREACHED}) OR (i.time_criticality IS NULL AND ({_DEFECT} OR {_DEBT} OR {_OPERATIONAL}))
            THEN jsonb_build_object('time_criticality',
                jsonb_build_object('value', {_TIME_CRITICALITY}, 'why', {_WHY_TIME_CRITICALITY})) ELSE '{{}}' END
        || CASE WHEN {_SPIKE} THEN jsonb_build_object('risk_reduction', jsonb_build_object(
            'value', i.risk_reduction::float8, 'why', 'the value of the spike''s answer')) ELSE '{{}}' END,
    'formula', '(' || {" || ' + ' || ".join(_plain_number_sql(part) for part in _PARTS.values())}
        || ') / ' || {_plain_number_sql(_SIZE)} || ' = ' || trim_scale({_WSJF_VALUE})::text,
    'missing', {
    _names_where(
        {
            "business_value": f"{_BUSINESS_VALUE} IS NULL",
            "time_criticality": f"{_TIME_CRITICALITY} IS NULL",
            "risk_reduction": "i.risk_reduction IS NULL",
            "estimate": "i.estimate IS NULL",
        }
    )
},
    'category', NULLIF(i.moscow, '')
)"""
_WSJF_PARAMS = "SELECT %s::timestamptz AS now, %s::float8 AS w_bv, %s::float8 AS w_tc, %s::float8 AS w_rr"

_RICE_MISSING = {
    "reach": "i.rice_reach IS NULL",
    "impact": "i.rice_impact = ''",
    "confidence": "i.rice_confidence IS NULL",
    "effort": "i.rice_effort IS NULL",
}
_RICE_INCOMPLETE = " OR ".join((*_RICE_MISSING.values(), "i.rice_effort = 0"))
_RICE_VALUE = (
    f"CASE WHEN NOT ({_RICE_INCOMPLETE}) THEN round((i.rice_reach::float8 * i.rice_impact::float8"
    " * (i.rice_confidence::float8 / 100) / i.rice_effort::float8)::numeric, 3) END"
)
_RICE_BREAKDOWN = f"""jsonb_build_object(
    'model', '{scoring.RICE}',
    'inputs', {
    _given(
        dict(
            zip(
                ("reach", "impact", "confidence", "effort"),
                ("i.rice_reach", "NULLIF(i.rice_impact, '')", "i.rice_confidence", "i.rice_effort::float8"),
                strict=True,
            )
        )
    )
},
    'derived', '{{}}'::jsonb,
    'formula', CASE WHEN {_RICE_INCOMPLETE} THEN 'needs reach, impact, confidence and a non-zero effort'
        ELSE {_plain_number_sql("i.rice_reach")} || ' × ' || {_plain_number_sql("i.rice_impact")} || ' × ' || {
    _plain_number_sql("i.rice_confidence")
}
            || '%% / ' || {_plain_number_sql("i.rice_effort")} || ' = ' || trim_scale({_RICE_VALUE})::text END,
    'missing', {_names_where(_RICE_MISSING)}
        || CASE WHEN i.rice_effort = 0 THEN '["effort"]'::jsonb ELSE '[]' END,
    'category', NULLIF(i.moscow, '')
)"""

_MOSCOW_BREAKDOWN = f"""jsonb_build_object(
    'model', '{scoring.MOSCOW}',
    'inputs', {_given({"moscow": "NULLIF(i.moscow, '')"})},
    'derived', '{{}}'::jsonb,
    'formula', 'a category, not a score',
    'missing', '[]'::jsonb,
    'category', NULLIF(i.moscow, '')
)"""


_NOW_PARAMS = "SELECT %s::timestamptz AS now"
# Each model: its score, its breakdown, and the parameters they read (``p``).
_STATEMENTS = {
    scoring.WSJF: (f"{_WSJF_VALUE}::float8", _WSJF_BREAKDOWN, _WSJF_PARAMS),
    scoring.RICE: (f"{_RICE_VALUE}::float8", _RICE_BREAKDOWN, _NOW_PARAMS),
    scoring.MOSCOW: ("NULL::float8", _MOSCOW_BREAKDOWN, _NOW_PARAMS),
}


def statement(model: str, where: str, *, only_changed: bool = False) -> str:
    """The UPDATE scoring the items ``where`` selects (a condition on ``i``) with ``model``.

    Its parameters are those of ``parameters`` followed by those of ``where``. With
    ``only_changed`` a row is written only when its score or breakdown changes, or when it was
    never scored or was edited since (so the write records the score as fresh): a scheduled
    refresh then leaves the rows time did not change untouched.
    """
    if model not in _STATEMENTS:
        raise ValueError(f"unknown scoring model {model!r}")
    score, breakdown, params = _STATEMENTS[model]
    changed = (
        " AND (i.score_computed_at IS NULL OR i.score_computed_at < i.updated_at"
        f" OR i.score IS DISTINCT FROM {score} OR i.score_breakdown IS DISTINCT FROM {breakdown})"
        if only_changed
        else ""
    )
    return (
        f"UPDATE {TABLE} i SET score = {score}, score_computed_at = p.now, score_breakdown = {breakdown}"
        f" FROM ({params}) p WHERE {where}{changed}"
    )


def parameters(model: str, weights: Mapping[str, float], now) -> list:
    """The values of ``statement``'s own parameters (the time, and the WSJF weights)."""
    if model == scoring.WSJF:
        return [now, *(float(weights.get(name, 1.0)) for name in scoring.DEFAULT_WEIGHTS)]
    return [now]


def score_where(
    where: str, where_params: list, *, model: str, weights: Mapping[str, float], now, only_changed: bool = False
) -> int:
    """Score the items ``where`` selects (see ``statement``); return how many rows were written."""
    sql = statement(model, where, only_changed=only_changed)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*parameters(model, weights, now), *where_params])
        return cursor.rowcount


def score_items(ids: list[int], *, model: str, weights: Mapping[str, float], now) -> int:
    """Score the items ``ids`` with ``model`` (and ``weights``) as of ``now``; return how many were written."""
    return score_where("i.id = ANY(%s)", [list(ids)], model=model, weights=weights, now=now)
