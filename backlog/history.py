"""The item history: every ``ItemEvent`` row is built here, one function per event type.

Each type has one shape (its ``data``), documented in the API schema by the serializers in
``backlog/api/history.py``:

=================  ===========================================================================
type               data
=================  ===========================================================================
created            status, kind, labels, placed (a place or null), split_from (an item id or
                   null), seeded (demo data), fields (the item's own fields as created:
                   ``SNAPSHOT_FIELDS``, so a mirror can build it from the change feed)
updated            changes ({field: [old, new]}, labels as lists of names), version
status_changed     from, to (statuses), placed and removed (a place or null: entering or
                   leaving the order), duplicate_of (an item id or null), definition_of_done
                   (null, or {checked: [entries], waived: {entry: reason}} when done against one)
moved              from, to (places), block_size, suggested_order (applied by the suggestion)
question_asked     question (its id; the text is the event's reason)
question_answered  question (its id; the answer is the event's reason)
split              into (the parts' keys), kept (the original stays after them), removed (a
                   place or null)
linked             link (this item's end: blocks, blocked_by or relates_to), other (the other
                   item's id), link_id (the link's id); written on both items
unlinked           link, other, link_id: the link removed, as it was; written on both items
=================  ===========================================================================

A place is where an item stands in the order: ``position`` (1 is the top), ``after_id`` and
``before_id`` (its neighbours' ids, null at either end).

Rows written before these shapes were settled lack some keys (a move recorded by the ordering
engine had no positions; one applied by the suggestion had no neighbours, and both carried the
order keys). ``shape`` reads any row as its type's current shape, filling what is missing with
null, so old rows still render.

**The change feed.** ``write`` numbers every record in its product's sequence (``ItemEvent.seq``:
1, 2, 3, …) from the product's counter (``ChangeSequence``), advanced by one upsert in the
writer's transaction. The upsert holds the counter's row until the transaction ends, so two
writers of one product take their numbers one after the other and commit in that order: whoever
reads the feed sees a prefix of it, never number 8 before a 7 that commits later (which a global
auto-increment id would allow: ids are handed out before commit, in no commit order). Writers
take it last, after the product and item rows (the lock order of every writer); most already hold
the product row, so it adds no wait to them. The counter has a row of its own rather than a column
of the product: the service's folds share the product row (``FOR KEY SHARE``), and an UPDATE of
that row could queue behind a mover waiting for it.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypedDict

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models

from accounts.models import Product, User
from backlog.models import (
    DERIVED_FIELDS,
    KIND_INPUTS,
    VALUE_CASE,
    VALUE_FIELDS,
    ChangeSequence,
    Item,
    ItemEvent,
    item_key,
)

Type = ItemEvent.Type


class Place(TypedDict):
    """Where an item stands in the order."""

    position: int | None
    after_id: int | None
    before_id: int | None


def place(*, position: int | None, after_id: int | None, before_id: int | None) -> Place:
    return {"position": position, "after_id": after_id, "before_id": before_id}


# The item's own fields a created record carries (its status, kind and labels have keys of their
# own): with the edits' changes, everything a mirror of the backlog needs to build an item.
SNAPSHOT_FIELDS = (
    "number",
    "title",
    "description",
    "acceptance_criteria",
    "estimate",
    *VALUE_FIELDS,
    *KIND_INPUTS,
    *DERIVED_FIELDS,
    *VALUE_CASE,
    "pinned",
    "external_ref",
)


def created(
    *,
    item: Item,
    actor: User | None,
    placed: Place | None,
    labels: Sequence[str] = (),
    split_from: Item | None = None,
    seeded: bool = False,
    operation: uuid.UUID | None = None,
    at: datetime | None = None,
) -> ItemEvent:
    """An item was created (at ``at``, default its creation time): proposed, or placed in the
    order (``placed``)."""
    data = {
        "status": item.status,
        "kind": item.kind,
        "labels": list(labels),
        "placed": placed,
        "split_from": split_from.pk if split_from else None,
        "seeded": seeded,
        "fields": {name: getattr(item, name) for name in SNAPSHOT_FIELDS},
    }
    return _event(item, actor, Type.CREATED, data, at=at or item.created_at, operation=operation)


def updated(*, item: Item, actor: User, changes: dict[str, list[Any]], at: datetime | None = None) -> ItemEvent:
    """Fields changed: ``changes`` maps each field (or ``labels``) to ``[old, new]``; at ``at``
    (default: the item's last update)."""
    data = {"changes": changes, "version": item.version}
    return _event(item, actor, Type.UPDATED, data, at=at or item.updated_at)


class DefinitionOfDone(TypedDict):
    """The Definition of Done an item was done against: the entries checked, and the waived ones
    with their reasons."""

    checked: list[str]
    waived: dict[str, str]


def status_changed(
    *,
    item: Item,
    actor: User,
    old: str,
    placed: Place | None = None,
    removed: Place | None = None,
    duplicate_of: Item | None = None,
    definition_of_done: DefinitionOfDone | None = None,
    reason: str = "",
) -> ItemEvent:
    """The status changed from ``old`` to the item's status, entering (``placed``) or leaving
    (``removed``) the order as it went; done against ``definition_of_done`` when it has one."""
    data = {
        "from": old,
        "to": item.status,
        "placed": placed,
        "removed": removed,
        "duplicate_of": duplicate_of.pk if duplicate_of else None,
        "definition_of_done": definition_of_done,
    }
    return _event(item, actor, Type.STATUS_CHANGED, data, at=item.updated_at, reason=reason)


def moved(
    *,
    item_id: int,
    product: Product,
    actor: User,
    origin: Place,
    destination: Place,
    block_size: int,
    suggested_order: bool = False,
    reason: str = "",
    operation: uuid.UUID,
    at: datetime | None = None,
) -> ItemEvent:
    """An item moved in the order, alone or in a block (by hand or by applying the suggestion)."""
    data = {"from": origin, "to": destination, "block_size": block_size, "suggested_order": suggested_order}
    item = Item(pk=item_id, product=product)
    return _event(item, actor, Type.MOVED, data, at=at, reason=reason, operation=operation)


def question_asked(*, item: Item, actor: User, question_id: int, text: str, at: datetime) -> ItemEvent:
    return _event(item, actor, Type.QUESTION_ASKED, {"question": question_id}, at=at, reason=text)


def question_answered(*, item: Item, actor: User, question_id: int, text: str, at: datetime) -> ItemEvent:
    return _event(item, actor, Type.QUESTION_ANSWERED, {"question": question_id}, at=at, reason=text)


def split(
    *, item: Item, actor: User, into: Sequence[str], kept: bool, removed: Place | None, operation: uuid.UUID
) -> ItemEvent:
    """The item was split into the parts ``into`` (keys); the original is kept or archived."""
    data = {"into": list(into), "kept": kept, "removed": removed}
    return _event(item, actor, Type.SPLIT, data, at=item.updated_at, operation=operation)


LINK_ENDS = ("blocks", "blocked_by", "relates_to")


def linked(
    *, item: Item, actor: User, link: str, other: Item, link_id: int, operation: uuid.UUID, at: datetime
) -> ItemEvent:
    """``item`` was linked to ``other``: ``link`` is this item's end (it blocks, is blocked by,
    or relates to the other)."""
    data = {"link": link, "other": other.pk, "link_id": link_id}
    return _event(item, actor, Type.LINKED, data, at=at, operation=operation)


def unlinked(
    *, item: Item, actor: User, link: str, other: Item, link_id: int, operation: uuid.UUID, at: datetime
) -> ItemEvent:
    """The link of ``item`` to ``other`` (this item's end ``link``) was removed."""
    data = {"link": link, "other": other.pk, "link_id": link_id}
    return _event(item, actor, Type.UNLINKED, data, at=at, operation=operation)


# Who else hears of every event written: callables given the saved rows, inside the writer's
# transaction (a listener that sends anything defers it with ``transaction.on_commit``). The apps
# above add theirs from ``AppConfig.ready`` through ``listen``.
LISTENERS: list[Callable[[list[ItemEvent]], None]] = []


def listen(listener: Callable[[list[ItemEvent]], None]) -> None:
    """Call ``listener`` with every batch of events written from now on (once, however often asked)."""
    if listener not in LISTENERS:
        LISTENERS.append(listener)


def write(events: Iterable[ItemEvent]) -> list[ItemEvent]:
    """Number the events in their products' change feeds (in the order given), save them in one
    statement, then tell the listeners. Call it inside a transaction (every writer does): the
    product rows stay locked until it ends, which is what keeps the feed in commit order."""
    events = list(events)
    counts: dict[int, int] = {}
    for event in events:
        counts[event.product_id] = counts.get(event.product_id, 0) + 1
    next_seq = {product_id: _advance(product_id, count) - count + 1 for product_id, count in sorted(counts.items())}
    for event in events:
        event.seq = next_seq[event.product_id]
        next_seq[event.product_id] += 1
    saved = ItemEvent.objects.bulk_create(events, batch_size=5000)
    for listener in LISTENERS:
        listener(saved)
    return saved


def _advance(product_id: int, count: int) -> int:
    """Take ``count`` numbers of the product's change feed; return the last one. The upsert
    keeps the counter's row locked to the end of the transaction (see the module's docstring)."""
    table = connection.ops.quote_name(ChangeSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, last_seq) VALUES (%s, %s) ON CONFLICT (product_id) "
            f"DO UPDATE SET last_seq = {table}.last_seq + excluded.last_seq RETURNING last_seq",
            [product_id, count],
        )
        return cursor.fetchone()[0]


def _event(
    item: Item,
    actor: User | None,
    type: str,
    data: dict[str, Any],
    *,
    at: datetime | None,
    reason: str = "",
    operation: uuid.UUID | None = None,
) -> ItemEvent:
    event = ItemEvent(item_id=item.pk, product_id=item.product_id, actor=actor, type=type, data=data, reason=reason)
    if at is not None:
        event.created_at = at
    if operation is not None:
        event.operation = operation
    return event


# Reading: every row as its type's current shape, and as a sentence.

_DEFAULTS: dict[str, dict[str, Any]] = {
    Type.CREATED: {
        "status": "",
        "kind": "",
        "labels": [],
        "placed": None,
        "split_from": None,
        "seeded": False,
        "fields": {},
    },
    Type.UPDATED: {"changes": {}, "version": None},
    Type.STATUS_CHANGED: {
        "from": "",
        "to": "",
        "placed": None,
        "removed": None,
        "duplicate_of": None,
        "definition_of_done": None,
    },
    Type.MOVED: {"from": None, "to": None, "block_size": 1, "suggested_order": False},
    Type.QUESTION_ASKED: {"question": None},
    Type.QUESTION_ANSWERED: {"question": None},
    Type.SPLIT: {"into": [], "kept": False, "removed": None},
    Type.LINKED: {"link": "", "other": None, "link_id": None},
    Type.UNLINKED: {"link": "", "other": None, "link_id": None},
}
_PLACES = {"placed", "removed", "from", "to"}


def _place_of(value: Any) -> Place | None:
    if not isinstance(value, dict):
        return None
    return place(position=value.get("position"), after_id=value.get("after_id"), before_id=value.get("before_id"))


def shape(event: ItemEvent) -> dict[str, Any]:
    """The event's data in its type's current shape, whatever shape it was written in."""
    data = {**_DEFAULTS[event.type], **{k: v for k, v in event.data.items() if k in _DEFAULTS[event.type]}}
    if event.type == Type.STATUS_CHANGED:
        return {name: _place_of(v) if name in ("placed", "removed") else v for name, v in data.items()}
    return {name: _place_of(v) if name in _PLACES else v for name, v in data.items()}


def _referenced_ids(data: dict[str, Any]) -> set[int]:
    ids = {data.get("split_from"), data.get("duplicate_of"), data.get("other")}
    for name in _PLACES:
        if isinstance(data.get(name), dict):
            ids |= {data[name]["after_id"], data[name]["before_id"]}
    return {pk for pk in ids if isinstance(pk, int)}


def describe(events: Sequence[ItemEvent]) -> dict[int, str]:
    """What each event says, for people (by event id): "moved from 12 to 3 (after OB-7)",
    "accepted at position 3", "changed estimate 3 → 5, acceptance criteria". One query for the
    keys of the items they name, however many events."""
    shapes = {event.pk: shape(event) for event in events}
    ids = set().union(*(_referenced_ids(data) for data in shapes.values())) if shapes else set()
    keys = {pk: item_key(product_key, number) for pk, product_key, number in _keys_of(ids)}
    return {event.pk: _Sentence(keys).of(event.type, shapes[event.pk]) for event in events}


def _keys_of(ids: set[int]) -> list[tuple[int, str, int]]:
    if not ids:
        return []
    return list(Item.objects.filter(pk__in=ids).values_list("pk", "product__key", "number"))


STATUS_LABELS = dict(Item.Status.choices)


def _field(name: str) -> models.Field | None:
    try:
        return Item._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def field_label(name: str) -> str:
    """A field's name for people: the model field's verbose name (``labels`` for the labels)."""
    field = _field(name)
    return str(field.verbose_name) if field is not None else name.replace("_", " ")


class _Sentence:
    def __init__(self, keys: dict[int, str]) -> None:
        self.keys = keys

    def key(self, pk: int | None) -> str:
        return self.keys.get(pk, "a deleted item") if pk is not None else ""

    def where(self, at: Place | None) -> str:
        """ "at position 3 (after OB-7)", or what an old record knows of it."""
        if at is None:
            return ""
        neighbour = (
            f"after {self.key(at['after_id'])}"
            if at["after_id"] is not None
            else f"before {self.key(at['before_id'])}"
            if at["before_id"] is not None
            else ""
        )
        if at["position"] is None:
            return neighbour
        return f"at position {at['position']}" + (f" ({neighbour})" if neighbour else "")

    def of(self, type: str, data: dict[str, Any]) -> str:
        return getattr(self, type)(data)

    def created(self, data: dict[str, Any]) -> str:
        text = "proposed" if data["status"] == Item.Status.PROPOSED else "created"
        if data["split_from"] is not None:
            text += f" by splitting {self.key(data['split_from'])}"
        if data["placed"]:
            text += f" {self.where(data['placed'])}"
        return text + (" (demo data)" if data["seeded"] else "")

    def updated(self, data: dict[str, Any]) -> str:
        # Fields said with their values first, then those said by name, then labels, each in the
        # model's field order (PostgreSQL keeps no key order in JSON).
        names = sorted(
            data["changes"],
            key=lambda name: (name == "labels", not _with_values(name), _FIELD_ORDER.get(name, len(_FIELD_ORDER))),
        )
        return "changed " + ", ".join(_change(name, *data["changes"][name]) for name in names)

    def status_changed(self, data: dict[str, Any]) -> str:
        old, new = data["from"], data["to"]
        if old == Item.Status.PROPOSED and new == Item.Status.OPEN:
            text = "accepted"
        elif old == Item.Status.PROPOSED and new == Item.Status.REJECTED:
            text = "rejected"
            if data["duplicate_of"] is not None:
                text += f" as a duplicate of {self.key(data['duplicate_of'])}"
        else:
            text = f"changed status {_status(old)} → {_status(new)}"
        if data["placed"]:
            text += f" {self.where(data['placed'])}"
        if data["removed"] and data["removed"]["position"] is not None:
            text += f", leaving position {data['removed']['position']}"
        if data["definition_of_done"] and data["definition_of_done"]["waived"]:
            waived = data["definition_of_done"]["waived"]
            text += f", waiving {', '.join(waived)}"
        return text

    def moved(self, data: dict[str, Any]) -> str:
        origin, destination = data["from"] or place(position=None, after_id=None, before_id=None), data["to"]
        if destination is None:
            return "moved"
        if origin["position"] is not None and destination["position"] is not None:
            text = f"moved from {origin['position']} to {destination['position']}"
            neighbour = self.where({**destination, "position": None})
            text += f" ({neighbour})" if neighbour else ""
        else:
            text = " ".join(filter(None, ["moved", self.where(destination)]))
        if data["suggested_order"]:
            text += " by the suggested order"
        elif data["block_size"] > 1:
            text += f" in a block of {data['block_size']}"
        return text

    def question_asked(self, data: dict[str, Any]) -> str:
        return "asked the proposer"

    def question_answered(self, data: dict[str, Any]) -> str:
        return "answered the review question"

    def split(self, data: dict[str, Any]) -> str:
        text = f"split into {', '.join(data['into'])}"
        return text + ("; kept after them" if data["kept"] else "; archived")

    def linked(self, data: dict[str, Any]) -> str:
        return f"linked: {_LINK_WORDS.get(data['link'], data['link'])} {self.key(data['other'])}"

    def unlinked(self, data: dict[str, Any]) -> str:
        return f"removed the link: {_LINK_WORDS.get(data['link'], data['link'])} {self.key(data['other'])}"


_LINK_WORDS = {"blocks": "blocks", "blocked_by": "blocked by", "relates_to": "relates to"}


_FIELD_ORDER = {field.name: index for index, field in enumerate(Item._meta.concrete_fields)}


def _status(value: str) -> str:
    return str(STATUS_LABELS.get(value, value)).lower()


def _change(name: str, old: Any, new: Any) -> str:
    """ "estimate 3 → 5"; only the name of a field whose values are text or times (too long to
    repeat in one line); "labels +ux −payments"."""
    if name == "labels":
        added, gone = sorted(set(new) - set(old)), sorted(set(old) - set(new))
        return "labels " + " ".join([*(f"+{label}" for label in added), *(f"−{label}" for label in gone)])
    if not _with_values(name):
        return field_label(name)
    field = _field(name)
    return f"{field_label(name)} {_value(field, old)} → {_value(field, new)}"


def _with_values(name: str) -> bool:
    """Whether a change of the field is said with its values: not text, not times."""
    field = _field(name)
    if field is None or isinstance(field, models.DateTimeField):
        return False
    return bool(field.choices) or not isinstance(field, models.CharField | models.TextField)


def _value(field: models.Field, value: Any) -> str:
    if value in (None, ""):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(dict(field.flatchoices).get(value, value))
