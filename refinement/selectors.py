"""Refinement reads: the review queue, proposals, the agenda, comments, the debt report."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import Product, User
from backlog.models import Item, ItemEvent
from backlog.order_sql import ordered_slice, position_of
from backlog.services.suggestion import suggested_positions_for_new
from refinement.models import Comment, DebtSnapshot, Question

AGENDA_SCAN_LIMIT = 2000  # items from the top of the order the refinement agenda looks through
SLICE_SCAN_LIMIT = 1000  # items looked at to fill the next-sprint slice (unestimated ones take no capacity)
TREND_DAYS = 90
# Backlogs up to this size have their debt figures aggregated on the request; larger ones show
# the latest hourly snapshot.
LIVE_AGGREGATE_LIMIT = 5000


def _open_question() -> Exists:
    return Exists(Question.objects.filter(item=OuterRef("pk"), answered_at__isnull=True))


def suggested_position(*, item: Item) -> int:
    """Where the item's score puts it if it entered the order now (1-based; see the suggestion)."""
    return suggested_positions_for_new(product=item.product, scores=[item.score])[0]


def with_suggested_positions(items: list[Item], product: Product) -> list[Item]:
    """Set ``position_by_score`` on each (unordered) item: one read of the order for all."""
    positions = suggested_positions_for_new(product=product, scores=[item.score for item in items])
    for item, position in zip(items, positions, strict=True):
        item.position_by_score = position
    return items


def review_queue(*, product: Product) -> QuerySet[Item]:
    """Proposals waiting for a decision, oldest first (``with_suggested_positions`` adds where
    their scores would put them).

    A proposal waiting for the proposer's answer to a question is not in the queue.
    """
    return (
        Item.objects.filter(product=product, status=Item.Status.PROPOSED)
        .exclude(_open_question())
        .select_related("product", "created_by")
        .order_by("created_at", "id")
    )


def proposals_of(*, product: Product, user: User) -> QuerySet[Item]:
    """What ``user`` proposed in ``product`` (newest first), with what the review said."""
    proposed = ItemEvent.objects.filter(item=OuterRef("pk"), type=ItemEvent.Type.CREATED, data__status="proposed")
    rejection = ItemEvent.objects.filter(
        item=OuterRef("pk"), type=ItemEvent.Type.STATUS_CHANGED, data__to=Item.Status.REJECTED
    ).order_by("-created_at", "-id")
    return (
        Item.objects.filter(product=product, created_by=user)
        .filter(Exists(proposed))
        .annotate(waiting_for_answer=_open_question(), rejection_reason=Subquery(rejection.values("reason")[:1]))
        .select_related("product", "duplicate_of")
        .prefetch_related(Prefetch("questions", Question.objects.select_related("asked_by", "answered_by")))
    )


def proposal_state(item: Item) -> str:
    """in_review, needs_info (a question waits for the proposer), accepted or rejected."""
    if item.status == Item.Status.PROPOSED:
        return "needs_info" if item.waiting_for_answer else "in_review"
    return "rejected" if item.status == Item.Status.REJECTED else "accepted"


def questions_for(*, item: Item) -> QuerySet[Question]:
    return item.questions.select_related("asked_by", "answered_by").order_by("asked_at", "id")


def comments_for(*, item: Item) -> QuerySet[Comment]:
    return Comment.objects.filter(item=item).select_related("author", "item__product")


def refinement_agenda(*, product: Product, limit: int) -> list[Item]:
    """The first ``limit`` not-ready items among the top ``AGENDA_SCAN_LIMIT`` of the order, each
    with its position (the order's own position look-up, one per listed item).

    Refinement prepares the next few sprints, so the agenda looks no deeper than that: a request
    reads at most ``AGENDA_SCAN_LIMIT`` items however long the refined top of a large backlog is.
    """
    items = list(top_of_order(product=product).not_ready(product).select_related("product")[:limit])
    for item in items:
        item.position = position_of(product.pk, item.rank)
    return items


def top_of_order(*, product: Product) -> QuerySet[Item]:
    """The top ``AGENDA_SCAN_LIMIT`` items of the order: what the refinement agenda looks through.

    The key closing the window comes from the order's own look-up of position N, then the window
    is a range of the rank index: a scan stops there whatever the plan, however few of its items
    a filter keeps.
    """
    last = ordered_slice(product.pk, offset=AGENDA_SCAN_LIMIT - 1, limit=1)
    window = Item.objects.filter(product=product).ordered()
    return window.filter(rank__lte=last[0][1]) if last else window


def stale_items(*, product: Product, near_top: bool = False) -> QuerySet[Item]:
    """The product's flagged stale items, in backlog order; ``near_top``: among the top of the
    order only (``top_of_order``), for the agenda, whose read must not grow with the backlog (with
    few flags, finding them in the whole order reads all of it)."""
    items = top_of_order(product=product) if near_top else Item.objects.filter(product=product).ordered()
    return items.filter(stale_flag__isnull=False).select_related("product", "stale_flag")


# Technical debt ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DebtTotals:
    items: int
    principal_points: int  # the estimates of the debt items that have one
    unestimated: int
    interest_hours: Decimal  # per sprint


def debt_totals(*, product: Product) -> DebtTotals:
    """The technical debt in the product's backlog (open and in-progress items)."""
    totals = (
        Item.objects.filter(product=product, kind=Item.Kind.TECH_DEBT)
        .in_order()
        .aggregate(
            items=Count("pk"),
            principal=Coalesce(Sum("estimate"), 0),
            unestimated=Count("pk", filter=Q(estimate__isnull=True)),
            interest=Coalesce(Sum("interest_hours"), Decimal(0)),
        )
    )
    return DebtTotals(totals["items"], totals["principal"], totals["unestimated"], totals["interest"])


def backlog_composition(*, product: Product) -> dict[str, dict[str, int]]:
    """The backlog (open and in-progress items) by kind: ``{kind: {"items": n, "points": p}}``."""
    rows = (
        Item.objects.filter(product=product)
        .in_order()
        .values("kind")
        .annotate(items=Count("pk"), points=Coalesce(Sum("estimate"), 0))
        .order_by("kind")
    )
    return {row["kind"]: {"items": row["items"], "points": row["points"]} for row in rows}


@dataclass(frozen=True)
class DebtFigures:
    totals: DebtTotals | None  # None: too large to aggregate here, and no snapshot taken yet
    composition: dict[str, dict[str, int]]
    as_of: datetime | None  # None: aggregated now; else the time of the snapshot shown


def debt_figures(*, product: Product) -> DebtFigures:
    """The debt report's totals and the backlog by kind, read without aggregating a large backlog.

    A backlog of at most ``LIVE_AGGREGATE_LIMIT`` items is aggregated now (whether there is an
    item past the limit is the order's own look-up of position N). A larger one shows the latest snapshot, which the
    schedule takes every hour (``refinement.services.debt``): a request never reads the whole
    backlog of a large product.
    """
    if not ordered_slice(product.pk, offset=LIVE_AGGREGATE_LIMIT, limit=1):  # no item past the limit
        return DebtFigures(debt_totals(product=product), backlog_composition(product=product), None)
    latest = DebtSnapshot.objects.filter(product=product).order_by("-date").first()
    if latest is None:
        return DebtFigures(None, {}, None)
    totals = DebtTotals(latest.items, latest.principal_points, latest.unestimated, latest.interest_hours)
    return DebtFigures(totals, latest.composition, latest.taken_at)


@dataclass(frozen=True)
class SprintSlice:
    capacity: int
    points: int  # of the items in the slice
    debt_points: int
    items: int
    debt_items: int
    unestimated: int  # items in the slice without an estimate (they take no capacity)

    @property
    def overrun(self) -> int:
        """Points past the capacity: the item that reaches the capacity is taken whole."""
        return max(self.points - self.capacity, 0)

    @property
    def debt_percent(self) -> float | None:
        return round(100 * self.debt_points / self.points, 1) if self.points else None


def next_sprint_slice(*, product: Product) -> SprintSlice:
    """The top of the order that fills one sprint's capacity: items are taken while the points
    before them are under the capacity (so the last one may overrun it, as a sprint plan would).
    Read 50 at a time, so a sprint's worth is read, not the whole ``SLICE_SCAN_LIMIT``."""
    points = debt_points = items = debt_items = unestimated = 0
    rows = (
        Item.objects.filter(product=product)
        .ordered()
        .values_list("kind", "estimate")[:SLICE_SCAN_LIMIT]
        .iterator(chunk_size=50)
    )
    for kind, estimate in rows:
        if points >= product.sprint_capacity:
            break
        items += 1
        debt = kind == Item.Kind.TECH_DEBT
        debt_items += debt
        if estimate is None:
            unestimated += 1
            continue
        points += estimate
        debt_points += estimate if debt else 0
    return SprintSlice(product.sprint_capacity, points, debt_points, items, debt_items, unestimated)


def costliest_debt(*, product: Product, limit: int = 5) -> QuerySet[Item]:
    """The debt items in the backlog that cost the most interest per sprint."""
    return (
        Item.objects.filter(product=product, kind=Item.Kind.TECH_DEBT)
        .in_order()
        .select_related("product")
        .order_by("-interest_hours", "number")[:limit]
    )


def debt_trend(*, product: Product, today: date, days: int = TREND_DAYS) -> QuerySet[DebtSnapshot]:
    return DebtSnapshot.objects.filter(product=product, date__gt=today - timedelta(days=days)).order_by("date")
