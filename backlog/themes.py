"""Reads of themes: the list, and each theme's roll-up computed with aggregates.

A roll-up counts a theme's items that are not rejected or archived: items and points by kind,
the done share (done items over items), the debt share (technical-debt points over points), and
the highest and mean score of its items still in the order (open, in progress).
"""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet, Sum

from accounts.models import Product
from backlog.models import Item, Theme

COUNTED = ~Q(status__in=[Item.Status.REJECTED, Item.Status.ARCHIVED])


def theme_list(*, product: Product) -> QuerySet[Theme]:
    return Theme.objects.filter(product=product).order_by("title", "id")


@dataclass
class RollUp:
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> {"items", "points"}
    items: int = 0
    points: int = 0
    done_items: int = 0
    debt_points: int = 0
    highest_score: float | None = None
    score_total: float = 0.0
    scored: int = 0

    @property
    def done_percent(self) -> float | None:
        """Done items over items, in percent (None without items)."""
        return round(100 * self.done_items / self.items, 1) if self.items else None

    @property
    def debt_share(self) -> float | None:
        """Technical-debt points over all points, in percent (None without points)."""
        return round(100 * self.debt_points / self.points, 1) if self.points else None

    @property
    def mean_score(self) -> float | None:
        return round(self.score_total / self.scored, 3) if self.scored else None

    def as_dict(self) -> dict:
        return {
            "by_kind": self.by_kind,
            "items": self.items,
            "points": self.points,
            "done_items": self.done_items,
            "done_percent": self.done_percent,
            "debt_share": self.debt_share,
            "highest_score": self.highest_score,
            "mean_score": self.mean_score,
        }


def theme_rollups(*, product: Product, theme_ids: list[int] | None = None) -> dict[int, RollUp]:
    """Each theme's roll-up (by theme id; every theme asked for, even without items): one
    aggregate query grouped by theme and kind."""
    ordered = Q(rank__isnull=False)
    rows = (
        Item.objects.filter(COUNTED, product=product, theme__isnull=False)
        .filter(**({"theme_id__in": theme_ids} if theme_ids is not None else {}))
        .values("theme_id", "kind")
        .annotate(
            count=Count("id"),
            points=Sum("estimate", default=0),
            done=Count("id", filter=Q(status=Item.Status.DONE)),
            highest=Max("score", filter=ordered),
            score_total=Sum("score", filter=ordered, default=0.0),
            scored=Count("score", filter=ordered),
        )
        .order_by("theme_id", "kind")
    )
    ids = (
        theme_ids if theme_ids is not None else list(Theme.objects.filter(product=product).values_list("pk", flat=True))
    )
    rollups = {pk: RollUp() for pk in ids}
    for row in rows:
        rollup = rollups.setdefault(row["theme_id"], RollUp())
        rollup.by_kind[row["kind"]] = {"items": row["count"], "points": row["points"]}
        rollup.items += row["count"]
        rollup.points += row["points"]
        rollup.done_items += row["done"]
        if row["kind"] == Item.Kind.TECH_DEBT:
            rollup.debt_points += row["points"]
        if row["highest"] is not None and (rollup.highest_score is None or row["highest"] > rollup.highest_score):
            rollup.highest_score = row["highest"]
        rollup.score_total += row["score_total"] or 0.0
        rollup.scored += row["scored"]
    return rollups


def theme_other_items(*, theme: Theme) -> QuerySet[Item]:
    """The theme's items outside the order (proposed, done, rejected, archived), newest number first."""
    return Item.objects.filter(theme=theme, rank__isnull=True).select_related("product").order_by("-number")
