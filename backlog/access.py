"""Reaching items for a user, and the items a request names inside a product (pages and API alike).

``access_item`` and ``access_item_by_number`` fetch and check in one call, like Zulip's
``access_stream_by_id``: a missing item and one of a product the user is not a member of raise
the same 404; a member lacking the action gets 403. ``item_in``, ``item_ids_in`` and
``placement_in`` resolve the items a request names inside a product already reached (an anchor,
a block, a duplicate): one the product lacks is a ValidationError naming the field. Keys resolve
in any case (``ob-48`` is ``OB-48``).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404

from accounts.access import access_product
from accounts.models import Product, User
from accounts.permissions import Action, actions_for, membership_of, require
from backlog.models import Import, Item, ItemLink, SavedView, Theme
from backlog.references import parse_reference
from backlog.selectors import item_by_reference
from backlog.services.imports import require_import_rights
from backlog.services.ordering import MAX_POSITION, Placement
from config.numbers import whole_number

PLACES = ["top", "bottom", "before", "after", "position"]


def access_item(user: User | Any, reference: str, action: Action = Action.VIEW) -> tuple[Item, frozenset[Action]]:
    """Return the item given by id or key and the user's actions on its product.

    404 for a missing item and for a non-member alike; 403 for a member lacking ``action``.
    """
    item = item_by_reference(reference=reference)
    membership = membership_of(user, item) if item is not None else None
    if membership is None:
        raise Http404("No such item.")
    actions = actions_for(membership)
    require(user, action, item, actions=actions)
    return item, actions


def access_item_by_number(
    user: User | Any, key: str, number: int, action: Action = Action.VIEW
) -> tuple[Item, frozenset[Action]]:
    """Return item ``number`` of product ``key`` (as the pages address it) and the user's actions.

    404 for a missing product or item and for a non-member alike; 403 for a member lacking ``action``.
    """
    product, actions = access_product(user, key, action)
    item = (
        Item.objects.filter(product=product, number=number)
        .select_related("created_by", "split_from", "duplicate_of")
        .first()
    )
    if item is None:
        raise Http404("No such item.")
    item.product = product
    return item, actions


def item_in(product: Product, reference: str, field: str) -> Item:
    """Return the item of ``product`` given by id or key; a ValidationError naming ``field`` if none."""
    item = item_by_reference(reference=reference)
    if item is None or item.product_id != product.pk:
        raise ValidationError({field: [f"No item {reference} in {product.key}."]})
    return item


def item_ids_in(product: Product, references: list[str], field: str) -> list[int]:
    """Return the ids of the items of ``product`` given by id or key, in the order given, in one
    query however many (none when none parses).

    A ValidationError naming ``field`` lists the references the product has no item for.
    """
    parsed = [parse_reference(reference) for reference in references]
    ids = {found.pk for found in parsed if found and found.pk is not None}
    numbers = {found.number for found in parsed if found and found.product_key == product.key}
    rows = (
        Item.objects.filter(product=product).filter(Q(pk__in=ids) | Q(number__in=numbers)).values_list("pk", "number")
        if ids or numbers
        else []
    )
    known_ids = {pk for pk, _ in rows}
    by_number = {number: pk for pk, number in rows}
    resolved: list[int] = []
    missing: list[str] = []
    for reference, found in zip(references, parsed, strict=True):
        if found and found.pk in known_ids:
            resolved.append(found.pk)
        elif found and found.product_key == product.key and found.number in by_number:
            resolved.append(by_number[found.number])
        else:
            missing.append(reference)
    if missing:
        raise ValidationError({field: [f"No item {reference} in {product.key}." for reference in missing]})
    return resolved


def placement_in(
    product: Product, *, to: str, anchor: str | None = None, position: int | str | None = None
) -> Placement:
    """Where an item goes in ``product``'s order, as a page's form or an API body says it.

    ``to`` is top, bottom, before or after (an ``anchor``: id or key) or position (1 is the top;
    a form's text is read as a whole number). Anything else is a ValidationError naming the field.
    """
    if to not in PLACES:
        raise ValidationError({"to": ["Choose where the item goes: top, bottom, before, after or position."]})
    if to in ("before", "after"):
        anchor = (anchor or "").strip()
        if not anchor:
            raise ValidationError({"anchor": [f"Say which item to move {to}, for example {product.key}-12."]})
        return Placement(to, anchor_id=item_in(product, anchor, "anchor").pk)
    if to == "position":
        number = position if isinstance(position, int) else whole_number(position, low=1, high=MAX_POSITION)
        if number is None or isinstance(number, bool) or not 1 <= number <= MAX_POSITION:
            raise ValidationError({"position": [f"A position is a whole number from 1 to {MAX_POSITION:,}."]})
        return Placement.at(number)
    return Placement(to)


def transitions_for(item: Item, actions: frozenset[Action]) -> list[tuple[str, str]]:
    """The status changes ``actions`` allow on ``item`` from its page: (status, button label)."""
    options = {
        Item.Status.OPEN: [
            (Item.Status.IN_PROGRESS, "Start", Action.EDIT_WORK),
            (Item.Status.ARCHIVED, "Archive", Action.REORDER),
        ],
        Item.Status.IN_PROGRESS: [(Item.Status.DONE, "Mark done", Action.EDIT_WORK)],
    }
    return [(status, label) for status, label, action in options.get(item.status, []) if action in actions]


def access_saved_view(user: User | Any, view_id: int) -> tuple[SavedView, frozenset[Action]]:
    """Return a saved view the user may see and their actions on its product: their own, or a shared
    view of a product they are a member of. 404 for anything else (another's private view too)."""
    view = SavedView.objects.select_related("product", "created_by").filter(pk=view_id).first()
    membership = membership_of(user, view) if view is not None else None
    if membership is None or not (view.shared or view.created_by_id == user.pk):
        raise Http404("No such view.")
    return view, actions_for(membership)


def access_import(user: User | Any, key: str, import_id: int) -> tuple[Import, frozenset[Action]]:
    """Return import ``import_id`` of product ``key`` and the user's actions on the product.

    404 for a missing product or import and for a non-member alike; 403 for a member who may not
    import (see ``require_import_rights``).
    """
    product, actions = access_product(user, key)
    found = Import.objects.filter(product=product, pk=import_id).select_related("created_by").first()
    if found is None:
        raise Http404("No such import.")
    found.product = product
    require_import_rights(user, product, actions)
    return found, actions


def theme_in(product: Product, theme_id: int | None) -> "Theme | None":
    """The theme of ``product`` with this id (None for None); a ValidationError naming ``theme`` if none."""
    if theme_id is None:
        return None
    theme = Theme.objects.filter(product=product, pk=theme_id).first()
    if theme is None:
        raise ValidationError({"theme": [f"No theme {theme_id} in {product.key}."]})
    return theme


def access_theme(
    user: User | Any, key: str, theme_id: int, action: Action = Action.VIEW
) -> tuple[Theme, frozenset[Action]]:
    """Return theme ``theme_id`` of product ``key`` and the user's actions: 404 for a missing
    product or theme and for a non-member alike; 403 for a member lacking ``action``."""
    product, actions = access_product(user, key, action)
    theme = Theme.objects.filter(product=product, pk=theme_id).first()
    if theme is None:
        raise Http404("No such theme.")
    theme.product = product
    return theme, actions


def access_link(item: Item, link_id: int) -> ItemLink:
    """Return the link ``link_id`` of ``item`` (either end; the item reached with ``access_item``
    or ``access_item_by_number``); 404 if the item has none such."""
    link = ItemLink.objects.filter(Q(source=item) | Q(target=item), pk=link_id).first()
    if link is None:
        raise Http404("No such link.")
    return link
