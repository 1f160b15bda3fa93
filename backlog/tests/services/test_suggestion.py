import random
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backlog.models import Item, ItemEvent, ItemLink
from backlog.selectors import backlog_items
from backlog.services.items import item_create, item_update
from backlog.services.ordering import Placement, item_move
from backlog.services.suggestion import (
    _longest_increasing,
    order_apply_suggestion,
    suggested_order,
    suggested_positions_for_new,
    suggested_positions_refresh,
)
from backlog.tasks import refresh_stale_suggestions

pytestmark = pytest.mark.django_db


def titles(product) -> list[str]:
    return list(backlog_items(product=product).values_list("title", flat=True))


@pytest.fixture
def scored(product, owner):
    """A(1) B(5) C(3) D(none) E(4), in that order."""
    items = {}
    for title, score in [("A", 1.0), ("B", 5.0), ("C", 3.0), ("D", None), ("E", 4.0)]:
        items[title] = item_create(product=product, actor=owner, kind="story", title=title)
        Item.objects.filter(pk=items[title].pk).update(score=score)
    return items


def test_suggested_positions_and_drift(product, scored):
    rows = {s.item_id: s for s in suggested_order(product=product)}
    # By score: B(5) E(4) C(3) A(1) D(unscored last).
    expected = {"A": (1, 4), "B": (2, 1), "C": (3, 3), "D": (4, 5), "E": (5, 2)}
    for title, (position, suggested) in expected.items():
        row = rows[scored[title].pk]
        assert (row.position, row.suggested_position, row.drift) == (position, suggested, suggested - position)


def test_pinned_items_keep_their_place(product, owner, scored):
    Item.objects.filter(pk=scored["A"].pk).update(pinned=True)
    order_apply_suggestion(product=product, actor=owner)
    assert titles(product) == ["A", "B", "E", "C", "D"]


def test_applying_writes_only_the_items_out_of_place(product, owner, scored):
    keys_before = dict(Item.objects.values_list("pk", "rank"))
    with CaptureQueriesContext(connection) as ctx:
        moved = order_apply_suggestion(product=product, actor=owner)
    assert titles(product) == ["B", "E", "C", "A", "D"]
    # Longest run already in suggested order: A?  B, C, D stay (B < C < D in both); A and E move.
    writes = [q for q in ctx.captured_queries if re.match(r'\s*UPDATE\s+"?backlog_item"?\s', q["sql"], re.I)]
    keys_after = dict(Item.objects.values_list("pk", "rank"))
    assert moved == 2
    assert len(writes) == 1  # both keys in one statement
    assert {pk for pk in keys_after if keys_after[pk] != keys_before[pk]} == {scored["A"].pk, scored["E"].pk}
    events = ItemEvent.objects.filter(type=ItemEvent.Type.MOVED, data__suggested_order=True)
    assert events.count() == 2
    assert len({event.operation for event in events}) == 1
    assert {event.actor_id for event in events} == {owner.pk}


def test_applying_to_the_whole_of_a_big_backlog_is_refused_with_a_way_forward(product, owner, scored, monkeypatch):
    from django.core.exceptions import ValidationError

    from backlog.services import suggestion

    monkeypatch.setattr(suggestion, "APPLY_ALL_LIMIT", 4)
    before = titles(product)
    with pytest.raises(ValidationError) as refused:
        order_apply_suggestion(product=product, actor=owner)
    assert "holds 5 items" in str(refused.value) and "Choose the items to move" in str(refused.value)
    assert titles(product) == before
    suggestion.suggested_positions_refresh(product_id=product.pk)
    assert order_apply_suggestion(product=product, actor=owner, item_ids=[scored["E"].pk]) == 1


def test_applying_to_selected_items_puts_each_where_the_suggestion_does(product, owner, scored):
    # Suggested: B E C A D. E goes before C and A before D; B, C and D stay where they are.
    suggested_positions_refresh(product_id=product.pk)  # a selection goes to the stored positions
    order_apply_suggestion(product=product, actor=owner, item_ids=[scored["A"].pk, scored["E"].pk])
    assert titles(product) == ["B", "E", "C", "A", "D"]


def test_applying_to_one_item_with_a_big_drift_moves_it(product, owner):
    items = []
    for title, score in [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 9.0)]:
        items.append(item_create(product=product, actor=owner, kind="story", title=title))
        Item.objects.filter(pk=items[-1].pk).update(score=score)
    suggested_positions_refresh(product_id=product.pk)
    assert order_apply_suggestion(product=product, actor=owner, item_ids=[items[3].pk]) == 1
    assert titles(product) == ["d", "a", "b", "c"]


def test_pinned_items_are_never_rewritten(product, owner):
    items = []
    for title, score, pinned in [("x", 1.0, False), ("p", None, True), ("y", 3.0, False)]:
        items.append(item_create(product=product, actor=owner, kind="story", title=title))
        Item.objects.filter(pk=items[-1].pk).update(score=score, pinned=pinned)
    pinned_rank = Item.objects.get(pk=items[1].pk).rank
    order_apply_suggestion(product=product, actor=owner)
    assert titles(product) == ["y", "p", "x"]
    assert Item.objects.get(pk=items[1].pk).rank == pinned_rank
    assert not ItemEvent.objects.filter(item=items[1], type=ItemEvent.Type.MOVED).exists()


def test_applying_twice_changes_nothing_the_second_time(product, owner, scored):
    order_apply_suggestion(product=product, actor=owner)
    assert order_apply_suggestion(product=product, actor=owner) == 0


@pytest.mark.parametrize("role", ["developer", "stakeholder", "outsider"])
def test_only_those_who_order_apply_it(product, scored, role, request):
    with pytest.raises(PermissionDenied):
        order_apply_suggestion(product=product, actor=request.getfixturevalue(role))
    assert titles(product) == list("ABCDE")


@pytest.mark.parametrize("seed", range(8))
def test_random_backlogs_end_in_score_order(product, owner, seed, settings):
    settings.ORDER_KEY_MAX_LENGTH = 8 if seed % 2 else 128
    rng = random.Random(seed)
    for n in range(40):
        item = item_create(product=product, actor=owner, kind="story", title=f"t{n}")
        Item.objects.filter(pk=item.pk).update(score=rng.choice([None, *range(10)]), pinned=rng.random() < 0.1)
    before = list(backlog_items(product=product).values_list("title", "score", "pinned"))
    pinned_ranks = list(Item.objects.filter(product=product, pinned=True).values_list("pk", "rank"))
    keys_before = dict(Item.objects.values_list("pk", "rank"))
    with CaptureQueriesContext(connection) as ctx:
        moved = order_apply_suggestion(product=product, actor=owner)
    writes = [q for q in ctx.captured_queries if re.match(r'\s*UPDATE\s+"?backlog_item"?\s', q["sql"], re.I)]
    rebalanced = any("row_number()" in sql["sql"] for sql in writes)
    if not rebalanced:
        keys_after = dict(Item.objects.values_list("pk", "rank"))
        assert sum(keys_after[pk] != keys_before[pk] for pk in keys_after) == moved  # one row per moved item
    assert len(writes) <= 2 + 2 * rebalanced  # the keys at once (parked first if need be), +2 for a rebalance
    assert list(Item.objects.filter(product=product, pinned=True).values_list("pk", "rank")) == pinned_ranks or (
        seed % 2
    )
    after = list(backlog_items(product=product).values_list("title", "score", "pinned"))
    assert [row for row in after if row[2]] == [row for row in before if row[2]]
    assert [i for i, row in enumerate(after) if row[2]] == [i for i, row in enumerate(before) if row[2]]
    free = [row[1] for row in after if not row[2]]
    assert free == sorted(free, key=lambda s: (s is None, -(s or 0)))


def test_longest_increasing_subsequence():
    assert _longest_increasing([3, 1, 2, 5, 4]) in ({1, 2, 5}, {1, 2, 4})
    assert _longest_increasing([]) == set()
    assert _longest_increasing([5, 4, 3]) in ({5}, {4}, {3})


def test_stored_suggested_positions_follow_the_suggestion(product, owner, scored):
    assert suggested_positions_refresh(product_id=product.pk) == 5
    stored = dict(Item.objects.values_list("title", "suggested_position"))
    assert stored == {"B": 1, "E": 2, "C": 3, "A": 4, "D": 5}
    assert suggested_positions_refresh(product_id=product.pk) == 0  # nothing changed, nothing written
    Item.objects.filter(pk=scored["A"].pk).update(score=9.0)
    assert suggested_positions_refresh(product_id=product.pk) == 4  # A up to 1; B, E, C down one; D stays
    assert dict(Item.objects.values_list("title", "suggested_position"))["A"] == 1


def test_a_score_change_queues_a_refresh_of_the_stored_positions(
    product, owner, scored, django_capture_on_commit_callbacks
):
    suggested_positions_refresh(product_id=product.pk)
    with django_capture_on_commit_callbacks(execute=True):  # the edit's score job marks them stale
        item_update(item=scored["D"], actor=owner, changes={"business_value": 20, "estimate": 1})
    assert Item.objects.get(pk=scored["D"].pk).suggested_position == 5  # not refreshed yet
    refresh_stale_suggestions()  # what the schedule does within seconds
    assert Item.objects.get(pk=scored["D"].pk).suggested_position == 1  # scored 20 now: first
    assert Item.objects.get(pk=scored["B"].pk).suggested_position == 2


def test_the_stale_mark_is_seen_by_every_process(product, owner, scored, django_capture_on_commit_callbacks):
    """Jobs in-process: the process that changed the order is not the one serving the next page
    (``seed_demo`` or a command, then the server; several server processes). The mark that the
    stored positions are stale lives in the database, not in one process's memory."""
    suggested_positions_refresh(product_id=product.pk)
    with django_capture_on_commit_callbacks(execute=True):
        item_update(item=scored["D"], actor=owner, changes={"business_value": 20, "estimate": 1})
    cache.clear()  # another process: its own (empty) local memory cache
    assert refresh_stale_suggestions() == [product.pk]
    assert Item.objects.get(pk=scored["D"].pk).suggested_position == 1
    with CaptureQueriesContext(connection) as ctx:  # fresh now: one look-up, nothing written
        assert refresh_stale_suggestions() == []
    assert len(ctx.captured_queries) == 1


def test_where_a_newcomer_would_go(product, owner, scored):
    Item.objects.filter(pk=scored["C"].pk).update(pinned=True)  # C keeps slot 3
    suggested_positions_refresh(product_id=product.pk)
    # Movable by score: B(5) E(4) A(1) D(-); slots 1, 2, 4, 5 and the new 6th.
    assert suggested_positions_for_new(product=product, scores=[6.0, 4.0, 2.0, 0.5, None]) == [1, 4, 4, 5, 6]


def test_moves_and_status_changes_keep_the_shown_drift_true(product, owner, django_capture_on_commit_callbacks):
    cache.clear()
    items = [item_create(product=product, actor=owner, kind="story", title=t) for t in "ABC"]  # unscored
    suggested_positions_refresh(product_id=product.pk)
    with django_capture_on_commit_callbacks(execute=True):
        item_move(item=items[2], actor=owner, to=Placement.top())
    client = Client()
    client.force_login(owner)
    assert client.get(f"/p/{product.key}/").context["suggestions_refreshing"]  # the move marked them stale
    refresh_stale_suggestions()  # the schedule, within seconds
    rows = client.get(f"/p/{product.key}/").context["rows"]
    assert [(row.title, row.drift) for row in rows] == [("C", 0), ("A", 0), ("B", 0)]  # ties keep their place
    live = {row.item_id: row.drift for row in suggested_order(product=product)}
    assert set(live.values()) == {0}


# The topological constraint: the suggestion never puts an item above its open blockers.


def _block(scored, blocker: str, blocked: str) -> None:
    ItemLink.objects.create(
        product=scored[blocker].product, source=scored[blocker], target=scored[blocked], kind=ItemLink.Kind.BLOCKS
    )


def _suggested_titles(product) -> list[str]:
    rows = sorted(suggested_order(product=product), key=lambda row: row.suggested_position)
    names = dict(Item.objects.values_list("pk", "title"))
    return [names[row.item_id] for row in rows]


def test_an_item_is_suggested_right_below_its_low_scored_blocker(product, scored):
    # By score alone: B(5) E(4) C(3) A(1) D(-). A blocks B: B waits until A is placed, and
    # everything else keeps its score order.
    _block(scored, "A", "B")
    assert _suggested_titles(product) == ["E", "C", "A", "B", "D"]
    rows = {row.item_id: row for row in suggested_order(product=product)}
    assert rows[scored["B"].pk].kept_below == (scored["A"].pk,)
    assert rows[scored["E"].pk].kept_below == ()


def test_a_chain_of_blockers_is_kept_in_its_order(product, scored):
    # D (unscored) blocks A, A blocks E: D, A and E come last, in that order; only the links
    # whose blocker scores lower are named in the why (E below A; A below D).
    _block(scored, "D", "A")
    _block(scored, "A", "E")
    assert _suggested_titles(product) == ["B", "C", "D", "A", "E"]
    rows = {row.item_id: row for row in suggested_order(product=product)}
    assert rows[scored["E"].pk].kept_below == (scored["A"].pk,)
    assert rows[scored["A"].pk].kept_below == (scored["D"].pk,)


def test_a_blocker_scored_higher_changes_nothing(product, scored):
    _block(scored, "B", "A")
    assert _suggested_titles(product) == ["B", "E", "C", "A", "D"]
    assert all(row.kept_below == () for row in suggested_order(product=product))


def test_blockers_outside_the_order_do_not_hold_an_item_back(product, owner, scored):
    _block(scored, "A", "B")
    Item.objects.filter(pk=scored["A"].pk).update(status=Item.Status.DONE, rank=None)
    assert _suggested_titles(product) == ["B", "E", "C", "D"]


def test_a_pinned_blocker_keeps_its_slot_and_holds_its_blocked_items_below_it(product, scored):
    # A (score 1) is pinned at the top and blocks B: nothing changes for B. C is pinned at 3 and
    # blocks E (4): E is placed after slot 3.
    Item.objects.filter(pk__in=[scored["A"].pk, scored["C"].pk]).update(pinned=True)
    _block(scored, "C", "E")
    assert _suggested_titles(product) == ["A", "B", "C", "E", "D"]


def test_applying_the_suggestion_respects_the_blockers(product, owner, scored):
    _block(scored, "A", "B")
    _block(scored, "D", "E")
    order_apply_suggestion(product=product, actor=owner)
    assert titles(product) == ["C", "A", "B", "D", "E"]


def test_applying_to_a_selection_keeps_each_item_below_its_blockers(product, owner, scored):
    # A blocks B, and A is at the bottom: B's suggested position is 4 (E C A B D), where
    # it lands among the unselected C D E A: above A, so it goes right after A instead.
    _block(scored, "A", "B")
    item_move(item=scored["A"], actor=owner, to=Placement.bottom())
    assert titles(product) == ["B", "C", "D", "E", "A"]
    suggested_positions_refresh(product_id=product.pk)
    order_apply_suggestion(product=product, actor=owner, item_ids=[scored["B"].pk])
    assert titles(product) == ["C", "D", "E", "A", "B"]
    # C blocks A too; A and B selected: the suggestion is E C A B D, so A and B go to places 3
    # and 4 among the unselected C D E, both below C.
    _block(scored, "C", "A")
    suggested_positions_refresh(product_id=product.pk)
    order_apply_suggestion(product=product, actor=owner, item_ids=[scored["A"].pk, scored["B"].pk])
    assert titles(product) == ["C", "D", "A", "B", "E"]


def test_the_owner_still_orders_by_hand_above_a_blocker(product, owner, scored):
    _block(scored, "A", "B")
    item_move(item=scored["B"], actor=owner, to=Placement.top())
    assert titles(product)[0] == "B"


def test_random_backlogs_with_blockers_never_suggest_an_item_above_one(product, owner):
    generator = random.Random(7)
    items = []
    for n in range(40):
        item = item_create(product=product, actor=owner, kind="story", title=f"I{n}")
        Item.objects.filter(pk=item.pk).update(score=generator.choice([None, *range(1, 15)]), pinned=False)
        items.append(item)
    pairs = set()
    while len(pairs) < 30:
        a, b = sorted(generator.sample(range(40), 2))  # lower index blocks higher: no cycle
        pairs.add((a, b))
    for a, b in pairs:
        ItemLink.objects.create(product=product, source=items[a], target=items[b], kind=ItemLink.Kind.BLOCKS)
    place = {row.item_id: row.suggested_position for row in suggested_order(product=product)}
    assert all(place[items[a].pk] < place[items[b].pk] for a, b in pairs)
    order_apply_suggestion(product=product, actor=owner)
    order = {pk: i for i, pk in enumerate(backlog_items(product=product).values_list("pk", flat=True))}
    assert all(order[items[a].pk] < order[items[b].pk] for a, b in pairs)


def test_the_suggested_order_api_says_which_blocker_keeps_an_item_below(product, scored, as_role):
    _block(scored, "A", "B")
    suggested_positions_refresh(product_id=product.pk)
    rows = as_role("stakeholder").get(f"/api/v1/products/{product.key}/suggested-order/").json()
    by_key = {row["key"]: row for row in rows}
    assert by_key[scored["B"].key]["kept_below"] == [scored["A"].key]
    assert by_key[scored["B"].key]["suggested_position"] == 4
    assert all(row["kept_below"] == [] for key, row in by_key.items() if key != scored["B"].key)


def _reference_selection(order, pinned, targets, selected, blockers):
    """The selection's rule read plainly: take the chosen items out, put each back at its
    suggested position (lowest first), then each right after its lowest open blocker above it."""
    chosen = [pk for pk in order if pk in selected and pk not in pinned]
    final = [pk for pk in order if pk not in chosen]
    for pk in sorted(chosen, key=targets.get):
        final.insert(min(targets[pk] - 1, len(final)), pk)
    for _ in chosen:
        moved = False
        for pk in sorted(chosen, key=final.index):
            if blockers.get(pk) and (lowest := max(final.index(b) for b in blockers[pk])) > final.index(pk):
                final.remove(pk)
                final.insert(lowest, pk)
                moved = True
        if not moved:
            break
    return final


@pytest.mark.parametrize("seed", range(12))
def test_applying_to_random_selections_follows_the_rule(product, owner, seed, settings):
    """Selections applied from the stored positions (index look-ups around each selected item)
    end exactly where the plain rule puts them, with pinned items and blockers about (and, with
    short keys allowed, after a rebalance)."""
    settings.ORDER_KEY_MAX_LENGTH = 4 if seed % 3 == 0 else 128
    rng = random.Random(seed)
    items = []
    for n in range(30):
        item = item_create(product=product, actor=owner, kind="story", title=f"I{n}")
        Item.objects.filter(pk=item.pk).update(score=rng.choice([None, *range(8)]), pinned=rng.random() < 0.15)
        items.append(item.pk)
    blockers: dict[int, set[int]] = {}
    for _ in range(rng.randint(0, 8)):
        a, b = sorted(rng.sample(range(30), 2))
        ItemLink.objects.get_or_create(
            product=product, source_id=items[a], target_id=items[b], kind=ItemLink.Kind.BLOCKS
        )
        blockers.setdefault(items[b], set()).add(items[a])
    order = list(backlog_items(product=product).values_list("pk", flat=True))
    for _ in range(rng.randint(0, 10)):  # the owner's order, not the creation order
        order.insert(rng.randrange(len(order)), order.pop(rng.randrange(len(order))))
    for pk in order:
        item_move(item=Item.objects.get(pk=pk), actor=owner, to=Placement.bottom())
    suggested_positions_refresh(product_id=product.pk)
    targets = dict(Item.objects.filter(product=product).values_list("pk", "suggested_position"))
    pinned = set(Item.objects.filter(product=product, pinned=True).values_list("pk", flat=True))
    selected = set(rng.sample(items, rng.randint(1, 6)))
    expected = _reference_selection(order, pinned, targets, selected, blockers)
    order_apply_suggestion(product=product, actor=owner, item_ids=list(selected))
    assert list(backlog_items(product=product).values_list("pk", flat=True)) == expected


def test_pages_say_when_the_stored_positions_are_being_refreshed(product, owner, scored, settings):
    """No page refreshes them: in process the stale mark, with a broker the queued job's key,
    says that they lag, and the page says so."""
    from backlog import jobs
    from backlog.models import StaleSuggestions

    client = Client()
    client.force_login(owner)
    StaleSuggestions.objects.create(product=product)
    page = client.get(f"/p/{product.key}/")
    assert "(refreshing)" in page.content.decode()
    assert "suggestions refreshing" in client.get(f"/p/{product.key}/suggested/").content.decode()
    assert StaleSuggestions.objects.filter(product=product).exists()  # still the job's to do
    refresh_stale_suggestions()
    assert "(refreshing)" not in client.get(f"/p/{product.key}/").content.decode()
    settings.CELERY_TASK_ALWAYS_EAGER = False  # with a broker: the coalescing key of the queued job
    cache.add(jobs.SUGGESTION_PENDING.format(product.pk), 1)
    assert jobs.suggestions_refreshing(product.pk)
    cache.delete(jobs.SUGGESTION_PENDING.format(product.pk))
    assert not jobs.suggestions_refreshing(product.pk)


def test_applying_refuses_while_the_keys_are_being_rebalanced(product, owner):
    """Keys that would not fit need a rebalance first; while the schedule's is under way the
    request is refused with a message, not answered with an error."""
    from backlog.services.suggestion import _rebalance_first
    from backlog.tests.rebalance import another_rebalance_running

    item_create(product=product, actor=owner, kind="story", title="A")
    with another_rebalance_running(product), pytest.raises(ValidationError, match="rebalance is under way"):
        _rebalance_first(product)
    _rebalance_first(product)  # once it is over


@pytest.mark.django_db(transaction=True)
def test_the_refresh_pauses_after_each_chunk(monkeypatch):
    """Outside a transaction, as the worker runs it (so not in test_suggestion_scale.py, whose
    rows built once for the module keep a transaction open around its tests): one pause after each
    chunk written but the last (``transactions.paced``), none of them long."""
    from accounts.models import Membership
    from accounts.tests.factories import MembershipFactory
    from backlog import transactions
    from backlog.services.demo import demo_backlog_seed
    from backlog.services.suggestion import suggested_positions_refresh

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    demo_backlog_seed(product=product, creators=[owner], count=40, only_ordered=True)
    Item.objects.filter(product=product).update(suggested_position=None)
    slept: list[float] = []
    monkeypatch.setattr(transactions.time, "sleep", slept.append)
    assert suggested_positions_refresh(product_id=product.pk) == 40
    assert len(slept) == 3 and all(0 < pause <= transactions.CHUNK_PAUSE_MOST for pause in slept), slept


# An item out of the order holds no suggested position (``item_suggested_only_in_order``): every
# way out clears it in the same write, so the refresh never looks for items left holding one, and
# ``suggested_position`` is in no index (its writes can be HOT on PostgreSQL).


def test_an_item_out_of_the_order_cannot_keep_a_suggested_position(product, owner):
    from django.db import IntegrityError, transaction

    item = item_create(product=product, actor=owner, kind="story", title="A")
    suggested_positions_refresh(product_id=product.pk)
    assert Item.objects.get(pk=item.pk).suggested_position == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(status=Item.Status.DONE, rank=None)
    Item.objects.filter(pk=item.pk).update(status=Item.Status.DONE, rank=None, suggested_position=None)


def _leave_by_transition(item, owner):
    from backlog.services.items import item_transition

    item_transition(item=item, actor=owner, to=Item.Status.ARCHIVED)


def _leave_by_bulk_edit(item, owner):
    from backlog.services.bulk import Target, items_bulk_edit

    items_bulk_edit(product=item.product_id, actor=owner, targets=[Target(item.pk)], status=Item.Status.ARCHIVED)


def _leave_by_import(item, owner):
    from backlog.services.imports import import_confirm, import_preview, import_run

    Item.objects.filter(pk=item.pk).update(external_ref="EXT-1")
    data = f"external_ref,kind,title,status\nEXT-1,story,{item.title},done\n".encode()
    imported = import_preview(product=item.product, actor=owner, data=data, file_name="leave.csv")
    assert imported.errors == [], imported.errors
    import_confirm(imported=imported, actor=owner)
    import_run(import_id=imported.pk)


def _leave_by_split(item, owner):
    from refinement.services.split import item_split

    item_split(item=item, actor=owner, parts=[{"title": "First half"}, {"title": "Second half"}])


@pytest.mark.parametrize("leave", [_leave_by_transition, _leave_by_bulk_edit, _leave_by_import, _leave_by_split])
def test_every_way_out_of_the_order_clears_the_suggested_position(product, owner, leave):
    items = [item_create(product=product, actor=owner, kind="story", title=title) for title in "ABC"]
    suggested_positions_refresh(product_id=product.pk)
    leaving = Item.objects.get(pk=items[1].pk)
    assert leaving.suggested_position == 2
    leave(leaving, owner)  # the constraint refuses a way out that forgets it
    left = Item.objects.get(pk=leaving.pk)
    assert (left.rank, left.suggested_position) == (None, None)
    assert left.status != Item.Status.OPEN
    assert Item.objects.get(pk=items[2].pk).suggested_position == 3  # the others' wait for the refresh


def test_the_refresh_does_not_write_an_item_that_left_the_order_meanwhile(product, owner):
    """Its positions were read while the item was in the order; it left before the write."""
    from backlog.services.suggestion import _write_suggested_positions

    a, b = (item_create(product=product, actor=owner, kind="story", title=title) for title in "AB")
    Item.objects.filter(pk=a.pk).update(status=Item.Status.DONE, rank=None)
    assert _write_suggested_positions([(a.pk, 1), (b.pk, 2)]) == 1
    assert dict(Item.objects.values_list("title", "suggested_position")) == {"A": None, "B": 2}


@pytest.mark.postgres
def test_the_refresh_writes_are_hot_on_postgresql(product, owner):
    """No index names ``suggested_position``: a row whose page has room is rewritten in place,
    without a new entry in any of the item table's indexes (PostgreSQL's heap-only tuples)."""
    for title in "ABCDEF":
        item_create(product=product, actor=owner, kind="story", title=title)
    Item.objects.filter(product=product).update(score=1.0)

    def updated() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), "
                "pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
                [Item._meta.db_table] * 2,
            )
            return cursor.fetchone()

    before = updated()
    assert suggested_positions_refresh(product_id=product.pk) == 6
    after = updated()
    assert (after[0] - before[0], after[1] - before[1]) == (6, 6)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [Item._meta.db_table, "%suggested_position%"],
        )
        assert cursor.fetchall() == []


def test_an_import_clears_a_suggested_position_stored_after_it_read_the_item(product, owner, monkeypatch):
    """The refresh does not take the product lock: it may store a position on an item between the
    import's read of it and the write that takes it out of the order."""
    from backlog.services import imports

    item = item_create(product=product, actor=owner, kind="story", title="A")
    Item.objects.filter(pk=item.pk).update(external_ref="EXT-1")
    read = imports._existing

    def read_then_refreshed(product, rows):
        Item.objects.filter(pk=item.pk).update(suggested_position=None)  # none when read
        found = read(product, rows)
        Item.objects.filter(pk=item.pk).update(suggested_position=1)  # the refresh, meanwhile
        return found

    monkeypatch.setattr(imports, "_existing", read_then_refreshed)
    _leave_by_import(Item.objects.get(pk=item.pk), owner)
    left = Item.objects.get(pk=item.pk)
    assert (left.status, left.rank, left.suggested_position) == (Item.Status.DONE, None, None)
