"""The change feed: ``GET /api/v1/products/{key}/changes/?after=N``.

The property a mirror relies on: replaying the feed onto an empty copy gives the exact backlog,
order and fields, after any mix of creates, edits, moves, status changes and archives.
"""

import json
import random
import threading
import time

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog import history
from backlog.models import ChangeSequence, Item, ItemEvent
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.ordering import Placement, item_move, items_move
from backlog.services.suggestion import order_apply_suggestion

pytestmark = pytest.mark.django_db


def feed(client, product, after: int = 0, limit: int = 7) -> list[dict]:
    """Every change after ``after``, page by page (small pages, so paging is exercised)."""
    changes, url = [], f"/api/v1/products/{product.key}/changes/?after={after}&limit={limit}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        changes += body["results"]
        assert body["after"] == (body["results"][-1]["seq"] if body["results"] else after)
        url, after = body["next"], body["after"]
    return changes


class Mirror:
    """An empty copy of a backlog, built only from the feed."""

    def __init__(self) -> None:
        self.items: dict[int, dict] = {}
        self.order: list[int] = []

    def place(self, item_id: int, at: dict) -> None:
        index = 0 if at["after_id"] is None else self.order.index(at["after_id"]) + 1
        self.order.insert(index, item_id)

    def apply(self, change: dict) -> None:
        item_id, data = change["item"], change["data"]
        if change["type"] == "created":
            self.items[item_id] = {
                **data["fields"],
                "status": data["status"],
                "kind": data["kind"],
                "labels": sorted(data["labels"]),
            }
            if data["placed"]:
                self.place(item_id, data["placed"])
        elif change["type"] == "updated":
            for name, (_, new) in data["changes"].items():
                self.items[item_id][name] = sorted(new) if name == "labels" else new
        elif change["type"] == "status_changed":
            self.items[item_id]["status"] = data["to"]
            if data["removed"]:
                self.order.remove(item_id)
            if data["placed"]:
                self.place(item_id, data["placed"])
        elif change["type"] == "moved":
            self.order.remove(item_id)
            self.place(item_id, data["to"])
        elif change["type"] == "split" and data["removed"]:
            self.order.remove(item_id)
            self.items[item_id]["status"] = Item.Status.ARCHIVED


def as_stored(product) -> tuple[dict[int, dict], list[int]]:
    """The backlog as the database holds it, its values as JSON carries them."""
    items = {}
    for item in Item.objects.filter(product=product).prefetch_related("labels"):
        fields = {name: getattr(item, name) for name in (*history.SNAPSHOT_FIELDS, "status", "kind")}
        fields["labels"] = sorted(label.name for label in item.labels.all())
        items[item.pk] = json.loads(json.dumps(fields, cls=DjangoJSONEncoder))
    order = list(Item.objects.filter(product=product).ordered().values_list("pk", flat=True))
    return items, order


def random_work(rng: random.Random, product, owner, developer, steps: int) -> None:
    """A random mix of creates (placed anywhere, or proposed), edits (fields, labels), single and
    block moves (top, bottom, before, after, to a position), the suggested order applied, status
    changes and archives."""
    for _ in range(steps):
        ordered = list(Item.objects.filter(product=product).ordered().values_list("pk", flat=True))
        op = rng.choice(
            ["create", "create", "edit", "move", "move", "block", "start", "done", "archive", "propose", "suggest"]
        )
        if len(ordered) < 4:
            op = "create"

        def placement(ordered: list[int] = ordered) -> Placement:
            anchor = rng.choice(ordered)
            return rng.choice(
                [
                    Placement.top(),
                    Placement.bottom(),
                    Placement.before(anchor),
                    Placement.after(anchor),
                    Placement.at(rng.randint(1, len(ordered) + 2)),
                ]
            )

        if op == "create":
            kind = rng.choice(["story", "defect"])
            extra = {"severity": rng.choice(["major", "minor"])} if kind == "defect" else {}
            item_create(
                product=product,
                actor=owner,
                kind=kind,
                title=f"item {rng.random():.6f}",
                estimate=rng.choice([None, 1, 3, 8]),
                labels=rng.sample(["ux", "api", "payments"], rng.randint(0, 2)),
                placement=placement() if ordered else None,
                **extra,
            )
        elif op == "propose":
            item_create(product=product, actor=developer, kind="story", title=f"idea {rng.random():.6f}")
        elif op == "edit":
            item = Item.objects.get(pk=rng.choice(ordered))
            changes = rng.choice(
                [
                    {"title": f"renamed {rng.random():.6f}"},
                    {"estimate": rng.choice([2, 5, 13])},
                    {"business_value": rng.choice([1, 8, 20]), "description": "why it matters"},
                ]
            )
            labels = rng.choice([None, rng.sample(["ux", "api", "ops"], rng.randint(0, 3))])
            item_update(item=item, actor=owner, changes=changes, labels=labels)
        elif op == "move":
            item = Item.objects.get(pk=rng.choice(ordered))
            others = [pk for pk in ordered if pk != item.pk]
            to = rng.choice([Placement.before(rng.choice(others)), Placement.after(rng.choice(others)), placement()])
            if to.anchor_id != item.pk:
                item_move(item=item, actor=owner, to=to)
        elif op == "block":
            block = rng.sample(ordered, rng.randint(2, min(5, len(ordered) - 1)))
            rest = [pk for pk in ordered if pk not in block]
            to = rng.choice([Placement.top(), Placement.bottom(), Placement.after(rng.choice(rest)), Placement.at(2)])
            items_move(product=product, actor=owner, item_ids=block, to=to)
        elif op in ("start", "archive"):
            candidates = list(
                Item.objects.filter(product=product, status=Item.Status.OPEN).values_list("pk", flat=True)
            )
            if candidates:
                to = Item.Status.IN_PROGRESS if op == "start" else Item.Status.ARCHIVED
                item_transition(item=Item.objects.get(pk=rng.choice(candidates)), actor=owner, to=to)
        elif op == "suggest":  # the scores' order applied: many single moves at once
            for pk in rng.sample(ordered, min(6, len(ordered))):
                Item.objects.filter(pk=pk).update(score=rng.randint(1, 50))
            order_apply_suggestion(product=product, actor=owner)
        elif op == "done":
            started = list(
                Item.objects.filter(product=product, status=Item.Status.IN_PROGRESS).values_list("pk", flat=True)
            )
            if started:
                item_transition(item=Item.objects.get(pk=rng.choice(started)), actor=owner, to=Item.Status.DONE)


@pytest.mark.parametrize("seed", range(5))
def test_replaying_the_feed_onto_an_empty_copy_gives_the_exact_backlog(as_role, product, owner, developer, seed):
    rng = random.Random(seed)
    random_work(rng, product, owner, developer, steps=60)
    client = as_role("stakeholder")  # every member reads the feed
    mirror = Mirror()
    changes = feed(client, product)
    for change in changes:
        mirror.apply(change)
    items, order = as_stored(product)
    assert mirror.order == order
    assert mirror.items == items
    assert [change["seq"] for change in changes] == list(range(1, len(changes) + 1))

    # A mirror that stopped half-way catches up from where it stopped, with more work since.
    random_work(rng, product, owner, developer, steps=25)
    for change in feed(client, product, after=changes[-1]["seq"]):
        mirror.apply(change)
    assert (mirror.items, mirror.order) == as_stored(product)


def test_each_item_shows_the_number_of_its_last_change(as_role, product, owner, items):
    first, second = items[0], items[1]
    item_move(item=first, actor=owner, to=Placement.bottom())
    client = as_role("owner")
    last_move = ItemEvent.objects.filter(item=first).order_by("-seq").first().seq
    body = client.get(f"/api/v1/items/{first.key}/").json()
    assert body["change_seq"] == last_move
    listed = {
        item["key"]: item["change_seq"]
        for item in client.get(f"/api/v1/products/{product.key}/items/").json()["results"]
    }
    assert listed[first.key] == last_move
    assert listed[second.key] == ItemEvent.objects.filter(item=second).order_by("-seq").first().seq < last_move
    # Only what came after it is listed after it.
    after = feed(client, product, after=last_move - 1)
    assert [(change["key"], change["type"]) for change in after] == [(first.key, "moved")]
    assert after[0]["data"]["to"]["after_id"] is not None


def test_the_feed_refuses_bad_parameters_and_outsiders(as_role, product, items):
    client = as_role("owner")
    for query in ("?after=-1", "?after=x", "?limit=0", "?limit=1001", "?since=3", "?after=1&after=2"):
        response = client.get(f"/api/v1/products/{product.key}/changes/{query}")
        assert response.status_code == 400, query
        assert "error" in response.json()
    response = as_role("outsider").get(f"/api/v1/products/{product.key}/changes/")
    assert response.status_code == 404
    assert product.key not in response.content.decode()


def test_the_feed_numbers_are_the_products_own(product, owner, items):
    other = MembershipFactory(role=Membership.Role.OWNER)
    item_create(product=other.product, actor=other.user, kind="story", title="elsewhere")
    assert list(ItemEvent.objects.filter(product=other.product).values_list("seq", flat=True)) == [1]
    last = ChangeSequence.objects.get(product=product).last_seq
    assert last == ItemEvent.objects.filter(product=product).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_later_number_never_commits_before_an_earlier_one():
    """The cursor is safe: a writer that took number N holds the product's counter until it
    commits, so a second writer's N+1 cannot become visible first (an auto-increment id could)."""
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    first = item_create(product=product, actor=owner, kind="story", title="first")
    second = item_create(product=product, actor=owner, kind="story", title="second")
    holding, release, results = threading.Event(), threading.Event(), {}

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                [event] = history.write([history.updated(item=first, actor=owner, changes={"title": ["a", "b"]})])
                results["slow"] = event.seq
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def quick_writer() -> None:
        try:
            with transaction.atomic():
                [event] = history.write([history.updated(item=second, actor=owner, changes={"title": ["c", "d"]})])
                results["quick"] = event.seq
            results["quick_committed_at"] = time.monotonic()
        finally:
            connection.close()

    slow = threading.Thread(target=slow_writer)
    slow.start()
    assert holding.wait(10)
    quick = threading.Thread(target=quick_writer)
    quick.start()
    quick.join(0.5)
    assert quick.is_alive(), "the second writer must wait for the first one's commit"
    # Meanwhile a reader sees neither change: no number after the last committed one.
    visible = set(ItemEvent.objects.filter(product=product).values_list("seq", flat=True))
    assert visible == {1, 2}
    released_at = time.monotonic()
    release.set()
    slow.join(10)
    quick.join(10)
    assert results["slow"] == 3 and results["quick"] == 4
    assert results["quick_committed_at"] >= released_at
    assert ChangeSequence.objects.get(product=product).last_seq == 4
