"""Item writes: create, edit, status transitions. Each records its history."""

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog import history
from backlog.jobs import enqueue_item_score, enqueue_suggestions
from backlog.models import DERIVED_FIELDS, KIND_INPUTS, VALUE_CASE, VALUE_FIELDS, Item, Label, Theme, item_key
from backlog.services.ordering import (
    Placement,
    order_place,
    order_remove,
)
from backlog.transactions import retry_on_conflict

# Who may set which fields (see the roles table in DESIGN.md).
WORK_FIELDS = (
    "kind",
    "title",
    "description",
    "acceptance_criteria",
    "estimate",
    "external_ref",
    *KIND_INPUTS,
    *VALUE_CASE,
)
ORDER_FIELDS = ("pinned",)  # where an item stays when the suggested order is applied
PLANNING_FIELDS = ("theme",)  # the theme (epic) it belongs to: set by who decides value
EDITABLE_FIELDS = frozenset(WORK_FIELDS + VALUE_FIELDS + ORDER_FIELDS + PLANNING_FIELDS)
# Relations the services set from rows they already hold (the locked product, the signed-in actor,
# the item split or marked duplicate): no client sets them, so validating them again would cost
# a query each per item written.
SERVICE_RELATIONS = ("product", "created_by", "split_from", "duplicate_of")
# Anyone who may propose may describe the item and give its kind's inputs.
PROPOSAL_FIELDS = frozenset(("kind", "title", "description", "acceptance_criteria", *KIND_INPUTS, *VALUE_CASE))

# (from, to) -> the action it takes.
TRANSITIONS: dict[tuple[str, str], Action] = {
    (Item.Status.PROPOSED, Item.Status.OPEN): Action.REVIEW,
    (Item.Status.PROPOSED, Item.Status.REJECTED): Action.REVIEW,
    (Item.Status.OPEN, Item.Status.IN_PROGRESS): Action.EDIT_WORK,
    (Item.Status.IN_PROGRESS, Item.Status.DONE): Action.EDIT_WORK,
    (Item.Status.OPEN, Item.Status.ARCHIVED): Action.REORDER,
}


# What other apps attach to an item becoming done (delivery's Definition of Done and "done in
# sprint"), registered from their AppConfig.ready so that backlog imports nothing above it. Each is
# called as ``hook(item=, actor=, definition_of_done=)`` under the product and item locks, before
# the change is saved; it may refuse the change with a ValidationError.
DONE_HOOKS: list[Callable[..., None]] = []


def settable_fields(actions: frozenset[Action], *, creating: bool) -> frozenset[str]:
    """The fields someone with ``actions`` may set on an item (creating it, or editing it): the
    one rule behind the item form and the services."""
    allowed: set[str] = set()
    if Action.EDIT_WORK in actions:
        allowed |= set(WORK_FIELDS)
    elif creating:
        allowed |= PROPOSAL_FIELDS
    if Action.EDIT_VALUE in actions:
        allowed |= set(VALUE_FIELDS) | set(PLANNING_FIELDS)
    if Action.REORDER in actions:
        allowed |= set(ORDER_FIELDS)
    return frozenset(allowed)


def one_line_ending(text: str) -> str:
    """Return ``text`` with LF line ends only (browsers send CR LF from a textarea, some clients CR)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def with_one_line_endings(fields: dict[str, Any]) -> dict[str, Any]:
    """Return ``fields`` with every text value's line ends made LF."""
    return {name: one_line_ending(value) if isinstance(value, str) else value for name, value in fields.items()}


def check_field_rights(actions: frozenset[Action], fields: Iterable[str], *, creating: bool) -> None:
    fields = set(fields)
    unknown = fields - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set."))
    refused = fields - settable_fields(actions, creating=creating)
    if value := refused & set(VALUE_FIELDS):
        raise PermissionDenied(
            "Only the product owner or an ordering delegate sets value inputs: " + ", ".join(sorted(value)) + "."
        )
    if refused & set(ORDER_FIELDS):
        raise PermissionDenied("Only the product owner or an ordering delegate pins items.")
    if refused & set(PLANNING_FIELDS):
        raise PermissionDenied("Only the product owner or an ordering delegate puts items in themes.")
    if refused:
        raise PermissionDenied("Only the product owner and developers edit: " + ", ".join(sorted(refused)) + ".")


def _check_theme(theme: Theme | None, product: Product) -> None:
    if theme is not None and theme.product_id != product.pk:
        raise ValidationError({"theme": f"No such theme in {product.key}."})


def _recorded(value: Any) -> Any:
    """A value as the history records it: a theme by its title."""
    return str(value) if isinstance(value, Theme) else value


def _set_labels(item: Item, names: Iterable[str], *, new: bool = False) -> list[str]:
    cleaned = sorted({name.strip() for name in names if name and name.strip()})
    if new and not cleaned:
        return cleaned
    too_long = [name for name in cleaned if len(name) > Label._meta.get_field("name").max_length]
    if too_long:
        raise ValidationError({"labels": f"Labels are at most 50 characters: {too_long[0][:60]}…"})
    labels = [Label.objects.get_or_create(product_id=item.product_id, name=name)[0] for name in cleaned]
    item.labels.set(labels)
    return cleaned


def check_external_ref(item: Item) -> None:
    """Refuse an external reference another item of the product already carries (call under the
    product lock, so two writers cannot both pass; the database's unique constraint backs it)."""
    item.external_ref = (item.external_ref or "").strip()
    if not item.external_ref:
        return
    taken = Item.objects.filter(product_id=item.product_id, external_ref=item.external_ref).exclude(pk=item.pk)
    if found := taken.values_list("number", flat=True).first():
        owner = item_key(item.product.key, found)
        raise ValidationError({"external_ref": f"{owner} already has the external reference {item.external_ref}."})


@retry_on_conflict
def item_create(
    *,
    product: Product,
    actor: User,
    kind: str,
    title: str,
    placement: Placement | None = None,
    labels: Iterable[str] = (),
    into_order: bool | None = None,
    **fields: Any,
) -> Item:
    """Create an item: straight into the order for those who may add directly, else a proposal
    (a technical proposal must carry its value case).

    ``into_order`` decides instead of the actor's rights when a product rule does (the debt item a
    Definition of Done waiver creates is proposed or placed as the product says).
    """
    fields = with_one_line_endings(fields)
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.PROPOSE, product, actions=actions)
        direct = Action.ADD_DIRECTLY in actions if into_order is None else into_order
        if placement is not None and not direct:
            raise PermissionDenied(
                "Only the product owner or an ordering delegate places items in the order; "
                "leave out the position and the item is proposed for review."
            )
        check_field_rights(actions, fields, creating=True)
        _check_theme(fields.get("theme"), product)
        now = timezone.now()
        item = Item(
            product=product,
            kind=kind,
            title=title,
            created_by=actor,
            status=Item.Status.OPEN if direct else Item.Status.PROPOSED,
            created_at=now,
            updated_at=now,
            number=product.last_item_number + 1,
            **fields,
        )
        item.derive_fields()
        errors = {} if direct else item.value_case_errors()
        try:
            item.full_clean(exclude=SERVICE_RELATIONS, validate_unique=False, validate_constraints=False)
        except ValidationError as invalid:
            raise ValidationError({**errors, **invalid.message_dict}) from invalid
        if errors:
            raise ValidationError(errors)
        check_external_ref(item)
        placed = order_place(item=item, placement=placement or Placement.bottom()) if direct else None
        Product.objects.filter(pk=product.pk).update(last_item_number=F("last_item_number") + 1)
        item.save(force_insert=True)
        label_names = _set_labels(item, labels, new=True)
        history.write([history.created(item=item, actor=actor, placed=placed, labels=label_names)])
        transaction.on_commit(lambda: enqueue_item_score(item.pk), robust=True)
    return item


@retry_on_conflict
def item_update(
    *,
    item: Item,
    actor: User,
    changes: dict[str, Any],
    labels: Iterable[str] | None = None,
    expected_version: int | None = None,
) -> Item:
    """Edit an item's fields; with ``expected_version``, refuse if someone changed it meanwhile."""
    changes = with_one_line_endings(changes)
    with transaction.atomic():
        # The product first, then the item: the lock order of every writer, so edits and moves
        # running together wait for each other instead of deadlocking.
        product, actions = lock_product_for(actor, item.product_id)
        require(actor, Action.VIEW, product, actions=actions)
        check_field_rights(actions, changes, creating=False)
        _check_theme(changes.get("theme"), product)
        if labels is not None:
            require(actor, Action.EDIT_WORK, product, actions=actions)
        current = Item.objects.select_for_update(of=("self",)).get(pk=item.pk)
        current.product = product
        current.check_version(expected_version)
        watched = [*changes, *DERIVED_FIELDS]
        before = {name: getattr(current, name) for name in watched}
        old_labels = sorted(current.labels.values_list("name", flat=True))
        for name, value in changes.items():
            setattr(current, name, value)
        current.derive_fields()
        current.full_clean(exclude=SERVICE_RELATIONS, validate_unique=False, validate_constraints=False)
        if current.status == Item.Status.PROPOSED and (errors := current.value_case_errors()):
            raise ValidationError(errors)  # a proposal keeps its value case while it is reviewed
        if "external_ref" in changes:
            check_external_ref(current)
        # Compare cleaned values, so "3" for an estimate of 3 is no change.
        diff = {
            name: [_recorded(before[name]), _recorded(getattr(current, name))]
            for name in watched
            if getattr(current, name) != before[name]
        }
        new_labels = _set_labels(current, labels) if labels is not None else old_labels
        if new_labels != old_labels:
            diff["labels"] = [old_labels, new_labels]
        if not diff:
            return current
        current.version += 1
        current.updated_at = timezone.now()
        current.save()
        history.write([history.updated(item=current, actor=actor, changes=diff)])
        transaction.on_commit(lambda: enqueue_item_score(current.pk), robust=True)
    return current


# Deciding a proposal (open or rejected) belongs to the review: refinement/services/proposals.py
# checks what a decision needs (a reason's length, a duplicate's link, the suggested place) and
# calls ``item_transition_locked``.
PROPOSAL_DECISIONS = frozenset({(Item.Status.PROPOSED, Item.Status.OPEN), (Item.Status.PROPOSED, Item.Status.REJECTED)})


@retry_on_conflict
def item_transition(
    *,
    item: Item,
    actor: User,
    to: str,
    reason: str = "",
    expected_version: int | None = None,
) -> Item:
    """Change an item's status along the lifecycle (start, finish, archive), entering or leaving
    the order as it goes; with ``expected_version``, refuse if someone changed it meanwhile.

    Proposals are decided through the review (``proposal_accept`` / ``proposal_reject``).
    """
    with transaction.atomic():
        product, actions = lock_product_for(actor, item.product_id)
        require(actor, Action.VIEW, product, actions=actions)
        current = Item.objects.select_for_update(of=("self",)).get(pk=item.pk)
        current.product = product
        if (current.status, to) in PROPOSAL_DECISIONS:
            raise ValidationError(
                {"status": f"{current.key} is a proposal: accept or reject it through its review (/accept/, /reject/)."}
            )
        current.check_version(expected_version)
        return item_transition_locked(item=current, actor=actor, actions=actions, to=to, reason=reason)


def item_transition_locked(
    *,
    item: Item,
    actor: User,
    actions: frozenset[Action],
    to: str,
    placement: Placement | None = None,
    reason: str = "",
    duplicate_of: Item | None = None,
    definition_of_done: history.DefinitionOfDone | None = None,
    also_save: tuple[str, ...] = (),
) -> Item:
    """``item_transition`` for a caller that holds the locks: the product's, then the item's
    (``item`` is the locked row, with its ``product`` set; ``actions`` the actor's in it).

    ``duplicate_of`` (a rejected duplicate's original) and ``definition_of_done`` (the checklist
    an item was done against) are recorded with the change in the history;
    ``also_save`` names fields the caller set on ``item``, written in the same UPDATE.
    """
    current, product = item, item.product
    action = TRANSITIONS.get((current.status, to))
    if action is None:
        possible = [new for (old, new) in TRANSITIONS if old == current.status]
        hint = f" It can become: {', '.join(possible)}." if possible else " It is final."
        raise ValidationError({"status": f"A {current.status} item cannot become {to}.{hint}"})
    require(actor, action, product, actions=actions)
    if to == Item.Status.REJECTED and not reason.strip():
        raise ValidationError({"reason": "Say why the proposal is rejected; the proposer will read it."})
    entering = to in Item.ORDERED_STATUSES and not current.is_ordered
    leaving = current.is_ordered and to not in Item.ORDERED_STATUSES
    if placement is not None and not entering:
        raise ValidationError({"placement": "Only an item entering the order takes a position."})
    if to == Item.Status.DONE:
        for hook in DONE_HOOKS:
            hook(item=current, actor=actor, definition_of_done=definition_of_done)
    old = current.status
    placed = order_place(item=current, placement=placement or Placement.bottom()) if entering else None
    removed = order_remove(item=current) if leaving else None
    current.status = to
    current.version += 1
    current.updated_at = timezone.now()
    current.save(update_fields=["status", "rank", "suggested_position", "version", "updated_at", *also_save])
    changed = history.status_changed(
        item=current,
        actor=actor,
        old=old,
        placed=placed,
        removed=removed,
        duplicate_of=duplicate_of,
        definition_of_done=definition_of_done,
        reason=reason,
    )
    history.write([changed])
    # The status and the version changed: a score job that read the item before now skips
    # its write, so the item is scored again.
    transaction.on_commit(lambda: enqueue_item_score(current.pk), robust=True)
    if entering or leaving:
        transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
    return current
