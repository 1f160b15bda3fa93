"""Bulk edit: one change (labels added or removed, fields set, a status) to up to 500 items of a
product, all or nothing, recorded as one operation in the history.

The rules are the single-item services' (``backlog.services.items``): who may set which field
(``settable_fields``), which status changes exist and who may make them (``TRANSITIONS``), each
kind's inputs (``Item.clean``), a proposal's value case, the done hooks (delivery's Definition of
Done), ``If-Match`` per item (``Item.check_version``). Each item is checked; if any is refused,
nothing changes and the error names every refused item and why (a 403 when one of them is refused
for the actor's rights, else a 400).

Constant round trips whatever the count (done aside: its hooks run per item): the product lock
with the actor's rights, the items locked with their labels, where leaving items stood, the
labels, the item rows (one UPDATE per field set), the label links, the history.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog import history, order_sql
from backlog.exceptions import VersionConflict
from backlog.jobs import enqueue_item_score, enqueue_suggestions
from backlog.models import DERIVED_FIELDS, KIND_INPUTS, VALUE_FIELDS, Item, Label
from backlog.services.items import (
    DONE_HOOKS,
    PROPOSAL_DECISIONS,
    SERVICE_RELATIONS,
    TRANSITIONS,
    check_field_rights,
    with_one_line_endings,
)
from backlog.transactions import retry_on_conflict

MAX_ITEMS = 500
# What a bulk edit may set: the kind (with its inputs), the estimate and (owners and delegates)
# the value inputs.
BULK_FIELDS = frozenset(("kind", *KIND_INPUTS, "estimate", *VALUE_FIELDS, "pinned"))


@dataclass(frozen=True)
class Target:
    """One item of a bulk edit, and the version its sender read (None: any)."""

    item_id: int
    version: int | None = None


class BulkRefused(ValidationError):
    """Items refused by a bulk edit: ``refusals`` maps each item's key to why (nothing changed)."""

    def __init__(self, refusals: dict[str, list[str]]) -> None:
        self.refusals = refusals
        super().__init__({"items": _said(refusals)})


class BulkForbidden(PermissionDenied):
    """A bulk edit with items the actor may not change so (a 403): names every refused item."""

    def __init__(self, refusals: dict[str, list[str]]) -> None:
        self.refusals = refusals
        super().__init__("Nothing was changed. " + " ".join(_said(refusals)))


def _said(refusals: dict[str, list[str]]) -> list[str]:
    return [f"{key}: {' '.join(reasons)}" for key, reasons in refusals.items()]


@dataclass
class BulkResult:
    items: list[Item]  # the items changed, in the order given
    unchanged: list[Item] = field(default_factory=list)  # asked for, but already so
    operation: uuid.UUID = field(default_factory=uuid.uuid4)


def _reasons(error: Exception) -> list[str]:
    if isinstance(error, VersionConflict):
        return [f"It changed since you read it (version {error.current}, not {error.expected}); reload it and retry."]
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        return [f"{name}: {message}" for name, messages in error.message_dict.items() for message in messages]
    if isinstance(error, ValidationError):
        return list(error.messages)
    return [str(error)]


@retry_on_conflict
def items_bulk_edit(
    *,
    product: Product | int,
    actor: User,
    targets: Sequence[Target],
    add_labels: Iterable[str] = (),
    remove_labels: Iterable[str] = (),
    changes: dict[str, Any] | None = None,
    status: str | None = None,
    reason: str = "",
) -> BulkResult:
    """Apply one edit to every target item, all or nothing (``BulkRefused`` names each refused item)."""
    changes = with_one_line_endings(dict(changes or {}))
    add = sorted({name.strip() for name in add_labels if name.strip()})
    remove = sorted({name.strip() for name in remove_labels if name.strip()} - set(add))
    if not targets:
        raise ValidationError({"items": "Choose at least one item."})
    if len(targets) > MAX_ITEMS:
        raise ValidationError({"items": f"At most {MAX_ITEMS} items at once."})
    if not (add or remove or changes or status):
        raise ValidationError({"items": "Say what to change: labels to add or remove, fields to set, or a status."})
    if unknown := set(changes) - BULK_FIELDS:
        raise ValidationError(dict.fromkeys(sorted(unknown), "A bulk edit does not set this field."))
    if too_long := [name for name in add if len(name) > Label._meta.get_field("name").max_length]:
        raise ValidationError({"add_labels": f"Labels are at most 50 characters: {too_long[0][:60]}…"})
    versions = {target.item_id: target.version for target in targets}
    result = BulkResult(items=[])
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.VIEW, product, actions=actions)
        check_field_rights(actions, changes, creating=False)  # the same for every item: refused whole
        if add or remove:
            require(actor, Action.EDIT_WORK, product, actions=actions)
        locked = {
            item.pk: item
            for item in Item.objects.select_for_update(of=("self",))
            .filter(product=product, pk__in=list(versions))
            .prefetch_related("labels")
            .order_by("pk")
        }
        if missing := [pk for pk in versions if pk not in locked]:
            raise ValidationError({"items": f"No such item in {product.key}: {missing}."})
        refusals: dict[str, list[str]] = {}
        forbidden = False
        edits, leaving = [], []
        for pk in versions:
            item = locked[pk]
            item.product = product
            try:
                edit = _edit_one(item, actor, actions, versions[pk], changes, status)
            except (ValidationError, PermissionDenied, VersionConflict) as refused:
                refusals[item.key] = _reasons(refused)
                forbidden = forbidden or isinstance(refused, PermissionDenied)
                continue
            edits.append(edit)
            if edit.leaves_order:
                leaving.append(item.pk)
        if refusals:
            raise BulkForbidden(refusals) if forbidden else BulkRefused(refusals)

        places = {}
        if leaving:
            for pk, *_, previous_id, next_id, position in order_sql.items_with_neighbours(product.pk, leaving):
                places[pk] = history.place(position=position, after_id=previous_id, before_id=next_id)
        label_changes = _labels_apply(product, [edit.item for edit in edits], add, remove)
        now = timezone.now()
        events, written = [], []
        for edit in edits:
            item = edit.item
            if item.pk in label_changes:
                edit.diff["labels"] = label_changes[item.pk]
            if not edit.diff and edit.old_status is None:
                result.unchanged.append(item)
                continue
            item.version += 1
            item.updated_at = now
            item.bulk_diff = edit.diff
            if edit.diff:
                events.append(history.updated(item=item, actor=actor, changes=edit.diff))
            if edit.old_status is not None:
                if edit.leaves_order:
                    item.leave_order()
                events.append(
                    history.status_changed(
                        item=item,
                        actor=actor,
                        old=edit.old_status,
                        removed=places.get(item.pk),
                        reason=reason,
                    )
                )
            written.append(item)
        for event in events:
            event.operation = result.operation
            if not event.reason:
                event.reason = reason
        if written:
            _write_rows(written, changes, status, now)
            history.write(events)
        result.items = written
        if changes or status:  # labels alone leave every score as it is
            for item in written:
                transaction.on_commit(lambda pk=item.pk: enqueue_item_score(pk), robust=True)
        if leaving:
            transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
    return result


def _write_rows(items: list[Item], changes: dict[str, Any], status: str | None, now: datetime) -> None:
    """Write the edited rows in a few UPDATEs, whatever their number: what every item got the same
    (the fields set, the new version, the time), the status change (leaving the order clears the
    rank and the suggested position), and only where they differ per item, the derived fields (a
    kind's priority and due time)."""
    Item.objects.filter(pk__in=[item.pk for item in items]).update(**changes, version=F("version") + 1, updated_at=now)
    moved = [item.pk for item in items if item.status == status] if status else []
    if moved:
        leaves = status not in Item.ORDERED_STATUSES
        Item.objects.filter(pk__in=moved).update(status=status, **(Item.OUT_OF_ORDER if leaves else {}))
    derived = [item for item in items if any(name in item.bulk_diff for name in DERIVED_FIELDS)]
    if derived:
        Item.objects.bulk_update(derived, list(DERIVED_FIELDS), batch_size=MAX_ITEMS)


@dataclass
class _Edit:
    item: Item
    diff: dict[str, list[Any]]
    old_status: str | None
    leaves_order: bool


def _edit_one(
    item: Item,
    actor: User,
    actions: frozenset[Action],
    version: int | None,
    changes: dict[str, Any],
    status: str | None,
) -> _Edit:
    """Check and apply the edit to one locked item (in memory): the single-item services' rules."""
    item.check_version(version)
    watched = [*changes, *DERIVED_FIELDS]
    before = {name: getattr(item, name) for name in watched}
    for name, value in changes.items():
        setattr(item, name, value)
    item.derive_fields()
    item.full_clean(exclude=SERVICE_RELATIONS, validate_unique=False, validate_constraints=False)
    if item.status == Item.Status.PROPOSED and (errors := item.value_case_errors()):
        raise ValidationError(errors)
    diff = {name: [before[name], getattr(item, name)] for name in watched if getattr(item, name) != before[name]}
    old_status, leaves = None, False
    if status is not None and status != item.status:
        if (item.status, status) in PROPOSAL_DECISIONS:
            raise ValidationError({"status": "A proposal is accepted or rejected through its review."})
        action = TRANSITIONS.get((item.status, status))
        if action is None:
            possible = [new for (old, new) in TRANSITIONS if old == item.status]
            hint = f" It can become: {', '.join(possible)}." if possible else " It is final."
            raise ValidationError({"status": f"A {item.status} item cannot become {status}.{hint}"})
        require(actor, action, item.product, actions=actions)
        if status == Item.Status.DONE:
            for hook in DONE_HOOKS:
                hook(item=item, actor=actor, definition_of_done=None)
        old_status, leaves = item.status, item.is_ordered and status not in Item.ORDERED_STATUSES
        item.status = status
    return _Edit(item=item, diff=diff, old_status=old_status, leaves_order=leaves)


def _labels_apply(product: Product, items: list[Item], add: list[str], remove: list[str]) -> dict[int, list[list[str]]]:
    """Add and remove labels on ``items`` (their labels prefetched) in a few statements; return
    each changed item's ``[old names, new names]``."""
    if not (add or remove):
        return {}
    existing = {label.name: label for label in Label.objects.filter(product=product, name__in=[*add, *remove])}
    missing = [Label(product=product, name=name) for name in add if name not in existing]
    if missing:
        Label.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {label.name: label for label in Label.objects.filter(product=product, name__in=[*add, *remove])}
    through = Item.labels.through
    links, unlink, changed = [], [], {}
    for item in items:
        old = sorted(label.name for label in item.labels.all())
        new = sorted((set(old) | set(add)) - set(remove))
        if new == old:
            continue
        changed[item.pk] = [old, new]
        links += [through(item_id=item.pk, label_id=existing[name].pk) for name in add if name not in old]
        unlink += [(item.pk, existing[name].pk) for name in remove if name in old]
    if unlink:
        gone = {label_id for _, label_id in unlink}
        pairs = set(unlink)
        # One DELETE: the rows of these items and labels, then only the pairs asked (a superset
        # never deletes more: every item here loses each of these labels it has).
        through.objects.filter(item_id__in={pk for pk, _ in pairs}, label_id__in=gone).delete()
    if links:
        through.objects.bulk_create(links, ignore_conflicts=True)
    return changed
