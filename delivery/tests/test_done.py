"""The Definition of Done: checked or waived with a reason; each waiver a linked debt item."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.exceptions import VersionConflict
from backlog.models import Item, ItemEvent
from backlog.services.items import item_transition
from delivery.models import DodWaiver, SprintItem
from delivery.services.done import item_done
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import sprint_commit, sprint_start

DOD = ["Tests pass", "Documentation updated", "Load tested"]


@pytest.fixture
def dod(product, owner):
    return delivery_settings_update(product=product, actor=owner, changes={"definition_of_done": DOD})


@pytest.fixture
def started(make_item, owner):
    item = make_item("story", 3, title="Export to CSV")
    return item_transition(item=item, actor=owner, to=Item.Status.IN_PROGRESS)


def test_without_a_definition_of_done_an_item_is_done_as_before(started, developer):
    assert item_transition(item=started, actor=developer, to=Item.Status.DONE).status == Item.Status.DONE


def test_the_plain_transition_is_refused_once_there_is_a_definition_of_done(dod, started, developer):
    with pytest.raises(ValidationError, match="has a Definition of Done"):
        item_transition(item=started, actor=developer, to=Item.Status.DONE)
    started.refresh_from_db()
    assert started.status == Item.Status.IN_PROGRESS


def test_every_unchecked_entry_needs_a_waiver_with_a_reason(dod, started, developer):
    with pytest.raises(ValidationError) as refused:
        item_done(item=started, actor=developer, checked=["Tests pass"], waivers={"Load tested": "  "})
    assert refused.value.message_dict["waivers"] == [
        "'Documentation updated' is not checked: check it, or waive it with a reason.",
        "Say why 'Load tested' is waived.",
    ]
    with pytest.raises(ValidationError, match="not in the Definition of Done"):
        item_done(item=started, actor=developer, checked=[*DOD, "Shipped"], waivers={})
    assert not Item.objects.filter(kind="tech_debt").exists()


def test_all_checked_is_done_without_debt(dod, started, developer):
    done, waivers = item_done(item=started, actor=developer, checked=DOD, waivers={})
    assert done.status == Item.Status.DONE and waivers == []
    event = ItemEvent.objects.filter(item=started, type=ItemEvent.Type.STATUS_CHANGED).last()
    assert event.data["definition_of_done"] == {"checked": DOD, "waived": {}}


def test_a_waiver_creates_a_linked_debt_proposal_with_its_value_case(dod, started, developer):
    done, (waiver,) = item_done(
        item=started,
        actor=developer,
        checked=["Tests pass", "Documentation updated"],
        waivers={"Load tested": "No load rig until March"},
        interest_hours={"Load tested": Decimal("2.5")},
    )
    debt = waiver.debt_item
    assert (debt.kind, debt.status, debt.rank) == ("tech_debt", "proposed", None)
    assert debt.title == f"{started.key}: Load tested"
    assert debt.interest_hours == Decimal("2.5")
    assert debt.value_case_errors() == {}
    assert debt.value_cost_of_delay == "Waived: No load rig until March"
    assert waiver.item == done and waiver.reason == "No load rig until March"
    assert DodWaiver.objects.get(debt_item=debt).item == started
    event = ItemEvent.objects.filter(item=started, type=ItemEvent.Type.STATUS_CHANGED).last()
    assert event.data["definition_of_done"]["waived"] == {"Load tested": "No load rig until March"}


def test_the_product_may_place_waiver_debt_straight_in_the_order(product, owner, dod, started, developer, make_item):
    bottom = make_item()
    delivery_settings_update(product=product, actor=owner, changes={"waiver_debt": "placed"})
    _, (waiver,) = item_done(item=started, actor=developer, checked=DOD[:2], waivers={"Load tested": "later"})
    order = list(Item.objects.filter(product=product).ordered().values_list("pk", flat=True))
    assert waiver.debt_item.status == Item.Status.OPEN
    assert order[-2:] == [bottom.pk, waiver.debt_item.pk]


@pytest.mark.parametrize("role", ["stakeholder", "outsider"])
def test_only_those_who_edit_work_mark_done(request, dod, started, role):
    with pytest.raises(PermissionDenied):
        item_done(item=started, actor=request.getfixturevalue(role), checked=DOD, waivers={})


def test_a_stale_version_is_refused(dod, started, developer):
    with pytest.raises(VersionConflict):
        item_done(item=started, actor=developer, checked=DOD, waivers={}, expected_version=started.version - 1)
    assert item_done(item=started, actor=developer, checked=DOD, waivers={}, expected_version=started.version)


def test_a_waiver_in_the_active_sprint_names_the_sprint(dod, sprint, owner, developer, make_item):
    item = make_item()
    sprint_commit(sprint=sprint, actor=owner, item_ids=[item.pk], reason="no debt")
    sprint_start(sprint=sprint, actor=owner)
    item_transition(item=item, actor=developer, to=Item.Status.IN_PROGRESS)
    _, (waiver,) = item_done(item=item, actor=developer, checked=DOD[1:], waivers={"Tests pass": "hotfix"})
    assert waiver.sprint == sprint
    assert SprintItem.objects.get(item=item).done_at is not None
