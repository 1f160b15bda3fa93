"""Reaching a sprint or a retrospective action for a user (pages and API alike): one 404 for
missing and not yours, 403 for a member lacking the action (see accounts.access)."""

from typing import Any

from django.http import Http404

from accounts.access import access_product
from accounts.models import User
from accounts.permissions import Action
from delivery.models import RetroAction, Sprint


def access_sprint(
    user: User | Any, key: str, number: int, action: Action = Action.VIEW
) -> tuple[Sprint, frozenset[Action]]:
    """Return sprint ``number`` of product ``key`` and the user's actions on the product."""
    product, actions = access_product(user, key, action)
    sprint = Sprint.objects.filter(product=product, number=number).first()
    if sprint is None:
        raise Http404("No such sprint.")
    sprint.product = product
    return sprint, actions


def access_retro_action(
    user: User | Any, key: str, number: int, action_id: int, action: Action = Action.VIEW
) -> tuple[RetroAction, frozenset[Action]]:
    sprint, actions = access_sprint(user, key, number, action)
    found = RetroAction.objects.filter(sprint=sprint, pk=action_id).first()
    if found is None:
        raise Http404("No such action.")
    found.sprint = sprint
    return found, actions
