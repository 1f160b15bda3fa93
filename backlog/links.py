"""Reads of the links between items: an item's links on both ends, and the order warnings.

An **order warning**: an item ordered above an open item that blocks it ("OB-12 is above its
blocker OB-40"). Blockers outside the order (proposed, done, rejected, archived) warn of nothing:
a proposal has no place yet, the others no longer block. The warnings of a page of items come
from one prefetch (``warning_prefetch``), so a screen costs the same queries however many links.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F, Prefetch, Q

from backlog.models import Item, ItemLink, item_key

WARNING_ATTR = "warning_links"


def _warning_links():
    """The blocking links whose blocker stands below the blocked item, with the blocker's number
    only (what a warning says of it)."""
    return (
        ItemLink.objects.filter(kind=ItemLink.Kind.BLOCKS, source__rank__gt=F("target__rank"))
        .select_related("source")
        .only("target", "source", "source__number")
        .order_by("source__rank")
    )


def warning_prefetch() -> Prefetch:
    """The blocking links of each listed item whose blocker stands below it in the order."""
    return Prefetch("links_in", queryset=_warning_links(), to_attr=WARNING_ATTR)


def warning_text(item_key_: str, blocker_key: str) -> str:
    return f"{item_key_} is above its blocker {blocker_key}"


def order_warnings(item: Item) -> list[dict[str, str]]:
    """The item's order warnings: ``[{"blocker": "OB-40", "text": "OB-12 is above its blocker OB-40"}]``.

    Read from ``warning_prefetch`` when the item came with it, else with one query.
    """
    links = getattr(item, WARNING_ATTR, None)
    if links is None:
        links = list(_warning_links().filter(target=item)) if item.rank is not None else []
    key = item_key(item.product.key, item.number)
    warnings = []
    for link in links:
        blocker = item_key(item.product.key, link.source.number)
        warnings.append({"blocker": blocker, "text": warning_text(key, blocker)})
    return warnings


@dataclass(frozen=True)
class LinkEnd:
    """One of an item's links as seen from the item: ``end`` is what the item is to ``other``."""

    end: str  # blocks, blocked_by, relates_to, split_from, split_into, duplicate_of, duplicated_by
    other: Item
    link_id: int | None  # the stored link (None: split and duplicate, recorded by their own workflows)

    @property
    def words(self) -> str:
        return END_WORDS[self.end]

    @property
    def other_open(self) -> bool:
        return self.other.status not in (Item.Status.DONE, Item.Status.REJECTED, Item.Status.ARCHIVED)


END_WORDS = {
    "blocks": "blocks",
    "blocked_by": "is blocked by",
    "relates_to": "relates to",
    "split_from": "was split from",
    "split_into": "was split into",
    "duplicate_of": "is a duplicate of",
    "duplicated_by": "is duplicated by",
}


def item_links(*, item: Item) -> list[LinkEnd]:
    """Every link of the item, on both ends, the stored ones (blocks, relates) and the recorded
    ones (split from, duplicate of): three queries."""
    ends: list[LinkEnd] = []
    links = (
        ItemLink.objects.filter(Q(source=item) | Q(target=item))
        .select_related("source", "target")
        .order_by("kind", "id")
    )
    for link in links:
        if link.kind == ItemLink.Kind.RELATES:
            end, other = "relates_to", link.target if link.source_id == item.pk else link.source
        elif link.source_id == item.pk:
            end, other = "blocks", link.target
        else:
            end, other = "blocked_by", link.source
        ends.append(LinkEnd(end, other, link.pk))
    related = Item.objects.filter(
        Q(pk__in=[pk for pk in (item.split_from_id, item.duplicate_of_id) if pk])
        | Q(split_from=item)
        | Q(duplicate_of=item)
    ).order_by("number")
    for other in related:
        if other.pk == item.split_from_id:
            ends.append(LinkEnd("split_from", other, None))
        if other.pk == item.duplicate_of_id:
            ends.append(LinkEnd("duplicate_of", other, None))
        if other.split_from_id == item.pk:
            ends.append(LinkEnd("split_into", other, None))
        if other.duplicate_of_id == item.pk:
            ends.append(LinkEnd("duplicated_by", other, None))
    order = list(END_WORDS)
    ends.sort(key=lambda found: (order.index(found.end), found.other.number))
    for found in ends:
        found.other.product = item.product
    return ends


def kept_below(*, item: Item) -> list[str]:
    """The keys of the open blockers the suggested order keeps ``item`` below although its score
    alone would put it above them (its score is higher, or theirs is missing): the suggestion's
    topological constraint, said in the score's "why"."""
    return [item_key(item.product.key, number) for _, number in kept_below_many([item]).get(item.pk, ())]


def kept_below_many(items: Sequence[Item]) -> dict[int, list[tuple[int, int]]]:
    """For each of the given ordered items (a page of them), (id, number) of the open blockers
    the suggestion keeps it below (see ``kept_below``), in the order: one query for them all."""
    ranked = {item.pk: item for item in items if item.rank is not None}
    if not ranked:
        return {}
    links = (
        ItemLink.objects.filter(target_id__in=list(ranked), kind=ItemLink.Kind.BLOCKS, source__rank__isnull=False)
        .order_by("source__rank")
        .values_list("target_id", "source_id", "source__number", "source__score", "source__rank")
    )
    held: dict[int, list[tuple[int, int]]] = {}
    for target, source, number, score, rank in links:
        item = ranked[target]
        if _by_score_before(item.score, item.rank, score, rank):
            held.setdefault(target, []).append((source, number))
    return held


def _by_score_before(score: float | None, rank: str, other_score: float | None, other_rank: str) -> bool:
    """Would the score order (highest first, unscored last, ties by current place) put the first
    item before the second?"""
    return (score is None, -(score or 0), rank) < (other_score is None, -(other_score or 0), other_rank)


def blocking_pairs(*, product_id: int) -> list[tuple[int, int]]:
    """(blocker id, blocked id) of the product's blocking links whose two items are in the order."""
    return list(
        ItemLink.objects.filter(
            product_id=product_id,
            kind=ItemLink.Kind.BLOCKS,
            source__rank__isnull=False,
            target__rank__isnull=False,
        ).values_list("source_id", "target_id")
    )
