"""The item page's panels contributed by the apps above backlog (refinement's questions, comments
and split link; delivery's sprint and forecast panel), registered from their ``AppConfig.ready``
so that backlog imports nothing above it (like ``backlog.services.items.DONE_HOOKS``).

A panel is a template fragment the item page includes in one of its slots, with the context its
``context`` function returns (read in the fragment as ``panel.<name>``); the fragment also sees the
page's own context (``item``, ``product``, ``actions``, ``user``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accounts.permissions import Action
from backlog.models import Item

SLOTS = ("actions", "main", "side")


def _no_context(*, item: Item, user, actions: frozenset[Action]) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ItemPanel:
    """``slot``: "actions" (the buttons above), "main" (the left column, after the description)
    or "side" (the right column, after the details)."""

    name: str
    slot: str
    template: str
    context: Callable[..., dict[str, Any]] = field(default=_no_context)

    def __post_init__(self) -> None:
        if self.slot not in SLOTS:
            raise ValueError(f"Unknown item-page slot {self.slot!r}; one of {', '.join(SLOTS)}.")


ITEM_PANELS: list[ItemPanel] = []


def item_panel_register(panel: ItemPanel) -> None:
    """Add ``panel`` once (a second ``ready`` replaces it rather than showing it twice)."""
    ITEM_PANELS[:] = [registered for registered in ITEM_PANELS if registered.name != panel.name]
    ITEM_PANELS.append(panel)


def item_panels(*, item: Item, user, actions: frozenset[Action]) -> dict[str, list[dict[str, Any]]]:
    """The registered panels by slot, each ``{"template": ..., "context": ...}``, in registration order."""
    slots: dict[str, list[dict[str, Any]]] = {slot: [] for slot in SLOTS}
    for panel in ITEM_PANELS:
        slots[panel.slot].append(
            {"template": panel.template, "context": panel.context(item=item, user=user, actions=actions)}
        )
    return slots
