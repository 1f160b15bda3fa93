"""Incidents feed the debt that causes them: an operational ticket names its cause (a
"problem", often a technical-debt item); the hours lost to a cause's incidents, per sprint, count
as the debt's interest when that is higher than the interest people gave, so recurring incidents
raise its score with evidence."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from backlog.jobs import enqueue_item_score
from backlog.models import Item
from service.jobs import enqueue_cause_interest
from service.models import CauseInterest, ServiceSettings, Ticket
from service.services.locks import item_lock
from service.services.record import step_record as _record
from service.services.settings import service_settings_for

TENTH = Decimal("0.1")


@dataclass(frozen=True)
class SprintHours:
    starts: datetime
    ends: datetime
    hours: Decimal
    incidents: int


def _locked_ticket(item: Item, expected_version: int | None = None) -> tuple[Item, Ticket]:
    """The item locked (at ``expected_version``, if given: If-Match) and its ticket."""
    current = item_lock(item.pk)
    ticket = Ticket.objects.filter(pk=item.pk).select_related("cause__product").first()
    if current is None or ticket is None:
        raise ValidationError({"item": f"{item.key} is not a service ticket."})
    current.check_version(expected_version)
    return current, ticket


def ticket_link_cause(*, item: Item, actor: User, cause: Item | None, expected_version: int | None = None) -> Ticket:
    """Name the item that causes this incident (or none); its incident interest follows."""
    require(actor, Action.EDIT_WORK, item)
    if cause is not None and (cause.product_id != item.product_id or cause.pk == item.pk):
        raise ValidationError({"cause": "The cause is another item of the same product."})
    with transaction.atomic():
        current, ticket = _locked_ticket(item, expected_version)
        old = ticket.cause
        if (old.pk if old else None) == (cause.pk if cause else None):
            return ticket
        ticket.cause = cause
        ticket.save(update_fields=["cause"])
        now = timezone.now()
        _record(current, actor, {"cause": [old.key if old else None, cause.key if cause else None]}, now)
        for changed in {old.pk if old else None, cause.pk if cause else None} - {None}:
            transaction.on_commit(lambda pk=changed: enqueue_cause_interest(pk), robust=True)
    return ticket


def ticket_hours_lost_set(
    *, item: Item, actor: User, hours: Decimal | None, expected_version: int | None = None
) -> Ticket:
    """Record the hours an incident cost."""
    require(actor, Action.EDIT_WORK, item)
    if hours is not None and (hours < 0 or hours > Decimal("99999.9")):
        raise ValidationError({"hours_lost": "Hours lost are from 0 to 99,999.9."})
    with transaction.atomic():
        current, ticket = _locked_ticket(item, expected_version)
        hours = None if hours is None else Decimal(hours).quantize(TENTH, rounding=ROUND_HALF_UP)
        if ticket.hours_lost == hours:
            return ticket
        old = ticket.hours_lost
        ticket.hours_lost = hours
        ticket.save(update_fields=["hours_lost"])
        _record(current, actor, {"hours_lost": [old, hours]}, timezone.now())
        if ticket.cause_id:
            transaction.on_commit(lambda: enqueue_cause_interest(ticket.cause_id), robust=True)
    return ticket


def hours_per_sprint(*, cause: Item, settings: ServiceSettings, now: datetime) -> list[SprintHours]:
    """The hours lost to the cause's incidents in each of the recent sprints, newest first (an
    incident counts in the sprint it arrived in)."""
    length = timedelta(days=settings.sprint_days)
    sprints = []
    for back in range(settings.interest_window_sprints):
        ends = now - back * length
        starts = ends - length
        found = Ticket.objects.filter(cause=cause, first_seen_at__gte=starts, first_seen_at__lt=ends).aggregate(
            hours=Sum("hours_lost"), incidents=Count("pk")
        )
        sprints.append(SprintHours(starts, ends, found["hours"] or Decimal(0), found["incidents"]))
    return sprints


def evidence_of(sprints: list[SprintHours]) -> Decimal:
    """Hours lost per sprint: the average over the window."""
    total = sum((sprint.hours for sprint in sprints), Decimal(0))
    return (total / len(sprints)).quantize(TENTH, rounding=ROUND_HALF_UP) if sprints else Decimal(0)


def cause_interest_refresh(*, item_id: int, now: datetime | None = None) -> CauseInterest | None:
    """Recount the hours lost to an item's incidents; for technical debt, make its interest the
    higher of what people gave and what the incidents show (recorded in its history, rescored)."""
    now = now or timezone.now()
    with transaction.atomic():
        cause = item_lock(item_id)
        if cause is None:
            return None
        settings = service_settings_for(cause.product)
        evidence = evidence_of(hours_per_sprint(cause=cause, settings=settings, now=now))
        record, _ = CauseInterest.objects.get_or_create(item=cause)
        record.evidence = evidence
        record.updated_at = now
        if cause.kind == Item.Kind.TECH_DEBT:
            current = cause.interest_hours
            if record.applied is None or current != record.applied:
                record.given = current  # first time, or a person changed it since we wrote it
            interest = max(record.given or Decimal(0), evidence)
            if interest != current:
                cause.interest_hours = interest
                cause.version += 1
                cause.updated_at = now
                cause.save(update_fields=["interest_hours", "version", "updated_at"])
                _record(
                    cause,
                    None,
                    {"interest_hours": [current, interest]},
                    now,
                    reason=f"Hours lost to linked incidents: {evidence} h per sprint; given: {record.given} h.",
                )
                transaction.on_commit(lambda: enqueue_item_score(item_id), robust=True)
            record.applied = interest
        record.save()
    return record


def causes_refresh(*, now: datetime | None = None) -> int:
    """Scheduled: recount every cause (the window slides with time). Return how many."""
    ids = set(Ticket.objects.filter(cause__isnull=False).values_list("cause_id", flat=True))
    ids |= set(CauseInterest.objects.values_list("item_id", flat=True))
    for item_id in ids:
        cause_interest_refresh(item_id=item_id, now=now)
    return len(ids)
