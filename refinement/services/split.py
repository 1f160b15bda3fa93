"""Splitting an item into smaller ones that take its place in the order."""

import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog import history
from backlog.jobs import enqueue_item_score, enqueue_suggestions
from backlog.models import Item
from backlog.services.items import KIND_INPUTS, SERVICE_RELATIONS, VALUE_CASE, VALUE_FIELDS
from backlog.services.ordering import Placement, order_place_block, order_remove

MAX_PARTS = 20
PART_FIELDS = ("title", "description", "acceptance_criteria", "estimate")
# What each part inherits from the original: its kind's inputs, value inputs and value case.
INHERITED = (*KIND_INPUTS, *VALUE_FIELDS, *VALUE_CASE)


def item_split(
    *,
    item: Item,
    actor: User,
    parts: Sequence[dict[str, Any]],
    keep_original: bool = False,
    expected_version: int | None = None,
) -> list[Item]:
    """Split an ordered item into ``parts`` (title, and optionally description, acceptance
    criteria, estimate), placed as one block where the item is, in the order given.

    Each part is of the item's kind, inherits its inputs, labels, value case and clocks (age,
    SLA), and links back to it. The original (open, not yet in progress) is archived, or kept
    right after the parts. Owners and ordering delegates only. With ``expected_version``, refuse
    if someone changed the item since the caller read it.
    """
    if not 2 <= len(parts) <= MAX_PARTS:
        raise ValidationError({"parts": f"Split into 2 to {MAX_PARTS} parts."})
    operation = uuid.uuid4()
    with transaction.atomic():
        product, actions = lock_product_for(actor, item.product_id)
        require(actor, Action.REORDER, product, actions=actions)
        require(actor, Action.ADD_DIRECTLY, product, actions=actions)
        original = Item.objects.select_for_update(of=("self",)).get(pk=item.pk)
        original.product = product
        if original.status != Item.Status.OPEN:
            raise ValidationError({"item": f"Only open items are split; {original.key} is {original.status}."})
        original.check_version(expected_version)
        now = timezone.now()
        inherited = {name: getattr(original, name) for name in INHERITED}
        new_items, errors = [], {}
        for index, part in enumerate(parts):
            unknown = set(part) - set(PART_FIELDS)
            if unknown:
                errors[f"parts[{index}]"] = f"Only {', '.join(PART_FIELDS)} are given per part."
                continue
            new = Item(
                product=product,
                kind=original.kind,
                status=original.Status.OPEN,
                split_from=original,
                created_by=actor,
                # The parts carry on the original's clocks: a defect's age, an SLA already running.
                created_at=original.created_at,
                updated_at=now,
                number=product.last_item_number + len(new_items) + 1,
                **inherited,
                **part,
            )
            new.derive_fields()
            try:
                new.full_clean(validate_unique=False, validate_constraints=False, exclude=["rank", *SERVICE_RELATIONS])
            except ValidationError as invalid:
                errors[f"parts[{index}]"] = "; ".join(f"{k}: {' '.join(v)}" for k, v in invalid.message_dict.items())
            new_items.append(new)
        if errors:
            raise ValidationError(errors)

        gap, first_position = order_place_block(items=new_items, placement=Placement.before(original))
        Product.objects.filter(pk=product.pk).update(last_item_number=F("last_item_number") + len(new_items))
        created = Item.objects.bulk_create(new_items)
        labels = list(original.labels.all())
        Item.labels.through.objects.bulk_create(
            Item.labels.through(item_id=new.pk, label_id=label.pk) for new in created for label in labels
        )
        keys = [new.key for new in created]
        label_names = [label.name for label in labels]
        events = [
            history.created(
                item=new,
                actor=actor,
                placed=placed,
                labels=label_names,
                split_from=original,
                operation=operation,
                at=now,
            )
            for new, placed in zip(created, gap.places([new.pk for new in created], first_position), strict=True)
        ]
        removed = None
        original.version += 1
        original.updated_at = now
        if keep_original:
            # Placing the parts may have respaced the original's key: leave it as stored.
            original.save(update_fields=["version", "updated_at"])
        else:
            removed = order_remove(item=original)
            original.status = Item.Status.ARCHIVED
            original.save(update_fields=["status", "rank", "suggested_position", "version", "updated_at"])
        split = history.split(
            item=original, actor=actor, into=keys, kept=keep_original, removed=removed, operation=operation
        )
        history.write([*events, split])
        for scored in [*created, original]:  # the original changed too: its job must not be overtaken
            transaction.on_commit(lambda pk=scored.pk: enqueue_item_score(pk), robust=True)
        transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
    return created
