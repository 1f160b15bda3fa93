"""Who may do what to a product and its items: the one place that answers it.

Every row of the roles table in DESIGN.md is an ``Action``; ``can`` answers for a user and a
product (or anything belonging to a product). HTML views, the API and services all ask here.
Outsiders are told nothing: the access helpers (``accounts.access``, ``backlog.access``,
``refinement.access``) raise the same 404 for them as for something missing.
"""

from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection

from accounts.models import Membership, Product, User


class Action(StrEnum):
    VIEW = "view"  # view backlog and items
    COMMENT = "comment"
    PROPOSE = "propose"  # create an item (as a proposal unless ADD_DIRECTLY is allowed too)
    ADD_DIRECTLY = "add_directly"  # create an item straight into the order
    EDIT_WORK = "edit_work"  # description, acceptance criteria, estimate, technical inputs, progress
    EDIT_VALUE = "edit_value"  # business value, time criticality, MoSCoW, RICE, ...
    REORDER = "reorder"  # move items, archive
    REVIEW = "review"  # accept or reject proposals
    MANAGE = "manage"  # product settings, scoring model, policies, members


_MEMBER = frozenset({Action.VIEW, Action.COMMENT, Action.PROPOSE})
_DEVELOPER = _MEMBER | {Action.EDIT_WORK}
_DELEGATE = _DEVELOPER | {
    Action.ADD_DIRECTLY,
    Action.EDIT_VALUE,
    Action.REORDER,
    Action.REVIEW,
}
_OWNER = frozenset(Action)


def actions_for(membership: Membership | None) -> frozenset[Action]:
    """Return the actions a membership allows (none for a non-member)."""
    if membership is None:
        return frozenset()
    if membership.role == Membership.Role.OWNER:
        return _OWNER
    if membership.role == Membership.Role.DEVELOPER:
        return _DELEGATE if membership.ordering_delegated else _DEVELOPER
    if membership.role == Membership.Role.STAKEHOLDER:
        return _MEMBER
    return frozenset()


def membership_of(user: User | Any, product: Product | Any) -> Membership | None:
    """Return the user's membership of ``product`` (a Product or anything with ``product_id``)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    product_id = product.pk if isinstance(product, Product) else product.product_id
    return Membership.objects.filter(user=user, product_id=product_id).first()


def allowed(user: User | Any, target: Product | Any) -> frozenset[Action]:
    """Return every action ``user`` may do to ``target`` (a product, or an object of a product)."""
    return actions_for(membership_of(user, target))


def can(user: User | Any, action: Action, target: Product | Any) -> bool:
    """May ``user`` do ``action`` to ``target`` (a product, or an object of a product)?"""
    return action in allowed(user, target)


def require(
    user: User | Any,
    action: Action,
    target: Product | Any,
    *,
    actions: frozenset[Action] | None = None,
) -> None:
    """Raise PermissionDenied unless ``user`` may do ``action`` to ``target``.

    Pass ``actions`` (from ``allowed``) to check several actions with one membership lookup.
    """
    if action not in (allowed(user, target) if actions is None else actions):
        raise PermissionDenied(f"You may not {action.value.replace('_', ' ')} in this product.")


def lock_product_for(user: User | Any, product: Product | int) -> tuple[Product, frozenset[Action]]:
    """Lock the product row for writing and return it with the user's actions, in one query.

    The row lock (``SELECT … FOR UPDATE``, held until the transaction ends) serializes the
    writers of one product. Call inside ``transaction.atomic``. Non-members get no lock and no
    actions; check them with ``require(..., actions=...)``. Written as raw SQL because every
    move starts here (see bench/ordering.py); SQLite, which locks the whole database for a
    writer anyway, gets the same query without the locking clause.
    """
    product_id = getattr(product, "pk", product)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Product.objects.get(pk=product_id), frozenset()
    lock = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else ""
    found = list(
        Product.objects.raw(
            "SELECT p.*, m.role AS member_role, m.ordering_delegated AS member_delegated "
            f"FROM {Product._meta.db_table} p JOIN {Membership._meta.db_table} m ON m.product_id = p.id "
            f"WHERE m.user_id = %s AND p.id = %s{lock}",
            [user.pk, product_id],
        )
    )
    if not found:
        return Product.objects.get(pk=product_id), frozenset()
    locked = found[0]
    membership = Membership(role=locked.member_role, ordering_delegated=locked.member_delegated)
    return locked, actions_for(membership)


def can_create_product(user: User | Any) -> bool:
    """May ``user`` start a product? Anyone signed in, or only staff (``PRODUCT_CREATION``)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return settings.PRODUCT_CREATION == "anyone" or user.is_staff
