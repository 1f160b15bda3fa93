"""SLA clocks: targets from the priority, working time in business hours, pauses, breaches.

Both targets (response: acknowledged in time; resolution: resolved in time) are measured on one
working-time counter per ticket (see ``Ticket``). These helpers compute on a ticket instance the
caller has locked (its item row, ``SELECT … FOR UPDATE``) and saves.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.models import Product
from backlog.models import Item
from service.business_hours import add_working_seconds, working_seconds
from service.models import ServiceSettings, Ticket


def targets(settings: ServiceSettings, product: Product, priority: int) -> tuple[int, int]:
    """Response and resolution targets of ``priority``, in seconds of working time."""
    return settings.response_minutes_for(priority) * 60, product.sla_hours_for(priority) * 3600


def elapsed(ticket: Ticket, settings: ServiceSettings, now: datetime) -> float:
    """Working time counted on the ticket's clock up to ``now``."""
    running = 0.0
    if ticket.running_since is not None:
        running = working_seconds(ticket.running_since, now, settings.business_hours, settings.time_zone)
    return ticket.elapsed_seconds + running


def _due(ticket: Ticket, settings: ServiceSettings, target: int) -> datetime:
    left = target - ticket.elapsed_seconds
    if left <= 0:  # already over (a priority raised past the time used): due when it was raised
        return ticket.running_since + timedelta(seconds=left)
    return add_working_seconds(ticket.running_since, left, settings.business_hours, settings.time_zone)


def set_due_times(ticket: Ticket, settings: ServiceSettings, product: Product, priority: int) -> None:
    """Set the due times of the clocks still to be met (empty while the clock stands)."""
    response, resolution = targets(settings, product, priority)
    running = ticket.running_since is not None
    if ticket.responded_at is None:
        ticket.response_due_at = _due(ticket, settings, response) if running else None
    if ticket.resolved_at is None:
        ticket.resolution_due_at = _due(ticket, settings, resolution) if running else None


def item_sla_due(ticket: Ticket) -> datetime | None:
    """The item's SLA due time as scores read it: a recorded breach of a target still to be met,
    else the earliest due time still to be met (none while the clock stands)."""
    unmet = []
    if ticket.responded_at is None:
        unmet.append((ticket.response_due_at, ticket.response_breached_at))
    if ticket.resolved_at is None:
        unmet.append((ticket.resolution_due_at, ticket.resolution_breached_at))
    breaches = [breached for _, breached in unmet if breached is not None]
    if breaches:
        return min(breaches)
    dues = [due for due, _ in unmet if due is not None]
    return min(dues) if dues else None


@dataclass(frozen=True)
class Clock:
    """One clock as shown: its target, and time left (negative: breached by that much)."""

    name: str  # response or resolution
    target_seconds: int
    state: str  # running, waiting, met, breached
    due_at: datetime | None
    left_seconds: float | None  # working time left; negative once breached
    met_at: datetime | None
    breached_at: datetime | None

    @property
    def label(self) -> str:
        if self.state == "met":
            return "met" if self.breached_at is None else "met late"
        if self.left_seconds is None:
            return self.state
        text = duration_text(abs(self.left_seconds))
        if self.left_seconds < 0:
            return f"breached by {text}" + (" (waiting)" if self.state == "waiting" else "")
        return f"{text} left" + (" (waiting)" if self.state == "waiting" else "")


def duration_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def clocks_of(ticket: Ticket, settings: ServiceSettings, product: Product, priority: int, now: datetime) -> list[Clock]:
    """The ticket's response and resolution clocks at ``now``."""
    used = elapsed(ticket, settings, now)
    clocks = []
    for name, target in zip(("response", "resolution"), targets(settings, product, priority), strict=True):
        met_at = ticket.responded_at if name == "response" else ticket.resolved_at
        breached_at = getattr(ticket, f"{name}_breached_at")
        due_at = getattr(ticket, f"{name}_due_at")
        if met_at is not None:
            clocks.append(Clock(name, target, "met", due_at, None, met_at, breached_at))
            continue
        left = target - used
        if ticket.waiting_since is not None:
            state = "waiting"
        else:
            state = "breached" if left < 0 or breached_at is not None else "running"
        clocks.append(Clock(name, target, state, due_at, left, None, breached_at))
    return clocks


def ticket_is_open(item: Item) -> bool:
    return item.status in (Item.Status.PROPOSED, Item.Status.OPEN, Item.Status.IN_PROGRESS)
