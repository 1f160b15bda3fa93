"""Links between items of one product: blocks / is blocked by, relates to.

A "blocks" link that would close a cycle is refused with the cycle named ("OB-3 → OB-7 → OB-3").
Writers lock the product row first (``lock_product_for``), so two links created at once cannot
together make a cycle that neither made alone: the second one checks after the first committed.
Both items record the link in their history.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, lock_product_for, require
from backlog import history
from backlog.jobs import enqueue_suggestions
from backlog.models import Item, ItemLink
from backlog.transactions import retry_on_conflict

MAX_LINKS = 200  # stored links per item, so an item's links are one short list

# An item's end of a link, as people and the API say it -> (stored kind, is this item the source?)
ENDS = {
    "blocks": (ItemLink.Kind.BLOCKS, True),
    "blocked_by": (ItemLink.Kind.BLOCKS, False),
    "relates_to": (ItemLink.Kind.RELATES, None),
}


def end_of(link: ItemLink, item_id: int) -> str:
    """``item_id``'s end of ``link``: blocks, blocked_by or relates_to."""
    if link.kind == ItemLink.Kind.RELATES:
        return "relates_to"
    return "blocks" if link.source_id == item_id else "blocked_by"


def _reachable(start_id: int) -> set[int]:
    """Every item ``start_id`` blocks, directly or through others: one recursive query."""
    table = connection.ops.quote_name(ItemLink._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE reach(id) AS ("
            f" SELECT target_id FROM {table} WHERE source_id = %s AND kind = %s"
            f" UNION SELECT l.target_id FROM {table} l JOIN reach r ON l.source_id = r.id WHERE l.kind = %s"
            ") SELECT id FROM reach",
            [start_id, ItemLink.Kind.BLOCKS, ItemLink.Kind.BLOCKS],
        )
        return {row[0] for row in cursor.fetchall()}


def blocking_cycle(*, blocker: Item, blocked: Item) -> list[int] | None:
    """The cycle (item ids, first = last = ``blocker``) that "``blocker`` blocks ``blocked``" would
    close, or None. Call with the product locked."""
    if blocker.pk == blocked.pk:
        return [blocker.pk, blocker.pk]
    reach = _reachable(blocked.pk)
    if blocker.pk not in reach:
        return None
    # A shortest path blocked → … → blocker, over the links among the items reached.
    edges: dict[int, list[int]] = {}
    links = ItemLink.objects.filter(kind=ItemLink.Kind.BLOCKS, source_id__in=reach | {blocked.pk})
    for source, target in links.order_by("source_id", "target_id").values_list("source_id", "target_id"):
        edges.setdefault(source, []).append(target)
    came_from: dict[int, int | None] = {blocked.pk: None}
    frontier = [blocked.pk]
    while frontier and blocker.pk not in came_from:
        following = []
        for node in frontier:
            for target in edges.get(node, ()):
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    path, node = [], blocker.pk
    while node is not None:
        path.append(node)
        node = came_from[node]
    return [blocker.pk, *reversed(path)]


def _cycle_text(cycle: list[int], product_key: str) -> str:
    numbers = dict(Item.objects.filter(pk__in=set(cycle)).values_list("pk", "number"))
    return " → ".join(f"{product_key}-{numbers[pk]}" for pk in cycle)


@retry_on_conflict
def link_create(*, item: Item, actor: User, link: str, other: Item) -> ItemLink:
    """Link ``item`` to ``other`` (of the same product): ``link`` is ``item``'s end (blocks,
    blocked_by, relates_to). Members who may edit items' work do it."""
    if link not in ENDS:
        raise ValidationError({"type": f"A link is one of: {', '.join(ENDS)}."})
    kind, item_is_source = ENDS[link]
    with transaction.atomic():
        product, actions = lock_product_for(actor, item.product_id)
        require(actor, Action.EDIT_WORK, product, actions=actions)
        if other.product_id != product.pk:
            raise ValidationError({"item": "Link items of the same product."})
        if other.pk == item.pk:
            raise ValidationError({"item": "An item cannot be linked to itself."})
        for end in (item, other):
            if ItemLink.objects.filter(Q(source=end) | Q(target=end)).count() >= MAX_LINKS:
                raise ValidationError({"item": f"{_key(product.key, end)} has {MAX_LINKS} links already."})
        if kind == ItemLink.Kind.RELATES:
            source, target = sorted((item, other), key=lambda found: found.pk)
        else:
            source, target = (item, other) if item_is_source else (other, item)
        if ItemLink.objects.filter(source=source, target=target, kind=kind).exists():
            words = link.replace("_", " ")
            raise ValidationError({"item": f"{_key(product.key, item)} already {words} {_key(product.key, other)}."})
        if kind == ItemLink.Kind.BLOCKS and (cycle := blocking_cycle(blocker=source, blocked=target)):
            raise ValidationError(
                {
                    "item": f"{_key(product.key, source)} cannot block {_key(product.key, target)}: "
                    f"that would make a cycle, {_cycle_text(cycle, product.key)}."
                }
            )
        now = timezone.now()
        created = ItemLink.objects.create(
            product=product, source=source, target=target, kind=kind, created_by=actor, created_at=now
        )
        _record(history.linked, created, actor, now)
        if kind == ItemLink.Kind.BLOCKS:
            transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
    return created


@retry_on_conflict
def link_delete(*, link: ItemLink, actor: User) -> None:
    """Remove ``link`` (members who may edit items' work)."""
    with transaction.atomic():
        product, actions = lock_product_for(actor, link.product_id)
        require(actor, Action.EDIT_WORK, product, actions=actions)
        found = ItemLink.objects.filter(pk=link.pk).first()
        if found is None:
            return
        _record(history.unlinked, found, actor, timezone.now())
        found.delete()
        if found.kind == ItemLink.Kind.BLOCKS:
            transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)


def _record(event, link: ItemLink, actor: User, at) -> None:
    operation = uuid.uuid4()
    source = Item(pk=link.source_id, product_id=link.product_id)
    target = Item(pk=link.target_id, product_id=link.product_id)
    history.write(
        [
            event(
                item=source,
                actor=actor,
                link=end_of(link, source.pk),
                other=target,
                link_id=link.pk,
                operation=operation,
                at=at,
            ),
            event(
                item=target,
                actor=actor,
                link=end_of(link, target.pk),
                other=source,
                link_id=link.pk,
                operation=operation,
                at=at,
            ),
        ]
    )


def _key(product_key: str, item: Item) -> str:
    return f"{product_key}-{item.number}"
