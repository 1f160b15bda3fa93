"""Splitting an item: the parts take its place in the order given, linked to it, in one block."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backlog import ranking
from backlog.models import Item, ItemEvent
from backlog.services.items import item_create, item_transition
from backlog.services.ordering import Placement
from refinement.services.split import item_split

pytestmark = pytest.mark.django_db

PARTS = [{"title": "B1", "estimate": 3}, {"title": "B2", "estimate": 2}, {"title": "B3"}]


@pytest.fixture
def order(product, owner):
    a = item_create(product=product, actor=owner, kind="story", title="A")
    b = item_create(
        product=product,
        actor=owner,
        kind="defect",
        title="B",
        severity="major",
        business_value=8,
        estimate=8,
        labels=["payments"],
    )
    c = item_create(product=product, actor=owner, kind="story", title="C")
    return a, b, c


def titles() -> list[str]:
    return list(Item.objects.ordered().values_list("title", flat=True))


def test_the_parts_take_the_original_place_and_it_is_archived(order, owner):
    b = order[1]
    ranks_before = dict(Item.objects.values_list("title", "rank"))
    with CaptureQueriesContext(connection) as queries:
        parts = item_split(item=b, actor=owner, parts=PARTS)
    assert titles() == ["A", "B1", "B2", "B3", "C"]
    b.refresh_from_db()
    assert b.status == "archived" and b.rank is None
    # Linked, of the original's kind, with its inputs and labels; numbered after it.
    for part in Item.objects.filter(pk__in=[p.pk for p in parts]):
        assert part.split_from_id == b.pk and part.kind == "defect" and part.severity == "major"
        assert part.business_value == 8 and list(part.labels.values_list("name", flat=True)) == ["payments"]
    assert [p.estimate for p in parts] == [3, 2, None]
    assert [p.number for p in parts] == [4, 5, 6]
    # One block of writes: a single INSERT for the parts, one UPDATE of the original, neighbours untouched.
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "backlog_item"')]
    assert len(inserts) == 1
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "backlog_item"')]
    assert len(updates) == 1
    after = dict(Item.objects.values_list("title", "rank"))
    assert after["A"] == ranks_before["A"] and after["C"] == ranks_before["C"]
    # History: each part's creation and the split, as one operation.
    split = ItemEvent.objects.get(item=b, type="split")
    assert split.data["into"] == [p.key for p in parts] and split.data["kept"] is False
    created = ItemEvent.objects.filter(item__in=parts, type="created")
    assert {e.operation for e in created} == {split.operation}


def test_the_original_can_be_kept_after_its_parts(order, owner):
    b = order[1]
    item_split(item=b, actor=owner, parts=PARTS[:2], keep_original=True)
    assert titles() == ["A", "B1", "B2", "B", "C"]
    assert Item.objects.get(pk=b.pk).status == "open"


def test_splitting_the_first_and_the_last_item(order, owner):
    a, _, c = order
    item_split(item=a, actor=owner, parts=[{"title": "A1"}, {"title": "A2"}])
    item_split(item=c, actor=owner, parts=[{"title": "C1"}, {"title": "C2"}])
    assert titles() == ["A1", "A2", "B", "C1", "C2"]


@pytest.mark.parametrize("role", ["developer", "stakeholder"])
def test_only_owners_and_delegates_split(order, role, request):
    with pytest.raises(PermissionDenied):
        item_split(item=order[1], actor=request.getfixturevalue(role), parts=PARTS)
    assert titles() == ["A", "B", "C"]


def test_a_delegate_splits(order, delegate):
    item_split(item=order[1], actor=delegate, parts=PARTS[:2])
    assert titles() == ["A", "B1", "B2", "C"]


@pytest.mark.parametrize(
    "parts",
    [[{"title": "only one"}], [{"title": "ok"}, {"title": ""}], [{"title": "ok"}, {"title": "x", "kind": "spike"}]],
)
def test_bad_parts_are_refused_and_nothing_changes(order, owner, parts):
    with pytest.raises(ValidationError):
        item_split(item=order[1], actor=owner, parts=parts)
    assert titles() == ["A", "B", "C"] and Item.objects.count() == 3


def test_only_ordered_items_are_split(product, owner, developer):
    proposal = item_create(product=product, actor=developer, kind="story", title="P")
    with pytest.raises(ValidationError):
        item_split(item=proposal, actor=owner, parts=PARTS)


def test_split_through_the_api(as_role, order, product):
    response = as_role("owner").post(
        f"/api/v1/items/{order[1].key}/split/",
        {"parts": [{"title": "B1", "estimate": 1}, {"title": "B2"}], "keep_original": False},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [i["title"] for i in response.json()["items"]] == ["B1", "B2"]
    assert response.json()["items"][0]["split_from"] == order[1].key
    bad = as_role("owner").post(f"/api/v1/items/{order[0].key}/split/", {"parts": [{"title": "x"}]}, format="json")
    assert bad.status_code == 400 and "parts" in bad.json()["error"]["fields"]


def test_split_keeping_original_when_gap_is_respaced(product, owner, settings):
    settings.ORDER_KEY_MAX_LENGTH = 8
    item_create(product=product, actor=owner, kind="story", title="A")
    b = item_create(product=product, actor=owner, kind="story", title="B")
    item_create(product=product, actor=owner, kind="story", title="C")
    # fill the gap before B until no short key is left in it
    for i in range(200):
        prev = Item.objects.filter(product=product, rank__lt=Item.objects.get(pk=b.pk).rank).order_by("-rank").first()
        b_rank = Item.objects.get(pk=b.pk).rank
        if max(map(len, ranking.keys_between(prev.rank, b_rank, 2))) > 8:
            break
        item_create(product=product, actor=owner, kind="story", title=f"f{i}", placement=Placement.before(b))
    else:
        pytest.skip("gap never filled")
    item_split(
        item=Item.objects.get(pk=b.pk), actor=owner, parts=[{"title": "B1"}, {"title": "B2"}], keep_original=True
    )
    titles = list(Item.objects.ordered().values_list("title", flat=True))
    assert titles[-4:] == ["B1", "B2", "B", "C"], titles[-6:]


def test_splitting_an_operational_item_keeps_its_sla_clock(product, owner):
    incident = item_create(
        product=product, actor=owner, kind="operational", title="Outage", impact="high", urgency="high"
    )
    long_ago = timezone.now() - timedelta(days=3)
    Item.objects.filter(pk=incident.pk).update(created_at=long_ago, sla_due_at=long_ago + timedelta(hours=4))
    incident.refresh_from_db()
    assert incident.sla_due_at < timezone.now()  # breached
    parts = item_split(item=incident, actor=owner, parts=[{"title": "Restore"}, {"title": "Root cause"}])
    assert all(part.sla_due_at <= incident.sla_due_at for part in parts), [p.sla_due_at for p in parts]


def test_only_open_items_are_split(product, owner, items):
    item_transition(item=items[0], actor=owner, to="in_progress")
    with pytest.raises(ValidationError):
        item_split(item=items[0], actor=owner, parts=[{"title": "a"}, {"title": "b"}])


def test_unknown_fields_of_a_part_are_refused(as_role, items):
    response = as_role("owner").post(
        f"/api/v1/items/{items[1].key}/split/",
        {"parts": [{"title": "a", "kind": "spike"}, {"title": "b"}]},
        format="json",
    )
    assert response.status_code == 400 and "parts" in response.json()["error"]["fields"]
