"""The roadmap: each theme on a timeline by the forecast of its last item in the order (its
likely sprint, and the 50 %/85 % range from ``delivery.forecast``), against its target date.

A theme is **late** when its target date falls before the 50 % date (more likely missed than
met), **at risk** when it falls between the 50 % and the 85 % date, **on track** otherwise. Without
closed sprints there is no range: the likely sprint's end stands for both. A theme whose items are
all done is **done**; one with no item in the order, **not started**.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import Product
from backlog.models import Item, Theme
from backlog.themes import theme_list
from delivery.forecast import ItemForecast, item_forecast


@dataclass(frozen=True)
class RoadmapRow:
    theme: Theme
    last_item: Item | None  # its last item in the order
    forecast: ItemForecast | None

    @property
    def likely(self) -> date | None:
        return self.forecast.end if self.forecast else None

    @property
    def p50(self) -> date | None:
        if self.forecast is None:
            return None
        return self.forecast.p50[1] if self.forecast.p50 else self.forecast.end

    @property
    def p85(self) -> date | None:
        if self.forecast is None:
            return None
        return self.forecast.p85[1] if self.forecast.p85 else self.forecast.end

    @property
    def state(self) -> str:
        """late, at_risk, on_track, no_target, unforecast (no capacity for its class), not_started."""
        if self.last_item is None:
            return "not_started"
        if self.p50 is None:
            return "unforecast"
        target = self.theme.target_date
        if target is None:
            return "no_target"
        if target < self.p50:
            return "late"
        if self.p85 is not None and target < self.p85:
            return "at_risk"
        return "on_track"


STATE_WORDS = {
    "late": "late",
    "at_risk": "at risk",
    "on_track": "on track",
    "no_target": "no target date",
    "unforecast": "no forecast",
    "not_started": "nothing in the order",
}


def roadmap(*, product: Product, today: date | None = None) -> list[RoadmapRow]:
    """Every theme of the product with the forecast of its last item in the order (by the
    forecast's 85 % date, soonest first; themes without one last)."""
    # Each theme's last key in the order: one look-up of the theme's items by key, from the end
    # (index item_theme_order), however many items the theme holds.
    last_in_order = Item.objects.filter(theme=OuterRef("pk")).ordered().order_by("-rank").values("rank")[:1]
    themes = list(theme_list(product=product).annotate(last_rank=Subquery(last_in_order)))
    last_ranks = [theme.last_rank for theme in themes if theme.last_rank is not None]
    last_items = {
        item.theme_id: item
        for item in Item.objects.filter(product=product, rank__in=last_ranks).select_related("product")
    }
    rows = []
    for theme in themes:
        theme.product = product
        last = last_items.get(theme.pk)
        rows.append(RoadmapRow(theme, last, item_forecast(item=last, today=today) if last else None))
    far = date.max
    rows.sort(key=lambda row: (row.p85 or far, row.theme.title))
    return rows


@dataclass(frozen=True)
class Bar:
    row: RoadmapRow
    y: float
    x0: float  # today
    w50: float  # today to the 50 % date
    x50: float
    w85: float  # the 50 % date to the 85 % date
    target_x: float | None
    label: str

    @property
    def text_y(self) -> float:
        return self.y + 15

    @property
    def bar_y(self) -> float:
        return self.y + 3

    @property
    def mark_bottom(self) -> float:
        return self.y + 24


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    left: int
    start: date
    end: date
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (x, month label)
    row_height: int
    today_x: float


def timeline(rows: list[RoadmapRow], *, today: date | None = None, width: int = 760, row_height: int = 30) -> Timeline:
    """The geometry of the roadmap's SVG: a bar per theme from today to its 50 % date, a lighter
    part to its 85 % date, and a mark at its target date; month ticks along the top."""
    today = today or timezone.localdate()
    dates = [d for row in rows for d in (row.p50, row.p85, row.theme.target_date) if d is not None]
    end = max([*dates, today + timedelta(days=28)])
    end += timedelta(days=max(7, (end - today).days // 20))
    start = min([today, *[row.theme.target_date for row in rows if row.theme.target_date]])
    left, right = 190, 12
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(left + (width - left - right) * (day - start).days / span, 1)

    bars = []
    for index, row in enumerate(rows):
        y = 24 + index * row_height
        target = x(row.theme.target_date) if row.theme.target_date else None
        x0 = x(today)
        p50 = max(x(row.p50), x0 + 2) if row.p50 else x0
        p85 = max(x(row.p85), p50) if row.p85 else p50
        title = row.theme.title if len(row.theme.title) <= 26 else row.theme.title[:25] + "…"
        bars.append(Bar(row, y, x0, round(p50 - x0, 1), p50, round(p85 - p50, 1), target, title))
    ticks = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            ticks.append((x(month), month.strftime("%b %Y")))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return Timeline(width, 24 + len(rows) * row_height + 8, left, start, end, bars, ticks, row_height, x(today))
