"""Reads of the service queue: the open tickets in working order, with filters; the interrupts' draw
on the active sprint's operational buffer."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum

from accounts.models import Product
from service.models import Occurrence, Queue, Ticket

QUEUE_FILTERS = ("queue", "priority", "breached", "waiting", "assignee")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class TicketFilters:
    queue: str = ""
    priority: int | None = None
    breached: bool | None = None
    waiting: bool | None = None
    assignee: str = ""  # a username, or "none"


def _flag(value: str, name: str, errors: dict) -> bool | None:
    if value == "":
        return None
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    errors[name] = ["Give true or false."]
    return None


def ticket_filters(parameters: Any, *, strict: bool = True) -> TicketFilters:
    """Read the queue's filters from query parameters; invalid ones are a ValidationError naming
    them (``strict``, the API) or left out (the page)."""
    errors: dict[str, list[str]] = {}
    priority = None
    raw_priority = (parameters.get("priority") or "").strip().upper().removeprefix("P")
    if raw_priority:
        if raw_priority in {"1", "2", "3", "4", "5"}:
            priority = int(raw_priority)
        else:
            errors["priority"] = ["Give a priority from 1 (P1) to 5 (P5)."]
    filters = TicketFilters(
        queue=(parameters.get("queue") or "").strip(),
        priority=priority,
        breached=_flag((parameters.get("breached") or "").strip(), "breached", errors),
        waiting=_flag((parameters.get("waiting") or "").strip(), "waiting", errors),
        assignee=(parameters.get("assignee") or "").strip(),
    )
    if errors and strict:
        raise ValidationError(errors)
    return filters


def ticket_list(*, product: Product, filters: TicketFilters = TicketFilters()) -> QuerySet[Ticket]:
    """The product's open tickets in working order: by priority (P1 and P2, the interrupts,
    first), then by SLA due time (the earliest, or a breach, first; standing clocks last)."""
    tickets = (
        Ticket.objects.open()
        .filter(item__product=product, item__kind="operational")  # read in the order of service_queue_order
        .select_related("item", "queue", "assignee", "cause__product")
        .order_by("item__itil_priority", F("item__sla_due_at").asc(nulls_last=True), "item__number")
    )
    if filters.queue:
        tickets = tickets.filter(queue__slug=filters.queue)
    if filters.priority is not None:
        tickets = tickets.filter(item__itil_priority=filters.priority)
    breached = Q(response_breached_at__isnull=False, responded_at__isnull=True) | Q(
        resolution_breached_at__isnull=False
    )
    if filters.breached is True:
        tickets = tickets.filter(breached)
    elif filters.breached is False:
        tickets = tickets.exclude(breached)
    if filters.waiting is not None:
        tickets = tickets.filter(waiting_since__isnull=not filters.waiting)
    if filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee:
        tickets = tickets.filter(assignee__username=filters.assignee)
    return tickets


def queue_list(*, product: Product) -> QuerySet[Queue]:
    return Queue.objects.filter(product=product).select_related("owner").order_by("name")


def occurrence_list(*, ticket: Ticket) -> QuerySet[Occurrence]:
    """The ticket's occurrences, newest first."""
    return Occurrence.objects.filter(ticket=ticket).order_by("-received_at", "-id")


def incidents_of(*, cause) -> QuerySet[Ticket]:
    """The incidents an item causes, newest first."""
    return Ticket.objects.filter(cause=cause).select_related("item__product").order_by("-first_seen_at", "-item_id")


INTERRUPT_PRIORITIES = (1, 2)


@dataclass(frozen=True)
class InterruptBuffer:
    """How the interrupts (P1/P2 tickets) that arrived in the active sprint draw on its
    operational buffer (the capacity share held back for them, see the delivery app)."""

    sprint: str
    starts: date
    ends: date
    share_percent: int
    buffer_points: float
    interrupts: int
    points: int  # the interrupts' estimates
    unestimated: int
    hours_lost: Decimal

    @property
    def over(self) -> bool:
        return self.points > self.buffer_points


def interrupt_buffer(*, product: Product) -> InterruptBuffer | None:
    """The active sprint's operational buffer and the interrupts drawing on it (None without an
    active sprint)."""
    from delivery.selectors import active_sprint, delivery_settings_for

    sprint = active_sprint(product=product)
    if sprint is None:
        return None
    share = delivery_settings_for(product=product).operational_share or 0
    found = Ticket.objects.filter(
        product=product,
        item__itil_priority__in=INTERRUPT_PRIORITIES,
        first_seen_at__date__gte=sprint.start_date,
        first_seen_at__date__lte=sprint.end_date,
    ).aggregate(
        interrupts=Count("pk"),
        points=Sum("item__estimate"),
        unestimated=Count("pk", filter=Q(item__estimate__isnull=True)),
        hours=Sum("hours_lost"),
    )
    return InterruptBuffer(
        sprint=sprint.name,
        starts=sprint.start_date,
        ends=sprint.end_date,
        share_percent=share,
        buffer_points=round(sprint.capacity * share / 100, 1),
        interrupts=found["interrupts"],
        points=found["points"] or 0,
        unestimated=found["unestimated"],
        hours_lost=found["hours"] or Decimal(0),
    )
