"""Export a product's items (the backlog, or any filtered list) as CSV or JSON, streamed.

The items are those ``backlog.selectors.item_list`` finds for the list's parameters, in backlog
order: the ordered items (open, in progress) by rank, then the rest (proposed, done, rejected,
archived) by number; ``ordering=number`` or ``-number`` orders everything by number instead.
Rows are read as plain values with ``QuerySet.iterator(chunk_size=…)``: a server-side cursor on
PostgreSQL, and the labels fetched once per chunk, so an export of any size holds one chunk in
memory.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) are prefixed with ``'`` (OWASP's advice on CSV injection); the import
removes that prefix again.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet

from accounts.models import Product
from backlog.models import DERIVED_FIELDS, KIND_INPUTS, VALUE_CASE, VALUE_FIELDS, Item, item_key
from backlog.selectors import item_list

CHUNK_SIZE = 2000
FORMATS = ("csv", "json")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Every field an item has, in the order of the CSV's columns (the JSON uses the same names).
COLUMNS = (
    "key",
    "external_ref",
    "position",
    "kind",
    "status",
    "title",
    "description",
    "acceptance_criteria",
    "estimate",
    "labels",
    *VALUE_FIELDS,
    *KIND_INPUTS,
    *DERIVED_FIELDS,
    *VALUE_CASE,
    "pinned",
    "score",
    "split_from",
    "duplicate_of",
    "created_by",
    "created_at",
    "updated_at",
)
# Labels are one CSV cell, separated so (the item form separates them with commas too).
LABEL_SEPARATOR = ", "


def export_items(*, product: Product, filters) -> tuple[QuerySet[Item], bool]:
    """The items an export of ``product`` with the list's parameters ``filters`` writes, in its
    order, and whether it holds the whole order from its top (so positions are the backlog's). A
    ValidationError names a parameter it cannot use, as the list's API does."""
    listing = item_list(product=product, filters=filters)
    items = listing.items
    if listing.filters.get("ordering") in ("number", "-number"):
        return items.order_by(listing.filters["ordering"]), False
    statuses = set(filter(None, listing.filters.get("status", "").split(","))) or set(Item.ORDERED_STATUSES)
    whole_order = not set(listing.filters) - {"ordering", "status"} and set(Item.ORDERED_STATUSES) <= statuses
    return items.order_by(F("rank").asc(nulls_last=True), "number"), whole_order


# Read as plain values (no model instances): the export's own links by their numbers.
LINKED = {
    "split_from": "split_from__number",
    "duplicate_of": "duplicate_of__number",
    "created_by": "created_by__username",
}
VALUES = [
    "id",
    "number",
    "rank",
    *(c for c in COLUMNS if c not in ("key", "position", "labels", *LINKED)),
    *LINKED.values(),
]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _chunk_records(product_key: str, rows: list[dict[str, Any]], positions: list[int | None]) -> Iterator[dict]:
    """The records of one chunk of rows, with their labels (one query for the chunk)."""
    labels: dict[int, list[str]] = {row["id"]: [] for row in rows}
    through = Item.labels.through.objects.filter(item_id__in=list(labels)).values_list("item_id", "label__name")
    for item_id, name in through:
        labels[item_id].append(name)
    for row, position in zip(rows, positions, strict=True):
        record: dict[str, Any] = {}
        for column in COLUMNS:
            if column == "key":
                value = item_key(product_key, row["number"])
            elif column == "position":
                value = position
            elif column == "labels":
                value = sorted(labels[row["id"]])
            elif column in ("split_from", "duplicate_of"):
                number = row[LINKED[column]]
                value = item_key(product_key, number) if number is not None else None
            elif column == "created_by":
                value = row[LINKED[column]]
            else:
                value = _plain(row[column])
            record[column] = value
        yield record


def export_records(
    items: QuerySet[Item], *, product_key: str, positions: bool = True, chunk_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """The items' records, in the queryset's order, read ``chunk_size`` at a time (one query for
    the items, a server-side cursor on PostgreSQL, and one for the labels of each chunk).

    With ``positions`` (the export holds the whole order from its top), an ordered item's
    ``position`` is its place in the backlog; otherwise it is empty.
    """
    size = chunk_size or CHUNK_SIZE
    position = 0
    rows: list[dict[str, Any]] = []
    places: list[int | None] = []
    for row in items.values(*VALUES).iterator(chunk_size=size):
        if row["rank"] is not None:
            position += 1
        rows.append(row)
        places.append(position if positions and row["rank"] is not None else None)
        if len(rows) == size:
            yield from _chunk_records(product_key, rows, places)
            rows, places = [], []
    if rows:
        yield from _chunk_records(product_key, rows, places)


def safe_cell(value: Any) -> str:
    """A value as a CSV cell, with a formula-looking text prefixed by ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = LABEL_SEPARATOR.join(value)
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    """A file-like object that hands back what the csv writer wrote (one row at a time)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV file, header first, one line (a row) at a time; UTF-8 with a BOM, so spreadsheet
    programs read the accents right."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(COLUMNS)
    for record in records:
        yield writer.writerow([safe_cell(record[column]) for column in COLUMNS])


def json_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of the records, one record a line."""
    yield "["
    separator = "\n"
    for record in records:
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def export_stream(*, product: Product, filters, format: str) -> tuple[Iterator[str], bool]:
    """The export's lines in ``format`` (csv or json) and whether positions are the backlog's."""
    items, positions = export_items(product=product, filters=filters)
    records = export_records(items, product_key=product.key, positions=positions)
    return (csv_lines(records) if format == "csv" else json_lines(records)), positions
