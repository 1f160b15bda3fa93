"""Sprint writes: create, commit a plan, start, close; retrospective actions.

Each takes the product row lock first (``lock_product_for``), the lock order of every backlog writer.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog.models import Item
from backlog.services.items import item_create
from backlog.services.ordering import Placement, items_move
from delivery.models import RetroAction, Sprint, SprintEvent, SprintItem, WorkClass, work_class
from delivery.selectors import committed_elsewhere_q, delivery_settings_for, plan_for_items, points_by_class

MAX_SPRINT_ITEMS = 200

# Who else hears of each sprint event (committed, started, closed): callables given the saved
# event inside its transaction (one that sends anything defers it with
# ``transaction.on_commit``); the apps above add theirs from ``AppConfig.ready``.
SPRINT_LISTENERS: list[Callable[[SprintEvent], None]] = []


def sprint_listen(listener: Callable[[SprintEvent], None]) -> None:
    """Call ``listener`` with every sprint event recorded from now on (once, however often asked)."""
    if listener not in SPRINT_LISTENERS:
        SPRINT_LISTENERS.append(listener)


def _record(**fields: Any) -> SprintEvent:
    event = SprintEvent.objects.create(**fields)
    for listener in SPRINT_LISTENERS:
        listener(event)
    return event


def sprint_create(
    *,
    product: Product,
    actor: User,
    name: str = "",
    goal: str = "",
    start_date: date,
    end_date: date,
    capacity: int | None = None,
) -> Sprint:
    """Create a planned sprint; its capacity defaults to the product's sprint capacity."""
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.REORDER, product, actions=actions)
        number = (Sprint.objects.filter(product=product).aggregate(last=Max("number"))["last"] or 0) + 1
        sprint = Sprint(
            product=product,
            number=number,
            name=name.strip() or f"Sprint {number}",
            goal=goal.strip(),
            start_date=start_date,
            end_date=end_date,
            capacity=product.sprint_capacity if capacity is None else capacity,
        )
        sprint.full_clean(exclude=["number"], validate_constraints=False)
        sprint.save()
    return sprint


def _locked(sprint: Sprint, actor: User, action: Action) -> Sprint:
    product, actions = lock_product_for(actor, sprint.product_id)
    require(actor, action, product, actions=actions)
    current = Sprint.objects.select_for_update().get(pk=sprint.pk)
    current.product = product
    return current


def sprint_commit(*, sprint: Sprint, actor: User, item_ids: list[int], reason: str = "") -> Sprint:
    """Commit the plan: these items (ordered, free to plan) are the sprint's scope.

    A plan that misses a class's target needs ``reason``; the planning event keeps the policy
    figures and the reason. A planned sprint may be committed again (the new plan replaces the old).
    """
    reason = reason.strip()
    with transaction.atomic():
        current = _locked(sprint, actor, Action.REORDER)
        if current.state != Sprint.State.PLANNED:
            raise ValidationError({"state": f"Only a planned sprint is committed; this one is {current.state}."})
        ids = list(dict.fromkeys(item_ids))
        if len(ids) > MAX_SPRINT_ITEMS:
            raise ValidationError({"items": [f"A sprint holds at most {MAX_SPRINT_ITEMS} items."]})
        items = Item.objects.filter(product_id=current.product_id, pk__in=ids)
        unordered = items.exclude(status__in=Item.ORDERED_STATUSES)
        taken = items.filter(committed_elsewhere_q(current))
        problems = [f"{current.product.key}-{item.number} is not in the order ({item.status})." for item in unordered]
        problems += [f"{current.product.key}-{item.number} is committed to another sprint." for item in taken]
        if len(ids) != items.count():
            problems.append("Some items are not of this product.")
        if problems:
            raise ValidationError({"items": problems})
        plan = plan_for_items(sprint=current, item_ids=ids)
        if plan.missed and not reason:
            missed = "; ".join(figure.why for figure in plan.missed)
            raise ValidationError({"reason": [f"The plan misses a target ({missed}): say why it is kept."]})
        settings = delivery_settings_for(product=current.product)
        now = timezone.now()
        SprintItem.objects.filter(sprint=current).delete()
        SprintItem.objects.bulk_create(
            SprintItem(sprint=current, item_id=row.id, work_class=row.work_class, points=row.estimate)
            for row in plan.items
        )
        figures = {**plan.record(), "targets": settings.shares}
        current.policy = figures
        current.plan_reason = reason
        current.committed_at = now
        current.save(update_fields=["policy", "plan_reason", "committed_at"])
        _record(
            sprint=current, actor=actor, type=SprintEvent.Type.COMMITTED, data=figures, reason=reason, created_at=now
        )
    return current


def sprint_start(*, sprint: Sprint, actor: User) -> Sprint:
    """Make a committed sprint the active one (at most one per product: the database says so too)."""
    with transaction.atomic():
        current = _locked(sprint, actor, Action.REORDER)
        if current.state != Sprint.State.PLANNED:
            raise ValidationError({"state": f"Only a planned sprint starts; this one is {current.state}."})
        if current.committed_at is None:
            raise ValidationError({"state": "Commit a plan before starting the sprint."})
        if Sprint.objects.filter(product_id=current.product_id, state=Sprint.State.ACTIVE).exists():
            raise ValidationError({"state": "Another sprint of this product is active; close it first."})
        current.state = Sprint.State.ACTIVE
        try:
            with transaction.atomic():
                current.save(update_fields=["state"])
        except IntegrityError as clash:
            raise ValidationError({"state": "Another sprint of this product is active; close it first."}) from clash
        _record(sprint=current, actor=actor, type=SprintEvent.Type.STARTED)
    return current


def sprint_close(*, sprint: Sprint, actor: User, carry_over: str = Sprint.CarryOver.STAY) -> Sprint:
    """Close the active sprint: record committed and done points per class; unfinished items stay
    where they stand in the order, or go to the top (in their order) when ``carry_over`` is top."""
    if carry_over not in Sprint.CarryOver.values:
        raise ValidationError({"carry_over": ["Choose stay or top."]})
    with transaction.atomic():
        current = _locked(sprint, actor, Action.REORDER)
        if current.state != Sprint.State.ACTIVE:
            raise ValidationError({"state": f"Only the active sprint is closed; this one is {current.state}."})
        entries = list(SprintItem.objects.filter(sprint=current).select_related("item").order_by("item__rank"))
        committed, done = points_by_class(entries)
        unfinished = [entry.item for entry in entries if entry.done_at is None and entry.item.is_ordered]
        if carry_over == Sprint.CarryOver.TOP and unfinished:
            items_move(
                product=current.product,
                actor=actor,
                item_ids=[item.pk for item in unfinished],
                to=Placement.top(),
                reason=f"Unfinished in {current.name}: back to the top",
            )
        now = timezone.now()
        closing = {
            "committed": committed,
            "done": done,
            **remaining_backlog(product_id=current.product_id),
            "unfinished": [item.key for item in unfinished],
            "carry_over": carry_over,
        }
        current.policy = {**(current.policy or {}), "close": closing}
        current.state = Sprint.State.CLOSED
        current.closed_at = now
        current.carry_over = carry_over
        current.save(update_fields=["policy", "state", "closed_at", "carry_over"])
        _record(sprint=current, actor=actor, type=SprintEvent.Type.CLOSED, data=closing, created_at=now)
    return current


def remaining_backlog(*, product_id: int) -> dict[str, Any]:
    """The points left in the order per class, and the items without an estimate (one aggregate query)."""
    remaining = dict.fromkeys(WorkClass.values, 0)
    unestimated = 0
    rows = (
        Item.objects.filter(product_id=product_id, rank__isnull=False)
        .values("kind")
        .annotate(points=Sum("estimate"), unestimated=Count("pk", filter=Q(estimate__isnull=True)))
    )
    for row in rows:
        remaining[work_class(row["kind"])] += row["points"] or 0
        unestimated += row["unestimated"]
    return {"remaining": remaining, "remaining_unestimated": unestimated}


def retro_action_add(*, sprint: Sprint, actor: User, text: str) -> RetroAction:
    """Add an action to a closed sprint's retrospective (the owner and developers)."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": ["Say what the team will do."]})
    with transaction.atomic():
        current = _locked(sprint, actor, Action.EDIT_WORK)
        if current.state != Sprint.State.CLOSED:
            raise ValidationError({"state": ["Retrospective actions belong to a closed sprint."]})
        action = RetroAction(sprint=current, text=text, created_by=actor)
        action.full_clean()
        action.save()
    return action


def retro_action_to_debt(*, action: RetroAction, actor: User, interest_hours: Any = 0) -> Item:
    """Turn a retrospective action into a technical-debt proposal, its value case from the action."""
    with transaction.atomic():
        current = RetroAction.objects.select_for_update().select_related("sprint__product").get(pk=action.pk)
        if current.debt_item_id is not None:
            raise ValidationError({"action": ["This action is already a proposal."]})
        sprint = current.sprint
        item = item_create(
            product=sprint.product,
            actor=actor,
            kind=Item.Kind.TECH_DEBT,
            title=current.text[:200],
            into_order=False,
            description=f"From the retrospective of {sprint.name}.",
            interest_hours=interest_hours,
            value_beneficiaries="The team: an action its retrospective agreed on.",
            value_cost_of_delay=f"Raised in the retrospective of {sprint.name}: {current.text}",
            value_risk_removed=f"The problem the retrospective of {sprint.name} named recurs: {current.text}",
        )
        current.debt_item = item
        current.save(update_fields=["debt_item"])
    return item


def work_class_of(item: Item) -> str:
    return work_class(item.kind)
