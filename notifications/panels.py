"""The Watch / Unwatch button on the item page (``backlog.panels``), registered from
``NotificationsConfig.ready``."""

from typing import Any

from accounts.permissions import Action
from backlog.models import Item
from backlog.panels import ItemPanel, item_panel_register
from notifications.selectors import is_watching, watcher_count


def watch_panel(*, item: Item, user, actions: frozenset[Action]) -> dict[str, Any]:
    return {"watching": is_watching(item=item, user=user), "watchers": watcher_count(item=item)}


def register() -> None:
    item_panel_register(ItemPanel("watch", "actions", "notifications/_item_watch.html", watch_panel))
