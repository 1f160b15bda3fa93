"""Where webhook events come from: the item history (``backlog.history.listen``), comments,
sprint events and intake, each heard inside the transaction that records it. The deliveries are
rows of that same transaction, so an event is reported exactly when its change commits.

Each event's id is stable (``msg_`` and the source row: ``msg_item_event_42``), the same on every
attempt and redelivery, for receivers to de-duplicate by.
"""

from collections import defaultdict
from typing import Any

from accounts.models import Product, User
from backlog import history
from backlog.models import Item, ItemEvent
from delivery.models import SprintEvent
from delivery.services.sprints import sprint_listen
from refinement.models import Comment
from refinement.services.comments import comment_listen
from service.models import Occurrence, Ticket
from service.services.tickets import intake_listen
from webhooks.models import Endpoint, Event
from webhooks.services import Occurred, deliveries_queue

ITEM_EVENTS = {
    ItemEvent.Type.CREATED: Event.ITEM_CREATED,
    ItemEvent.Type.UPDATED: Event.ITEM_UPDATED,
    ItemEvent.Type.MOVED: Event.ITEM_MOVED,
    ItemEvent.Type.STATUS_CHANGED: Event.ITEM_STATUS_CHANGED,
}


def compact_item(item: Item, product_key: str) -> dict[str, Any]:
    """An item as webhooks carry it (GET /api/v1/items/{key}/ has every field)."""
    return {
        "id": item.pk,
        "key": f"{product_key}-{item.number}",
        "title": item.title,
        "kind": item.kind,
        "status": item.status,
        "estimate": item.estimate,
        "version": item.version,
        "rank": item.rank,
        "updated_at": item.updated_at,
    }


def _actor(user) -> str | None:
    return user.username if user is not None else None


def _subscribed(product_ids: set[int]) -> set[int]:
    """The products among these with an enabled endpoint (one index look-up; most have none). Not
    in the model's order, which would join the products to sort by their names."""
    return set(
        Endpoint.objects.filter(product_id__in=product_ids, enabled=True)
        .order_by()
        .values_list("product_id", flat=True)
    )


def item_events(events: list[ItemEvent]) -> None:
    """Heard from the history writer: report creations, edits, moves, status changes and
    decided proposals."""
    relevant = [event for event in events if event.type in ITEM_EVENTS]
    if not relevant:
        return
    products = _subscribed({event.product_id for event in relevant})
    relevant = [event for event in relevant if event.product_id in products]
    if not relevant:
        return
    by_product: dict[int, list[ItemEvent]] = defaultdict(list)
    for event in relevant:
        by_product[event.product_id].append(event)
    items = Item.objects.in_bulk({event.item_id for event in relevant})
    actors = {event.actor_id for event in relevant if event.actor_id}
    names = dict(User.objects.filter(pk__in=actors).values_list("pk", "username"))
    for product in Product.objects.filter(pk__in=by_product):
        occurred = []
        for event in by_product[product.pk]:
            change = history.shape(event)
            kind = ITEM_EVENTS[event.type]
            if event.type == ItemEvent.Type.STATUS_CHANGED and change.get("from") == Item.Status.PROPOSED:
                kind = Event.PROPOSAL_DECIDED
            item = items.get(event.item_id)
            data = {
                "item": compact_item(item, product.key) if item else {"id": event.item_id},
                "change": {"event": event.type, **change},
                "actor": names.get(event.actor_id),
                "reason": event.reason,
                "operation": str(event.operation) if event.operation else None,
            }
            occurred.append(Occurred(f"msg_item_event_{event.pk}", kind, event.created_at, data))
        deliveries_queue(product=product, events=occurred)


def comment_added(comment: Comment) -> None:
    item = comment.item
    if not _subscribed({item.product_id}):
        return
    product = Product.objects.get(pk=item.product_id)
    data = {
        "item": compact_item(item, product.key),
        "comment": {"id": comment.pk, "body": comment.body, "created_at": comment.created_at},
        "actor": _actor(comment.author),
    }
    deliveries_queue(
        product=product, events=[Occurred(f"msg_comment_{comment.pk}", Event.COMMENT_ADDED, comment.created_at, data)]
    )


SPRINT_EVENTS = {
    SprintEvent.Type.COMMITTED: Event.SPRINT_COMMITTED,
    SprintEvent.Type.STARTED: Event.SPRINT_STARTED,
    SprintEvent.Type.CLOSED: Event.SPRINT_CLOSED,
}


def sprint_event(event: SprintEvent) -> None:
    sprint = event.sprint
    if event.type not in SPRINT_EVENTS or not _subscribed({sprint.product_id}):
        return
    product = Product.objects.get(pk=sprint.product_id)
    data = {
        "sprint": {
            "number": sprint.number,
            "name": sprint.name,
            "state": sprint.state,
            "start_date": sprint.start_date,
            "end_date": sprint.end_date,
            "capacity": sprint.capacity,
        },
        "change": event.data,
        "actor": _actor(event.actor),
        "reason": event.reason,
    }
    deliveries_queue(
        product=product,
        events=[Occurred(f"msg_sprint_event_{event.pk}", SPRINT_EVENTS[event.type], event.created_at, data)],
    )


def intake_received(ticket: Ticket, occurrence: Occurrence, folded: bool) -> None:
    if not _subscribed({ticket.product_id}):
        return
    product = Product.objects.get(pk=ticket.product_id)
    data = {
        "item": compact_item(ticket.item, product.key),
        "folded": folded,
        "ticket": {
            "queue": ticket.queue.slug,
            "priority": ticket.item.itil_priority,
            "occurrences": ticket.occurrence_count,
            "affected_users": ticket.affected_users,
            "fingerprint": ticket.fingerprint,
        },
        "occurrence": {
            "id": occurrence.pk,
            "reporter": occurrence.reporter,
            "external_ref": occurrence.external_ref,
            "affected_users": occurrence.affected_users,
            "urgency": occurrence.urgency,
            "received_at": occurrence.received_at,
        },
    }
    deliveries_queue(
        product=product,
        events=[Occurred(f"msg_occurrence_{occurrence.pk}", Event.INTAKE_RECEIVED, occurrence.received_at, data)],
    )


def register() -> None:
    history.listen(item_events)
    comment_listen(comment_added)
    sprint_listen(sprint_event)
    intake_listen(intake_received)
