"""The service queue inside the one backlog: per-product settings, queues, tickets (the service
side of an operational item), their occurrences, intake tokens (idempotency keys: accounts.IdempotencyKey).

An operational item that arrived through intake has a ``Ticket``: its queue, the data its
priority is calculated from, its fingerprint, and its SLA clocks. Tickets with the fingerprint
of an open ticket fold into it as ``Occurrence`` rows instead of new items.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Product
from backlog.models import Item
from service.business_hours import validate_schedule, validate_time_zone
from service.priority import DEFAULT_HIGH_USERS, DEFAULT_MEDIUM_USERS

# Response targets in minutes for P1..P5 (time to acknowledge); resolution targets are the
# product's ``sla_hours``.
DEFAULT_RESPONSE_MINUTES = {"P1": 15, "P2": 60, "P3": 240, "P4": 480, "P5": 1440}


def default_response_minutes() -> dict[str, int]:
    return dict(DEFAULT_RESPONSE_MINUTES)


def default_business_hours() -> dict:
    return {}


class ServiceSettings(models.Model):
    """A product's service-queue settings: impact thresholds, SLA response targets, business
    hours, and how lower priorities enter the order."""

    class LowerPriorities(models.TextChoices):
        SCORE = "score", "Placed in the order by score"
        PROPOSAL = "proposal", "Proposed for the owner's review"

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="service_settings")
    high_impact_users = models.PositiveIntegerField(
        default=DEFAULT_HIGH_USERS,
        validators=[MinValueValidator(2)],
        help_text="Affected users from which a ticket's impact is high.",
    )
    medium_impact_users = models.PositiveIntegerField(
        default=DEFAULT_MEDIUM_USERS,
        validators=[MinValueValidator(1)],
        help_text="Affected users from which a ticket's impact is medium.",
    )
    response_minutes = models.JSONField(
        default=default_response_minutes,
        help_text="Response targets (time to acknowledge) in minutes, by ITIL priority P1–P5.",
    )
    business_hours = models.JSONField(
        default=default_business_hours,
        blank=True,
        validators=[validate_schedule],
        help_text='Weekly opening hours the clocks run in, e.g. {"mon": [["09:00", "17:00"]]}; empty: round the clock.',
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    sprint_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1)],
        help_text="Sprint length in days: linked incidents' hours lost are counted per sprint of this length.",
    )
    interest_window_sprints = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1)],
        help_text="How many recent sprints the hours lost to incidents are averaged over.",
    )
    lower_priorities = models.CharField(
        max_length=10,
        choices=LowerPriorities.choices,
        default=LowerPriorities.SCORE,
        help_text="P1 and P2 are interrupts at the top of the order; P3–P5 are placed by score or proposed.",
    )

    class Meta:
        verbose_name_plural = "service settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(medium_impact_users__gte=1) & Q(high_impact_users__gt=models.F("medium_impact_users")),
                name="service_settings_thresholds_ascending",
                violation_error_message="The high-impact threshold must be above the medium one.",
            ),
        ]

    def __str__(self) -> str:
        return f"Service settings of {self.product.key}"

    def response_minutes_for(self, priority: int) -> int:
        return int(self.response_minutes.get(f"P{priority}", DEFAULT_RESPONSE_MINUTES[f"P{priority}"]))


class Queue(models.Model):
    """A kind of service work in one product (access, database, incidents, …), with an owner."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="service_queues")
    slug = models.CharField(
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lower-case letters, digits and dashes.")],
        help_text="The queue's name in the API and URLs, e.g. database.",
    )
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_queues")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["product", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "slug"], name="queue_slug_unique_per_product")]

    def __str__(self) -> str:
        return f"{self.name} ({self.product.key})"


class TicketQuerySet(models.QuerySet):
    def open(self) -> "TicketQuerySet":
        """Tickets whose item is still to do (proposed, open or in progress)."""
        return self.filter(item__status__in=OPEN_STATUSES)


OPEN_STATUSES = (Item.Status.PROPOSED, Item.Status.OPEN, Item.Status.IN_PROGRESS)


class Ticket(models.Model):
    """The service side of an operational item: queue, priority data, fingerprint, SLA clocks.

    Clocks: both targets are measured on one working-time counter that runs from intake in the
    product's business hours and stops while the ticket waits on its reporter. ``elapsed_seconds``
    is the working time counted up to ``running_since`` (None while waiting or resolved); the due
    times follow from it and are empty while the clock stands.
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="ticket")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tickets")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    fingerprint = models.CharField(max_length=200, blank=True, help_text="What makes two tickets the same problem.")
    reporter = models.CharField(max_length=200, blank=True)
    external_ref = models.CharField(max_length=200, blank=True)
    affected_users = models.PositiveIntegerField(default=0)
    impact_given = models.CharField(max_length=10, blank=True, help_text="Impact as given; blank: from affected users.")
    priority_why = models.JSONField(default=dict, encoder=DjangoJSONEncoder, editable=False)
    occurrence_count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    elapsed_seconds = models.FloatField(default=0, help_text="Working time counted before running_since.")
    running_since = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True, help_text="Waiting on the reporter since.")
    response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_tickets"
    )
    cause = models.ForeignKey(
        Item,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        help_text="The item that causes this incident (a problem; often technical debt).",
    )
    hours_lost = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Hours the incident cost (working it, and the time it took from others).",
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(waiting_since__isnull=True) | Q(running_since__isnull=True),
                name="ticket_clock_waits_or_runs",
            ),
            models.CheckConstraint(condition=Q(occurrence_count__gte=1), name="ticket_occurrences_positive"),
            models.CheckConstraint(condition=~Q(cause=models.F("item")), name="ticket_not_its_own_cause"),
            models.CheckConstraint(
                condition=Q(hours_lost__isnull=True) | Q(hours_lost__gte=0), name="ticket_hours_lost_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "fingerprint"], name="ticket_product_fingerprint"),
            models.Index(fields=["queue", "resolution_due_at"], name="ticket_queue_due"),
            models.Index(fields=["running_since", "resolution_due_at"], name="ticket_running_due"),
        ]

    def __str__(self) -> str:
        return f"Ticket {self.item_id} in {self.queue_id}"

    @property
    def waiting(self) -> bool:
        return self.waiting_since is not None

    @property
    def breached(self) -> bool:
        """Is a target still to be met past its due time (as recorded by the clock check)?"""
        return (self.response_breached_at is not None and self.responded_at is None) or (
            self.resolution_breached_at is not None
        )


class CauseInterest(models.Model):
    """What linked incidents cost a technical-debt item, and the interest people gave it.

    The debt's interest (hours lost per sprint) is the higher of what people gave and what its
    incidents show; ``applied`` is the value last written, so a person's later edit is seen as
    their new ``given`` value.
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="cause_interest")
    given = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    evidence = models.DecimalField(max_digits=7, decimal_places=1, default=0)
    applied = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Incident interest of {self.item_id}: {self.evidence} h per sprint"


class Occurrence(models.Model):
    """One intake of a ticket: the first, or one folded into it by fingerprint."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="occurrences")
    received_at = models.DateTimeField(default=timezone.now)
    reporter = models.CharField(max_length=200, blank=True)
    external_ref = models.CharField(max_length=200, blank=True)
    affected_users = models.PositiveIntegerField(default=0)
    urgency = models.CharField(max_length=10)
    impact = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["ticket", "received_at"], name="occurrence_ticket_time")]

    def __str__(self) -> str:
        return f"Occurrence of {self.ticket_id} at {self.received_at:%Y-%m-%d %H:%M}"


class IntakeToken(models.Model):
    """A token that may only send tickets to one product's intake. Only a hash is stored."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="intake_tokens")
    name = models.CharField(max_length=100, help_text="Who sends with it, e.g. 'Prometheus alertmanager'.")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) for {self.product_id}"

    @property
    def idempotency_sender(self) -> str:
        """Whose Idempotency-Keys its requests use (accounts.api.idempotency): its own, not its maker's."""
        return f"intake:{self.pk}"
