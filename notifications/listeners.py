"""What the item history tells this app (``backlog.history.listen``): every batch of events
written, inside the writer's transaction. Nothing is read or written here; the batch's ids are
handed to a job after the commit (``notifications.jobs``), so a request never waits on watchers."""

from django.db import transaction

from backlog.models import ItemEvent
from notifications.services import WATCHED_TYPES

# Watchers hear of these; created events make the author watch the item.
ANNOUNCED = (*WATCHED_TYPES, ItemEvent.Type.CREATED)
CHUNK = 500


def item_events_written(events: list[ItemEvent]) -> None:
    from notifications.jobs import enqueue_item_events

    ids = [
        event.pk
        for event in events
        if event.pk is not None and event.type in ANNOUNCED and not (event.data or {}).get("seeded")
    ]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        transaction.on_commit(lambda chunk=chunk: enqueue_item_events(chunk), robust=True)
