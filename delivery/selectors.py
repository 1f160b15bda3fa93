"""Reads of delivery: settings with their defaults, the planning window, sprints, the policy report."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Product
from backlog.models import Item
from delivery.models import SHARE_FIELDS, DeliverySettings, Sprint, SprintItem, WorkClass
from delivery.planning import CLASS_NOUN, Plan, Row, plan_of, plan_propose

# Items read from the top of the order to plan a sprint: the slice and the candidates below it.
PLAN_WINDOW = 500


def delivery_settings_for(*, product: Product) -> DeliverySettings:
    """The product's delivery settings; before the first edit, the defaults (the debt share is the
    product's debt target)."""
    found = DeliverySettings.objects.filter(product=product).first()
    if found is None:
        found = DeliverySettings(product=product, debt_share=product.debt_target_percent)
    found.product = product
    return found


def committed_elsewhere_q(sprint: Sprint | None) -> Q:
    """Items another open sprint (active, or planned and committed) holds and has not done."""
    entries = SprintItem.objects.filter(
        item=OuterRef("pk"),
        done_at__isnull=True,
        sprint__committed_at__isnull=False,
        sprint__state__in=[Sprint.State.PLANNED, Sprint.State.ACTIVE],
    )
    if sprint is not None:
        entries = entries.exclude(sprint=sprint)
    return Q(Exists(entries))


def _rows(product: Product, items: QuerySet[Item]) -> list[Row]:
    return [
        Row(pk, f"{product.key}-{number}", title, kind, estimate, rank)
        for pk, number, title, kind, estimate, rank in items.values_list(
            "pk", "number", "title", "kind", "estimate", "rank"
        )
    ]


def planning_window(*, sprint: Sprint, limit: int = PLAN_WINDOW) -> list[Row]:
    """The top ``limit`` items of the order that are free to plan, in rank order (one bounded query)."""
    items = Item.objects.filter(product_id=sprint.product_id).ordered().exclude(committed_elsewhere_q(sprint))
    return _rows(sprint.product, items[:limit])


def plan_proposal(*, sprint: Sprint) -> Plan:
    """What planning proposes for ``sprint`` (see delivery.planning)."""
    settings = delivery_settings_for(product=sprint.product)
    return plan_propose(planning_window(sprint=sprint), capacity=sprint.capacity, shares=settings.shares)


def plan_for_items(*, sprint: Sprint, item_ids: list[int]) -> Plan:
    """The figures of a plan of the given items (ordered, free to plan) against the top slice."""
    settings = delivery_settings_for(product=sprint.product)
    chosen = Item.objects.filter(product_id=sprint.product_id, pk__in=item_ids).order_by("rank")
    return plan_of(
        planning_window(sprint=sprint),
        _rows(sprint.product, chosen),
        capacity=sprint.capacity,
        shares=settings.shares,
    )


def sprint_list(*, product: Product) -> QuerySet[Sprint]:
    return Sprint.objects.filter(product=product).select_related("product").order_by("-number")


def active_sprint(*, product: Product) -> Sprint | None:
    return Sprint.objects.filter(product=product, state=Sprint.State.ACTIVE).select_related("product").first()


def sprint_items(*, sprint: Sprint) -> QuerySet[SprintItem]:
    """The sprint's items: the open ones in rank order, then the done ones as they were done."""
    return (
        SprintItem.objects.filter(sprint=sprint)
        .select_related("item", "item__product")
        .order_by("item__rank", "done_at", "item__number")
    )


@dataclass(frozen=True)
class SprintPolicy:
    """One closed sprint against the allocation: planned and done shares per class."""

    sprint: Sprint
    classes: dict[str, dict]  # class -> target, planned, done (points), planned_percent, done_percent, met

    @property
    def honoured(self) -> bool | None:
        """Did the done work meet every target? None when there were no targets."""
        verdicts = [figure["met"] for figure in self.classes.values() if figure["met"] is not None]
        return all(verdicts) if verdicts else None


def points_by_class(entries) -> tuple[dict[str, int], dict[str, int]]:
    """The points committed and the points done per work class, of a sprint's ``entries``."""
    committed, done = dict.fromkeys(WorkClass.values, 0), dict.fromkeys(WorkClass.values, 0)
    for entry in entries:
        committed[entry.work_class] += entry.points or 0
        if entry.done_at:
            done[entry.work_class] += entry.points or 0
    return committed, done


def sprint_policy(*, sprint: Sprint) -> SprintPolicy:
    """Planned and done points and shares per class (from what close recorded, or from now)."""
    targets = (sprint.policy or {}).get("targets") or {
        work: figure.get("target") for work, figure in (sprint.policy or {}).get("classes", {}).items()
    }
    closing = (sprint.policy or {}).get("close")
    if closing:
        committed, done = closing["committed"], closing["done"]
    else:
        committed, done = points_by_class(SprintItem.objects.filter(sprint=sprint))
    capacity = sprint.capacity
    classes = {}
    for work in SHARE_FIELDS:
        target = targets.get(work)
        done_percent = 100 * done.get(work, 0) / capacity
        # The operational share is a buffer, not a target to fill.
        met = None if work == WorkClass.OPERATIONAL or not target else done_percent + 1e-9 >= target
        classes[work] = {
            "label": CLASS_NOUN[work],
            "target": target,
            "committed": committed.get(work, 0),
            "done": done.get(work, 0),
            "planned_percent": round(100 * committed.get(work, 0) / capacity, 1),
            "done_percent": round(done_percent, 1),
            "met": met,
        }
    return SprintPolicy(sprint, classes)


@dataclass(frozen=True)
class PolicyReport:
    sprints: list[SprintPolicy]  # newest first

    @property
    def honoured(self) -> int:
        return sum(1 for row in self.sprints if row.honoured)

    @property
    def judged(self) -> int:
        return sum(1 for row in self.sprints if row.honoured is not None)

    @property
    def summary(self) -> str:
        if not self.judged:
            return "No closed sprint with targets yet."
        return f"honoured in {self.honoured} of the last {self.judged} sprint{'s' if self.judged != 1 else ''}"


def policy_report(*, product: Product, last: int = 6) -> PolicyReport:
    """The last ``last`` closed sprints against their targets."""
    closed = Sprint.objects.filter(product=product, state=Sprint.State.CLOSED).order_by("-number")[:last]
    return PolicyReport([sprint_policy(sprint=sprint) for sprint in closed])


def done_sprint_of(*, item: Item) -> Sprint | None:
    """The sprint the item was done in, if any."""
    entry = SprintItem.objects.filter(item=item, done_at__isnull=False).select_related("sprint").first()
    return entry.sprint if entry else None


@dataclass(frozen=True)
class BurnUpRow:
    sprint: Sprint
    done_total: int  # done points of the closed sprints so far
    remaining: dict[str, int]  # points left in the order per class when it closed
    unestimated: int

    @property
    def scope(self) -> int:
        return self.done_total + sum(self.remaining.values())


def burn_up_rows(*, product: Product, last: int = 12) -> list[BurnUpRow]:
    """The last closed sprints, oldest first: cumulative done points against what the order still held."""
    rows = []
    done_total = 0
    for sprint in Sprint.objects.filter(product=product, state=Sprint.State.CLOSED).order_by("number"):
        closing = sprint.policy.get("close", {})
        done_total += sum(closing.get("done", {}).values())
        if "remaining" in closing:
            # In class order (PostgreSQL's jsonb keeps its own key order).
            remaining = {work: closing["remaining"].get(work, 0) for work in WorkClass.values}
            rows.append(BurnUpRow(sprint, done_total, remaining, closing.get("remaining_unestimated", 0)))
    return rows[-last:]
