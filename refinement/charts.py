"""Server-rendered SVG charts: geometry computed here, drawn by the templates."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: float


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: list[Point]
    path: str
    ticks: list[tuple[float, str]]  # (y, label)
    left: int
    bottom: int


def line_chart(values: list[tuple[str, float]], *, width: int = 640, height: int = 220) -> LineChart | None:
    """A line through ``values`` ((label, value) in order), scaled to the box, with y ticks."""
    if not values:
        return None
    left, right, top, bottom = 48, 16, 12, height - 28
    top_value = max(value for _, value in values) or 1
    top_value = _nice(top_value)
    span = width - left - right
    step = span / max(len(values) - 1, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / top_value, 1)

    points = [Point(round(left + i * step, 1), y(value), label, value) for i, (label, value) in enumerate(values)]
    path = "M" + " L".join(f"{p.x},{p.y}" for p in points)
    ticks = [(y(top_value * i / 4), f"{top_value * i / 4:g}") for i in range(5)]
    return LineChart(width, height, points, path, ticks, left, bottom)


@dataclass(frozen=True)
class Bar:
    y: int
    width: float
    label: str
    value: float
    kind: str


def bar_chart(values: list[tuple[str, str, float]], *, width: int = 640, row: int = 30) -> tuple[list[Bar], int, int]:
    """Horizontal bars for (kind, label, value); returns the bars, the bar area's left edge and the height."""
    left, right = 150, 60
    top_value = max((value for _, _, value in values), default=0) or 1
    bars = [
        Bar(i * row + 4, round((width - left - right) * value / top_value, 1), label, value, kind)
        for i, (kind, label, value) in enumerate(values)
    ]
    return bars, left, len(values) * row + 8


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ at least ``value``: round axis maxima."""
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return value
