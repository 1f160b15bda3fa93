"""Webhook endpoints (owners manage them) and the life of a delivery: queued in the transaction of
the change it reports, attempted, retried with back-off, given up, redelivered on demand.

A delivery is a row whose ``next_attempt_at`` is its schedule. An attempt first claims the row
(attempts + 1, the next attempt pushed a lease ahead), commits, sends, then records the answer:
a worker that dies mid-delivery leaves a row the sweep hands out again when the lease ends, and a
duplicate message for an attempt already made finds the count moved on and does nothing.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Membership, Notification, Product, User
from accounts.permissions import Action, require
from accounts.services import notification_create
from backlog.jobs import in_process
from webhooks import jobs, sending
from webhooks.models import RETRY_DELAYS_SECONDS, SUBSCRIBABLE, Attempt, Delivery, Endpoint, Event

logger = logging.getLogger(__name__)

MAX_ENDPOINTS = 20
SWEEP_BATCH = 500
# In process, one sweep sends for at most this long; the rest go at the next sweep.
IN_PROCESS_SWEEP_SECONDS = 30


@dataclass(frozen=True)
class Occurred:
    """An event to report: its stable id, type, when it happened and its ``data``."""

    event_id: str
    type: str
    at: datetime
    data: dict[str, Any]


def _lease() -> timedelta:
    """How long a delivery handed to a worker, or under way, is left alone before the sweep hands
    it out again (its message was lost, its worker died): ``WEBHOOKS_LEASE_SECONDS``, and always
    longer than an attempt may take."""
    attempt = settings.WEBHOOKS_CONNECT_TIMEOUT + settings.WEBHOOKS_READ_TIMEOUT + 5
    return timedelta(seconds=max(settings.WEBHOOKS_LEASE_SECONDS, attempt))


def _clean(*, url: str | None = None, events: Any = None, description: str | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if url is not None:
        url = url.strip()
        if len(url) > 500:
            errors["url"] = "Keep the URL under 500 characters."
        else:
            try:
                sending.check(url)
            except sending.RefusedUrl as refused:
                errors["url"] = str(refused)
        clean["url"] = url
    if events is not None:
        if not isinstance(events, list | tuple) or not events:
            errors["events"] = "Choose at least one event."
        elif unknown := sorted({str(e) for e in events} - set(SUBSCRIBABLE)):
            errors["events"] = f"Unknown events: {', '.join(unknown)}. Choose from {', '.join(SUBSCRIBABLE)}."
        else:
            clean["events"] = [e for e in SUBSCRIBABLE if e in events]
    if description is not None:
        if len(description) > 200:
            errors["description"] = "Keep the description under 200 characters."
        clean["description"] = description.strip()
    if errors:
        raise ValidationError(errors)
    return clean


def _summary(endpoint: Endpoint) -> dict[str, Any]:
    return {"webhook": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}


def endpoint_create(*, product: Product, actor: User, url: str, events: list[str], description: str = "") -> Endpoint:
    """Add an endpoint (owners); its secret is generated."""
    require(actor, Action.MANAGE, product)
    clean = _clean(url=url, events=events, description=description)
    with transaction.atomic():
        if Endpoint.objects.filter(product=product).count() >= MAX_ENDPOINTS:
            raise ValidationError({"url": f"A product has at most {MAX_ENDPOINTS} webhook endpoints."})
        endpoint = Endpoint.objects.create(product=product, created_by=actor, **clean)
        audit_record(product=product, actor=actor, action=AuditEvent.Action.SETTINGS_CHANGED, new=_summary(endpoint))
    return endpoint


def endpoint_update(*, endpoint: Endpoint, actor: User, changes: dict[str, Any]) -> Endpoint:
    """Change an endpoint's URL, events, description or enabled flag (owners). Enabling it again
    clears why it was disabled."""
    require(actor, Action.MANAGE, endpoint.product)
    clean = _clean(url=changes.get("url"), events=changes.get("events"), description=changes.get("description"))
    if "enabled" in changes:
        clean["enabled"] = bool(changes["enabled"])
    with transaction.atomic():
        current = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = _summary(current)
        for name, value in clean.items():
            setattr(current, name, value)
        if clean.get("enabled"):
            current.disabled_reason = ""
        current.save()
        audit_record(
            product=endpoint.product,
            actor=actor,
            action=AuditEvent.Action.SETTINGS_CHANGED,
            old=before,
            new=_summary(current),
        )
    current.product = endpoint.product
    return current


def endpoint_delete(*, endpoint: Endpoint, actor: User) -> None:
    """Remove an endpoint and its delivery log (owners)."""
    require(actor, Action.MANAGE, endpoint.product)
    with transaction.atomic():
        audit_record(
            product=endpoint.product, actor=actor, action=AuditEvent.Action.SETTINGS_CHANGED, old=_summary(endpoint)
        )
        endpoint.delete()


def endpoint_secret_rotate(*, endpoint: Endpoint, actor: User) -> Endpoint:
    """Give the endpoint a new secret (owners); deliveries are signed with it from now on."""
    require(actor, Action.MANAGE, endpoint.product)
    Endpoint.objects.filter(pk=endpoint.pk).update(secret=Endpoint._meta.get_field("secret").default())
    endpoint.refresh_from_db(fields=["secret", "updated_at"])
    return endpoint


def _body(event_id: str, event_type: str, at: datetime, product: Product, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "product": product.key,
        "data": data,
    }


def deliveries_queue(*, product: Product, events: list[Occurred]) -> list[Delivery]:
    """Queue a delivery of each event to each enabled endpoint of ``product`` that subscribes to
    it; call inside the transaction of the change (the rows commit with it), sent after the commit."""
    endpoints = [e for e in Endpoint.objects.filter(product_id=product.pk, enabled=True) if e.events]
    if not endpoints:
        return []
    now = timezone.now()
    first_attempt = now if in_process() else now + _lease()  # with a broker: sent on commit
    rows = [
        Delivery(
            endpoint=endpoint,
            event_id=event.event_id,
            event_type=event.type,
            payload=_body(event.event_id, event.type, event.at, product, event.data),
            next_attempt_at=first_attempt,
            created_at=now,
        )
        for event in events
        for endpoint in endpoints
        if event.type in endpoint.events
    ]
    created = Delivery.objects.bulk_create(rows, ignore_conflicts=False)
    jobs.enqueue_deliveries([row.pk for row in created])
    return created


def endpoint_test_send(*, endpoint: Endpoint, actor: User) -> Delivery:
    """Queue a test event to the endpoint (owners), one attempt, shown in its delivery log."""
    require(actor, Action.MANAGE, endpoint.product)
    event_id = f"msg_test_{uuid.uuid4().hex}"
    now = timezone.now()
    data = {"message": "A test event from OneBacklog.", "endpoint": endpoint.pk, "sent_by": actor.username}
    with transaction.atomic():
        delivery = Delivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            event_type=Event.PING,
            payload=_body(event_id, Event.PING, now, endpoint.product, data),
            max_attempts=1,
            on_demand=True,
            next_attempt_at=now if in_process() else now + _lease(),
        )
        jobs.enqueue_deliveries([delivery.pk])
    return delivery


def delivery_redeliver(*, delivery: Delivery, actor: User) -> Delivery:
    """Send a delivery once more, with the same id and body (owners): one more attempt."""
    require(actor, Action.MANAGE, delivery.endpoint.product)
    with transaction.atomic():
        current = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if current.state == Delivery.State.PENDING:
            raise ValidationError({"delivery": "This delivery is still being attempted."})
        current.state = Delivery.State.PENDING
        current.max_attempts = current.attempts + 1
        current.on_demand = True
        current.next_attempt_at = timezone.now() if in_process() else timezone.now() + _lease()
        current.finished_at = None
        current.save(update_fields=["state", "max_attempts", "on_demand", "next_attempt_at", "finished_at"])
        jobs.enqueue_deliveries([current.pk])
    current.endpoint = delivery.endpoint
    return current


def _claim(delivery_id: int, expected_attempts: int | None) -> tuple[Delivery, int] | None:
    """Take attempt ``attempts + 1`` of a pending delivery: count it and push the next attempt a
    lease ahead, committed before anything is sent."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, state=Delivery.State.PENDING)
            .first()
        )
        if delivery is None or (expected_attempts is not None and delivery.attempts != expected_attempts):
            return None
        if not delivery.endpoint.enabled:
            delivery.state = Delivery.State.CANCELLED
            delivery.next_attempt_at = None
            delivery.finished_at = timezone.now()
            delivery.save(update_fields=["state", "next_attempt_at", "finished_at"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = timezone.now() + _lease()
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery, delivery.attempts


def delivery_attempt(*, delivery_id: int, expected_attempts: int | None = None) -> str | None:
    """Make the next attempt of a delivery and record it; return the delivery's state after it
    (None if there was nothing to do: delivered, given up, or that attempt already made)."""
    claimed = _claim(delivery_id, expected_attempts)
    if claimed is None:
        return None
    delivery, number = claimed
    started = timezone.now()
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    outcome = sending.post(
        url=delivery.endpoint.url, secret=delivery.endpoint.secret, event_id=delivery.event_id, body=body
    )
    return _record(delivery.pk, number, started, outcome)


def _record(delivery_id: int, number: int, started: datetime, outcome: sending.Outcome) -> str | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("endpoint__product").get(pk=delivery_id)
        )
        Attempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            response_body=outcome.body[:1000],
        )
        delivery.last_status = outcome.status_code
        delivery.last_error = outcome.error
        if delivery.state != Delivery.State.PENDING or delivery.attempts != number:
            delivery.save(update_fields=["last_status", "last_error"])  # overtaken; keep the log only
            return delivery.state
        if outcome.succeeded:
            delivery.state = Delivery.State.DELIVERED
            delivery.next_attempt_at = None
            delivery.finished_at = now
            Endpoint.objects.filter(pk=delivery.endpoint_id).update(last_success_at=now)
        elif delivery.attempts >= delivery.max_attempts:
            delivery.state = Delivery.State.FAILED
            delivery.next_attempt_at = None
            delivery.finished_at = now
        else:
            delay = RETRY_DELAYS_SECONDS[min(delivery.attempts, len(RETRY_DELAYS_SECONDS)) - 1]
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save(update_fields=["state", "next_attempt_at", "finished_at", "last_status", "last_error"])
        if delivery.state == Delivery.State.FAILED and not delivery.on_demand:
            _disable_if_failing(delivery)
    return delivery.state


def _disable_if_failing(delivery: Delivery) -> None:
    """A delivery used every attempt and nothing reached the endpoint since it was queued: the
    endpoint is disabled, its pending deliveries cancelled and the owners told."""
    endpoint = Endpoint.objects.select_for_update().select_related("product").get(pk=delivery.endpoint_id)
    if not endpoint.enabled or (endpoint.last_success_at and endpoint.last_success_at >= delivery.created_at):
        return
    now = timezone.now()
    endpoint.enabled = False
    endpoint.disabled_reason = (
        f"Disabled {now:%Y-%m-%d %H:%M} UTC: every attempt of {delivery.event_id} failed over "
        f"{(now - delivery.created_at).total_seconds() / 3600:.1f} h (last: {delivery.last_error or 'no answer'})."
    )[:300]
    endpoint.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    Delivery.objects.filter(endpoint=endpoint, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, next_attempt_at=None, finished_at=now
    )
    product = endpoint.product
    link = reverse("webhook-detail", args=[product.key, endpoint.pk])
    text = f"The webhook to {endpoint.url} was disabled after failing for over a day."
    owners = User.objects.filter(memberships__product=product, memberships__role=Membership.Role.OWNER)
    for owner in owners:
        notification_create(
            user=owner,
            product=product,
            kind=Notification.Kind.WEBHOOK_DISABLED,
            key=f"webhook-disabled:{endpoint.pk}:{int(now.timestamp())}",
            text=text,
            link=link,
        )
    logger.warning("Webhook endpoint %s of %s disabled: %s", endpoint.pk, product.key, endpoint.disabled_reason)


def deliveries_due_hand_out(*, limit: int = SWEEP_BATCH) -> int:
    """Hand out the pending deliveries that are due (oldest due first); return how many.

    With a broker each goes to a worker, its next attempt pushed a lease ahead so the next sweep
    does not hand it out again while it waits in the queue. In process they are sent here, one
    after another, for at most ``IN_PROCESS_SWEEP_SECONDS``.
    """
    now = timezone.now()
    # Deliveries of disabled endpoints are cancelled when they are next due.
    Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now, endpoint__enabled=False).update(
        state=Delivery.State.CANCELLED, next_attempt_at=None, finished_at=now
    )
    due = Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now).order_by("next_attempt_at")
    if in_process():
        sent = 0
        deadline = now + timedelta(seconds=IN_PROCESS_SWEEP_SECONDS)
        for pk in list(due.values_list("pk", flat=True)[:limit]):
            if timezone.now() > deadline:
                break
            if delivery_attempt(delivery_id=pk) is not None:
                sent += 1
        return sent
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True, of=("self",)).values_list("pk", "attempts")[:limit])
        Delivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(next_attempt_at=now + _lease())
    for index, (pk, attempts) in enumerate(rows):
        if not jobs.send_delivery(pk, attempts):
            # The broker is away: these stay due for the next sweep.
            Delivery.objects.filter(pk__in=[pk for pk, _ in rows[index:]], state=Delivery.State.PENDING).update(
                next_attempt_at=now
            )
            return index
    return len(rows)
