"""Webhook endpoints of a product, the deliveries queued for them and each delivery's attempts."""

import base64
import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from accounts.models import Product


class Event(models.TextChoices):
    """The events an endpoint can subscribe to (the ``type`` of a delivery's payload)."""

    ITEM_CREATED = "item.created", "Item created"
    ITEM_UPDATED = "item.updated", "Item edited"
    ITEM_MOVED = "item.moved", "Item moved"
    ITEM_STATUS_CHANGED = "item.status_changed", "Item status changed"
    PROPOSAL_DECIDED = "proposal.decided", "Proposal accepted or rejected"
    COMMENT_ADDED = "comment.added", "Comment added"
    SPRINT_COMMITTED = "sprint.committed", "Sprint committed"
    SPRINT_STARTED = "sprint.started", "Sprint started"
    SPRINT_CLOSED = "sprint.closed", "Sprint closed"
    INTAKE_RECEIVED = "intake.received", "Ticket received by intake (new or folded)"
    PING = "webhook.test", "Test event (sent on demand only)"


SUBSCRIBABLE = [value for value in Event.values if value != Event.PING]

# The wait after each failed attempt (after the first, the second, …): the Standard Webhooks
# recommendation, 5 s to 10 h, so the last of the 8 attempts comes about 27.6 h after the first.
RETRY_DELAYS_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1


def new_secret() -> str:
    """A signing secret in the Standard Webhooks format: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Endpoint(models.Model):
    """Where a product's events are sent (owners manage them)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types sent here (see webhooks.models.Event).")
    secret = models.CharField(max_length=100, default=new_secret)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "id"]
        indexes = [models.Index(fields=["product", "enabled"], name="webhook_endpoint_product")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.url}"


class Delivery(models.Model):
    """One event for one endpoint: the signed body, sent until it is accepted or attempts run out.

    ``next_attempt_at`` is the durable schedule: the sweep hands out pending deliveries that are
    due; handing one out pushes it forward by a lease, so a worker that dies mid-delivery leaves it
    to be handed out again when the lease ends.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (attempts used up)"
        CANCELLED = "cancelled", "Cancelled (endpoint disabled)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64, help_text="The webhook-id header: the same on every attempt.")
    event_type = models.CharField(max_length=40)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts made (or under way).")
    max_attempts = models.PositiveIntegerField(default=ATTEMPTS)
    # Sent on demand (a test event, a redelivery): one attempt, and its failure disables nothing.
    on_demand = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=~models.Q(state="pending") | models.Q(next_attempt_at__isnull=False),
                name="webhook_pending_has_next_attempt",
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due", condition=models.Q(state="pending")),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.state})"


class Attempt(models.Model):
    """One HTTP request of a delivery: the answer's status (or the error) and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_body = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
