"""Saved views of the backlog: create, change, delete. Any member saves views for themselves or
shares them with the product; a view is changed by its author, and a shared one also by the
product's owners (who keep the shared menu tidy, also after its author has left).

A view's filters go through the backlog list's own definitions (``backlog.filters``): an unknown
parameter or a value the list would refuse is refused here too, so every view opens."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, allowed, require
from backlog.filters import ItemFilter, filter_parameters
from backlog.models import SavedView

MAX_NAME = SavedView._meta.get_field("name").max_length
MAX_VIEWS_PER_AUTHOR = 100


def saved_view_filters(*, product: Product, filters) -> dict[str, str]:
    """The filters as stored: the backlog list's parameters only, each valid, lists comma-separated."""
    if not isinstance(filters, dict):
        raise ValidationError({"filters": "Give the filters as an object of backlog list parameters."})
    unknown = sorted(set(filters) - set(ItemFilter.base_filters))
    if unknown:
        raise ValidationError({"filters": f"Unknown filter: {', '.join(map(str, unknown))}."})
    query = QueryDict(mutable=True)
    for name, value in filters.items():
        if not isinstance(value, str):
            raise ValidationError({"filters": f"{name}: give a string (lists comma-separated)."})
        query[name] = value
    data, errors = filter_parameters(query, strict=True)
    if not errors:
        filterset = ItemFilter(data, queryset=product.items.none(), product=product)
        if not filterset.is_valid():
            errors = filterset.errors
    if errors:
        raise ValidationError(
            {"filters": [f"{name}: {message}" for name, messages in errors.items() for message in messages]}
        )
    return data


def saved_view_columns(columns) -> list[str]:
    """The columns shown, in the page's order; empty (or all of them) means all."""
    if not isinstance(columns, list) or not all(isinstance(column, str) for column in columns):
        raise ValidationError({"columns": "Give a list of column names."})
    unknown = sorted(set(columns) - set(SavedView.COLUMNS))
    if unknown:
        raise ValidationError(
            {"columns": f"Unknown column: {', '.join(unknown)}; the columns are {', '.join(SavedView.COLUMNS)}."}
        )
    shown = [column for column in SavedView.COLUMNS if column in columns]
    return [] if len(shown) == len(SavedView.COLUMNS) else shown


def _clean_name(name) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        raise ValidationError({"name": f"Give the view a name of 1 to {MAX_NAME} characters."})
    return name


def can_change_saved_view(user: User, view: SavedView, actions: frozenset[Action] | None = None) -> bool:
    """Its author; for a shared view, the product's owners too."""
    if view.created_by_id == user.pk:
        return True
    actions = allowed(user, view.product) if actions is None else actions
    return view.shared and Action.MANAGE in actions


def _save(view: SavedView) -> SavedView:
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:
        raise ValidationError({"name": f"You already have a view called “{view.name}” here."}) from None
    return view


def saved_view_create(
    *, product: Product, actor: User, name: str, filters: dict, columns: list | None = None, shared: bool = False
) -> SavedView:
    """Save a view of ``product``'s backlog for ``actor`` (shared with its members if ``shared``)."""
    require(actor, Action.VIEW, product)
    if SavedView.objects.filter(product=product, created_by=actor).count() >= MAX_VIEWS_PER_AUTHOR:
        raise ValidationError(f"You have {MAX_VIEWS_PER_AUTHOR} views of this backlog already: delete one first.")
    view = SavedView(
        product=product,
        created_by=actor,
        name=_clean_name(name),
        filters=saved_view_filters(product=product, filters=filters),
        columns=saved_view_columns(columns or []),
        shared=bool(shared),
    )
    return _save(view)


def saved_view_update(*, view: SavedView, actor: User, changes: dict) -> SavedView:
    """Change a view's name, filters, columns or sharing (its author; owners for a shared one)."""
    if not can_change_saved_view(actor, view):
        raise PermissionDenied("Only its author (or, when shared, the product's owners) can change this view.")
    unknown = set(changes) - {"name", "filters", "columns", "shared"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This cannot be changed."))
    if "name" in changes:
        view.name = _clean_name(changes["name"])
    if "filters" in changes:
        view.filters = saved_view_filters(product=view.product, filters=changes["filters"])
    if "columns" in changes:
        view.columns = saved_view_columns(changes["columns"])
    if "shared" in changes:
        if view.created_by_id != actor.pk and not changes["shared"]:
            raise PermissionDenied("Only its author can make a shared view private.")
        view.shared = bool(changes["shared"])
    view.updated_at = timezone.now()
    return _save(view)


def saved_view_delete(*, view: SavedView, actor: User) -> None:
    if not can_change_saved_view(actor, view):
        raise PermissionDenied("Only its author (or, when shared, the product's owners) can delete this view.")
    view.delete()
