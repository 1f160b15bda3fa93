"""Velocity and the forecast: the sprint each ordered item is likely to land in.

Each class of work gets its share of the velocity (the allocation): an item lands in the first
sprint whose cumulative share of its class reaches the points of its class above it and its own
(a per-class running sum over the order: one window-function query, on PostgreSQL and SQLite
alike). Classes without a share split what the shares leave. The range comes from a seeded Monte
Carlo over past sprints' done points, so the same history gives the same 50 % and 85 % sprints.
Unestimated items take no points: they are counted and named, never silently left out.
"""

import math
import random
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Case, CharField, F, FloatField, IntegerField, Q, Sum, Value, When, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import Cast, Ceil, Coalesce
from django.utils import timezone

from accounts.models import Product
from backlog.models import Item
from backlog.order_sql import ordered_slice
from delivery.models import KIND_CLASS, Sprint, SprintItem, WorkClass
from delivery.selectors import delivery_settings_for

VELOCITY_SPRINTS = 6  # closed sprints the velocity averages
SAMPLE_SPRINTS = 20  # closed sprints the Monte Carlo draws from
RUNS = 1000
RANGE_ITEMS = 500  # items given a Monte Carlo range
# One item's forecast reads at most this many items above it: an item deeper in the order is
# years of work away, and is told so instead of summing everything above it.
FORECAST_HORIZON = 2000
DEFAULT_SPRINT_DAYS = 14
REST = "rest"  # the classes without a share of their own


@dataclass(frozen=True)
class Velocity:
    sprints: list[tuple[int, str, int]]  # (number, name, done points), newest first

    @property
    def points(self) -> float | None:
        return sum(done for _, _, done in self.sprints) / len(self.sprints) if self.sprints else None


def done_points(*, product: Product, last: int) -> list[tuple[int, str, int]]:
    """Done points of the last ``last`` closed sprints, newest first (one query)."""
    closed = (
        Sprint.objects.filter(product=product, state=Sprint.State.CLOSED)
        .annotate(done=Coalesce(Sum("entries__points", filter=Q(entries__done_at__isnull=False)), 0))
        .order_by("-number")
        .values_list("number", "name", "done")[:last]
    )
    return list(closed)


def velocity(*, product: Product, last: int = VELOCITY_SPRINTS) -> Velocity:
    return Velocity(done_points(product=product, last=last))


def pool_fractions(shares: dict[str, int | None]) -> dict[str, float]:
    """Each class's fraction of the velocity; the classes without a share split the rest."""
    explicit = {work: share / 100 for work, share in shares.items() if share}
    fractions = dict(explicit)
    fractions[REST] = max(0.0, 1 - sum(explicit.values()))
    return fractions


def _pool_of(shares: dict[str, int | None]) -> Case:
    """The pool an item's kind falls in, as SQL."""
    whens = []
    for kind, work in KIND_CLASS.items():
        whens.append(When(kind=kind, then=Value(work if shares.get(work) else REST)))
    return Case(*whens, default=Value(REST), output_field=CharField())


@dataclass(frozen=True)
class Cadence:
    first_number: int  # the number of forecast sprint 1 (the active sprint, else the next)
    first_end: date
    days: int

    def number(self, offset: int) -> int:
        return self.first_number + offset - 1

    def end(self, offset: int) -> date:
        return self.first_end + timedelta(days=self.days * (offset - 1))


def cadence_for(*, product: Product, today: date | None = None) -> Cadence:
    today = today or timezone.localdate()
    latest = Sprint.objects.filter(product=product).order_by("-number").first()
    if latest is None:
        return Cadence(1, today + timedelta(days=DEFAULT_SPRINT_DAYS - 1), DEFAULT_SPRINT_DAYS)
    days = (latest.end_date - latest.start_date).days + 1
    current = Sprint.objects.filter(product=product).exclude(state=Sprint.State.CLOSED).order_by("number").first()
    if current is not None:
        return Cadence(current.number, current.end_date, days)
    return Cadence(latest.number + 1, max(latest.end_date, today) + timedelta(days=days), days)


@dataclass(frozen=True)
class ForecastRow:
    id: int
    key: str
    title: str
    kind: str
    estimate: int | None
    pool: str
    points_through: int  # points of its pool above it, and its own
    sprint: int | None  # 1 = the first forecast sprint; None when its class has no capacity


@dataclass
class Forecast:
    velocity: float | None  # points per sprint (None: no closed sprint yet, the capacity is used)
    capacity_used: float  # what the forecast assumed per sprint
    fractions: dict[str, float]
    cadence: Cadence
    rows: list[ForecastRow]
    unestimated: int
    unestimated_keys: list[str] = field(default_factory=list)
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)  # item id -> (50 %, 85 %) sprint

    def sprint_number(self, offset: int | None) -> int | None:
        return None if offset is None else self.cadence.number(offset)

    def sprint_end(self, offset: int | None) -> date | None:
        return None if offset is None else self.cadence.end(offset)


def _landing(points_through: int, pool: str, fractions: dict[str, float], per_sprint: float) -> int | None:
    throughput = fractions.get(pool, 0) * per_sprint
    if throughput <= 0:
        return None
    return max(1, math.ceil(points_through / throughput - 1e-9))


def _window(product: Product, limit: int | None):
    """The ordered items of ``product``, or only its top ``limit`` (bounded by the rank key there)."""
    items = Item.objects.filter(product=product, rank__isnull=False)
    if limit is not None:
        last = ordered_slice(product.pk, offset=limit - 1, limit=1)
        if last:
            items = items.filter(rank__lte=last[0][1])
    return items


def forecast_rows(
    *, product: Product, shares: dict[str, int | None], per_sprint: float, limit: int | None = None
) -> list[tuple]:
    """Every ordered item (or the top ``limit``, with titles) in rank order, with its pool's running
    points and its sprint, in one window-function query: the running sum per pool, divided by the
    pool's throughput. A pool without capacity gets no sprint (None).

    With ``limit`` the window runs over the top ``limit`` items only (a range of the rank index up
    to the key at that position): a running sum needs nothing below, so the figures are the same
    and a request reads ``limit`` items, not the order.
    """
    fractions = pool_fractions(shares)
    pool = _pool_of(shares)
    throughput = Case(
        *[
            When(kind=kind, then=Value(fractions.get(work if shares.get(work) else REST, 0) * per_sprint or None))
            for kind, work in KIND_CLASS.items()
        ],
        default=Value(fractions[REST] * per_sprint or None),
        output_field=FloatField(),
    )
    items = (
        _window(product, limit)
        .annotate(
            pool=pool,
            points_through=Window(
                Sum(Coalesce(F("estimate"), Value(0)), output_field=IntegerField()),
                partition_by=[pool],
                order_by=F("rank").asc(),
                frame=RowRange(start=None, end=0),
            ),
        )
        .annotate(sprint=Ceil(Cast(F("points_through"), FloatField()) / throughput - Value(1e-9)))
        .order_by("rank")
    )
    if limit is None:  # the whole order: no titles, narrower rows to sort
        found = items.values_list("pk", "number", Value(""), "kind", "estimate", "pool", "points_through", "sprint")
    else:
        found = items.values_list("pk", "number", "title", "kind", "estimate", "pool", "points_through", "sprint")
        found = found[:limit]
    return [
        (pk, number, title, kind, estimate, pool_name, through, None if sprint is None else max(1, int(sprint)))
        for pk, number, title, kind, estimate, pool_name, through, sprint in found
    ]


def forecast(
    *,
    product: Product,
    limit: int | None = None,
    ranges_for: int = RANGE_ITEMS,
    seed: int | None = None,
    today: date | None = None,
) -> Forecast:
    """The forecast of the order's items (the top ``limit``, or all), with ranges for the top
    ``ranges_for``, and the unestimated items among them."""
    settings = delivery_settings_for(product=product)
    shares = settings.shares
    fractions = pool_fractions(shares)
    speed = velocity(product=product)
    per_sprint = speed.points or float(product.sprint_capacity)
    cadence = cadence_for(product=product, today=today)
    key = product.key
    rows = [
        ForecastRow(pk, f"{key}-{n}", title, kind, points, pool, through, sprint)
        for pk, n, title, kind, points, pool, through, sprint in forecast_rows(
            product=product, shares=shares, per_sprint=per_sprint, limit=limit
        )
    ]
    # Those the forecast covers (with ``limit``, the top: a request never counts the whole order).
    unestimated = _window(product, limit).filter(estimate__isnull=True)
    result = Forecast(
        velocity=speed.points,
        capacity_used=per_sprint,
        fractions=fractions,
        cadence=cadence,
        rows=rows,
        unestimated=unestimated.count(),
        unestimated_keys=[
            f"{product.key}-{n}" for n in unestimated.order_by("rank").values_list("number", flat=True)[:50]
        ],
    )
    samples = [done for _, _, done in done_points(product=product, last=SAMPLE_SPRINTS)]
    if samples and any(samples):
        result.ranges = monte_carlo(rows[:ranges_for], fractions, samples, seed=product.pk if seed is None else seed)
    return result


def monte_carlo(
    rows: list[ForecastRow], fractions: dict[str, float], samples: list[int], *, seed: int, runs: int = RUNS
) -> dict[int, tuple[int, int]]:
    """Each item's 50 % and 85 % sprint over ``runs`` futures drawn from past sprints' done points.

    An item of pool p lands in the first sprint k whose drawn throughput up to k, times p's
    fraction, reaches its points: it needs a total throughput T. It has landed by sprint k in
    every future whose running total C_k reaches T, so its q-sprint is the first k where the
    ceil(q × runs)-th largest C_k reaches T: one sorted column of totals per sprint, then one
    bisect per item and quantile (no per-item pass over the futures).
    """
    needs = {}
    for row in rows:
        fraction = fractions.get(row.pool, 0)
        if fraction > 0:
            needs[row.id] = row.points_through / fraction
    positive = [sample for sample in samples if sample > 0]
    if not needs or not positive:
        return {}
    most = max(needs.values())
    futures = []
    for run in range(runs):
        # One generator per future: a future's draws are the same however far it is followed, so
        # an item's range is the same alone (its page) as among the top 500 (the list).
        generator = random.Random(seed * 1_000_003 + run)
        totals, total = [], 0.0
        while total < most - 1e-9:
            total += generator.choice(samples)
            totals.append(total)
        futures.append(totals)
    horizon = max(1, max(len(totals) for totals in futures))
    thresholds = {}
    for quantile in (0.5, 0.85):
        rank = math.ceil(quantile * runs)  # the rank-th largest total of each sprint
        column = []
        for k in range(horizon):
            # Past its end a future has covered every need: it counts as reaching any total.
            values = sorted((totals[k] if k < len(totals) else math.inf for totals in futures), reverse=True)
            column.append(values[rank - 1])
        thresholds[quantile] = column
    ranges = {}
    for item_id, need in needs.items():
        low = bisect_left(thresholds[0.5], need - 1e-9) + 1
        high = bisect_left(thresholds[0.85], need - 1e-9) + 1
        ranges[item_id] = (low, high)
    return ranges


@dataclass(frozen=True)
class ItemForecast:
    sprint: int | None  # forecast sprint number
    end: date | None
    p50: tuple[int, date] | None
    p85: tuple[int, date] | None
    estimated: bool
    done_in: str | None  # the sprint it was done in
    beyond: bool = False  # more than FORECAST_HORIZON items above it: not forecast


def item_forecast(*, item: Item, seed: int | None = None, today: date | None = None) -> ItemForecast:
    """One item's forecast, from the points of its pool above it: at most ``FORECAST_HORIZON``
    items read, so a deep item of a large backlog costs what a near one does."""
    product = item.product
    done_entry = SprintItem.objects.filter(item=item, done_at__isnull=False).select_related("sprint").first()
    if item.rank is None:
        done_in = done_entry.sprint.name if done_entry else None
        return ItemForecast(None, None, None, None, item.estimate is not None, done_in)
    settings = delivery_settings_for(product=product)
    shares = settings.shares
    fractions = pool_fractions(shares)
    work = KIND_CLASS.get(item.kind, WorkClass.FEATURES)
    pool = work if shares.get(work) else REST
    kinds = [kind for kind, cls in KIND_CLASS.items() if (cls if shares.get(cls) else REST) == pool]
    above = list(
        Item.objects.filter(product=product, rank__isnull=False, rank__lte=item.rank)
        .order_by("-rank")
        .values_list("kind", "estimate")[: FORECAST_HORIZON + 1]
    )
    if len(above) > FORECAST_HORIZON:
        return ItemForecast(None, None, None, None, item.estimate is not None, None, beyond=True)
    through = sum(estimate or 0 for kind, estimate in above if kind in kinds)
    speed = velocity(product=product)
    per_sprint = speed.points or float(product.sprint_capacity)
    cadence = cadence_for(product=product, today=today)
    offset = _landing(through, pool, fractions, per_sprint)
    row = ForecastRow(item.pk, item.key, item.title, item.kind, item.estimate, pool, through, offset)
    samples = [done for _, _, done in done_points(product=product, last=SAMPLE_SPRINTS)]
    ranges = (
        monte_carlo([row], fractions, samples, seed=product.pk if seed is None else seed)
        if samples and any(samples)
        else {}
    )
    p50 = p85 = None
    if item.pk in ranges:
        low, high = ranges[item.pk]
        p50, p85 = (cadence.number(low), cadence.end(low)), (cadence.number(high), cadence.end(high))
    return ItemForecast(
        None if offset is None else cadence.number(offset),
        None if offset is None else cadence.end(offset),
        p50,
        p85,
        item.estimate is not None,
        None,
    )
