import random
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import order_sql, ranking
from backlog.models import Item, ItemEvent
from backlog.selectors import backlog_items, item_history, item_position
from backlog.services import ordering
from backlog.services.items import item_create
from backlog.services.ordering import Placement, item_move, items_move, next_chunk, order_rebalance
from backlog.tests.rebalance import another_rebalance_running

pytestmark = pytest.mark.django_db


def titles(product) -> list[str]:
    return list(backlog_items(product=product).values_list("title", flat=True))


def writes(queries, table: str) -> list[str]:
    """Return the UPDATE statements among ``queries`` that write ``table``."""
    pattern = re.compile(rf'^\s*UPDATE\s+"?{table}"?\s', re.IGNORECASE)
    return [q["sql"] for q in queries if pattern.match(q["sql"])]


def inserts(queries, table: str) -> list[str]:
    pattern = re.compile(rf'^\s*INSERT\s+INTO\s+"?{table}"?\s', re.IGNORECASE)
    return [q["sql"] for q in queries if pattern.match(q["sql"])]


@pytest.fixture
def five(product, owner):
    """A, B, C, D, E in that order."""
    return {t: item_create(product=product, actor=owner, kind="story", title=t) for t in "ABCDE"}


def test_new_items_go_to_the_bottom_by_default(product, five):
    assert titles(product) == list("ABCDE")


def test_add_at_every_placement(product, owner, five):
    item_create(
        product=product,
        actor=owner,
        kind="story",
        title="top",
        placement=Placement.top(),
    )
    item_create(
        product=product,
        actor=owner,
        kind="story",
        title="before C",
        placement=Placement.before(five["C"]),
    )
    item_create(
        product=product,
        actor=owner,
        kind="story",
        title="after C",
        placement=Placement.after(five["C"]),
    )
    item_create(
        product=product,
        actor=owner,
        kind="story",
        title="third",
        placement=Placement.at(3),
    )
    item_create(
        product=product,
        actor=owner,
        kind="story",
        title="bottom",
        placement=Placement.bottom(),
    )
    assert titles(product) == [
        "top",
        "A",
        "third",
        "B",
        "before C",
        "C",
        "after C",
        "D",
        "E",
        "bottom",
    ]


@pytest.mark.parametrize(
    ("placement", "expected"),
    [
        (lambda items: Placement.top(), "DABCE"),
        (lambda items: Placement.bottom(), "ABCED"),
        (lambda items: Placement.before(items["B"]), "ADBCE"),
        (lambda items: Placement.after(items["A"]), "ADBCE"),
        (lambda items: Placement.after(items["E"]), "ABCED"),
        (lambda items: Placement.at(1), "DABCE"),
        (lambda items: Placement.at(2), "ADBCE"),
        (lambda items: Placement.at(5), "ABCED"),
        (lambda items: Placement.at(99), "ABCED"),
    ],
)
def test_move_one_item(product, owner, five, placement, expected):
    item_move(item=five["D"], actor=owner, to=placement(five))
    assert "".join(titles(product)) == expected


def test_single_move_writes_one_item_row_and_one_history_record(product, owner, five):
    with CaptureQueriesContext(connection) as ctx:
        item_move(item=five["E"], actor=owner, to=Placement.before(five["B"]))
    assert len(writes(ctx.captured_queries, "backlog_item")) == 1
    assert len(inserts(ctx.captured_queries, "backlog_itemevent")) == 1
    assert titles(product) == list("AEBCD")


@pytest.mark.parametrize("where", ["top", "bottom", "position"])
def test_every_kind_of_single_move_writes_one_row(product, owner, five, where):
    placement = {
        "top": Placement.top(),
        "bottom": Placement.bottom(),
        "position": Placement.at(3),
    }[where]
    item = five["A"] if where != "top" else five["E"]
    with CaptureQueriesContext(connection) as ctx:
        item_move(item=item, actor=owner, to=placement)
    assert len(writes(ctx.captured_queries, "backlog_item")) == 1


def test_a_move_to_where_the_item_already_is_writes_nothing(product, owner, five):
    with CaptureQueriesContext(connection) as ctx:
        item_move(item=five["C"], actor=owner, to=Placement.after(five["B"]))
    assert writes(ctx.captured_queries, "backlog_item") == []
    assert inserts(ctx.captured_queries, "backlog_itemevent") == []


def test_block_move_writes_k_rows_in_one_statement_and_keeps_relative_order(product, owner, five):
    extra = [item_create(product=product, actor=owner, kind="story", title=t) for t in "FGH"]
    block = [extra[2].pk, five["B"].pk, five["D"].pk]  # given out of order on purpose
    keys_before = dict(Item.objects.values_list("pk", "rank"))
    with CaptureQueriesContext(connection) as ctx:
        result = items_move(
            product=product,
            actor=owner,
            item_ids=block,
            to=Placement.after(extra[0]),
            reason="group",
        )
    assert len(writes(ctx.captured_queries, "backlog_item")) == 1
    keys_after = dict(Item.objects.values_list("pk", "rank"))
    assert {pk for pk in keys_after if keys_after[pk] != keys_before[pk]} == set(block)
    assert titles(product) == ["A", "C", "E", "F", "B", "D", "H", "G"]
    assert {event.reason for event in ItemEvent.objects.filter(operation=result.operation)} == {"group"}
    assert ItemEvent.objects.filter(operation=result.operation).count() == 3


def test_block_move_into_its_own_neighbourhood_never_collides(product, owner, five):
    # B, C, D land between A and E where they already are: their new keys may equal old ones.
    items_move(
        product=product,
        actor=owner,
        item_ids=[five["B"].pk, five["C"].pk, five["D"].pk],
        to=Placement.top(),
    )
    items_move(
        product=product,
        actor=owner,
        item_ids=[five["B"].pk, five["C"].pk, five["D"].pk],
        to=Placement.after(five["A"]),
    )
    assert titles(product) == list("ABCDE")


def test_block_move_of_the_whole_backlog(product, owner, five):
    ids = [five[t].pk for t in "ABCDE"]
    items_move(product=product, actor=owner, item_ids=ids, to=Placement.bottom())
    assert titles(product) == list("ABCDE")


def test_moving_next_to_a_moved_item_is_refused(product, owner, five):
    with pytest.raises(ValidationError):
        items_move(
            product=product,
            actor=owner,
            item_ids=[five["A"].pk, five["B"].pk],
            to=Placement.after(five["B"]),
        )


def test_moving_an_item_of_another_product_is_refused(product, owner, five):
    other = item_create(product=five["A"].product, actor=owner, kind="story", title="x")
    from accounts.tests.factories import MembershipFactory

    foreign = MembershipFactory(role="owner")
    foreign_item = item_create(product=foreign.product, actor=foreign.user, kind="story", title="foreign")
    with pytest.raises(ValidationError):
        items_move(
            product=product,
            actor=owner,
            item_ids=[other.pk, foreign_item.pk],
            to=Placement.top(),
        )
    with pytest.raises(ValidationError):
        item_move(item=other, actor=owner, to=Placement.before(foreign_item))


def test_proposals_have_no_place_in_the_order(product, owner, developer, five):
    proposal = item_create(product=product, actor=developer, kind="story", title="idea")
    assert proposal.status == Item.Status.PROPOSED
    assert proposal.rank is None
    with pytest.raises(ValidationError):
        item_move(item=proposal, actor=owner, to=Placement.top())
    assert "idea" not in titles(product)


@pytest.mark.parametrize("role", ["owner", "delegate"])
def test_owners_and_delegates_may_reorder(product, five, role, request):
    actor = request.getfixturevalue(role)
    item_move(item=five["E"], actor=actor, to=Placement.top())
    assert titles(product)[0] == "E"


@pytest.mark.parametrize("role", ["developer", "stakeholder", "outsider", "anonymous"])
def test_others_may_not_reorder(product, five, role, request):
    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        item_move(item=five["E"], actor=actor, to=Placement.top())
    assert titles(product) == list("ABCDE")


def test_every_move_is_in_the_items_history(product, owner, five):
    item_move(
        item=five["E"],
        actor=owner,
        to=Placement.after(five["A"]),
        reason="customer escalation",
    )
    event = item_history(item=five["E"]).filter(type=ItemEvent.Type.MOVED).get()
    assert event.actor == owner
    assert event.reason == "customer escalation"
    assert event.data["from"]["after_id"] == five["D"].pk
    assert event.data["from"]["before_id"] is None
    assert event.data["to"]["after_id"] == five["A"].pk
    assert event.data["to"]["before_id"] == five["B"].pk
    assert event.created_at is not None
    assert [e.type for e in item_history(item=five["E"])] == [
        ItemEvent.Type.CREATED,
        ItemEvent.Type.MOVED,
    ]


def test_position(product, owner, five):
    five["C"].refresh_from_db()
    assert item_position(item=five["C"]) == 3


def test_inserts_into_one_gap_keep_keys_bounded(product, owner, settings, monkeypatch):
    """The adversarial case: every insert lands between "first" and the previous insert, so
    without respacing each key would be longer than the last. A 12-character limit makes the
    keys run out every few dozen inserts: respacing must keep every key within it, the order
    exact and the rewritten neighbourhoods small. (bench/ordering.py runs the same 100,000 times
    into one gap with the real limit, on PostgreSQL.)"""
    settings.ORDER_KEY_MAX_LENGTH = 12
    rewritten = []
    real_write = ordering._write_ranks
    monkeypatch.setattr(
        ordering, "_write_ranks", lambda items, current: rewritten.append(len(items)) or real_write(items, current)
    )
    first = item_create(product=product, actor=owner, kind="story", title="first")
    item_create(product=product, actor=owner, kind="story", title="last")
    inserts = 400
    longest = 0
    for n in range(inserts):
        item = item_create(product=product, actor=owner, kind="story", title=f"n{n}", placement=Placement.after(first))
        longest = max(longest, len(item.rank))
    ranks = list(backlog_items(product=product).values_list("rank", flat=True))
    assert longest == 12  # the limit was reached, never passed
    assert max(len(rank) for rank in ranks) <= 12
    assert len(set(ranks)) == len(ranks) == inserts + 2
    assert titles(product) == ["first", *[f"n{n}" for n in reversed(range(inserts))], "last"]
    assert len(rewritten) >= 5  # respacing kicked in again and again
    assert sum(rewritten) / inserts < 3  # a few neighbours per insert, amortized


def test_rebalance_keeps_the_order_and_shortens_keys(product, owner, five):
    for n in range(300):
        item_move(item=five["E" if n % 2 else "D"], actor=owner, to=Placement.after(five["A"]))
    before = titles(product)
    long_key = max(len(r) for r in backlog_items(product=product).values_list("rank", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        assert order_rebalance(product=product, chunk=2) == 5
    # Three chunks of at most two items, each a transaction: one write of keys each.
    assert len([q for q in writes(ctx.captured_queries, "backlog_item") if "SET rank" in q]) == 3
    assert titles(product) == before
    ranks = list(backlog_items(product=product).values_list("rank", flat=True))
    values = [ranking.integer_value(rank) for rank in ranks]
    assert values == list(range(values[0], values[0] + 5))  # consecutive integers
    assert long_key > 20
    assert max(len(r) for r in ranks) == 3  # counted up from 69 below the first key
    assert order_sql.blocks_wrong(product.pk) == []
    # Moves keep working after a rebalance, and a second one finds room below the first.
    item_move(item=five["B"], actor=owner, to=Placement.top())
    assert titles(product)[0] == "B"
    assert order_rebalance(product=product) == 5
    assert titles(product)[0] == "B"
    assert max(len(r) for r in backlog_items(product=product).values_list("rank", flat=True)) <= 3


def test_rebalance_lets_moves_in_between_its_chunks(product, owner, monkeypatch):
    """Moves that land between two chunks of a rebalance (above, inside and below the part already
    rewritten) keep their places, and the blocks stay exact."""
    items = [item_create(product=product, actor=owner, kind="story", title=f"t{n:02}") for n in range(12)]
    order_sql.blocks_recut(product.pk, size=3)
    chunks = []
    real_counted = order_sql.blocks_rewritten

    def counted_then_move(product_id, old_keys, new_keys):
        real_counted(product_id, old_keys, new_keys)
        chunks.append(new_keys)
        if len(chunks) == 1:  # after the first chunk: one item to the top, one to the bottom
            items_move(product=product, actor=owner, item_ids=[items[11].pk], to=Placement.top())
            items_move(product=product, actor=owner, item_ids=[items[0].pk], to=Placement.bottom())
        if len(chunks) == 2:  # right below what was rewritten
            items_move(product=product, actor=owner, item_ids=[items[5].pk], to=Placement.after(items[1]))

    monkeypatch.setattr(order_sql, "blocks_rewritten", counted_then_move)
    expected = [f"t{n:02}" for n in range(12)]
    expected = ["t11", *expected[1:11], "t00"]
    expected.remove("t05")
    expected.insert(expected.index("t01") + 1, "t05")
    order_rebalance(product=product, chunk=4)
    assert titles(product) == expected
    assert order_sql.blocks_wrong(product.pk) == []
    assert [order_sql.position_of(product.pk, item.rank) for item in backlog_items(product=product)] == list(
        range(1, 13)
    )


def test_keys_compare_byte_wise(product, owner):
    """Upper case sorts before lower case, as in byte order (not in en_US collation)."""
    keys = ["a0", "aZ", "aa", "az", "b0A", "b0a", "Zz", "a0V", "a0v"]
    items = [item_create(product=product, actor=owner, kind="story", title=k) for k in keys]
    for item, key in zip(items, keys, strict=True):
        Item.objects.filter(pk=item.pk).update(rank=key)
    assert titles(product) == sorted(keys)
    assert sorted(keys) == sorted(keys, key=lambda k: k.encode())


@pytest.mark.postgres
def test_rank_column_uses_the_c_collation_on_postgres(product, owner):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns WHERE table_name = 'backlog_item' "
            "AND column_name = 'rank'"
        )
        assert cursor.fetchone() == ("C",)
    # The keys of test_keys_compare_byte_wise would sort differently under a language collation.
    keys = ["aZ", "aa", "a0V", "a0v", "Zz"]
    for key in keys:
        item = item_create(product=product, actor=owner, kind="story", title=key)
        Item.objects.filter(pk=item.pk).update(rank=key)
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT rank FROM backlog_item WHERE product_id = %s ORDER BY rank COLLATE "en-US-x-icu"', [product.pk]
        )
        assert [row[0] for row in cursor.fetchall()] != sorted(keys)
    assert titles(product) == sorted(keys)


@pytest.mark.parametrize("max_key_length", [128, 4])
def test_random_moves_keep_a_consistent_order(product, owner, settings, monkeypatch, max_key_length):
    """A model check: random moves and block moves agree with a plain list, also while a tiny
    key limit makes nearly every move respace its neighbourhood."""
    settings.ORDER_KEY_MAX_LENGTH = max_key_length
    respaced = []
    real_respace = ordering._respace_around
    monkeypatch.setattr(ordering, "_respace_around", lambda *a: respaced.append(1) or real_respace(*a))
    rng = random.Random(7)
    items = [item_create(product=product, actor=owner, kind="story", title=f"t{n}") for n in range(30)]
    model = [item.title for item in items]
    by_title = {item.title: item for item in items}
    for _ in range(300):
        title = rng.choice(model)
        others = [t for t in model if t != title]
        # Half the moves go right after one "hot" item, so keys in that gap keep growing.
        op = rng.choice(["top", "bottom", "before", "after", "position", "hot", "hot", "hot", "hot", "hot"])
        if op == "hot":
            op, anchor = "after", "t0"
            title = title if title != "t0" else "t1"
            others = [t for t in model if t != title]
        else:
            anchor = rng.choice(others)
        if op == "top":
            placement, index = Placement.top(), 0
        elif op == "bottom":
            placement, index = Placement.bottom(), len(others)
        elif op == "position":
            position = rng.randint(1, len(model))
            placement, index = Placement.at(position), position - 1
        else:
            placement = Placement.before(by_title[anchor]) if op == "before" else Placement.after(by_title[anchor])
            index = others.index(anchor) + (op == "after")
        if rng.random() < 0.2:
            block = [t for t in rng.sample(model, 3) if placement.anchor_id != by_title[t].pk]
            items_move(product=product, actor=owner, item_ids=[by_title[t].pk for t in block], to=placement)
            rest = [t for t in model if t not in block]
            if op in ("before", "after"):
                index = rest.index(anchor) + (op == "after")
            elif op == "bottom":
                index = len(rest)
            elif op == "position":
                index = min(position - 1, len(rest))
            block_in_order = [t for t in model if t in block]
            model = [*rest[:index], *block_in_order, *rest[index:]]
        else:
            item_move(item=by_title[title], actor=owner, to=placement)
            model = [*others[:index], title, *others[index:]]
        assert titles(product) == model
        assert max(len(rank) for rank in backlog_items(product=product).values_list("rank", flat=True)) <= max(
            max_key_length, 3
        )
    assert (len(respaced) >= 5) is (max_key_length == 4)


@pytest.mark.parametrize(
    ("chunk", "held", "expected"),
    [
        (50, 0.004, 100),  # half the time allowed: twice the items
        (50, 0.0001, 100),  # far quicker: still at most twice
        (100, 0.008, 100),  # on target
        (100, 0.010, 80),  # a little slow: a little smaller
        (100, 1.0, 50),  # far slower (a moment's noise?): at most halved
        (12, 1.0, 10),  # never below the fewest
        (4000, 0.0001, 4000),  # nor above the most
    ],
)
def test_rebalance_chunks_are_sized_to_hold_the_lock_a_moment(chunk, held, expected, monkeypatch):
    monkeypatch.setattr(ordering, "REBALANCE_HOLD", 0.008)  # the cases' target
    assert next_chunk(chunk, held=held) == expected


def test_one_rebalance_of_a_product_at_a_time(product, owner):
    for n in range(6):
        item_create(product=product, actor=owner, kind="story", title=f"t{n}")
    keys = list(backlog_items(product=product).values_list("rank", flat=True))
    with another_rebalance_running(product):
        assert order_rebalance(product=product) is None  # not a second one beside it
        assert list(backlog_items(product=product).values_list("rank", flat=True)) == keys
    assert order_rebalance(product=product) == 6  # once the other is over
    assert order_rebalance(product=product) == 6  # and its own claim was given back


def test_a_rebalance_grows_its_chunks_while_they_are_quick(product, owner, monkeypatch):
    for n in range(30):
        item_create(product=product, actor=owner, kind="story", title=f"t{n:02}")
    before = titles(product)
    monkeypatch.setattr(ordering, "REBALANCE_CHUNK", 2)
    monkeypatch.setattr(ordering, "REBALANCE_CHUNK_RANGE", (1, 4000))
    monkeypatch.setattr(ordering, "REBALANCE_HOLD", 60.0)  # every chunk far quicker than allowed
    with CaptureQueriesContext(connection) as ctx:
        assert order_rebalance(product=product) == 30
    # Chunks of 2, 4, 8 and 16 items: one write of keys each.
    assert len([q for q in writes(ctx.captured_queries, "backlog_item") if "SET rank" in q]) == 4
    assert titles(product) == before
    assert order_sql.blocks_wrong(product.pk) == []


def statements(queries) -> list[str]:
    """The statements among ``queries``, less the test transaction's savepoints."""
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.parametrize("where", ["top", "bottom", "before", "after", "position"])
def test_a_single_move_reads_the_order_once_and_counts_no_position_after_writing(product, owner, five, where):
    """Lock, one read (the item, its neighbours and position, and where it lands), one write, the
    history record (its number in the change feed, the row) and the webhooks' look-up: nothing is
    read twice, and the new position comes from what was read (not counted again)."""
    placement = {
        "top": Placement.top(),
        "bottom": Placement.bottom(),
        "before": Placement.before(five["B"]),
        "after": Placement.after(five["D"]),
        "position": Placement.at(4),
    }[where]
    expected_position = {"top": 1, "bottom": 5, "before": 2, "after": 4, "position": 4}[where]
    mover = five["C"] if where in ("top", "bottom", "before") else five["A"]
    with CaptureQueriesContext(connection) as ctx:
        result = item_move(item=mover, actor=owner, to=placement)
    assert result.position == expected_position
    assert item_position(item=Item.objects.get(pk=mover.pk)) == expected_position
    run = statements(ctx.captured_queries)
    assert len(run) == 6, run
    item_reads = [sql for sql in run if re.match(r"^\s*(SELECT|WITH)\b", sql) and "backlog_item" in sql]
    assert len(item_reads) == 1, item_reads


def test_the_rebalance_command_says_what_it_did_or_that_one_is_under_way(product, owner):
    from io import StringIO

    from django.core.management import CommandError, call_command

    for n in range(3):
        item_create(product=product, actor=owner, kind="story", title=f"t{n}")
    with another_rebalance_running(product), pytest.raises(CommandError, match="already under way"):
        call_command("rebalance_order", product.key)
    out = StringIO()
    call_command("rebalance_order", product.key, stdout=out)
    assert out.getvalue().strip() == f"{product.key}: 3 rank keys rewritten."
    with pytest.raises(CommandError, match="No product"):
        call_command("rebalance_order", "NOPE")


def _long_keys_in_one_gap(product, owner, spread: int = 300, inserts: int = 200) -> list[Item]:
    """``spread`` items in order, then ``inserts`` items each inserted right after the 100th (so
    before the previous insert): the keys there grow past ``LONG_KEY``, the others stay short."""
    items = [item_create(product=product, actor=owner, kind="story", title=f"s{n:03}") for n in range(spread)]
    for n in range(inserts):
        item_create(product=product, actor=owner, kind="story", title=f"i{n:03}", placement=Placement.after(items[99]))
    return items


def test_the_schedule_respaces_long_keys_where_they_are(product, owner, monkeypatch):
    """Two hundred inserts into one gap make keys there longer than ``LONG_KEY``: the hourly job
    respaces a window around them (one short transaction) instead of rewriting the product's
    every key, and the order is exactly as it was."""
    from backlog import tasks
    from backlog.models import LONG_KEY

    items = _long_keys_in_one_gap(product, owner)
    before = titles(product)
    keys_before = dict(Item.objects.filter(product=product).values_list("pk", "rank"))
    assert max(len(key) for key in keys_before.values()) > LONG_KEY
    windows = []
    monkeypatch.setattr(
        ordering,
        "order_respace_long_keys",
        lambda *, product, real=ordering.order_respace_long_keys: windows.append(real(product=product)) or windows[-1],
    )
    assert tasks.rebalance_long_keys() == [product.pk]
    assert titles(product) == before
    keys_after = dict(Item.objects.filter(product=product).values_list("pk", "rank"))
    assert max(len(key) for key in keys_after.values()) <= LONG_KEY
    rewritten = [pk for pk in keys_before if keys_before[pk] != keys_after[pk]]
    assert max(len(keys_after[pk]) for pk in rewritten) <= LONG_KEY // 2
    assert 32 <= len(rewritten) <= 2 * 256, len(rewritten)  # a window, not the 500 items
    assert keys_after[items[0].pk] == keys_before[items[0].pk]  # far from the gap: untouched
    assert keys_after[items[-1].pk] == keys_before[items[-1].pk]
    assert windows in ([1], [2]), windows  # one window (two when it ended among long keys)
    assert order_sql.blocks_wrong(product.pk) == []
    assert tasks.rebalance_long_keys() == []  # nothing long is left


def test_long_keys_too_many_for_a_window_get_the_product_rebalanced(product, owner, monkeypatch):
    """When the window the long keys need is wider than a window may be (``RESPACE_WINDOW_MOST``,
    here less than any window), the job writes no window and rebalances the whole product
    (chunked, online) instead."""
    from backlog import tasks
    from backlog.models import LONG_KEY

    _long_keys_in_one_gap(product, owner, spread=120)
    before = titles(product)
    monkeypatch.setattr(ordering, "RESPACE_WINDOW_MOST", 16)
    respaced = []
    monkeypatch.setattr(
        ordering,
        "order_rebalance",
        lambda *, product, real=ordering.order_rebalance: respaced.append(product.pk) or real(product=product),
    )
    assert tasks.rebalance_long_keys() == [product.pk]
    assert respaced == [product.pk]
    assert titles(product) == before
    ranks = list(backlog_items(product=product).values_list("rank", flat=True))
    assert max(len(rank) for rank in ranks) <= LONG_KEY // 2
    values = [ranking.integer_value(rank) for rank in ranks]
    assert values == list(range(values[0], values[0] + len(ranks)))  # every key rewritten


def test_the_respacing_leaves_a_product_alone_while_it_is_rebalanced(product, owner):
    """A window reaching from the part a running rebalance has rewritten into the part it has not
    would get keys between the two regions, which the rebalance's later chunks sort the wrong way
    round (seen when a window was written between two chunks: the order broke for every seed
    tried). So each window claims the product's rebalance: while another process holds it, the
    respacing writes nothing and leaves the product to that rebalance; once free, it respaces."""
    from backlog.models import LONG_KEY

    _long_keys_in_one_gap(product, owner, spread=120)
    keys = dict(Item.objects.filter(product=product).values_list("pk", "rank"))
    with another_rebalance_running(product):
        assert ordering.order_respace_long_keys(product=product) is None  # left to the rebalance
    assert dict(Item.objects.filter(product=product).values_list("pk", "rank")) == keys
    assert ordering.order_respace_long_keys(product=product) >= 1
    assert max(len(rank) for rank in Item.objects.filter(product=product).values_list("rank", flat=True)) <= LONG_KEY


def test_a_write_into_a_full_gap_is_refused_while_the_product_is_rebalanced(product, owner, settings):
    """A gap with no key left is respaced by the write itself, unless a rebalance of the product
    runs meanwhile (its window could reach across the part already rewritten): then the write is
    refused with a message and changes nothing, and goes through once the rebalance is over."""
    settings.ORDER_KEY_MAX_LENGTH = 12
    first = item_create(product=product, actor=owner, kind="story", title="first")
    item_create(product=product, actor=owner, kind="story", title="last")
    mover = item_create(product=product, actor=owner, kind="story", title="mover")

    def gap_full() -> bool:  # no key of at most 12 characters left right after "first"
        after = Item.objects.filter(product=product, rank__gt=first.rank).order_by("rank").first()
        return len(ranking.keys_between(first.rank, after.rank, 1)[0]) > 12

    for n in range(400):
        if gap_full():
            break
        item_create(product=product, actor=owner, kind="story", title=f"n{n}", placement=Placement.after(first))
    assert gap_full()
    keys = dict(Item.objects.filter(product=product).values_list("pk", "rank"))
    with another_rebalance_running(product):
        with pytest.raises(ValidationError, match="a rebalance is under way"):
            items_move(product=product, actor=owner, item_ids=[mover.pk], to=Placement.after(first))
        with pytest.raises(ValidationError, match="a rebalance is under way"):
            item_create(product=product, actor=owner, kind="story", title="new", placement=Placement.after(first))
        with pytest.raises(ValidationError, match="a rebalance is under way"):  # an import's block of new items
            ordering.order_block_keys(product=product, placement=Placement.after(first), counts=[2, 1])
    assert dict(Item.objects.filter(product=product).values_list("pk", "rank")) == keys
    items_move(product=product, actor=owner, item_ids=[mover.pk], to=Placement.after(first))
    assert titles(product)[:2] == ["first", "mover"]


def test_writes_that_must_respace_go_on_between_the_schedules_windows(product, owner, monkeypatch):
    """The respacing claims the rebalance for each window's transaction only: between two windows
    a write whose gap is full claims it and respaces (it is refused while a rebalance runs)."""
    _long_keys_in_one_gap(product, owner, spread=120, inserts=400)
    real_claimed = order_sql.rebalance_claimed
    claims, written = [], []

    def claimed_after_a_write(product_id):
        claims.append(product_id)
        if len(claims) == 2:  # the first window is over, the second has not claimed yet
            first, second = Item.objects.filter(product=product).order_by("rank")[:2]
            gap = ordering.Gap(
                after=ordering.Neighbour(first.pk, first.rank), before=ordering.Neighbour(second.pk, second.rank)
            )
            written.append(ordering._respace_for_write(product, gap, [Item(product=product)]))  # not refused
        return real_claimed(product_id)

    monkeypatch.setattr(order_sql, "rebalance_claimed", claimed_after_a_write)
    assert ordering.order_respace_long_keys(product=product) >= 2
    assert len(written) == 1 and len(written[0]) == 1


def test_a_respacing_that_dies_midway_is_finished_by_the_next_run(product, owner, monkeypatch):
    """Each window is a transaction of its own: a run that fails in its second window (a lost
    connection, the worker stopped) keeps the first, rolls back the second, and the schedule's
    next run respaces what is left; the order is exact throughout."""
    from django.db import OperationalError

    from backlog import tasks
    from backlog.models import LONG_KEY

    _long_keys_in_one_gap(product, owner, spread=120, inserts=400)
    before = titles(product)
    long_keys = Item.objects.filter(product=product, rank__regex=rf"^.{{{LONG_KEY + 1},}}$")
    long_before = long_keys.count()
    real_first = order_sql.first_long_key
    calls = []

    def dies_in_the_second_window(product_id, longer_than):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_first(product_id, longer_than)

    monkeypatch.setattr(order_sql, "first_long_key", dies_in_the_second_window)
    with pytest.raises(OperationalError):
        ordering.order_respace_long_keys(product=product)
    assert titles(product) == before
    assert 0 < long_keys.count() < long_before  # the first window was kept, the rest waits
    monkeypatch.setattr(order_sql, "first_long_key", real_first)
    assert tasks.rebalance_long_keys() == [product.pk]
    assert titles(product) == before
    assert max(len(rank) for rank in Item.objects.filter(product=product).values_list("rank", flat=True)) <= LONG_KEY
    assert order_sql.blocks_wrong(product.pk) == []
