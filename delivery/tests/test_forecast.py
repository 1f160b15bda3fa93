"""Velocity and the forecast against hand-computed sprints for a small backlog."""

import math
import random
from datetime import date, timedelta

import pytest

from backlog.models import Item
from backlog.services.items import item_transition
from delivery.forecast import ForecastRow, forecast, item_forecast, monte_carlo, velocity
from delivery.services.sprints import sprint_close, sprint_commit, sprint_create, sprint_start

TODAY = date(2026, 3, 2)


def close_sprint_with(product, owner, items, start: date):
    sprint = sprint_create(product=product, actor=owner, start_date=start, end_date=start + timedelta(days=13))
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk for item in items], reason="history")
    sprint_start(sprint=sprint, actor=owner)
    for item in items:
        item_transition(item=item, actor=owner, to=Item.Status.IN_PROGRESS)
        item_transition(item=item, actor=owner, to=Item.Status.DONE)
    return sprint_close(sprint=sprint, actor=owner)


@pytest.fixture
def backlog(product, make_item):
    """S1(4) S2(4) T1(2) S3(8) T2(2) U(?): debt share 20 % (the product's debt target)."""
    product.sprint_capacity = 10
    product.save()
    return {
        "S1": make_item("story", 4),
        "S2": make_item("story", 4),
        "T1": make_item("tech_debt", 2),
        "S3": make_item("story", 8),
        "T2": make_item("tech_debt", 2),
        "U": make_item("story", None),
    }


def test_without_history_the_capacity_is_shared_by_the_allocation(product, backlog):
    # 10 points a sprint: debt gets 2, the rest 8. Features run 4, 8, 16, 16: sprints 1, 1, 2, 2.
    # Debt runs 2, 4: sprints 1, 2. The unestimated story lands with the points above it, and is named.
    result = forecast(product=product, today=TODAY)
    sprints = {row.key: row.sprint for row in result.rows}
    hand = {"S1": 1, "S2": 1, "T1": 1, "S3": 2, "T2": 2, "U": 2}
    assert sprints == {backlog[name].key: sprint for name, sprint in hand.items()}
    assert result.velocity is None and result.capacity_used == 10
    assert (result.unestimated, result.unestimated_keys) == (1, [backlog["U"].key])
    assert result.ranges == {}  # no past throughput, no range
    assert result.sprint_number(2) == 2 and result.sprint_end(1) == TODAY + timedelta(days=13)


def test_velocity_is_the_done_points_of_the_last_closed_sprints(product, owner, make_item):
    close_sprint_with(product, owner, [make_item("story", 6), make_item("story", 4)], date(2026, 1, 5))
    close_sprint_with(product, owner, [make_item("story", 6)], date(2026, 1, 19))
    found = velocity(product=product)
    assert [done for _, _, done in found.sprints] == [6, 10] and found.points == 8
    assert velocity(product=product, last=1).points == 6


def test_forecast_sprints_follow_the_last_sprint_and_equal_throughputs_give_a_point_range(product, owner, make_item):
    product.sprint_capacity = 10
    product.save()
    for start in (date(2026, 1, 5), date(2026, 1, 19)):
        close_sprint_with(product, owner, [make_item("story", 5), make_item("story", 5)], start)
    s1, t1, s2 = make_item("story", 8), make_item("tech_debt", 2), make_item("story", 8)
    result = forecast(product=product, today=TODAY)
    # Velocity 10: features 8 a sprint (S1 in 1, S2 in 2), debt 2 (T1 in 1). Sprints 3 and 4 of the
    # product, two weeks after sprint 2 ended on 1 February... or after today when that is later.
    assert {row.key: row.sprint for row in result.rows} == {s1.key: 1, t1.key: 1, s2.key: 2}
    assert result.sprint_number(1) == 3 and result.sprint_end(1) == TODAY + timedelta(days=14)
    assert result.ranges == {s1.pk: (1, 1), t1.pk: (1, 1), s2.pk: (2, 2)}
    found = item_forecast(item=s2, today=TODAY)
    assert (found.sprint, found.p50[0], found.p85[0]) == (4, 4, 4)
    assert found.p85[1] == TODAY + timedelta(days=28)


def test_the_monte_carlo_is_repeatable_with_a_seed_and_widens_with_varied_throughput(product, backlog):
    result = forecast(product=product, today=TODAY)
    rows = result.rows
    first = monte_carlo(rows, result.fractions, [4, 10, 16], seed=7)
    assert first == monte_carlo(rows, result.fractions, [4, 10, 16], seed=7)
    s3 = backlog["S3"].pk
    low, high = first[s3]
    assert 1 <= low <= high
    # 16 feature points at 80 % need 20 drawn points: one draw never suffices, three always do.
    assert low >= 2 and high <= 3
    alone = monte_carlo([row for row in rows if row.id == s3], result.fractions, [4, 10, 16], seed=7)
    assert alone[s3] == first[s3]  # an item's range is the same alone as in the list


def test_a_done_item_names_its_sprint(product, owner, make_item):
    item = make_item("story", 3)
    sprint = close_sprint_with(product, owner, [item], date(2026, 1, 5))
    item.refresh_from_db()
    assert item_forecast(item=item).done_in == sprint.name


def brute_force(rows, fractions, samples, *, seed, runs=1000):
    """Every future followed item by item: the definition the quantile columns must agree with."""
    needs = {row.id: row.points_through / fractions[row.pool] for row in rows}
    most = max(needs.values())
    landed = {row.id: [] for row in rows}
    for run in range(runs):
        generator = random.Random(seed * 1_000_003 + run)
        totals, total = [], 0.0
        while total < most - 1e-9:
            total += generator.choice(samples)
            totals.append(total)
        for item_id, need in needs.items():
            landed[item_id].append(next(k + 1 for k, value in enumerate(totals) if value >= need - 1e-9))
    return {
        item_id: (sorted(found)[math.ceil(0.5 * runs) - 1], sorted(found)[math.ceil(0.85 * runs) - 1])
        for item_id, found in landed.items()
    }


def test_the_quantile_columns_agree_with_following_every_future():
    generator = random.Random(3)
    rows, through = [], {"debt": 0, "rest": 0}
    for index in range(60):
        pool = generator.choice(["debt", "rest"])
        through[pool] += generator.choice([1, 2, 3, 5, 8])
        rows.append(ForecastRow(index, f"X-{index}", "t", "story", 1, pool, through[pool], None))
    fractions = {"debt": 0.2, "rest": 0.8}
    samples = [12, 30, 0, 41, 25]
    assert monte_carlo(rows, fractions, samples, seed=11, runs=300) == brute_force(
        rows, fractions, samples, seed=11, runs=300
    )
