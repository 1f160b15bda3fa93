"""The item history: one shape per event type whoever writes it, sentences people can read, and
rows written in the shapes of before still read."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backlog import history
from backlog.api.history import DATA_SERIALIZERS
from backlog.models import Item, ItemEvent
from backlog.selectors import item_history
from backlog.services.items import item_create, item_transition, item_update
from backlog.services.ordering import Placement, item_move, items_move
from backlog.services.suggestion import order_apply_suggestion, suggested_positions_refresh
from refinement.services.proposals import proposal_accept, proposal_ask, proposal_reject
from refinement.services.split import item_split

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(product, owner):
    """A, B, C, D, E in that order."""
    return {t: item_create(product=product, actor=owner, kind="story", title=t) for t in "ABCDE"}


def last(item: Item, type: str) -> ItemEvent:
    return item_history(item=item).filter(type=type).last()


def text(event: ItemEvent) -> str:
    return history.describe([event])[event.pk]


def test_a_move_records_where_the_item_was_and_went(product, owner, five):
    item_move(item=five["E"], actor=owner, to=Placement.after(five["A"]), reason="escalation")
    event = last(five["E"], "moved")
    assert event.data == {
        "from": {"position": 5, "after_id": five["D"].pk, "before_id": None},
        "to": {"position": 2, "after_id": five["A"].pk, "before_id": five["B"].pk},
        "block_size": 1,
        "suggested_order": False,
    }
    assert text(event) == f"moved from 5 to 2 (after {five['A'].key})"


def test_each_item_of_a_block_records_its_own_place(product, owner, five):
    items_move(product=product, actor=owner, item_ids=[five["D"].pk, five["E"].pk], to=Placement.top())
    d, e = last(five["D"], "moved"), last(five["E"], "moved")
    assert d.data["to"] == {"position": 1, "after_id": None, "before_id": five["E"].pk}
    assert e.data["to"] == {"position": 2, "after_id": five["D"].pk, "before_id": five["A"].pk}
    assert (d.data["from"]["position"], e.data["from"]["position"]) == (4, 5)
    assert text(d) == f"moved from 4 to 1 (before {five['E'].key}) in a block of 2"


@pytest.mark.parametrize("placement", [Placement.bottom(), Placement.at(99), Placement.at(4), Placement.before(5)])
def test_every_placement_records_the_position_it_lands_at(product, owner, five, placement):
    if placement.anchor_id:
        placement = Placement.before(five["E"])  # E is 5th: the moved A lands 4th
    item_move(item=five["A"], actor=owner, to=placement)
    event = last(five["A"], "moved")
    expected = {"bottom": 5, "position": 5 if placement.position == 99 else 4, "before": 4}[placement.where]
    assert (event.data["from"]["position"], event.data["to"]["position"]) == (1, expected)
    assert list(Item.objects.filter(product=product).ordered()).index(five["A"]) + 1 == expected


def test_the_suggestion_writes_moves_in_the_same_shape(product, owner, five):
    item_move(item=five["E"], actor=owner, to=Placement.top())
    by_hand = last(five["E"], "moved")
    Item.objects.filter(pk=five["C"].pk).update(score=9)  # C first, the others unscored, by place
    suggested_positions_refresh(product_id=product.pk)  # the job (a selection goes where it stored)
    order_apply_suggestion(product=product, actor=owner, item_ids=[five["C"].pk])
    suggested = last(five["C"], "moved")
    assert set(suggested.data) == set(by_hand.data)
    assert set(suggested.data["from"]) == set(by_hand.data["from"]) == {"position", "after_id", "before_id"}
    assert suggested.data["from"] == {"position": 4, "after_id": five["B"].pk, "before_id": five["D"].pk}
    assert suggested.data["to"] == {"position": 1, "after_id": None, "before_id": five["E"].pk}
    assert text(suggested) == f"moved from 4 to 1 (before {five['E'].key}) by the suggested order"


def test_accepting_says_where_the_proposal_entered(product, owner, developer, five):
    proposal = item_create(product=product, actor=developer, kind="story", title="Idea")
    proposal_accept(item=proposal, actor=owner, placement=Placement.at(3))
    event = last(proposal, "status_changed")
    assert event.data["placed"] == {"position": 3, "after_id": five["B"].pk, "before_id": five["C"].pk}
    assert text(event) == f"accepted at position 3 (after {five['B'].key})"
    assert text(last(proposal, "created")) == "proposed"


def test_rejecting_a_duplicate_names_the_original(product, owner, developer, five):
    proposal = item_create(product=product, actor=developer, kind="story", title="Idea")
    proposal_reject(item=proposal, actor=owner, reason="We have it", duplicate_of=five["A"])
    assert text(last(proposal, "status_changed")) == f"rejected as a duplicate of {five['A'].key}"


def test_leaving_the_order_says_from_where(product, owner, five):
    item_transition(item=five["B"], actor=owner, to=Item.Status.ARCHIVED, reason="obsolete")
    event = last(five["B"], "status_changed")
    assert event.data["removed"] == {"position": 2, "after_id": five["A"].pk, "before_id": five["C"].pk}
    assert text(event) == "changed status open → archived, leaving position 2"


def test_an_edit_names_the_fields_as_people_do(product, owner, five):
    item_update(item=five["A"], actor=owner, changes={"estimate": 3})
    item_update(
        item=five["A"],
        actor=owner,
        changes={"estimate": 5, "acceptance_criteria": "Works", "value_beneficiaries": "Shoppers", "pinned": True},
        labels=["ux"],
    )
    assert text(last(five["A"], "updated")) == (
        "changed estimate 3 → 5, pinned no → yes, acceptance criteria, who benefits, labels +ux"
    )


def test_choices_read_as_their_labels(product, owner):
    item = item_create(product=product, actor=owner, kind="defect", title="Crash", severity="minor")
    item_update(item=item, actor=owner, changes={"severity": "critical", "rice_impact": "2"})
    assert text(last(item, "updated")) == "changed rice impact – → High (2), severity Minor → Critical"


def test_a_split_and_its_parts_say_what_happened(product, owner, five):
    parts = item_split(item=five["B"], actor=owner, parts=[{"title": "B1"}, {"title": "B2"}])
    assert text(last(five["B"], "split")) == f"split into {parts[0].key}, {parts[1].key}; archived"
    created = last(parts[1], "created")
    assert created.data["placed"] == {"position": 3, "after_id": parts[0].pk, "before_id": five["B"].pk}
    assert text(created) == f"created by splitting {five['B'].key} at position 3 (after {parts[0].key})"


def test_questions_are_in_the_history(product, owner, developer):
    proposal = item_create(product=product, actor=developer, kind="story", title="Idea")
    proposal_ask(item=proposal, actor=owner, question="Who asked for it?")
    event = last(proposal, "question_asked")
    assert (text(event), event.reason) == ("asked the proposer", "Who asked for it?")


# Rows written before the shapes were settled (as they are in existing databases).
OLD_SHAPES = {
    "ordering move": (
        "moved",
        {"from": {"after_id": "D", "before_id": None, "rank": "a4"}, "to": {"after_id": "A", "before_id": "B"}},
        "moved after {A}",
    ),
    "suggestion move": (
        "moved",
        {"from": {"position": 4, "rank": "a3"}, "to": {"position": 1, "rank": "Zz"}, "suggested_order": True},
        "moved from 4 to 1 by the suggested order",
    ),
    "creation": (
        "created",
        {"status": "open", "kind": "story", "placed": {"after_id": "A", "before_id": None}},
        "created after {A}",
    ),
    "demo creation": ("created", {"status": "open", "kind": "story", "seeded": True}, "created (demo data)"),
    "acceptance": (
        "status_changed",
        {"from": "proposed", "to": "open", "placed": {"after_id": None, "before_id": "A"}},
        "accepted before {A}",
    ),
    "split": ("split", {"into": ["P-9", "P-10"], "kept": True}, "split into P-9, P-10; kept after them"),
}


def _old_row(product, owner, five, type, data) -> ItemEvent:
    def resolve(value):
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return five[value].pk if isinstance(value, str) and value in five else value

    row = ItemEvent(item=five["E"], product=product, actor=owner, type=type, data=resolve(data))
    return history.write([row])[0]


@pytest.mark.parametrize("case", OLD_SHAPES)
def test_rows_in_the_old_shapes_still_read(product, owner, five, case):
    type, data, expected = OLD_SHAPES[case]
    event = _old_row(product, owner, five, type, data)
    assert text(event) == expected.format(**{t: item.key for t, item in five.items()})
    shaped = history.shape(event)
    assert set(shaped) == set(DATA_SERIALIZERS[type]().fields)  # the documented shape, nulls filled in
    assert DATA_SERIALIZERS[type](data=shaped).is_valid(), DATA_SERIALIZERS[type](data=shaped).errors


def test_every_type_has_one_documented_shape(product, owner, five):
    assert set(DATA_SERIALIZERS) == set(ItemEvent.Type.values)
    proposal = item_create(product=product, actor=owner, kind="story", title="x", placement=None)
    item_move(item=five["E"], actor=owner, to=Placement.top())
    item_update(item=five["A"], actor=owner, changes={"estimate": 2})
    item_split(item=five["B"], actor=owner, parts=[{"title": "B1"}, {"title": "B2"}])
    item_transition(item=proposal, actor=owner, to=Item.Status.IN_PROGRESS)
    for event in ItemEvent.objects.all():
        fields = set(DATA_SERIALIZERS[event.type]().fields)
        assert set(event.data) == fields, event.type  # written in exactly the documented shape


def test_the_api_serves_each_event_in_its_shape_with_its_sentence(as_role, product, owner, five):
    item_move(item=five["E"], actor=owner, to=Placement.after(five["A"]))
    _old_row(product, owner, five, *OLD_SHAPES["suggestion move"][:2])
    results = as_role("developer").get(f"/api/v1/items/{five['E'].key}/history/").json()["results"]
    assert [event["text"] for event in results] == [
        "created at position 5 (after " + five["D"].key + ")",
        f"moved from 5 to 2 (after {five['A'].key})",
        "moved from 4 to 1 by the suggested order",
    ]
    old = results[2]["data"]
    assert old["from"] == {"position": 4, "after_id": None, "before_id": None} and old["block_size"] == 1
    assert "rank" not in old["to"]


def test_the_item_page_renders_the_history_in_a_constant_number_of_queries(product, owner, five):
    client = Client()
    client.force_login(owner)
    url = f"/p/{product.key}/{five['E'].number}/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    item_move(item=five["E"], actor=owner, to=Placement.top())
    few = queries()
    for anchor in "ABCD":
        item_move(item=five["E"], actor=owner, to=Placement.after(five[anchor]))
    _old_row(product, owner, five, *OLD_SHAPES["ordering move"][:2])
    assert queries() == few
    page = client.get(url).content.decode()
    assert f"moved from 1 to 2 (after {five['A'].key})" in page
    assert f"moved after {five['A'].key}" in page  # the old row


def test_listeners_hear_every_batch_written_once_each(product, owner, five, monkeypatch):
    heard: list[list[str]] = []
    monkeypatch.setattr(history, "LISTENERS", [])

    def listener(events):
        heard.append([e.type for e in events])
        assert all(e.pk for e in events)  # saved rows, with their ids

    history.listen(listener)
    history.listen(listener)  # asking twice changes nothing
    item_move(actor=owner, item=five["E"], to=Placement.top())
    items_move(actor=owner, product=product, item_ids=[five["A"].pk, five["B"].pk], to=Placement.bottom())
    assert heard == [["moved"], ["moved", "moved"]]
