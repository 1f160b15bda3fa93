"""Finding what an API request names: items by id or key (404 for outsiders), placements."""

from django.http import Http404
from rest_framework.exceptions import ValidationError

from accounts.models import Product
from accounts.permissions import Action, actions_for, membership_of, require
from backlog.models import Item
from backlog.selectors import item_by_reference, item_ids_by_reference
from backlog.services.ordering import Placement


def item_or_404(user, reference: str, action: Action = Action.VIEW) -> Item:
    """Load an item the user may see: 404 for outsiders (and for missing items), 403 if not allowed."""
    item = item_by_reference(reference=reference)
    membership = membership_of(user, item) if item is not None else None
    if membership is None:
        raise Http404("No such item.")
    require(user, action, item, actions=actions_for(membership))
    return item


def item_in(product: Product, reference: str, field: str) -> Item:
    """Return the item of ``product`` given by id or key; a 400 naming ``field`` if none."""
    item = item_by_reference(reference=reference)
    if item is None or item.product_id != product.pk:
        raise ValidationError({field: [f"No item {reference} in {product.key}."]})
    return item


def item_id_in(product: Product, reference: str, field: str) -> int:
    return item_in(product, reference, field).pk


def item_ids_in(product: Product, references: list[str], field: str) -> list[int]:
    """Return the ids of the items of ``product`` given by id or key, in the order given, in one
    query whatever their number; a 400 naming ``field`` and every reference that names none."""
    found = item_ids_by_reference(product=product, references=references)
    missing = [reference for reference in dict.fromkeys(references) if reference not in found]
    if missing:
        raise ValidationError({field: [f"No item {', '.join(missing)} in {product.key}."]})
    return [found[reference] for reference in references]


def placement_from(product: Product, data: dict | None) -> Placement | None:
    if not data:
        return None
    anchor = item_id_in(product, data["anchor"], "anchor") if data["to"] in ("before", "after") else None
    return Placement(data["to"], anchor_id=anchor, position=data.get("position"))
