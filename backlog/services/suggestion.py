"""The suggested order: where the scores say each item belongs, and applying it.

The product owner's order stays the authority: the suggestion is advisory, and applying it
(to all items or a selection) is the owner's decision, recorded as one operation. Pinned items
keep their place. Applying writes as few rows as possible: the longest run of items already
in the suggested relative order stays put, and only the others get new keys.

The whole suggestion is computed by a job only (``suggested_positions_refresh``), which stores
each item's suggested position and the product's largest drifts (``SuggestedMove``); requests
read those stored values and a few index look-ups, never the whole order. The job streams: the
order and the score order are numbered by the database (two temporary tables, one snapshot) and
merged here in chunks, with only the items of open blocking links held in memory.
"""

import heapq
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog import history, order_sql, ranking
from backlog.jobs import enqueue_suggestions
from backlog.links import blocking_pairs, kept_below_many
from backlog.models import Item, ItemLink, SuggestedMove
from backlog.selectors import chunk_rows
from backlog.services.ordering import order_rebalance
from backlog.transactions import paced, retry_on_conflict


@dataclass(frozen=True)
class Suggestion:
    item_id: int
    number: int
    score: float | None
    pinned: bool
    position: int  # actual, 1-based
    suggested_position: int
    kept_below: tuple[int, ...] = ()  # ids of open blockers its score alone would put it above
    stored_position: int | None = field(default=None, compare=False, repr=False)  # as stored before

    @property
    def drift(self) -> int:
        """Suggested minus actual: negative means the scores would move it up."""
        return self.suggested_position - self.position


@dataclass(frozen=True)
class _Row:
    """One ordered item as the suggestion reads it."""

    id: int
    number: int
    score: float | None
    pinned: bool
    position: int  # 1-based, in the current order
    stored: int | None = None  # its stored suggested position

    @property
    def key(self) -> tuple:
        """The score order: highest first, unscored last, ties by current place."""
        return (self.score is None, -(self.score or 0), self.position)


def _fill(
    slots: Iterable[_Row], movers: Iterable[_Row], blockers: dict[int, set[int]], linked: dict[int, _Row]
) -> Iterator[tuple[_Row, int]]:
    """The suggestion, slot by slot: ``(row, suggested position)`` in suggested order.

    ``slots`` are every ordered item in the current order, ``movers`` the unpinned ones in the
    score order (``_Row.key``); both are read once, front to back, so they may be streams.
    ``blockers`` maps each blocked item to its open blockers (ids, both in the order) and
    ``linked`` holds the rows of every item of those links: the only rows kept in memory.

    Pinned items keep their slots; each other slot takes the best-scored movable item whose open
    blockers are all placed already (a stable topological sort by score). Only a blocker pinned
    further down (or a cycle) can leave no such item; then the best-scored remaining blocked item
    takes the slot (pinned items are the owner's choice and keep their place).
    """
    waiting = {blocked: len(found) for blocked, found in blockers.items()}
    blocks: dict[int, list[int]] = {}
    for blocked, found in blockers.items():
        for blocker in found:
            blocks.setdefault(blocker, []).append(blocked)
    ready: list[tuple[tuple, int]] = []  # blocked items whose blockers are all placed, by score
    placed: set[int] = set()  # linked items placed so far
    stream = (row for row in movers if row.id not in blockers)  # the blocked ones come via ``ready``
    head: _Row | None = next(stream, None)

    def place(row: _Row) -> None:
        if row.id not in linked:
            return
        placed.add(row.id)
        for blocked in blocks.get(row.id, ()):
            waiting[blocked] -= 1
            if not waiting[blocked] and not linked[blocked].pinned and blocked not in placed:
                heapq.heappush(ready, (linked[blocked].key, blocked))

    for slot in slots:
        if slot.pinned:
            place(slot)
            yield slot, slot.position
            continue
        while ready and ready[0][1] in placed:
            heapq.heappop(ready)
        if ready and (head is None or ready[0][0] < head.key):
            row = linked[heapq.heappop(ready)[1]]
        elif head is not None:
            row, head = head, next(stream, None)
        else:
            row = min((linked[b] for b in blockers if not linked[b].pinned and b not in placed), key=lambda r: r.key)
        place(row)
        yield row, slot.position


def _linked(pairs: Sequence[tuple[int, int]], rows: dict[int, _Row]) -> dict[int, set[int]]:
    """Each blocked item's open blockers (ids), for the pairs whose two items are in ``rows``."""
    found: dict[int, set[int]] = {}
    for blocker, blocked in pairs:
        if blocker in rows and blocked in rows:
            found.setdefault(blocked, set()).add(blocker)
    return found


def _kept_below(row: _Row, blockers: dict[int, set[int]], linked: dict[int, _Row]) -> tuple[int, ...]:
    """The open blockers the suggestion keeps ``row`` below although its score alone would put it
    above them, in the current order."""
    found = [linked[b] for b in blockers.get(row.id, ()) if row.key < linked[b].key]
    return tuple(b.id for b in sorted(found, key=lambda b: b.position))


# Rows read per statement while streaming the order and the score order.
STREAM_CHUNK = 2000
_COLUMNS = "id, number, score, pinned, position, stored"  # as _Row


def _stream(sql: str, params: list, sort_column: int) -> Iterator[tuple]:
    """The rows of ``sql`` (which ends ``WHERE <sort column> > %s ORDER BY … LIMIT %s``), read
    ``STREAM_CHUNK`` at a time by keyset."""
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, last, STREAM_CHUNK])
            rows = cursor.fetchall()
        yield from rows
        if len(rows) < STREAM_CHUNK:
            return
        last = rows[-1][sort_column]


def suggested_order(*, product: Product | int) -> Iterator[Suggestion]:
    """Every ordered item with its actual and suggested position, in the suggested order.

    A stream for jobs (the refresh, tests): memory stays flat whatever the product's size. The
    database numbers the order and the score order once, in two temporary tables (one snapshot,
    so moves meanwhile cannot make an item appear twice); they are then read in chunks and merged
    (``_fill``). Requests read the stored results instead.
    """
    product_id = getattr(product, "pk", product)
    table = connection.ops.quote_name(Item._meta.db_table)
    suffix = uuid.uuid4().hex[:12]
    slots, movers = f"suggestion_slots_{suffix}", f"suggestion_movers_{suffix}"
    pairs = blocking_pairs(product_id=product_id)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {slots} AS SELECT row_number() OVER (ORDER BY rank) AS position, id, "
                f"number, score, pinned, suggested_position AS stored FROM {table} "
                "WHERE product_id = %s AND rank IS NOT NULL",
                [product_id],
            )
            cursor.execute(f"CREATE UNIQUE INDEX {slots}_position ON {slots} (position)")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {movers} AS SELECT row_number() OVER "
                f"(ORDER BY score IS NULL, score DESC, position) AS k, position FROM {slots} WHERE NOT pinned"
            )
            cursor.execute(f"CREATE UNIQUE INDEX {movers}_k ON {movers} (k)")
            ids = sorted({pk for pair in pairs for pk in pair})
            linked: dict[int, _Row] = {}
            for start in range(0, len(ids), STREAM_CHUNK):
                chunk = ids[start : start + STREAM_CHUNK]
                cursor.execute(f"SELECT {_COLUMNS} FROM {slots} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)
                linked.update((row[0], _Row(*row)) for row in cursor.fetchall())
        blockers = _linked(pairs, linked)
        slot_rows = (
            _Row(*row)
            for row in _stream(f"SELECT {_COLUMNS} FROM {slots} WHERE position > %s ORDER BY position LIMIT %s", [], 4)
        )
        mover_rows = (
            _Row(*row[:6])
            for row in _stream(
                f"SELECT s.id, s.number, s.score, s.pinned, s.position, s.stored, m.k FROM {movers} m "
                f"JOIN {slots} s ON s.position = m.position WHERE m.k > %s ORDER BY m.k LIMIT %s",
                [],
                6,
            )
        )
        for row, position in _fill(slot_rows, mover_rows, blockers, linked):
            yield Suggestion(
                row.id,
                row.number,
                row.score,
                bool(row.pinned),
                row.position,
                position,
                _kept_below(row, blockers, linked) if row.id in blockers else (),
                row.stored,
            )
    finally:
        # Temporary tables end with the connection anyway: a failed transaction may refuse this.
        with suppress(DatabaseError, TransactionManagementError), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {movers}")
            cursor.execute(f"DROP TABLE IF EXISTS {slots}")


def _ordered_rows(product: Product) -> list[tuple[int, int, str, float | None, bool]]:
    return list(Item.objects.filter(product=product).ordered().values_list("id", "number", "rank", "score", "pinned"))


def suggested_positions_for_new(*, product: Product, scores: Sequence[float | None]) -> list[int]:
    """Where the suggestion would put each of several items not yet in the order (proposals),
    each as if it alone entered at the bottom: 1-based positions.

    Among the unpinned items the newcomer goes after every item scored at least as high (it
    enters last, so ties keep it below): it takes the slot of the first one it outranks (the
    best-scored item scored below it, else the first unscored one), which is that item's stored
    suggested position; outranking none, or unscored, it goes last. Pinned slots are kept because
    the stored positions keep them. One statement for all the scores, an index look-up each (the
    movable items by score, ``item_movable_by_score``), whatever the backlog's size. Approximate
    while the stored positions lag changes (a few seconds), and where a blocker holds the
    outranked item lower than its score alone would (the newcomer then takes that held slot); an
    item whose position is not stored yet counts where it stands.
    """
    distinct = [score for score in dict.fromkeys(scores) if score is not None]
    movable = f"FROM {order_sql.TABLE} WHERE product_id = %s AND NOT pinned AND rank IS NOT NULL"
    parts, params = [], []
    for index, score in enumerate(distinct):
        parts.append(
            f"SELECT {index} AS k, rank, suggested_position FROM (SELECT rank, suggested_position {movable} "
            "AND score < %s ORDER BY score DESC, rank LIMIT 1) below"
        )
        params += [product.pk, score]
    if distinct:
        parts.append(
            f"SELECT -1 AS k, rank, suggested_position FROM (SELECT rank, suggested_position {movable} "
            # Ordered as the index is (all scores null here): read from it, not from the rank index.
            "AND score IS NULL ORDER BY score DESC, rank LIMIT 1) unscored"
        )
        params.append(product.pk)
    outranked: dict[int, tuple[str, int | None]] = {}
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            outranked = {k: (rank, stored) for k, rank, stored in cursor.fetchall()}
    bottom: list[int] = []

    def place(k: int) -> int:
        if k not in outranked:  # outranks no one: the bottom
            if not bottom:
                bottom.append(order_sql.ordered_count(product.pk) + 1)
            return bottom[0]
        rank, stored = outranked[k]
        return stored if stored is not None else order_sql.position_of(product.pk, rank)

    found = {score: place(index if index in outranked else -1) for index, score in enumerate(distinct)}
    return [found[score] if score is not None else place(-2) for score in scores]


def _longest_increasing(sequence: list[int]) -> set[int]:
    """The values of one longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tail_values: list[int] = []  # tail_values[k]: the smallest last value of an increasing run of k+1
    tail_at: list[int] = []  # where in ``sequence`` that run ends
    previous = [-1] * len(sequence)
    for i, value in enumerate(sequence):
        k = bisect_left(tail_values, value)
        previous[i] = tail_at[k - 1] if k else -1
        if k == len(tail_values):
            tail_values.append(value)
            tail_at.append(i)
        else:
            tail_values[k], tail_at[k] = value, i
    kept, i = set(), tail_at[-1] if tail_at else -1
    while i != -1:
        kept.add(sequence[i])
        i = previous[i]
    return kept


@retry_on_conflict
def order_apply_suggestion(
    *, product: Product, actor: User, item_ids: Sequence[int] | None = None, reason: str = ""
) -> int:
    """Reorder all (or the selected) unpinned items by score; return how many rows moved.

    A selection goes to the stored suggested positions (``_apply_to_selection``: a few look-ups
    per selected item, whatever the backlog's size). The whole product is computed afresh from
    the order in memory: an owner's deliberate, rare act, O(N) like the rewrite it leads to, and
    refused past ``APPLY_ALL_LIMIT`` items (so no request holds a bigger backlog in memory).
    """
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.REORDER, product, actions=actions)
        if item_ids is not None:
            moved = _apply_to_selection(product, actor, list(dict.fromkeys(item_ids)), reason)
        else:
            moved = _apply_to_all(product, actor, reason)
        if moved:
            transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
        return moved


# Applying the suggestion to the whole order reads it into memory: up to this many items. A larger
# backlog applies it to selections (the suggested-order list holds its MOST_MOVED largest drifts).
APPLY_ALL_LIMIT = 20_000


def _apply_to_all(product: Product, actor: User, reason: str) -> int:
    count = order_sql.ordered_count(product.pk)
    if count > APPLY_ALL_LIMIT:
        raise ValidationError(
            {
                "items": f"This backlog holds {count:,} items; the whole suggested order is applied to at most "
                f"{APPLY_ALL_LIMIT:,} at once. Choose the items to move (the suggested order lists the "
                f"{MOST_MOVED} that would move furthest)."
            }
        )
    rows = _ordered_rows(product)
    by_id = {row[0]: _Row(row[0], row[1], row[3], row[4], position) for position, row in enumerate(rows, start=1)}
    slots = list(by_id.values())
    movers = sorted((row for row in slots if not row.pinned), key=lambda row: row.key)
    blockers = _linked(blocking_pairs(product_id=product.pk), by_id)
    final = [row.position - 1 for row, _ in _fill(slots, movers, blockers, by_id)]
    fixed = {i for i, row in enumerate(rows) if row[4]}
    kept = _kept(final, fixed)
    if len(kept) == len(final):
        return 0
    new_keys = _keys_between_kept(final, kept, lambda index: rows[index][2])
    if max(len(key) for key in new_keys.values()) > settings.ORDER_KEY_MAX_LENGTH:
        _rebalance_first(product)
        rows = _ordered_rows(product)
        new_keys = _keys_between_kept(final, kept, lambda index: rows[index][2])
    _write(product, actor, rows, final, new_keys, reason)
    return len(new_keys)


@dataclass
class _Chosen:
    id: int
    rank: str
    target: int  # its stored suggested position
    position: int  # now
    after_id: int | None  # its neighbours now
    before_id: int | None


def _apply_to_selection(product: Product, actor: User, selected: list[int], reason: str, rebalanced=False) -> int:
    """Move each selected unpinned item to its stored suggested position, the others keeping
    their order around it (as if the selection, taken out, were put back in target order), then
    each below its open blockers if it landed above one; return how many rows moved.

    Reads the selection, its neighbours and blockers, and per selected item one look-up of the
    item its target puts it after and of the item after that, each a count within one block of
    the order's blocks, read once (``order_sql.Blocks``: a row per thousand items, the only read
    that grows with the backlog). One key write, one history operation, as the whole-product apply.
    """
    found = {
        pk: (rank, pinned, stored)
        for pk, rank, pinned, stored in Item.objects.filter(
            product=product, pk__in=selected, rank__isnull=False
        ).values_list("id", "rank", "pinned", "suggested_position")
    }
    unknown = set(selected) - set(found)
    if unknown:
        raise ValidationError({"items": f"Not in this product's order: {sorted(unknown)}."})
    movable = [pk for pk in selected if not found[pk][1] and found[pk][2] is not None]
    if not movable:
        return 0
    chosen = {
        pk: _Chosen(pk, rank, found[pk][2], position, after_id, before_id)
        for pk, _, rank, _, after_id, before_id, position in order_sql.items_with_neighbours(product.pk, movable)
    }
    blocks = order_sql.Blocks(product.pk)  # for the look-ups below, under the product lock
    held = {c.rank for c in chosen.values()}
    now = sorted(c.position for c in chosen.values())
    # Where each goes: right after the j-th other item (0: the top), j from its target.
    placed: list[tuple[tuple[str, int] | None, _Chosen]] = []  # (anchor (rank, id), chosen)
    anchors: dict[int, tuple[str, int]] = {}  # position now -> (rank, id) of the other there
    j = 0
    for i, item in enumerate(sorted(chosen.values(), key=lambda c: (c.target, c.position))):
        j = max(j, item.target - 1 - i)
        placed.append((_other_at(blocks, j, now, chosen, anchors), item))
    # The sparse final order: the anchors and the selection's blockers (others, by key), each
    # followed by the chosen items placed after it; then below their blockers.
    blocker_pairs = _blockers_of(list(chosen))
    others = {anchor for anchor, _ in placed if anchor} | {
        (rank, pk) for pk, rank, _ in blocker_pairs if pk not in chosen
    }
    after: dict[tuple[str, int] | None, list[int]] = {}
    for anchor, item in placed:
        after.setdefault(anchor, []).append(item.id)
    final: list = list(after.get(None, []))
    for other in sorted(others):
        final.append(other)
        final.extend(after.get(other, []))
    blockers: dict = {}
    for blocker, rank, blocked in blocker_pairs:
        blockers.setdefault(blocked, set()).add(blocker if blocker in chosen else (rank, blocker))
    for _ in range(len(chosen)):  # a chain of k chosen items settles in at most k passes
        if not _below_blockers(final, set(chosen), blockers):
            break
    # Runs of chosen items between others: each gets keys between the other before it and the
    # next item that stays (an index look-up), keeping those already in place.
    runs: list[tuple[tuple[str, int] | None, list[int]]] = [(None, [])]
    for entry in final:
        if entry in chosen:
            runs[-1][1].append(entry)
        else:
            runs.append((entry, []))
    new_keys: dict[int, str] = {}
    landings: dict[int, tuple[int, int | None, int | None]] = {}  # id -> (position, after id, before id)

    def key_now(pk: int) -> str:
        return chosen[pk].rank

    for anchor, run in runs:
        if not run:
            continue
        lower = anchor[0] if anchor else None
        upper_row = order_sql.ordered_slice(product.pk, exclude=list(chosen), above=lower, limit=1)
        upper = upper_row[0] if upper_row else None  # (id, key) of the item right below the run
        upper_key = upper[1] if upper else None
        kept = _keep_in_place(run, chosen, lower, upper_key)
        new_keys.update(_keys_between_kept(run, kept, key_now, lower=lower, upper=upper_key, held=held))
        if anchor:
            anchor_now = blocks.position_of(anchor[0])
            first = anchor_now - sum(1 for p in now if p < anchor_now) + _chosen_above(runs, anchor) + 1
        else:
            first = 1
        sequence = [anchor[1] if anchor else None, *run, upper[0] if upper else None]
        for offset, pk in enumerate(run):
            landings[pk] = (first + offset, sequence[offset], sequence[offset + 2])
    if not new_keys:
        return 0
    if max(len(key) for key in new_keys.values()) > settings.ORDER_KEY_MAX_LENGTH and not rebalanced:
        _rebalance_first(product)
        return _apply_to_selection(product, actor, selected, reason, rebalanced=True)
    order_sql.write_ranks(new_keys, {pk: chosen[pk].rank for pk in new_keys})
    operation = uuid.uuid4()
    history.write(
        history.moved(
            item_id=pk,
            product=product,
            actor=actor,
            origin=history.place(
                position=chosen[pk].position, after_id=chosen[pk].after_id, before_id=chosen[pk].before_id
            ),
            destination=history.place(position=landings[pk][0], after_id=landings[pk][1], before_id=landings[pk][2]),
            block_size=1,
            suggested_order=True,
            reason=reason or "Applied the suggested order.",
            operation=operation,
        )
        for pk in new_keys
    )
    return len(new_keys)


def _chosen_above(runs: list, anchor: tuple[str, int]) -> int:
    """How many chosen items the final order puts above the other item ``anchor``."""
    total = 0
    for other, run in runs:
        if other is not None and other >= anchor:
            break
        total += len(run)
    return total


def _other_at(blocks: order_sql.Blocks, j: int, now: list[int], chosen: dict, cache: dict) -> tuple[str, int] | None:
    """(rank, id) of the j-th item of the order not chosen (None for j = 0): at the first
    position c with c minus the chosen positions up to c equal to j; past the end, the last."""
    if j <= 0:
        return None
    c = j
    while (step := j + sum(1 for p in now if p <= c)) != c:
        c = step
    if c not in cache:
        row = blocks.at_offset(c - 1) or order_sql.ordered_slice(
            blocks.product_id, exclude=list(chosen), descending=True, limit=1
        )
        cache[c] = (row[0][1], row[0][0]) if row else None
    return cache[c]


def _blockers_of(item_ids: list[int]) -> list[tuple[int, str, int]]:
    """(blocker id, its key, blocked id) of the open blocking links into the given items."""
    return list(
        ItemLink.objects.filter(
            target_id__in=item_ids, kind=ItemLink.Kind.BLOCKS, source__rank__isnull=False
        ).values_list("source_id", "source__rank", "target_id")
    )


def _keep_in_place(run: list[int], chosen: dict, lower: str | None, upper: str | None) -> set[int]:
    """The run's items that may keep their keys: the longest run of them already in order
    between ``lower`` and ``upper``."""
    inside = [
        pk for pk in run if (lower is None or lower < chosen[pk].rank) and (upper is None or chosen[pk].rank < upper)
    ]
    positions = _longest_increasing([chosen[pk].position for pk in inside])
    return {pk for pk in inside if chosen[pk].position in positions}


def _below_blockers(final: list, chosen: set, blockers: dict) -> bool:
    """Move each chosen item standing above one of its blockers to right after its lowest one;
    return whether any moved."""
    moved = False
    for entry in sorted(chosen, key=final.index):
        if not blockers.get(entry):
            continue
        where = final.index(entry)
        lowest = max(final.index(blocker) for blocker in blockers[entry])
        if lowest > where:
            final.remove(entry)
            final.insert(lowest, entry)  # the blocker shifted up by one: right after it
            moved = True
    return moved


def _kept(final: list[int], fixed: set[int]) -> set[int]:
    """The items that keep their keys: every fixed one, and between each two fixed ones the
    longest run of the others already in order (and within the fixed ones' bounds)."""
    kept = set(fixed)
    segment: list[int] = []
    lower = -1
    for index in [*final, None]:
        if index is not None and index not in fixed:
            segment.append(index)
            continue
        upper = index if index is not None else len(final)
        kept |= _longest_increasing([i for i in segment if lower < i < upper])
        segment, lower = [], upper
    return kept


def _keys_between_kept(
    sequence: list, kept: set, key_of, *, lower: str | None = None, upper: str | None = None, held=None
) -> dict:
    """New keys for the entries of ``sequence`` not ``kept``: each run of them between the keys
    (``key_of``) of the kept entries around it, ``lower`` and ``upper`` beyond the ends.

    Keys in ``held`` (by default the run's own current keys) are skipped, so no write ever
    collides with another.
    """
    keys: dict = {}
    run: list = []
    for entry in [*sequence, None]:
        if entry is not None and entry not in kept:
            run.append(entry)
            continue
        bound = key_of(entry) if entry is not None else upper
        if run:
            avoid = held if held is not None else {key_of(moving) for moving in run}
            candidates = ranking.keys_between(lower, bound, len(run) + len(avoid))
            fresh = [key for key in candidates if key not in avoid][: len(run)]
            keys.update(zip(run, fresh, strict=True))
            run = []
        lower = bound
    return keys


def _write(product: Product, actor: User, rows, final: list[int], new_keys: dict[int, str], reason: str) -> None:
    """Write the new keys and a history record per moved item, with its place before and after."""
    order_sql.write_ranks(
        {rows[index][0]: key for index, key in new_keys.items()}, {rows[index][0]: rows[index][2] for index in new_keys}
    )

    def id_at(index: int, sequence: list[int]) -> int | None:
        return rows[sequence[index]][0] if 0 <= index < len(sequence) else None

    before = list(range(len(rows)))
    position = {index: place for place, index in enumerate(final)}
    operation = uuid.uuid4()
    history.write(
        history.moved(
            item_id=rows[index][0],
            product=product,
            actor=actor,
            origin=history.place(
                position=index + 1, after_id=id_at(index - 1, before), before_id=id_at(index + 1, before)
            ),
            destination=history.place(
                position=position[index] + 1,
                after_id=id_at(position[index] - 1, final),
                before_id=id_at(position[index] + 1, final),
            ),
            block_size=1,
            suggested_order=True,
            reason=reason or "Applied the suggested order.",
            operation=operation,
        )
        for index in new_keys
    )


def _rebalance_first(product: Product) -> None:
    """Rebalance the order before writing keys that would not fit otherwise (thousands of
    moves into one gap first); refused while the schedule's rebalance of it is under way."""
    if order_rebalance(product=product) is None:
        raise ValidationError(
            {"items": "The order's keys are being rewritten (a rebalance is under way); try again in a minute."}
        )


# The refresh writes this many rows per transaction, so it never holds many row locks for long: a
# move of one of them waits for that transaction. With 500 (10-20 ms a chunk here, each row's
# write reaching the item table's indexes) the moves' p99 went 2.5-4x while the refresh ran over
# and over on 1,000 and 10,000 items (bench/scale.py). Fewer on a small product (``chunk_rows``).
REFRESH_CHUNK = 100
# How many of the largest drifts the refresh keeps for the suggested-order list (its API's limit).
MOST_MOVED = 500


def suggested_positions_refresh(*, product_id: int) -> int:
    """Store each ordered item's suggested position and the product's largest drifts; return the
    item rows written. (Items out of the order hold none: leaving it clears theirs in the same
    write, ``item_suggested_only_in_order``; an item that left meanwhile is not written.)

    Streams the suggestion (``suggested_order``): memory stays flat whatever the product's size.
    Only the items whose suggested position changed are written, in short transactions of
    ``REFRESH_CHUNK`` rows (fewer on a small product: ``chunk_rows``). On PostgreSQL a row another
    writer holds (a move, an edit) is skipped rather than waited for (``FOR UPDATE SKIP LOCKED``),
    so the refresh never waits on a move and never deadlocks with one; when rows were skipped (or
    had left the order meanwhile) it queues itself again. The ``MOST_MOVED`` largest drifts
    (``SuggestedMove``) are replaced in one short transaction at the end. Pages read these stored
    values instead of computing the suggestion per request.
    """
    product = Product.objects.get(pk=product_id)
    size = chunk_rows(product_id=product_id, most=REFRESH_CHUNK)
    written = changed = 0
    chunk: list[tuple[int, int | None]] = []
    largest: list[tuple[int, int, int, int, int]] = []  # a min-heap of (|drift|, -position, id, ...)

    def flush(*, last: bool) -> None:
        """Write a chunk (of ``size``, or the rest when ``last``), then pause unless it was the last."""
        nonlocal written, chunk
        taken, chunk = (chunk, []) if last else (chunk[:size], chunk[size:])
        if taken:
            with paced() as pacing, transaction.atomic():
                written += _write_suggested_positions(sorted(taken))
                if last:
                    pacing.skip()

    for row in suggested_order(product=product):
        if row.stored_position != row.suggested_position:
            changed += 1
            chunk.append((row.item_id, row.suggested_position))
            if len(chunk) > size:  # one more than a chunk: the chunk is not the last
                flush(last=False)
        if row.drift:
            entry = (abs(row.drift), -row.position, row.item_id, row.position, row.suggested_position)
            if len(largest) < MOST_MOVED:
                heapq.heappush(largest, entry)
            elif entry > largest[0]:
                heapq.heapreplace(largest, entry)
    flush(last=True)
    with transaction.atomic():
        SuggestedMove.objects.filter(product_id=product_id).delete()
        SuggestedMove.objects.bulk_create(
            SuggestedMove(
                product_id=product_id, item_id=pk, place=place, position=position, suggested_position=suggested
            )
            for place, (_, _, pk, position, suggested) in enumerate(sorted(largest, reverse=True), start=1)
        )
    if written < changed:
        enqueue_suggestions(product_id)  # the rows held by other writers (or gone from the order), shortly
    return written


def _write_suggested_positions(chunk: list[tuple[int, int | None]]) -> int:
    table = connection.ops.quote_name(Item._meta.db_table)
    if connection.vendor != "postgresql":
        # One prepared UPDATE run per row: far faster on SQLite than bulk_update's CASE per row.
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET suggested_position = %s WHERE id = %s AND rank IS NOT NULL",
                [(position, pk) for pk, position in chunk],
            )
            return cursor.rowcount  # the rows written: an item that left the order meanwhile is not
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH free AS (SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED) "
            f"UPDATE {table} i SET suggested_position = s.position "
            "FROM unnest(%s::bigint[], %s::integer[]) AS s(id, position), free "
            "WHERE i.id = s.id AND free.id = s.id AND i.rank IS NOT NULL",
            [[pk for pk, _ in chunk], [pk for pk, _ in chunk], [position for _, position in chunk]],
        )
        return cursor.rowcount


def most_moved(*, product: Product, limit: int) -> list[Suggestion]:
    """The items the scores would move most (the largest drifts first, then by position), as the
    last refresh stored them: at most ``limit`` rows read, whatever the backlog's size. Each
    names the open blockers the suggestion keeps it below (one look-up for them all)."""
    rows = list(
        SuggestedMove.objects.filter(product=product, item__rank__isnull=False)
        .select_related("item")
        .order_by("place")[:limit]
    )
    held = kept_below_many([row.item for row in rows])
    return [
        Suggestion(
            row.item_id,
            row.item.number,
            row.item.score,
            row.item.pinned,
            row.position,
            row.suggested_position,
            tuple(pk for pk, _ in held.get(row.item_id, ())),
        )
        for row in rows
    ]
