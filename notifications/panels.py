"""The Watch / Unwatch button on the item page (``backlog.panels``), registered from
``NotificationsConfig.ready``."""

from typing import Any

from accounts.permissions import Action
from backlog.models import Item
from backlog.panels import ItemPanel, item_panel_register
from notifications.selectors import watch_state


def watch_panel(*, item: Item, user, actions: frozenset[Action]) -> dict[str, Any]:
    watching, watchers = watch_state(item=item, user=user)
    return {"watching": watching, "watchers": watchers}


def register() -> None:
    item_panel_register(ItemPanel("watch", "actions", "notifications/_item_watch.html", watch_panel))
