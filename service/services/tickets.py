"""Intake and the work on a ticket: create or fold, acknowledge, wait, resume, resolve, assign,
and the scheduled clock check. Each writes the item's history.

Lock order, as every item writer: the product row, then the item row. Creating an item or
changing its place takes the product row for update (``lock_product``); the other steps take it
shared (``FOR KEY SHARE``, what the history row's foreign key takes anyway), so folds into one
product run side by side, yet never hold an item while waiting for its product. A ticket's row
is written only under its item's lock.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, allowed, require
from backlog import history, scoring
from backlog.jobs import enqueue_item_score, enqueue_suggestions
from backlog.models import Item
from backlog.services.items import SERVICE_RELATIONS, item_transition, one_line_ending
from backlog.services.ordering import Placement, lock_product, order_place
from notifications.jobs import enqueue_sla_breach
from service.models import OPEN_STATUSES, Occurrence, Queue, ServiceSettings, Ticket
from service.priority import LEVELS, higher_level, priority_of
from service.services.clocks import elapsed, item_sla_due, set_due_times
from service.services.incidents import ticket_hours_lost_set
from service.services.locks import item_lock
from service.services.record import step_record as _record
from service.services.settings import service_settings_for

INTERRUPTS = (1, 2)  # P1 and P2: worked from the queue, at the top of the order


@dataclass(frozen=True)
class Intake:
    ticket: Ticket  # with its item, queue and assignee loaded
    folded: bool  # into an open ticket with the same fingerprint
    settings: ServiceSettings  # the product's, as the priority was calculated with


def _validate(*, title: str, urgency: str, impact: str, affected_users: int) -> None:
    errors = {}
    if not title.strip():
        errors["title"] = "Give the ticket a title."
    if urgency not in LEVELS:
        errors["urgency"] = "Urgency is high, medium or low."
    if impact and impact not in LEVELS:
        errors["impact"] = "Impact is high, medium or low (or leave it out to derive it from affected users)."
    if isinstance(affected_users, bool) or not isinstance(affected_users, int) or affected_users < 0:
        errors["affected_users"] = "Affected users is a whole number, 0 or more."
    if errors:
        raise ValidationError(errors)


def ticket_intake(
    *,
    product: Product,
    sender: User | None,
    queue: Queue,
    title: str,
    urgency: str,
    description: str = "",
    affected_users: int = 0,
    impact: str = "",
    reporter: str = "",
    external_ref: str = "",
    fingerprint: str = "",
    via: str = "",
) -> Intake:
    """Take in a ticket: fold it into the open ticket with the same fingerprint, or create an
    operational item for it (P1/P2 at the top of the order; P3–P5 placed by score or proposed,
    as the product's settings say). The caller checks the sender may send to ``product``."""
    if queue.product_id != product.pk:
        raise ValidationError({"queue": f"No queue {queue.slug} in {product.key}."})
    _validate(title=title, urgency=urgency, impact=impact, affected_users=affected_users)
    fingerprint = fingerprint.strip()
    data = {
        "title": title.strip(),
        "description": one_line_ending(description),
        "affected_users": affected_users,
        "urgency": urgency,
        "impact": impact,
        "reporter": reporter,
        "external_ref": external_ref,
    }
    with transaction.atomic():
        settings = service_settings_for(product)
        if fingerprint:
            # Fold without the product lock: only the open ticket's item row is locked.
            found = _open_ticket_id(product, fingerprint)
            if found is not None and (folded := _fold(found, settings, sender, data)) is not None:
                return Intake(folded, True, settings)
        product = lock_product(product)  # creating serializes per product: the fingerprint is checked again
        if fingerprint:
            found = _open_ticket_id(product, fingerprint)
            if found is not None and (folded := _fold(found, settings, sender, data, product_locked=True)):
                return Intake(folded, True, settings)
        return Intake(_create(product, settings, sender, queue, fingerprint, data, via), False, settings)


def _open_ticket_id(product: Product, fingerprint: str) -> int | None:
    return (
        Ticket.objects.open()
        .filter(product=product, fingerprint=fingerprint)
        .order_by("item_id")
        .values_list("item_id", flat=True)
        .first()
    )


def _priority(ticket: Ticket, urgency: str, settings: ServiceSettings):
    return priority_of(
        affected_users=ticket.affected_users,
        urgency=urgency,
        impact_given=ticket.impact_given,
        high_users=settings.high_impact_users,
        medium_users=settings.medium_impact_users,
    )


def _placement(item: Item, product: Product, now: datetime) -> Placement:
    """Interrupts go to the top; the others before the first ordered item scoring lower."""
    if item.itil_priority in INTERRUPTS:
        return Placement.top()
    value = scoring.score(item, model=product.scoring_model, now=now, weights=product.score_weights).value
    if value is None:
        return Placement.bottom()
    below = (
        Item.objects.filter(product=product, rank__isnull=False, score__lt=value)
        .order_by("rank")
        .values_list("pk", flat=True)
        .first()
    )
    return Placement.before(below) if below is not None else Placement.bottom()


def _create(
    product: Product,
    settings: ServiceSettings,
    sender: User | None,
    queue: Queue,
    fingerprint: str,
    data: dict[str, Any],
    via: str,
) -> Ticket:
    now = timezone.now()
    ticket = Ticket(
        product=product,
        queue=queue,
        fingerprint=fingerprint,
        reporter=data["reporter"],
        external_ref=data["external_ref"],
        affected_users=data["affected_users"],
        impact_given=data["impact"],
        first_seen_at=now,
        last_seen_at=now,
        running_since=now,
    )
    priority = _priority(ticket, data["urgency"], settings)
    ticket.priority_why = priority.why
    interrupt = priority.priority in INTERRUPTS
    ordered = interrupt or settings.lower_priorities == ServiceSettings.LowerPriorities.SCORE
    item = Item(
        product=product,
        kind=Item.Kind.OPERATIONAL,
        title=data["title"],
        description=data["description"],
        created_by=sender,
        status=Item.Status.OPEN if ordered else Item.Status.PROPOSED,
        created_at=now,
        updated_at=now,
        number=product.last_item_number + 1,
        impact=priority.impact,
        urgency=priority.urgency,
        itil_priority=priority.priority,
        value_beneficiaries=f"{data['affected_users']:,} affected users",
        value_cost_of_delay=f"Service ticket in queue {queue.name}: priority P{priority.priority}.",
        value_risk_removed="Restores the service.",
    )
    set_due_times(ticket, settings, product, priority.priority)
    item.sla_due_at = item_sla_due(ticket)
    item.full_clean(exclude=SERVICE_RELATIONS, validate_unique=False, validate_constraints=False)
    placed = order_place(item=item, placement=_placement(item, product, now)) if ordered else None
    Product.objects.filter(pk=product.pk).update(last_item_number=F("last_item_number") + 1)
    item.save(force_insert=True)
    ticket.item = item
    ticket.save(force_insert=True)
    history.write([history.created(item=item, actor=sender, placed=placed)])
    _record_occurrence(ticket, now, data, folded=False)
    transaction.on_commit(lambda: enqueue_item_score(item.pk), robust=True)
    return ticket


# Who else hears of each intake (a new ticket or one folded into an open ticket): callables given
# the ticket, its new occurrence and whether it folded, inside the intake's transaction (one that
# sends anything defers it with ``transaction.on_commit``); the apps above add theirs from
# ``AppConfig.ready`` through ``intake_listen``.
INTAKE_LISTENERS: list[Callable[[Ticket, Occurrence, bool], None]] = []


def intake_listen(listener: Callable[[Ticket, Occurrence, bool], None]) -> None:
    """Call ``listener`` after every intake from now on (once, however often asked)."""
    if listener not in INTAKE_LISTENERS:
        INTAKE_LISTENERS.append(listener)


def _record_occurrence(ticket: Ticket, now, data: dict[str, Any], *, folded: bool) -> Occurrence:
    """One intake of ``ticket``, as received."""
    fields = ("reporter", "external_ref", "affected_users", "urgency", "impact", "title")
    occurrence = Occurrence.objects.create(ticket=ticket, received_at=now, **{name: data[name] for name in fields})
    for listener in INTAKE_LISTENERS:
        listener(ticket, occurrence, folded)
    return occurrence


def _fold(
    item_id: int, settings: ServiceSettings, sender: User | None, data: dict[str, Any], *, product_locked: bool = False
) -> Ticket | None:
    """Fold an intake into the open ticket of item ``item_id``; None if it closed meanwhile.

    A proposed ticket may become an interrupt and enter the order, which takes the product lock:
    taken first (the lock order), only when the item is proposed.
    """
    found = Item.objects.filter(pk=item_id).values_list("product_id", "status").first()
    if found is None:
        return None
    if not product_locked and found[1] == Item.Status.PROPOSED:
        lock_product(found[0])
        product_locked = True
    item = item_lock(item_id, product_id=found[0])
    if item is None or item.status not in OPEN_STATUSES:
        return None
    ticket = Ticket.objects.select_related("queue", "assignee").get(pk=item_id)
    ticket.item = item
    now = timezone.now()
    ticket.occurrence_count += 1
    ticket.affected_users += data["affected_users"]
    ticket.last_seen_at = now
    ticket.impact_given = higher_level(ticket.impact_given, data["impact"])
    priority = _priority(ticket, higher_level(item.urgency, data["urgency"]), settings)
    ticket.priority_why = priority.why
    changed = _apply_priority(item, ticket, settings, priority, sender, now, step="surge", may_enter=product_locked)
    ticket.save()
    _record_occurrence(ticket, now, data, folded=True)
    if changed:
        transaction.on_commit(lambda: enqueue_item_score(item.pk), robust=True)
    return ticket


def _apply_priority(
    item: Item,
    ticket: Ticket,
    settings: ServiceSettings,
    priority,
    actor: User | None,
    now: datetime,
    *,
    step: str,
    may_enter: bool,
) -> bool:
    """Write a recalculated priority (and the due times it sets) to the item; record the change.
    A proposed ticket that becomes an interrupt enters the order at the top (``may_enter``: the
    caller holds the product lock)."""
    before = {name: getattr(item, name) for name in ("impact", "urgency", "itil_priority", "sla_due_at")}
    item.impact, item.urgency, item.itil_priority = priority.impact, priority.urgency, priority.priority
    set_due_times(ticket, settings, item.product, priority.priority)
    item.sla_due_at = item_sla_due(ticket)
    changes = {name: [old, getattr(item, name)] for name, old in before.items() if getattr(item, name) != old}
    if not changes:
        return False
    item.version += 1
    item.updated_at = now
    fields = ["impact", "urgency", "itil_priority", "sla_due_at", "version", "updated_at"]
    if may_enter and item.status == Item.Status.PROPOSED and priority.priority in INTERRUPTS:
        placed = order_place(item=item, placement=Placement.top())
        item.status = Item.Status.OPEN
        fields += ["status", "rank"]
        entered = history.status_changed(
            item=item,
            actor=actor,
            old=Item.Status.PROPOSED,
            placed=placed,
            reason=f"Became P{priority.priority}: an interrupt enters the order at the top.",
        )
        entered.created_at = now
        history.write([entered])
        transaction.on_commit(lambda: enqueue_suggestions(item.product_id), robust=True)
    item.save(update_fields=fields)
    _record(item, actor, changes, now, reason=f"{step}: {priority.why['formula']}")
    return True


# The work on a ticket ---------------------------------------------------------------------------


def _status(item: Item) -> str:
    """The item's status as stored now (the caller's instance may be older); the transitions
    check it again under the item's lock."""
    return Item.objects.filter(pk=item.pk).values_list("status", flat=True).get()


def _locked(item: Item, expected_version: int | None = None) -> tuple[Item, Ticket, ServiceSettings]:
    """The item locked (at ``expected_version``, if given: If-Match), its ticket and settings."""
    current = item_lock(item.pk)
    if current is None:
        raise ValidationError({"item": "The item is gone."})
    current.check_version(expected_version)
    ticket = Ticket.objects.filter(pk=item.pk).first()
    if ticket is None:
        raise ValidationError({"item": f"{current.key} is not a service ticket."})
    return current, ticket, service_settings_for(current.product)


def _stop_running(ticket: Ticket, settings: ServiceSettings, now: datetime) -> None:
    if ticket.running_since is not None:
        ticket.elapsed_seconds = elapsed(ticket, settings, now)
        ticket.running_since = None


def _save_clocks(item: Item, ticket: Ticket, settings: ServiceSettings) -> None:
    set_due_times(ticket, settings, item.product, item.itil_priority)
    ticket.save()
    due = item_sla_due(ticket)
    if due != item.sla_due_at:
        item.sla_due_at = due
        Item.objects.filter(pk=item.pk).update(sla_due_at=due)
        transaction.on_commit(lambda: enqueue_item_score(item.pk), robust=True)


def ticket_acknowledge(*, item: Item, actor: User, expected_version: int | None = None) -> Ticket:
    """Acknowledge a ticket: the response clock is met, and the work starts (in progress)."""
    require(actor, Action.EDIT_WORK, item)
    with transaction.atomic():
        if _status(item) == Item.Status.OPEN:
            item_transition(item=item, actor=actor, to=Item.Status.IN_PROGRESS, expected_version=expected_version)
            expected_version = None  # checked by the transition, which moved the version on
        item, ticket, settings = _locked(item, expected_version)
        if ticket.responded_at is not None:
            return ticket
        now = timezone.now()
        ticket.responded_at = now
        _save_clocks(item, ticket, settings)
        _record(item, actor, {"responded_at": [None, now]}, now)
    return ticket


def ticket_wait(*, item: Item, actor: User, reason: str = "", expected_version: int | None = None) -> Ticket:
    """Wait on the reporter: the clocks stand until they reply."""
    require(actor, Action.EDIT_WORK, item)
    with transaction.atomic():
        item, ticket, settings = _locked(item, expected_version)
        if item.status not in OPEN_STATUSES:
            raise ValidationError({"status": f"{item.key} is {item.status}; only an open ticket waits."})
        if ticket.waiting_since is not None:
            return ticket
        now = timezone.now()
        _stop_running(ticket, settings, now)
        ticket.waiting_since = now
        _save_clocks(item, ticket, settings)
        _record(item, actor, {"waiting_since": [None, now]}, now, reason=reason)
    return ticket


def ticket_resume(*, item: Item, actor: User, reply: str = "", expected_version: int | None = None) -> Ticket:
    """The reporter replied: the clocks run again (any member may record the reply)."""
    require(actor, Action.COMMENT, item)
    with transaction.atomic():
        item, ticket, settings = _locked(item, expected_version)
        if ticket.waiting_since is None:
            return ticket
        now = timezone.now()
        waited_since = ticket.waiting_since
        ticket.waiting_since = None
        if ticket.resolved_at is None:
            ticket.running_since = now
        _save_clocks(item, ticket, settings)
        _record(item, actor, {"waiting_since": [waited_since, None]}, now, reason=reply)
    return ticket


def ticket_resolve(
    *,
    item: Item,
    actor: User,
    resolution: str = "",
    hours_lost: Decimal | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Resolve a ticket: its item is done and its clocks stop (an unacknowledged one is
    acknowledged now); ``hours_lost``, if given, is what the incident cost."""
    require(actor, Action.EDIT_WORK, item)
    with transaction.atomic():
        status = _status(item)
        if status == Item.Status.PROPOSED:
            raise ValidationError({"status": f"{item.key} is proposed; the owner accepts it into the order first."})
        if status == Item.Status.OPEN:
            item_transition(item=item, actor=actor, to=Item.Status.IN_PROGRESS, expected_version=expected_version)
            expected_version = None  # checked by the transition, which moved the version on
        if status != Item.Status.DONE:
            item_transition(
                item=item, actor=actor, to=Item.Status.DONE, reason=resolution, expected_version=expected_version
            )
            expected_version = None
        item, ticket, settings = _locked(item, expected_version)
        now = timezone.now()
        _stop_running(ticket, settings, now)
        ticket.waiting_since = None
        ticket.responded_at = ticket.responded_at or now
        ticket.resolved_at = ticket.resolved_at or now
        _save_clocks(item, ticket, settings)
        _record(item, actor, {"resolved_at": [None, now]}, now, reason=resolution)
        if hours_lost is not None:
            ticket = ticket_hours_lost_set(item=item, actor=actor, hours=hours_lost)
    return ticket


def ticket_assign(*, item: Item, actor: User, assignee: User | None, expected_version: int | None = None) -> Ticket:
    """Assign the ticket to a member who works on items (or to no one)."""
    require(actor, Action.EDIT_WORK, item)
    if assignee is not None and Action.EDIT_WORK not in allowed(assignee, item):
        raise ValidationError({"assignee": "Assign a developer or the owner of this product."})
    with transaction.atomic():
        item, ticket, _ = _locked(item, expected_version)
        if ticket.assignee_id == getattr(assignee, "pk", None):
            return ticket
        old = ticket.assignee.username if ticket.assignee else None
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee"])
        _record(item, actor, {"assignee": [old, assignee.username if assignee else None]}, timezone.now())
    return ticket


def _reconcile_edited(now: datetime) -> int:
    """Give back the clocks' due time to items edited through the backlog's services, which
    derive an SLA due time of their own (created + resolution hours); an edited impact or
    urgency changes the priority, and so the targets, from the time used so far. Return how many."""
    times = ("response_due_at", "resolution_due_at", "response_breached_at", "resolution_breached_at")
    matching = Q(item__sla_due_at__isnull=True, running_since__isnull=True)
    for name in times:
        matching |= Q(item__sla_due_at=F(name))
    fixed = 0
    for item_id in list(Ticket.objects.open().exclude(matching).values_list("item_id", flat=True)):
        with transaction.atomic():
            item = item_lock(item_id)
            ticket = Ticket.objects.get(pk=item_id)
            settings = service_settings_for(item.product)
            set_due_times(ticket, settings, item.product, item.itil_priority)
            ticket.save()
            due = item_sla_due(ticket)
            if due != item.sla_due_at:
                Item.objects.filter(pk=item_id).update(sla_due_at=due)
                transaction.on_commit(lambda pk=item_id: enqueue_item_score(pk), robust=True)
                fixed += 1
    return fixed


def clocks_check(*, now: datetime | None = None) -> int:
    """Record every breach that time has brought (history, and a rescore with time criticality
    maximal); stop the clocks of tickets whose item was closed elsewhere. Return the breaches."""
    now = now or timezone.now()
    _reconcile_edited(now)
    closed = Ticket.objects.filter(resolved_at__isnull=True).exclude(item__status__in=OPEN_STATUSES)
    for item_id, updated in closed.values_list("item_id", "item__updated_at"):
        with transaction.atomic():
            item_lock(item_id)
            Ticket.objects.filter(pk=item_id, resolved_at__isnull=True).update(
                resolved_at=updated, running_since=None, waiting_since=None, resolution_due_at=None
            )
    due = Ticket.objects.filter(running_since__isnull=False).filter(
        Q(responded_at__isnull=True, response_breached_at__isnull=True, response_due_at__lte=now)
        | Q(resolved_at__isnull=True, resolution_breached_at__isnull=True, resolution_due_at__lte=now)
    )
    breaches = 0
    for item_id in list(due.values_list("item_id", flat=True)):
        with transaction.atomic():
            item = item_lock(item_id)
            ticket = Ticket.objects.get(pk=item_id)
            for name in ("response", "resolution"):
                met = ticket.responded_at if name == "response" else ticket.resolved_at
                due_at = getattr(ticket, f"{name}_due_at")
                if met is None and getattr(ticket, f"{name}_breached_at") is None and due_at and due_at <= now:
                    setattr(ticket, f"{name}_breached_at", due_at)
                    _record(
                        item, None, {f"{name}_breached_at": [None, due_at]}, now, reason=f"SLA {name} target breached."
                    )
                    # The assignee and the item's watchers hear of it, from a job after the commit.
                    transaction.on_commit(
                        lambda pk=item.pk, target=name, at=due_at, to=ticket.assignee_id: enqueue_sla_breach(
                            item_id=pk, target=target, due_at=at.isoformat(), assignee_id=to
                        ),
                        robust=True,
                    )
                    breaches += 1
            ticket.save()
            sla_due = item_sla_due(ticket)
            if sla_due != item.sla_due_at:
                Item.objects.filter(pk=item.pk).update(sla_due_at=sla_due)
            transaction.on_commit(lambda pk=item.pk: enqueue_item_score(pk), robust=True)
    return breaches
