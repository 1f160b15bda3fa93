"""Reads of the backlog that span relations."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery

from accounts.models import Product
from backlog import order_sql
from backlog.filters import ItemFilter, filter_parameters
from backlog.links import warning_prefetch
from backlog.models import Item, ItemEvent, Label, SavedView
from backlog.references import parse_reference


def backlog_items(*, product: Product) -> QuerySet[Item]:
    """Return the ordered backlog (open and in-progress items) in rank order."""
    return Item.objects.filter(product=product).ordered().select_related("product")


def item_position(*, item: Item) -> int | None:
    """Return the item's 1-based position in the order, or None when it is not ordered."""
    return order_sql.position_of(item.product_id, item.rank) if item.rank is not None else None


# A whole-product job writes its rows in chunks, a transaction each, and a move of a row in the
# chunk being written waits for it: a chunk is at most this share of the product, so that on a
# small product a move rarely meets one (at 1,000 items a 250-row recompute chunk covered a
# quarter of the product: with bench/scale.py's mover, the moves' p99 went 1.7-3.0x while
# recomputes ran, 0.7-1.4x with chunks of a hundredth).
CHUNK_SHARE = 100
CHUNK_FEWEST = 10


def chunk_rows(*, product_id: int, most: int) -> int:
    """How many rows a chunk of a whole-product job over the product's items takes: ``most``, or
    a hundredth of the product when that is less (never fewer than ``CHUNK_FEWEST``). Counts at
    most ``most`` x ``CHUNK_SHARE`` items (one index range), whatever the product's size."""
    counted = Item.objects.filter(product_id=product_id).order_by()[: most * CHUNK_SHARE].count()
    return min(most, max(CHUNK_FEWEST, counted // CHUNK_SHARE))


def item_history(*, item: Item) -> QuerySet[ItemEvent]:
    """Return the item's history (edits, status changes, moves), oldest first."""
    return ItemEvent.objects.filter(item=item).select_related("actor").order_by("created_at", "id")


def item_by_reference(*, reference: str) -> Item | None:
    """Find an item by id (``"42"``) or key (``"OB-42"``, ``"ob-42"``), with its product."""
    items = Item.objects.select_related("product", "created_by").prefetch_related("labels")
    found = parse_reference(reference)
    if found is None:
        return None
    if found.pk is not None:
        return items.filter(pk=found.pk).first()
    return items.filter(product__key=found.product_key, number=found.number).first()


def items_for_api(*, product: Product) -> QuerySet[Item]:
    """A product's items with what the API shows of each, in a constant number of queries."""
    return with_change_seq(
        Item.objects.filter(product=product)
        .select_related("product", "created_by", "split_from", "duplicate_of")
        .prefetch_related("labels", warning_prefetch())
    )


def with_change_seq(items: QuerySet[Item]) -> QuerySet[Item]:
    """``items`` with ``change_seq``: the change feed's number of each one's last change (one
    index probe per row, on ``(item, seq)``)."""
    last = ItemEvent.objects.filter(item=OuterRef("pk")).order_by("-seq").values("seq")[:1]
    return items.annotate(change_seq=Subquery(last))


def change_feed(*, product: Product, after: int) -> QuerySet[ItemEvent]:
    """The product's changes numbered after ``after``, in feed order, with their items' numbers."""
    return (
        ItemEvent.objects.filter(product=product, seq__gt=after)
        .select_related("actor")
        .annotate(item_number=F("item__number"))
        .order_by("seq")
    )


@dataclass(frozen=True)
class ItemListing:
    """A filtered list of a product's items, as the backlog page and the API show it."""

    items: QuerySet[Item]  # in ``ordering``
    ordering: str  # "rank", "number" or "-number"
    filters: dict[str, str]  # the parameters applied, as query-string values (lists comma-separated)

    @property
    def filtered(self) -> bool:
        """Does it leave items of the backlog out (so positions are not the backlog's)?"""
        return bool(set(self.filters) - {"ordering"})


def item_list(*, product: Product, filters, strict: bool = True) -> ItemListing:
    """Filter a product's items by the list's parameters (``backlog.filters``), for the page and the API.

    ``filters`` is a query string's parameters. ``strict`` (the API): an invalid parameter is a
    ValidationError naming it; otherwise (the page) invalid parameters are left out.
    """
    data, errors = filter_parameters(filters, strict=strict)
    if errors:
        raise ValidationError(errors)
    filterset = ItemFilter(data, queryset=items_for_api(product=product), product=product)
    if not filterset.is_valid():
        if strict:
            raise ValidationError({name: list(messages) for name, messages in filterset.errors.items()})
        data = {name: value for name, value in data.items() if name not in filterset.errors}
        filterset = ItemFilter(data, queryset=items_for_api(product=product), product=product)
        filterset.is_valid()
    ordering = filterset.chosen_ordering
    return ItemListing(items=filterset.qs.order_by(ordering), ordering=ordering, filters=data)


# The labels page counts each label's items up to this many (more shows as "more than 1,000"): a
# label on most of a million items would otherwise cost a read of a million rows per request.
LABEL_COUNT_LIMIT = 1000


class _CountOf(Subquery):
    """How many rows a subquery gives (with a LIMIT in it: a bounded count)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def labels_with_counts(*, product: Product) -> QuerySet[Label]:
    """The product's labels by name, each with ``item_count``: how many items carry it, counted
    up to ``LABEL_COUNT_LIMIT`` + 1 (so ``item_count > LABEL_COUNT_LIMIT`` means "more than")."""
    tagged = Item.labels.through.objects.filter(label=OuterRef("pk")).values("pk")[: LABEL_COUNT_LIMIT + 1]
    return Label.objects.filter(product=product).annotate(item_count=_CountOf(tagged)).order_by("name")


def saved_views_for(*, product: Product, user) -> QuerySet[SavedView]:
    """The views of ``product``'s backlog ``user`` sees: their own and the shared ones, by name."""
    return (
        SavedView.objects.filter(Q(shared=True) | Q(created_by=user), product=product)
        .select_related("product", "created_by")
        .order_by("name", "id")
    )
