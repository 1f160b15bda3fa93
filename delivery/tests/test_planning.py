"""Planning by hand: which items go in and out of the slice, and why (pure, no database)."""

from delivery.planning import Row, plan_of, plan_propose

KINDS = {"S": "story", "D": "defect", "T": "tech_debt", "O": "operational", "K": "spike"}


def rows(*specs: str) -> list[Row]:
    """Rows from specs such as "S1:3" (story S1 of 3 points) or "T2:-" (unestimated debt), in this order."""
    found = []
    for index, spec in enumerate(specs):
        name, points = spec.split(":")
        found.append(Row(index + 1, name, name, KINDS[name[0]], None if points == "-" else int(points), f"r{index:03}"))
    return found


def keys(found) -> list[str]:
    return [getattr(row, "key", None) or row.row.key for row in found]


def test_no_shortfall_takes_the_top_slice_unchanged():
    # 3 + 2 + 3 = 8 fits 10; S3 would make 11. Debt 2 of 10 = 20 %: the target is met.
    plan = plan_propose(rows("S1:3", "T1:2", "S2:3", "S3:3", "S4:2"), capacity=10, shares={"debt": 20})
    assert keys(plan.items) == ["S1", "T1", "S2"]
    assert plan.added == [] and plan.dropped == []
    assert plan.missed == []
    assert plan.why == ["debt share 20 % → 20 %, target 20 %"]


def test_short_debt_brings_in_the_highest_ordered_debt_and_drops_the_lowest_surplus():
    # The slice S1 S2 S3 (9 of 10) has no debt; the target needs 2 points. T1 (2) comes in: 11 > 10,
    # so the lowest-ordered feature, S3, leaves. T2 (lower) stays out.
    plan = plan_propose(rows("S1:3", "S2:3", "S3:3", "S4:3", "T1:2", "T2:5"), capacity=10, shares={"debt": 20})
    assert keys(plan.top) == ["S1", "S2", "S3"]
    assert keys(plan.items) == ["S1", "S2", "T1"]
    assert keys(plan.added) == ["T1"] and keys(plan.dropped) == ["S3"]
    assert plan.added[0].reason == "highest-ordered debt item below the slice: debt share 0 % → 20 %, target 20 %"
    assert plan.dropped[0].reason == "lowest-ordered feature item past its target, makes room for T1"
    assert "debt share 0 % → 20 %, target 20 %" in plan.why
    assert plan.missed == []


def test_buffer_and_two_short_classes_keep_the_owners_relative_order():
    # Capacity 20, buffer 10 % → 18 points to plan. Targets: defects 20 % (4 points), debt 25 % (5).
    # Slice: S1 S2 S3 D1 = 5+5+5+3 = 18. Debt is furthest below target (0 of 5): T1 (5) comes in,
    # S3 leaves (D1 cannot: defects would fall to 0). Then defects (3 of 4): D2 (2) comes in; T1 and
    # D1 cannot leave, S2 does. Result S1 D1 T1 D2: features 25 %, defects 25 %, debt 25 %.
    found = rows("S1:5", "S2:5", "S3:5", "D1:3", "S4:3", "T1:5", "D2:2", "T2:1")
    plan = plan_propose(found, capacity=20, shares={"defects": 20, "debt": 25, "operational": 10})
    assert plan.plannable == 18
    assert keys(plan.top) == ["S1", "S2", "S3", "D1"]
    assert keys(plan.items) == ["S1", "D1", "T1", "D2"]
    assert keys(plan.added) == ["T1", "D2"]
    assert keys(plan.dropped) == ["S2", "S3"]
    figures = {figure.work_class: figure for figure in plan.classes}
    assert (figures["debt"].before, figures["debt"].after) == (0, 5)
    assert (figures["defects"].before, figures["defects"].after) == (3, 5)
    assert figures["features"].after == 5
    assert plan.points == 15
    assert plan.why == [
        "feature share 75 % → 25 %",
        "defect share 15 % → 25 %, target 20 %",
        "debt share 0 % → 25 %, target 25 %",
    ]


def test_a_class_with_nothing_below_stays_short_and_is_reported_missed():
    plan = plan_propose(rows("S1:4", "S2:4", "D1:2"), capacity=10, shares={"debt": 20})
    assert keys(plan.items) == ["S1", "S2", "D1"]
    assert plan.added == [] and plan.dropped == []
    assert [figure.why for figure in plan.missed] == ["debt share 0 % → 0 %, target 20 %"]


def test_a_target_that_would_push_another_class_below_its_own_is_not_forced():
    # Defects 60 % (6 of 10) are met by D1 D2; debt 40 % needs T1 (4), but only a defect could leave.
    plan = plan_propose(rows("D1:3", "D2:3", "S1:4", "T1:8"), capacity=10, shares={"defects": 60, "debt": 40})
    assert keys(plan.items) == ["D1", "D2", "S1"]
    assert [figure.work_class for figure in plan.missed] == ["debt"]


def test_unestimated_items_take_no_capacity_and_are_named():
    plan = plan_propose(rows("S1:5", "T1:-", "S2:5", "S3:1"), capacity=10, shares={})
    assert keys(plan.items) == ["S1", "T1", "S2"]
    assert keys(plan.unestimated) == ["T1"]
    assert plan.record()["unestimated"] == ["T1"]


def test_spikes_count_as_features_and_candidates_skip_unestimated_items():
    # The slice K1 S1 T1 (T1 unestimated: no points, no share); T2 comes in, S1 (the lower of the
    # two features, spike K1 being one) leaves.
    plan = plan_propose(rows("K1:5", "S1:5", "T1:-", "T2:2"), capacity=10, shares={"debt": 20})
    assert keys(plan.top) == ["K1", "S1", "T1"]
    assert keys(plan.items) == ["K1", "T1", "T2"]
    assert keys(plan.added) == ["T2"] and keys(plan.dropped) == ["S1"]


def test_an_edited_plan_is_measured_against_the_top_slice():
    found = rows("S1:3", "S2:3", "S3:3", "S4:3", "T1:2")
    plan = plan_of(found, [found[0], found[3]], capacity=10, shares={"debt": 20})
    assert keys(plan.added) == ["S4"] and keys(plan.dropped) == ["S2", "S3"]
    assert [figure.work_class for figure in plan.missed] == ["debt"]
    assert plan.record()["classes"]["debt"] == {
        "target": 20,
        "top": 0,
        "planned": 0,
        "planned_percent": 0.0,
        "met": False,
    }
