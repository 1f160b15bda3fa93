"""Reaching a product for a user: fetch and check in one call (pages and API alike).

Like Zulip's ``access_stream_by_id``: a product that does not exist and one the user is not a
member of raise the same 404, so outsiders learn nothing; a member lacking the action gets 403.
"""

from typing import Any

from django.http import Http404

from accounts.models import ApiToken, Membership, Product, User
from accounts.permissions import Action, actions_for, require


def access_product(user: User | Any, key: str, action: Action = Action.VIEW) -> tuple[Product, frozenset[Action]]:
    """Return the product ``key`` (any case) and the user's actions on it, in one query.

    404 for a missing product and for a non-member alike; 403 for a member lacking ``action``.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404("No such product.")
    membership = Membership.objects.select_related("product").filter(user=user, product__key=key.upper()).first()
    if membership is None:
        raise Http404("No such product.")
    actions = actions_for(membership)
    require(user, action, membership.product, actions=actions)
    return membership.product, actions


def access_token(user: User | Any, token_id: int) -> ApiToken:
    """Return one of the user's own API tokens; 404 for anyone else's, as for a missing one."""
    token = ApiToken.objects.filter(pk=token_id, user_id=getattr(user, "pk", None)).first()
    if token is None:
        raise Http404("No such token.")
    return token
