"""Sprints through the services: create, plan, commit (with a reason when short), start, close."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from backlog.models import Item, ItemEvent
from backlog.services.items import item_transition
from delivery.models import DeliverySettings, Sprint, SprintEvent, SprintItem
from delivery.selectors import delivery_settings_for, plan_proposal, policy_report, sprint_items
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import (
    retro_action_add,
    retro_action_to_debt,
    sprint_close,
    sprint_commit,
    sprint_create,
    sprint_start,
)


def test_capacity_defaults_to_the_products_and_numbers_count_up(product, owner):
    product.sprint_capacity = 33
    product.save()
    first = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 16))
    second = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 19), end_date=date(2026, 1, 30))
    assert (first.capacity, first.number, first.name) == (33, 1, "Sprint 1")
    assert second.number == 2 and first.state == Sprint.State.PLANNED


def test_a_sprint_ends_after_it_starts(product, owner):
    with pytest.raises(ValidationError) as refused:
        sprint_create(product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 4))
    assert "end_date" in refused.value.message_dict


@pytest.mark.parametrize("role", ["owner", "delegate"])
def test_owners_and_delegates_plan(request, product, role):
    user = request.getfixturevalue(role)
    assert sprint_create(product=product, actor=user, start_date=date(2026, 1, 5), end_date=date(2026, 1, 9))


@pytest.mark.parametrize("role", ["developer", "stakeholder", "outsider"])
def test_others_do_not_plan(request, product, role, sprint, make_item):
    user = request.getfixturevalue(role)
    item = make_item()
    with pytest.raises(PermissionDenied):
        sprint_create(product=product, actor=user, start_date=date(2026, 1, 5), end_date=date(2026, 1, 9))
    with pytest.raises(PermissionDenied):
        sprint_commit(sprint=sprint, actor=user, item_ids=[item.pk], reason="x")


def test_the_debt_share_defaults_to_the_products_debt_target(product):
    product.debt_target_percent = 15
    product.save()
    assert delivery_settings_for(product=product).debt_share == 15
    assert not DeliverySettings.objects.exists()


def test_shares_add_up_to_at_most_100(product, owner):
    with pytest.raises(ValidationError):
        delivery_settings_update(
            product=product, actor=owner, changes={"feature_share": 50, "debt_share": 30, "operational_share": 21}
        )
    settings = delivery_settings_update(
        product=product, actor=owner, changes={"feature_share": 50, "debt_share": 30, "operational_share": 20}
    )
    assert settings.shares == {"features": 50, "defects": None, "debt": 30, "operational": 20}


def test_the_database_refuses_shares_over_100(product):
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliverySettings.objects.create(product=product, feature_share=60, defect_share=50)


@pytest.mark.parametrize("role", ["delegate", "developer", "stakeholder"])
def test_only_the_owner_sets_the_allocation(request, product, role):
    with pytest.raises(PermissionDenied):
        delivery_settings_update(product=product, actor=request.getfixturevalue(role), changes={"debt_share": 10})


def test_planning_proposes_the_diff_from_the_database(sprint, make_item, allocation):
    allocation(debt_share=20)
    s1, s2, s3, _s4 = (make_item("story", 3) for _ in range(4))
    t1 = make_item("tech_debt", 2)
    plan = plan_proposal(sprint=sprint)
    assert [row.id for row in plan.items] == [s1.pk, s2.pk, t1.pk]
    assert [change.row.id for change in plan.added] == [t1.pk]
    assert [change.row.id for change in plan.dropped] == [s3.pk]
    assert plan.why == ["feature share 90 % → 60 %", "debt share 0 % → 20 %, target 20 %"]


def test_a_short_plan_needs_a_reason_which_the_event_keeps(sprint, owner, make_item, allocation):
    allocation(debt_share=20)
    stories = [make_item("story", 3) for _ in range(3)]
    ids = [item.pk for item in stories]
    with pytest.raises(ValidationError) as refused:
        sprint_commit(sprint=sprint, actor=owner, item_ids=ids)
    assert "debt share 0 % → 0 %, target 20 %" in refused.value.message_dict["reason"][0]
    committed = sprint_commit(sprint=sprint, actor=owner, item_ids=ids, reason="Release week: no debt work.")
    event = SprintEvent.objects.get(sprint=sprint, type=SprintEvent.Type.COMMITTED)
    assert event.reason == committed.plan_reason == "Release week: no debt work."
    assert event.data["classes"]["debt"] == {
        "target": 20,
        "top": 0,
        "planned": 0,
        "planned_percent": 0.0,
        "met": False,
    }
    assert event.data["points"] == 9 and event.actor == owner
    assert set(SprintItem.objects.filter(sprint=sprint).values_list("item_id", flat=True)) == set(ids)


def test_committed_items_keep_their_rank_and_order(sprint, owner, make_item):
    items = [make_item("story", 1) for _ in range(3)]
    ranks = list(Item.objects.filter(pk__in=[i.pk for i in items]).order_by("rank").values_list("pk", "rank"))
    sprint_commit(sprint=sprint, actor=owner, item_ids=[items[2].pk, items[0].pk], reason="no debt")
    assert [entry.item_id for entry in sprint_items(sprint=sprint)] == [items[0].pk, items[2].pk]
    assert list(Item.objects.filter(pk__in=[i.pk for i in items]).order_by("rank").values_list("pk", "rank")) == ranks


def test_only_ordered_items_are_committed(sprint, owner, make_item, product, developer):
    item = make_item("story", 1)
    item_transition(item=item, actor=owner, to=Item.Status.ARCHIVED)
    with pytest.raises(ValidationError) as refused:
        sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk])
    assert "is not in the order (archived)" in refused.value.message_dict["items"][0]


def test_at_most_one_active_sprint(sprint, owner, product, make_item):
    item = make_item()
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk], reason="no debt")
    sprint_start(sprint=sprint, actor=owner)
    other = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 19), end_date=date(2026, 1, 30))
    sprint_commit(sprint=other, actor=owner, item_ids=[], reason="no debt")
    with pytest.raises(ValidationError, match="Another sprint"):
        sprint_start(sprint=other, actor=owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        Sprint.objects.filter(pk=other.pk).update(state=Sprint.State.ACTIVE)


def test_an_item_committed_to_an_open_sprint_is_not_planned_again(sprint, owner, product, make_item):
    first, second = make_item("story", 3), make_item("story", 3)
    sprint_commit(sprint=sprint, actor=owner, item_ids=[first.pk], reason="no debt")
    other = sprint_create(product=product, actor=owner, start_date=date(2026, 1, 19), end_date=date(2026, 1, 30))
    assert [row.id for row in plan_proposal(sprint=other).items] == [second.pk]
    with pytest.raises(ValidationError, match="committed to another sprint"):
        sprint_commit(sprint=other, actor=owner, item_ids=[first.pk], reason="x")


def _run(sprint, owner, items, done):
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk for item in items], reason="ok")
    sprint_start(sprint=sprint, actor=owner)
    for item in done:
        item_transition(item=item, actor=owner, to=Item.Status.IN_PROGRESS)
        item_transition(item=item, actor=owner, to=Item.Status.DONE)


def test_done_items_remember_their_sprint(sprint, owner, make_item):
    item = make_item()
    _run(sprint, owner, [item], [item])
    entry = SprintItem.objects.get(item=item)
    assert entry.sprint == sprint and entry.done_at is not None


def test_close_records_committed_and_done_points_per_class_and_unfinished_items_stay(
    sprint, owner, make_item, allocation
):
    allocation(debt_share=20)
    story, debt, late, below = make_item("story", 5), make_item("tech_debt", 2), make_item("story", 3), make_item()
    _run(sprint, owner, [story, debt, late], [story, debt])
    before = list(Item.objects.filter(rank__isnull=False).order_by("rank").values_list("pk", flat=True))
    closed = sprint_close(sprint=sprint, actor=owner)
    assert closed.state == Sprint.State.CLOSED and closed.carry_over == "stay"
    close = closed.policy["close"]
    assert close["committed"] == {"features": 8, "defects": 0, "debt": 2, "operational": 0}
    assert close["done"] == {"features": 5, "defects": 0, "debt": 2, "operational": 0}
    assert close["unfinished"] == [late.key]
    # What the order still held at close (late 3 + below 3 features), for the burn-up.
    assert close["remaining"] == {"features": 6, "defects": 0, "debt": 0, "operational": 0}
    assert close["remaining_unestimated"] == 0
    assert list(Item.objects.filter(rank__isnull=False).order_by("rank").values_list("pk", flat=True)) == before
    assert before == [late.pk, below.pk]


def test_close_can_send_unfinished_items_to_the_top(sprint, owner, product, make_item):
    top, late = make_item(), make_item()
    first_unrelated = make_item()
    sprint_commit(sprint=sprint, actor=owner, item_ids=[late.pk], reason="no debt")
    sprint_start(sprint=sprint, actor=owner)
    sprint_close(sprint=sprint, actor=owner, carry_over="top")
    order = list(Item.objects.filter(product=product).ordered().values_list("pk", flat=True))
    assert order == [late.pk, top.pk, first_unrelated.pk]
    assert ItemEvent.objects.filter(item=late, type=ItemEvent.Type.MOVED).exists()


def test_the_policy_report_counts_the_sprints_that_honoured_the_targets(product, owner, make_item, allocation):
    allocation(debt_share=20)
    verdicts = []
    for number, debt_done in enumerate([True, False, True]):
        sprint = sprint_create(
            product=product,
            actor=owner,
            start_date=date(2026, 1, 1 + number),
            end_date=date(2026, 1, 1 + number),
            capacity=10,
        )
        story, debt = make_item("story", 8), make_item("tech_debt", 2)
        _run(sprint, owner, [story, debt], [story, debt] if debt_done else [story])
        sprint_close(sprint=sprint, actor=owner)
        verdicts.append(debt_done)
    report = policy_report(product=product)
    assert [row.honoured for row in report.sprints] == [True, False, True]  # newest first
    assert report.summary == "honoured in 2 of the last 3 sprints"
    newest = report.sprints[0].classes["debt"]
    assert (newest["planned_percent"], newest["done_percent"], newest["target"]) == (20.0, 20.0, 20)
    assert report.sprints[1].classes["debt"]["done_percent"] == 0.0


@pytest.mark.parametrize("role", ["developer", "stakeholder"])
def test_only_planners_start_and_close(request, sprint, owner, make_item, role):
    user = request.getfixturevalue(role)
    sprint_commit(sprint=sprint, actor=owner, item_ids=[make_item().pk], reason="no debt")
    with pytest.raises(PermissionDenied):
        sprint_start(sprint=sprint, actor=user)
    sprint_start(sprint=sprint, actor=owner)
    with pytest.raises(PermissionDenied):
        sprint_close(sprint=sprint, actor=user)


def test_a_retrospective_action_becomes_a_debt_proposal_in_one_step(sprint, owner, developer, make_item):
    _run(sprint, owner, [make_item()], [])
    sprint_close(sprint=sprint, actor=owner)
    action = retro_action_add(sprint=sprint, actor=developer, text="Flaky CI costs us a day each sprint")
    item = retro_action_to_debt(action=action, actor=owner)
    assert (item.kind, item.status, item.rank) == ("tech_debt", "proposed", None)
    assert item.value_case_errors() == {}
    assert "Flaky CI" in item.value_cost_of_delay
    action.refresh_from_db()
    assert action.debt_item == item
    with pytest.raises(ValidationError):
        retro_action_to_debt(action=action, actor=owner)


def test_retrospective_actions_belong_to_closed_sprints_and_not_to_stakeholders(sprint, owner, stakeholder):
    with pytest.raises(ValidationError):
        retro_action_add(sprint=sprint, actor=owner, text="x")
    with pytest.raises(PermissionDenied):
        retro_action_add(sprint=sprint, actor=stakeholder, text="x")
