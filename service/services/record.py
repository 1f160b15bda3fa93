"""The history of the service steps, written through the backlog's history writer."""

from datetime import datetime
from typing import Any

from accounts.models import User
from backlog import history
from backlog.models import Item


def step_record(item: Item, actor: User | None, changes: dict[str, Any], now: datetime, *, reason: str = "") -> None:
    """One history entry of a service step, through the history writer: an edit of ``changes``
    ({field: [old, new]}), at ``now``, with ``reason`` (what a person wrote, or why)."""
    event = history.updated(item=item, actor=actor, changes=changes)
    event.created_at = now
    event.reason = reason
    history.write([event])
