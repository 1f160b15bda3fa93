from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from backlog.exceptions import VersionConflict
from backlog.models import Item, ItemEvent, itil_priority
from backlog.selectors import backlog_items, item_history
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.ordering import Placement

pytestmark = pytest.mark.django_db

KIND_INPUTS = {
    "story": {},
    "defect": {"severity": "major"},
    "tech_debt": {"interest_hours": Decimal("6.5")},
    "spike": {"timebox_days": 3, "question": "Can we drop the legacy importer?"},
    "operational": {"impact": "high", "urgency": "low"},
}


@pytest.mark.parametrize("kind", KIND_INPUTS)
def test_each_kind_is_created_with_its_inputs(product, owner, kind):
    item = item_create(product=product, actor=owner, kind=kind, title=f"A {kind}", **KIND_INPUTS[kind])
    assert item.kind == kind
    assert item.status == Item.Status.OPEN
    assert item.rank


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("defect", {"severity"}),
        ("tech_debt", {"interest_hours"}),
        ("spike", {"timebox_days", "question"}),
        ("operational", {"impact", "urgency"}),
    ],
)
def test_a_kind_without_its_inputs_is_refused_naming_them(product, owner, kind, missing):
    with pytest.raises(ValidationError) as error:
        item_create(product=product, actor=owner, kind=kind, title="x")
    assert set(error.value.message_dict) == missing
    assert not Item.objects.exists()


def test_inputs_of_another_kind_are_refused(product, owner):
    with pytest.raises(ValidationError) as error:
        item_create(product=product, actor=owner, kind="story", title="x", severity="major")
    assert "severity" in error.value.message_dict


def test_bad_values_are_refused(product, owner):
    with pytest.raises(ValidationError) as error:
        item_create(
            product=product,
            actor=owner,
            kind="defect",
            title="x",
            severity="apocalyptic",
            business_value=4,
        )
    assert {"severity", "business_value"} <= set(error.value.message_dict)


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("high", "high", 1),
        ("high", "medium", 2),
        ("medium", "high", 2),
        ("high", "low", 3),
        ("medium", "medium", 3),
        ("low", "high", 3),
        ("medium", "low", 4),
        ("low", "medium", 4),
        ("low", "low", 5),
    ],
)
def test_itil_priority_matrix(impact, urgency, priority):
    assert itil_priority(impact, urgency) == priority


def test_operational_items_get_priority_and_sla_due_time(product, owner):
    product.sla_hours = {"P1": 2, "P2": 8, "P3": 24, "P4": 72, "P5": 168}
    product.save()
    item = item_create(
        product=product,
        actor=owner,
        kind="operational",
        title="DB down",
        impact="high",
        urgency="high",
    )
    assert item.itil_priority == 1
    assert item.sla_due_at == item.created_at + timedelta(hours=2)
    item = item_update(item=item, actor=owner, changes={"urgency": "low"})
    assert item.itil_priority == 3
    assert item.sla_due_at == item.created_at + timedelta(hours=24)


def test_numbers_and_keys(product, owner, developer):
    first = item_create(product=product, actor=owner, kind="story", title="one")
    second = item_create(product=product, actor=developer, kind="story", title="two")
    assert (first.number, second.number) == (1, 2)
    assert second.key == f"{product.key}-2"


def test_developers_and_stakeholders_propose(product, developer, stakeholder):
    for actor in (developer, stakeholder):
        item = item_create(
            product=product,
            actor=actor,
            kind="defect",
            title="broken",
            severity="minor",
        )
        assert item.status == Item.Status.PROPOSED
        assert item.rank is None
    assert not backlog_items(product=product).exists()


@pytest.mark.parametrize("role", ["developer", "stakeholder"])
def test_only_owners_and_delegates_place_new_items(product, role, request):
    with pytest.raises(PermissionDenied):
        item_create(
            product=product,
            actor=request.getfixturevalue(role),
            kind="story",
            title="x",
            placement=Placement.top(),
        )


@pytest.mark.parametrize("role", ["outsider", "anonymous"])
def test_outsiders_create_nothing(product, role, request):
    with pytest.raises(PermissionDenied):
        item_create(
            product=product,
            actor=request.getfixturevalue(role),
            kind="story",
            title="x",
        )


def test_field_rights_on_create(product, developer, stakeholder, delegate):
    with pytest.raises(PermissionDenied):
        item_create(product=product, actor=stakeholder, kind="story", title="x", estimate=3)
    with pytest.raises(PermissionDenied):
        item_create(product=product, actor=developer, kind="story", title="x", business_value=8)
    assert item_create(product=product, actor=developer, kind="story", title="x", estimate=3).estimate == 3
    assert item_create(product=product, actor=delegate, kind="story", title="x", moscow="must").moscow == "must"


@pytest.fixture
def story(product, owner):
    return item_create(
        product=product,
        actor=owner,
        kind="story",
        title="Checkout",
        labels=["payments"],
    )


def test_update_bumps_the_version_and_records_the_change(story, developer):
    updated = item_update(
        item=story,
        actor=developer,
        changes={"estimate": 5, "title": "Checkout v2"},
        labels=["ux"],
    )
    assert updated.version == story.version + 1
    event = item_history(item=story).get(type=ItemEvent.Type.UPDATED)
    assert event.actor == developer
    assert event.data["changes"] == {
        "estimate": [None, 5],
        "title": ["Checkout", "Checkout v2"],
        "labels": [["payments"], ["ux"]],
    }


def test_an_update_that_changes_nothing_writes_nothing(story, owner):
    item = item_update(item=story, actor=owner, changes={"title": "Checkout"})
    assert item.version == story.version
    assert not item_history(item=story).filter(type=ItemEvent.Type.UPDATED).exists()


def test_text_is_stored_with_lf_line_ends_and_a_crlf_copy_is_no_change(product, owner):
    item = item_create(product=product, actor=owner, kind="story", title="Export", description="One\r\nTwo\rThree")
    assert Item.objects.get(pk=item.pk).description == "One\nTwo\nThree"
    same = item_update(item=item, actor=owner, changes={"description": "One\r\nTwo\r\nThree"})
    assert same.version == item.version
    assert not item_history(item=item).filter(type=ItemEvent.Type.UPDATED).exists()
    item_update(item=item, actor=owner, changes={"acceptance_criteria": "Given\r\nThen"})
    assert Item.objects.get(pk=item.pk).acceptance_criteria == "Given\nThen"


def test_a_stale_version_is_refused_and_changes_nothing(story, owner, developer):
    item_update(
        item=story,
        actor=developer,
        changes={"estimate": 3},
        expected_version=story.version,
    )
    with pytest.raises(VersionConflict):
        item_update(
            item=story,
            actor=owner,
            changes={"estimate": 8},
            expected_version=story.version,
        )
    story.refresh_from_db()
    assert story.estimate == 3


@pytest.mark.parametrize(
    ("role", "changes", "allowed"),
    [
        ("owner", {"business_value": 13}, True),
        ("delegate", {"business_value": 13}, True),
        ("developer", {"business_value": 13}, False),
        ("stakeholder", {"business_value": 13}, False),
        ("owner", {"description": "Now with **Markdown**"}, True),
        ("developer", {"description": "Now with **Markdown**"}, True),
        ("delegate", {"estimate": 2}, True),
        ("stakeholder", {"description": "mine"}, False),
        ("outsider", {"description": "mine"}, False),
    ],
)
def test_field_rights_on_update(story, role, changes, allowed, request):
    actor = request.getfixturevalue(role)
    if allowed:
        item_update(item=story, actor=actor, changes=changes)
    else:
        with pytest.raises(PermissionDenied):
            item_update(item=story, actor=actor, changes=changes)
        story.refresh_from_db()
        assert story.version == 1


def test_the_lifecycle(product, owner, developer):
    accepted = item_create(product=product, actor=owner, kind="story", title="idea", placement=Placement.top())
    first = item_create(product=product, actor=owner, kind="story", title="first")
    assert [i.title for i in backlog_items(product=product)] == ["idea", "first"]
    started = item_transition(item=accepted, actor=developer, to="in_progress")
    assert started.rank == accepted.rank  # in progress stays in the order
    done = item_transition(item=started, actor=developer, to="done")
    assert done.rank is None
    archived = item_transition(item=first, actor=owner, to="archived", reason="obsolete")
    assert archived.rank is None
    assert not backlog_items(product=product).exists()
    history = [e.data.get("to") for e in item_history(item=accepted) if e.type == ItemEvent.Type.STATUS_CHANGED]
    assert history == ["in_progress", "done"]


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("proposed", "done"),
        ("proposed", "in_progress"),
        ("open", "done"),
        ("done", "open"),
        ("archived", "open"),
    ],
)
def test_transitions_outside_the_lifecycle_are_refused(product, owner, developer, start, to):
    item = item_create(
        product=product,
        actor=developer if start == "proposed" else owner,
        kind="story",
        title="x",
    )
    path = {
        "proposed": [],
        "open": [],
        "done": ["in_progress", "done"],
        "archived": ["archived"],
    }[start]
    for step in path:
        item = item_transition(item=item, actor=owner, to=step)
    with pytest.raises(ValidationError) as error:
        item_transition(item=item, actor=owner, to=to)
    assert "status" in error.value.message_dict


@pytest.mark.parametrize("to", ["open", "rejected"])
def test_proposals_are_decided_only_through_the_review(product, owner, developer, to):
    proposal = item_create(product=product, actor=developer, kind="story", title="idea")
    with pytest.raises(ValidationError) as refused:
        item_transition(item=proposal, actor=owner, to=to, reason="not now")
    assert "/accept/" in refused.value.message_dict["status"][0]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.version) == ("proposed", 1)


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("developer", False), ("stakeholder", False)])
def test_who_archives(story, role, allowed, request):
    actor = request.getfixturevalue(role)
    if allowed:
        item_transition(item=story, actor=actor, to="archived")
    else:
        with pytest.raises(PermissionDenied):
            item_transition(item=story, actor=actor, to="archived")


@pytest.mark.parametrize(("role", "allowed"), [("developer", True), ("stakeholder", False)])
def test_who_starts_work(story, role, allowed, request):
    actor = request.getfixturevalue(role)
    if allowed:
        item_transition(item=story, actor=actor, to="in_progress")
    else:
        with pytest.raises(PermissionDenied):
            item_transition(item=story, actor=actor, to="in_progress")


def test_the_database_enforces_the_invariants(product, owner):
    cases = [
        {"kind": "defect", "status": "proposed"},  # defect without severity
        {"kind": "story", "status": "open"},  # ordered status without a rank
        {"kind": "story", "status": "done", "rank": "a0"},  # rank outside the order
        {"kind": "story", "status": "proposed", "severity": "major"},  # a story with a severity
    ]
    for number, fields in enumerate(cases, start=100):
        with pytest.raises(IntegrityError), transaction.atomic():
            Item.objects.create(product=product, number=number, title="x", **fields)


def test_values_equal_after_cleaning_are_no_change(story, developer):
    item_update(item=story, actor=developer, changes={"estimate": 3})
    same = item_update(item=story, actor=developer, changes={"estimate": "3"})
    assert same.version == 2
    assert item_history(item=story).filter(type=ItemEvent.Type.UPDATED).count() == 1


def test_derived_changes_are_in_the_history(product, owner):
    item = item_create(product=product, actor=owner, kind="operational", title="Disk full", impact="low", urgency="low")
    item_update(item=item, actor=owner, changes={"impact": "high", "urgency": "high"})
    changes = item_history(item=item).get(type=ItemEvent.Type.UPDATED).data["changes"]
    assert changes["itil_priority"] == [5, 1]
    assert set(changes) == {"impact", "urgency", "itil_priority", "sla_due_at"}


def test_positions_are_bounded(product, owner):
    with pytest.raises(ValidationError):
        Placement.at(10**20)
