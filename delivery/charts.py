"""The burn-up chart: geometry computed here (several lines on one scale), drawn by the template."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    path: str
    points: list[tuple[float, float, float]]  # (x, y, value)


@dataclass(frozen=True)
class BurnUp:
    width: int
    height: int
    left: int
    bottom: int
    series: list[Series]
    ticks: list[tuple[float, str]]
    labels: list[tuple[float, str]]  # (x, sprint name)


def burn_up(labels: list[str], lines: list[tuple[str, str, list[float]]], *, width: int = 640, height: int = 240):
    """Lines (name, css class, one value per label) on one scale, with y ticks; None without data."""
    if not labels:
        return None
    left, right, top, bottom = 52, 16, 12, height - 30
    peak = max((value for _, _, values in lines for value in values), default=0) or 1
    magnitude = 1.0
    while magnitude * 10 <= peak:
        magnitude *= 10
    peak = next(factor * magnitude for factor in (1, 2, 5, 10) if factor * magnitude >= peak)
    step = (width - left - right) / max(len(labels) - 1, 1)

    def x(index: int) -> float:
        return round(left + index * step, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / peak, 1)

    series = []
    for name, css, values in lines:
        points = [(x(i), y(value), value) for i, value in enumerate(values)]
        series.append(Series(name, css, "M" + " L".join(f"{px},{py}" for px, py, _ in points), points))
    ticks = [(y(peak * i / 4), f"{peak * i / 4:g}") for i in range(5)]
    return BurnUp(width, height, left, bottom, series, ticks, [(x(i), label) for i, label in enumerate(labels)])
