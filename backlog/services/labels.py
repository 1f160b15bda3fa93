"""Writes to a product's labels (owners): create, rename, merge, delete. Items keep following them,
and each item's history records the change of its labels."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, require
from backlog import history
from backlog.models import Item, Label

MAX_NAME = Label._meta.get_field("name").max_length


def _clean_name(product: Product, name: str, *, besides: Label | None = None) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError({"name": f"Give the label a name of 1 to {MAX_NAME} characters."})
    same = Label.objects.filter(product=product, name__iexact=name)
    if besides is not None:
        same = same.exclude(pk=besides.pk)
    existing = same.first()
    if existing is not None:
        raise ValidationError({"name": f"There is already a label “{existing.name}”: merge into it instead."})
    return name


def _touch_items(label_ids: list[int]) -> None:
    """A label change changes the items that carry it: new versions, so stale ETags are refused."""
    Item.objects.filter(labels__in=label_ids).update(version=F("version") + 1)


CHUNK = 5000  # ids per IN (...) list: SQLite takes at most 32,766 parameters


def _labels_of(item_ids: list[int]) -> dict[int, list[str]]:
    """Each item's label names, sorted (as the history records them)."""
    names: dict[int, list[str]] = {item_id: [] for item_id in item_ids}
    through = Item.labels.through.objects
    for start in range(0, len(item_ids), CHUNK):
        chunk = item_ids[start : start + CHUNK]
        for item_id, name in through.filter(item_id__in=chunk).values_list("item_id", "label__name"):
            names[item_id].append(name)
    return {item_id: sorted(found) for item_id, found in names.items()}


def _record(before: dict[int, list[str]], actor: User) -> None:
    """Each item whose labels changed records it in its history, as an edit of its labels."""
    after, now = _labels_of(list(before)), timezone.now()
    changed = [pk for pk in sorted(before) if before[pk] != after[pk]]
    for start in range(0, len(changed), CHUNK):
        items = Item.objects.filter(pk__in=changed[start : start + CHUNK]).only("id", "product_id", "version")
        history.write(
            history.updated(item=item, actor=actor, changes={"labels": [before[item.pk], after[item.pk]]}, at=now)
            for item in items.order_by("pk")
        )


def label_create(*, product: Product, actor: User, name: str) -> Label:
    require(actor, Action.MANAGE, product)
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        return Label.objects.create(product=product, name=_clean_name(product, name))


def label_rename(*, label: Label, actor: User, name: str) -> Label:
    """Rename a label; every item carrying it shows the new name."""
    require(actor, Action.MANAGE, label.product)
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=label.product_id)
        name = _clean_name(label.product, name, besides=label)
        if name != label.name:
            before = _labels_of(list(label.items.values_list("pk", flat=True)))
            _touch_items([label.pk])
            label.name = name
            label.save(update_fields=["name"])
            _record(before, actor)
    return label


def label_merge(*, label: Label, into: Label, actor: User) -> int:
    """Move every item of ``label`` to ``into`` and delete ``label``; return how many items moved."""
    require(actor, Action.MANAGE, label.product)
    if into.product_id != label.product_id or into.pk == label.pk:
        raise ValidationError({"into": "Choose another label of this product to merge into."})
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=label.product_id)
        through = Item.labels.through
        item_ids = list(through.objects.filter(label=label).values_list("item_id", flat=True))
        before = _labels_of(item_ids)
        _touch_items([label.pk])
        through.objects.bulk_create(
            [through(item_id=item_id, label=into) for item_id in item_ids], ignore_conflicts=True
        )
        label.delete()
        _record(before, actor)
    return len(item_ids)


def label_delete(*, label: Label, actor: User) -> int:
    """Delete a label (its items lose it, nothing else); return how many items carried it."""
    require(actor, Action.MANAGE, label.product)
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=label.product_id)
        before = _labels_of(list(label.items.values_list("pk", flat=True)))
        _touch_items([label.pk])
        label.delete()
        _record(before, actor)
    return len(before)
