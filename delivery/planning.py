"""Sprint planning that honours the capacity allocation with the fewest changes to the order.

Pure functions over rows read from the top of the order (``delivery.selectors.planning_window``):

1. The slice: items from the top while they fit the capacity less the operational buffer (an
   unestimated item takes no capacity and is named; the first item that does not fit ends the
   slice, so the slice is a prefix of the order).
2. While a class with a target is short of it (its points below ``target × capacity``), the class
   furthest below its target brings in its highest-ordered estimated item from below the slice,
   and the lowest-ordered items whose classes stay at their targets without them leave until the
   plan fits again. When nothing can leave, the class stays short (the owner commits with a
   reason). Items never change places: the plan is the chosen items in rank order.

Shares are of the whole capacity (the buffer included), so the targets add up to at most 100 %.
"""

from dataclasses import dataclass, field

from delivery.models import SHARE_FIELDS, WorkClass, work_class

EPSILON = 1e-9
CLASS_NOUN = {
    WorkClass.FEATURES: "feature",
    WorkClass.DEFECTS: "defect",
    WorkClass.DEBT: "debt",
    WorkClass.OPERATIONAL: "operational",
}


@dataclass(frozen=True)
class Row:
    """What planning needs of an item."""

    id: int
    key: str
    title: str
    kind: str
    estimate: int | None
    rank: str

    @property
    def work_class(self) -> str:
        return work_class(self.kind)

    @property
    def points(self) -> int:
        return self.estimate or 0

    @property
    def class_noun(self) -> str:
        return CLASS_NOUN[self.work_class]


@dataclass(frozen=True)
class ClassFigure:
    work_class: str
    target: int | None  # percent of capacity; None: no target
    before: int  # points in the top slice
    after: int  # points in the plan
    capacity: int

    @property
    def before_percent(self) -> float:
        return 100 * self.before / self.capacity

    @property
    def after_percent(self) -> float:
        return 100 * self.after / self.capacity

    @property
    def met(self) -> bool | None:
        if not self.target:
            return None
        return self.after * 100 + EPSILON >= self.target * self.capacity

    @property
    def why(self) -> str:
        text = f"{CLASS_NOUN[self.work_class]} share {self.before_percent:.0f} % → {self.after_percent:.0f} %"
        return f"{text}, target {self.target} %" if self.target else text


@dataclass(frozen=True)
class Change:
    row: Row
    reason: str


@dataclass
class Plan:
    capacity: int
    buffer: int  # percent held back for interrupts
    items: list[Row]  # the plan, in rank order
    top: list[Row]  # the slice from the top of the order
    added: list[Change] = field(default_factory=list)
    dropped: list[Change] = field(default_factory=list)
    classes: list[ClassFigure] = field(default_factory=list)

    @property
    def plannable(self) -> float:
        return self.capacity * (100 - self.buffer) / 100

    @property
    def points(self) -> int:
        return sum(row.points for row in self.items)

    @property
    def unestimated(self) -> list[Row]:
        return [row for row in self.items if row.estimate is None]

    @property
    def missed(self) -> list[ClassFigure]:
        return [figure for figure in self.classes if figure.met is False]

    @property
    def why(self) -> list[str]:
        """One line per class with a target, or whose share the changes moved."""
        return [figure.why for figure in self.classes if figure.target or figure.before != figure.after]

    def record(self) -> dict:
        """The policy figures, as the planning event and the policy report keep them."""
        return {
            "capacity": self.capacity,
            "buffer": self.buffer,
            "points": self.points,
            "classes": {
                figure.work_class: {
                    "target": figure.target,
                    "top": figure.before,
                    "planned": figure.after,
                    "planned_percent": round(figure.after_percent, 1),
                    "met": figure.met,
                }
                for figure in self.classes
            },
            "in": [change.row.key for change in self.added],
            "out": [change.row.key for change in self.dropped],
            "unestimated": [row.key for row in self.unestimated],
            "why": self.why,
        }


def class_points(rows: list[Row]) -> dict[str, int]:
    points = dict.fromkeys(WorkClass.values, 0)
    for row in rows:
        points[row.work_class] += row.points
    return points


def top_slice(rows: list[Row], plannable: float) -> list[Row]:
    """The prefix of ``rows`` that fits ``plannable`` points."""
    taken: list[Row] = []
    total = 0
    for row in rows:
        if total + row.points > plannable + EPSILON:
            break
        taken.append(row)
        total += row.points
    return taken


def figures(top: list[Row], plan: list[Row], *, capacity: int, shares: dict[str, int | None]) -> list[ClassFigure]:
    before, after = class_points(top), class_points(plan)
    targets = {work: None if work == WorkClass.OPERATIONAL else shares.get(work) for work in SHARE_FIELDS}
    return [ClassFigure(work, targets[work], before[work], after[work], capacity) for work in SHARE_FIELDS]


def plan_propose(rows: list[Row], *, capacity: int, shares: dict[str, int | None]) -> Plan:
    """Propose a plan from ``rows`` (the top of the order, in rank order)."""
    buffer = shares.get(WorkClass.OPERATIONAL) or 0
    plan = Plan(capacity=capacity, buffer=buffer, items=[], top=[])
    top = top_slice(rows, plan.plannable)
    need = {work: capacity * share / 100 for work, share in shares.items() if share and work != WorkClass.OPERATIONAL}
    position = {row.id: index for index, row in enumerate(rows)}
    chosen = {row.id: row for row in top}
    points = class_points(top)
    total = sum(points.values())
    below = rows[len(top) :]
    cursor = dict.fromkeys(need, 0)  # the next candidate of each class below the slice
    gave_up: set[str] = set()
    reasons: dict[int, str] = {}

    def short(work: str) -> bool:
        return points[work] + EPSILON < need[work]

    while True:
        lacking = [work for work in need if short(work) and work not in gave_up]
        if not lacking:
            break
        work = max(lacking, key=lambda w: ((need[w] - points[w]) / need[w], -list(need).index(w)))
        candidate = None
        while cursor[work] < len(below):
            row = below[cursor[work]]
            cursor[work] += 1
            if row.work_class == work and row.points and row.id not in chosen:
                candidate = row
                break
        if candidate is None:
            gave_up.add(work)
            continue
        trial_points = dict(points)
        trial_points[work] += candidate.points
        trial_total = total + candidate.points
        leaving: list[Row] = []
        for row in sorted(chosen.values(), key=lambda r: position[r.id], reverse=True):
            if trial_total <= plan.plannable + EPSILON:
                break
            kept = trial_points[row.work_class] - row.points
            if not row.points or (row.work_class in need and kept + EPSILON < need[row.work_class]):
                continue
            leaving.append(row)
            trial_points[row.work_class] = kept
            trial_total -= row.points
        if trial_total > plan.plannable + EPSILON:
            gave_up.add(work)  # meeting this target would push another below its own
            continue
        chosen[candidate.id] = candidate
        noun = CLASS_NOUN[work]
        reasons[candidate.id] = (
            f"highest-ordered {noun} item below the slice: {noun} share "
            f"{100 * points[work] / capacity:.0f} % → {100 * trial_points[work] / capacity:.0f} %, "
            f"target {shares[work]} %"
        )
        for row in leaving:
            del chosen[row.id]
            noun = CLASS_NOUN[row.work_class]
            reasons[row.id] = f"lowest-ordered {noun} item past its target, makes room for {candidate.key}"
        points, total = trial_points, trial_total

    plan.top = top
    plan.items = sorted(chosen.values(), key=lambda r: position[r.id])
    top_ids = {row.id for row in top}
    plan.added = [Change(row, reasons[row.id]) for row in plan.items if row.id not in top_ids]
    plan.dropped = [Change(row, reasons[row.id]) for row in top if row.id not in chosen]
    plan.classes = figures(top, plan.items, capacity=capacity, shares=shares)
    return plan


def plan_of(rows: list[Row], chosen: list[Row], *, capacity: int, shares: dict[str, int | None]) -> Plan:
    """The figures of an edited plan (``chosen``, in rank order) against the slice from the top of ``rows``."""
    buffer = shares.get(WorkClass.OPERATIONAL) or 0
    plan = Plan(capacity=capacity, buffer=buffer, items=[], top=[])
    top = top_slice(rows, plan.plannable)
    chosen_ids = {row.id for row in chosen}
    top_ids = {row.id for row in top}
    plan.top = top
    plan.items = list(chosen)
    plan.added = [Change(row, "chosen by the owner") for row in plan.items if row.id not in top_ids]
    plan.dropped = [Change(row, "left out by the owner") for row in top if row.id not in chosen_ids]
    plan.classes = figures(top, plan.items, capacity=capacity, shares=shares)
    return plan
