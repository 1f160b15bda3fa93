"""Bulk edit: ``POST /api/v1/products/{key}/items/bulk/`` — the single-item rules for each item,
all or nothing, one operation in the history, constant queries."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog.models import Item, ItemEvent
from backlog.services.items import item_create, item_transition, item_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def url(product) -> str:
    return f"/api/v1/products/{product.key}/items/bulk/"


def entries(*items, versions: dict | None = None) -> list[dict]:
    versions = versions or {}
    return [{"item": item.key, **({"version": versions[item.pk]} if item.pk in versions else {})} for item in items]


def labels_of(item: Item) -> list[str]:
    return sorted(item.labels.values_list("name", flat=True))


def state(product) -> list:
    return list(
        Item.objects.filter(product=product)
        .order_by("pk")
        .values_list("pk", "status", "rank", "version", "kind", "business_value", "estimate")
    )


def test_labels_added_and_removed_on_every_item_as_one_operation(as_role, product, owner, items):
    item_update(item=items[0], actor=owner, changes={}, labels=["old", "keep"])
    response = as_role("developer").post(
        url(product),
        {"items": entries(*items), "add_labels": ["ux", "api"], "remove_labels": ["old"], "reason": "triage"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["changed"] == [item.key for item in items] and body["unchanged"] == []
    assert labels_of(items[0]) == ["api", "keep", "ux"]
    assert labels_of(items[1]) == labels_of(items[2]) == ["api", "ux"]
    events = ItemEvent.objects.filter(operation=body["operation"])
    assert events.count() == 3 and {event.type for event in events} == {"updated"}
    assert {event.reason for event in events} == {"triage"}
    first = events.get(item=items[0])
    assert first.data["changes"]["labels"] == [["keep", "old"], ["api", "keep", "ux"]]
    # The change feed numbers them one after the other.
    seqs = sorted(events.values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + 3))


def test_kind_value_inputs_and_status_for_owners(as_role, product, items):
    client = as_role("owner")
    response = client.post(
        url(product),
        {"items": entries(*items[:2]), "set": {"kind": "spike", "business_value": 13}, "status": "in_progress"},
        format="json",
    )
    # A spike needs its timebox and question: both items are refused, by name, and nothing changes.
    assert response.status_code == 400
    message = " ".join(response.json()["error"]["fields"]["items"])
    assert items[0].key in message and items[1].key in message and "timebox" in message
    assert Item.objects.get(pk=items[0].pk).kind == "story"

    response = client.post(
        url(product), {"items": entries(items[2]), "set": {"kind": "defect", "severity": "major"}}, format="json"
    )
    assert response.status_code == 200
    assert Item.objects.filter(pk=items[2].pk, kind="defect", severity="major").exists()

    response = client.post(
        url(product),
        {"items": entries(*items[:2]), "set": {"business_value": 13, "estimate": 5}, "status": "in_progress"},
        format="json",
    )
    assert response.status_code == 200, response.content
    for item in items[:2]:
        item.refresh_from_db()
        assert (item.business_value, item.estimate, item.status) == (13, 5, "in_progress")
        assert item.version == 2  # one bulk edit: one new version, however much it changed
    events = ItemEvent.objects.filter(operation=response.json()["operation"])
    assert sorted(events.values_list("type", flat=True)) == ["status_changed"] * 2 + ["updated"] * 2


def test_archiving_takes_the_items_out_of_the_order_with_their_places(as_role, product, items):
    response = as_role("delegate").post(
        url(product), {"items": entries(items[0], items[2]), "status": "archived"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert list(Item.objects.filter(product=product).ordered().values_list("pk", flat=True)) == [items[1].pk]
    removed = {
        event.item_id: event.data["removed"]
        for event in ItemEvent.objects.filter(operation=response.json()["operation"])
    }
    assert removed[items[0].pk] == {"position": 1, "after_id": None, "before_id": items[1].pk}
    assert removed[items[2].pk] == {"position": 3, "after_id": items[1].pk, "before_id": None}


def test_all_or_nothing_one_refusal_changes_nothing_and_names_each_refused_item(as_role, product, owner, items):
    item_transition(item=items[1], actor=owner, to="in_progress")
    before = state(product)
    response = as_role("owner").post(
        url(product), {"items": entries(*items), "status": "archived", "add_labels": ["gone"]}, format="json"
    )
    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["items"]
    assert message.startswith(f"{items[1].key}: status: A in_progress item cannot become archived")
    assert state(product) == before and not any(labels_of(item) for item in items)


def test_permissions_are_checked_for_each_item_both_ways(as_role, product, owner, developer, items):
    mine = item_create(product=product, actor=developer, kind="story", title="my proposal")
    client = as_role("developer")
    # Developers start work, but archiving is the owner's and delegates': every item is named.
    before = state(product)
    refused = client.post(url(product), {"items": entries(items[0], items[1]), "status": "archived"}, format="json")
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert items[0].key in message and items[1].key in message and state(product) == before
    # Value inputs are refused whole, as in a single edit.
    refused = client.post(url(product), {"items": entries(items[0]), "set": {"business_value": 8}}, format="json")
    assert refused.status_code == 403 and state(product) == before
    # A proposal is decided through its review, not a bulk status change.
    refused = as_role("owner").post(url(product), {"items": entries(mine), "status": "archived"}, format="json")
    assert refused.status_code == 400 and mine.key in refused.json()["error"]["fields"]["items"][0]
    allowed = client.post(url(product), {"items": entries(items[0], items[1]), "status": "in_progress"}, format="json")
    assert allowed.status_code == 200
    assert (
        as_role("stakeholder")
        .post(url(product), {"items": entries(items[0]), "add_labels": ["x"]}, format="json")
        .status_code
        == 403
    )


def test_a_stale_version_refuses_the_whole_edit(as_role, product, owner, items):
    versions = {item.pk: item.version for item in items}
    item_update(item=items[2], actor=owner, changes={"estimate": 8})  # someone else, meanwhile
    before = state(product)
    response = as_role("owner").post(
        url(product), {"items": entries(*items, versions=versions), "add_labels": ["x"]}, format="json"
    )
    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["items"]
    assert message.startswith(f"{items[2].key}: It changed since you read it")
    assert state(product) == before
    fresh = {item.pk: Item.objects.get(pk=item.pk).version for item in items}
    ok = as_role("owner").post(
        url(product), {"items": entries(*items, versions=fresh), "add_labels": ["x"]}, format="json"
    )
    assert ok.status_code == 200


def test_items_of_another_product_and_bad_bodies_are_refused(as_role, product, items):
    client = as_role("owner")
    for body in (
        {"items": [], "add_labels": ["x"]},
        {"items": entries(items[0])},  # nothing to change
        {"items": [{"item": "ZZ-1"}], "add_labels": ["x"]},
        {"items": entries(items[0]), "set": {"title": "no"}},
        {"items": entries(items[0]), "status": "open"},
        {"items": [{"item": items[0].key}] * 501, "add_labels": ["x"]},
    ):
        response = client.post(url(product), body, format="json")
        assert response.status_code == 400, body
    outsider = as_role("outsider").post(url(product), {"items": entries(items[0]), "add_labels": ["x"]}, format="json")
    assert outsider.status_code == 404


def test_already_so_is_unchanged_and_writes_nothing(as_role, product, owner, items):
    item_update(item=items[0], actor=owner, changes={}, labels=["ux"])
    response = as_role("owner").post(url(product), {"items": entries(items[0]), "add_labels": ["ux"]}, format="json")
    assert response.json()["changed"] == [] and response.json()["unchanged"] == [items[0].key]
    assert not ItemEvent.objects.filter(operation=response.json()["operation"]).exists()


@pytest.mark.parametrize("body", [{"add_labels": ["new", "api"], "remove_labels": ["old"]}, {"status": "archived"}])
def test_the_query_count_is_the_same_for_1_10_and_100_items(as_role, product, owner, body):
    client = as_role("owner")
    made = [item_create(product=product, actor=owner, kind="story", title=f"t{n}", labels=["old"]) for n in range(112)]
    # The same edit once first: the token's first use and new labels are written once, not per item.
    warm_up = client.post(url(product), {"items": entries(made[111]), **body}, format="json")
    assert warm_up.status_code == 200
    groups = [made[:1], made[1:11], made[11:111]]
    counts = []
    for group in groups:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url(product), {"items": entries(*group), **body}, format="json")
        assert response.status_code == 200, response.content
        assert len(response.json()["changed"]) == len(group)
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts
