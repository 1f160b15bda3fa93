"""The suggested order: where the scores say each item belongs, and applying it.

The product owner's order stays the authority: the suggestion is advisory, and applying it
(to all items or a selection) is the owner's decision, recorded as one operation. Pinned items
keep their place. Applying writes as few rows as possible: the longest run of items already
in the suggested relative order stays put, and only the others get new keys.
"""

import heapq
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog import history, order_sql, ranking
from backlog.jobs import enqueue_suggestions, suggestions_stale_take
from backlog.links import blocking_pairs
from backlog.models import Item
from backlog.services.ordering import order_rebalance
from backlog.transactions import retry_on_conflict


@dataclass(frozen=True)
class Suggestion:
    item_id: int
    number: int
    score: float | None
    pinned: bool
    position: int  # actual, 1-based
    suggested_position: int
    kept_below: tuple[int, ...] = ()  # ids of open blockers its score alone would put it above

    @property
    def drift(self) -> int:
        """Suggested minus actual: negative means the scores would move it up."""
        return self.suggested_position - self.position


def _ordered_rows(product: Product) -> list[tuple[int, int, str, float | None, bool]]:
    return list(Item.objects.filter(product=product).ordered().values_list("id", "number", "rank", "score", "pinned"))


def _by_score(rows, indexes: Sequence[int]) -> list[int]:
    """The given row indexes in score order: highest first, unscored last, ties by current place."""
    return sorted(indexes, key=lambda i: (rows[i][3] is None, -(rows[i][3] or 0), i))


def _blockers_by_index(rows, pairs: Sequence[tuple[int, int]]) -> dict[int, set[int]]:
    """Each row index's open blockers in the order, as row indexes (from (blocker id, blocked id))."""
    at = {row[0]: i for i, row in enumerate(rows)}
    found: dict[int, set[int]] = {}
    for blocker, blocked in pairs:
        if blocker in at and blocked in at:
            found.setdefault(at[blocked], set()).add(at[blocker])
    return found


def _constrained_fill(rows, blockers: dict[int, set[int]]) -> list[int]:
    """The full suggestion: pinned items in their slots, each other slot taken by the best-scored
    movable item whose open blockers are all placed already (a stable topological sort by score).

    Only a blocker pinned further down can leave no such item; then the best-scored remaining
    item takes the slot (pinned items are the owner's choice and keep their place).
    """
    key = {i: (row[3] is None, -(row[3] or 0), i) for i, row in enumerate(rows)}
    waiting = {i: len(found) for i, found in blockers.items()}
    blocks: dict[int, list[int]] = {}
    for blocked, found in blockers.items():
        for blocker in found:
            blocks.setdefault(blocker, []).append(blocked)
    ready = [key[i] for i, row in enumerate(rows) if not row[4] and not waiting.get(i)]
    heapq.heapify(ready)
    remaining = [key[i] for i, row in enumerate(rows) if not row[4]]
    heapq.heapify(remaining)
    placed: set[int] = set()
    final = []

    def place(index: int) -> None:
        placed.add(index)
        final.append(index)
        for blocked in blocks.get(index, ()):
            waiting[blocked] -= 1
            if not waiting[blocked] and not rows[blocked][4] and blocked not in placed:
                heapq.heappush(ready, key[blocked])

    for slot, row in enumerate(rows):
        if row[4]:
            place(slot)
            continue
        while ready and ready[0][2] in placed:
            heapq.heappop(ready)
        if ready:
            place(heapq.heappop(ready)[2])
            continue
        while remaining[0][2] in placed:
            heapq.heappop(remaining)
        place(heapq.heappop(remaining)[2])
    return final


def _suggested_indexes(
    rows, selected: set[int] | None = None, blockers: dict[int, set[int]] | None = None
) -> list[int]:
    """The order (as current indexes) after applying the suggestion to ``selected`` (default all).

    The full suggestion keeps pinned items in their slots and fills the others by score, never
    putting an item above its open ``blockers`` (row index -> its blockers' row indexes). Applied
    to a selection, each selected item goes to its suggested position, the others keeping their
    order around it, and then below its blockers if it landed above one.
    """
    blockers = blockers or {}
    movable = [i for i, row in enumerate(rows) if not row[4]]
    if blockers:
        suggestion = _constrained_fill(rows, blockers)
    else:
        suggestion = list(range(len(rows)))
        for slot, index in zip(movable, _by_score(rows, movable), strict=True):
            suggestion[slot] = index
    if selected is None:
        return suggestion
    chosen = {i for i in movable if rows[i][0] in selected}
    target = {index: place for place, index in enumerate(suggestion)}
    final = [index for index in range(len(rows)) if index not in chosen]
    for index in sorted(chosen, key=target.get):  # ascending, so earlier inserts keep later targets
        final.insert(min(target[index], len(final)), index)
    for _ in range(len(chosen)):  # a chain of k chosen items settles in at most k passes
        if not _below_blockers(final, chosen, blockers):
            break
    return final


def _below_blockers(final: list[int], chosen: set[int], blockers: dict[int, set[int]]) -> bool:
    """Move each chosen item standing above one of its blockers to right after its lowest one;
    return whether any moved."""
    moved = False
    for index in sorted(chosen, key=final.index):
        if not blockers.get(index):
            continue
        where = final.index(index)
        lowest = max(final.index(blocker) for blocker in blockers[index])
        if lowest > where:
            final.remove(index)
            final.insert(lowest, index)  # the blocker shifted up by one: right after it
            moved = True
    return moved


def suggested_order(*, product: Product) -> list[Suggestion]:
    """Every ordered item with its actual and suggested position, in the current order."""
    rows = _ordered_rows(product)
    blockers = _blockers_by_index(rows, blocking_pairs(product_id=product.pk))
    final = _suggested_indexes(rows, blockers=blockers)
    suggested = {index: position for position, index in enumerate(final, start=1)}

    def score_key(i: int) -> tuple:
        return (rows[i][3] is None, -(rows[i][3] or 0), i)

    return [
        Suggestion(
            row[0],
            row[1],
            row[3],
            row[4],
            position,
            suggested[position - 1],
            tuple(rows[b][0] for b in sorted(blockers.get(position - 1, ())) if score_key(position - 1) < score_key(b)),
        )
        for position, row in enumerate(rows, start=1)
    ]


def suggested_positions_for_new(*, product: Product, scores: Sequence[float | None]) -> list[int]:
    """Where the suggestion would put each of several items not yet in the order (proposals),
    each as if it alone entered at the bottom: 1-based positions.

    Pinned items keep their slots; among the others the newcomer goes after every item scored at
    least as high (it enters last, so ties keep it below); unscored, it goes last.
    """
    rows = _ordered_rows(product)
    slots = [i for i, row in enumerate(rows) if not row[4]] + [len(rows)]
    movable = sorted((row[3] for row in rows if not row[4] and row[3] is not None), reverse=True)
    scored_count = len(movable)
    negated = [-score for score in movable]  # ascending, for bisect
    positions = []
    for score in scores:
        if score is None:
            index = len(slots) - 1  # below every movable item, scored or not
        else:
            index = bisect_right(negated, -score)  # items scored at least as high come first
            index = min(index, scored_count)
        positions.append(slots[index] + 1)
    return positions


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
    """Reorder all (or the selected) unpinned items by score; return how many rows moved."""
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.REORDER, product, actions=actions)
        rows = _ordered_rows(product)
        selected = set(item_ids) if item_ids is not None else None
        if selected is not None:
            unknown = selected - {row[0] for row in rows}
            if unknown:
                raise ValidationError({"items": f"Not in this product's order: {sorted(unknown)}."})
        blockers = _blockers_by_index(rows, blocking_pairs(product_id=product.pk))
        final = _suggested_indexes(rows, selected, blockers)
        fixed = {i for i, row in enumerate(rows) if row[4] or (selected is not None and row[0] not in selected)}
        kept = _kept(final, fixed)
        if len(kept) == len(final):
            return 0
        new_keys = _keys_around_kept(rows, final, kept)
        if max(len(key) for key in new_keys.values()) > settings.ORDER_KEY_MAX_LENGTH:
            order_rebalance(product=product)
            rows = _ordered_rows(product)
            new_keys = _keys_around_kept(rows, final, kept)
        _write(product, actor, rows, final, new_keys, reason)
        transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
        return len(new_keys)


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


def _keys_around_kept(rows, final: list[int], kept: set[int]) -> dict[int, str]:
    """New keys (by row index) for the items that move, between the kept items around them.

    Keys that moving items still hold are skipped, so no write ever collides with another.
    """
    keys: dict[int, str] = {}
    run: list[int] = []
    lower: str | None = None
    for index in [*final, None]:
        if index is not None and index not in kept:
            run.append(index)
            continue
        upper = rows[index][2] if index is not None else None
        if run:
            held = {rows[i][2] for i in run}
            candidates = ranking.keys_between(lower, upper, len(run) + len(held))
            fresh = [key for key in candidates if key not in held][: len(run)]
            keys.update(zip(run, fresh, strict=True))
            run = []
        lower = upper
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


# The refresh writes this many rows per transaction, so it never holds many row locks for long.
REFRESH_CHUNK = 500


def suggested_positions_refresh(*, product_id: int) -> int:
    """Store each ordered item's suggested position (unordered items: none); return rows written.

    Only the items whose suggested position changed are written, in short transactions of
    ``REFRESH_CHUNK`` rows in id order. On PostgreSQL a row another writer holds (a move, an
    edit) is skipped rather than waited for (``FOR UPDATE SKIP LOCKED``), so the refresh never
    waits on a move and never deadlocks with one; when rows were skipped it queues itself again.
    The backlog page reads these positions to show each item's drift without computing the whole
    suggestion per request.
    """
    product = Product.objects.get(pk=product_id)
    stored = dict(
        Item.objects.filter(product=product)
        .filter(Q(rank__isnull=False) | Q(suggested_position__isnull=False))
        .values_list("id", "suggested_position")
    )
    fresh = {row.item_id: row.suggested_position for row in suggested_order(product=product)}
    changed = sorted((pk, fresh.get(pk)) for pk, position in stored.items() if fresh.get(pk) != position)
    written = 0
    for start in range(0, len(changed), REFRESH_CHUNK):
        chunk = changed[start : start + REFRESH_CHUNK]
        with transaction.atomic():
            written += _write_suggested_positions(chunk)
    if written < len(changed):
        enqueue_suggestions(product_id)  # the rows held by other writers, shortly
    return written


def _write_suggested_positions(chunk: list[tuple[int, int | None]]) -> int:
    table = connection.ops.quote_name(Item._meta.db_table)
    if connection.vendor != "postgresql":
        # One prepared UPDATE run per row: far faster on SQLite than bulk_update's CASE per row.
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET suggested_position = %s WHERE id = %s",
                [(position, pk) for pk, position in chunk],
            )
        return len(chunk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH free AS (SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED) "
            f"UPDATE {table} i SET suggested_position = s.position "
            "FROM unnest(%s::bigint[], %s::integer[]) AS s(id, position), free WHERE i.id = s.id AND free.id = s.id",
            [[pk for pk, _ in chunk], [pk for pk, _ in chunk], [position for _, position in chunk]],
        )
        return cursor.rowcount


def suggested_positions_ensure_fresh(*, product_id: int) -> None:
    """Refresh the stored suggested positions now if changes made them stale (jobs in process).

    With a broker the refresh job does it; pages then skip even the look-up. The mark is a row
    (see ``StaleSuggestions``): whichever process deletes it refreshes, and changes from then on
    mark the product stale again.
    """
    if suggestions_stale_take(product_id):
        suggested_positions_refresh(product_id=product_id)
