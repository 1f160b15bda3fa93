"""Business-hours arithmetic: how much working time lies between two instants, and when a
stretch of working time ends. Pure functions, no database.

A calendar is a weekly schedule in a time zone: ``{"mon": [["09:00", "17:00"]], …}``, days
``mon`` … ``sun``, each with its opening intervals (local time, end after start, not
overlapping). An empty schedule is round the clock. Days are walked in local time, so a
daylight-saving change shortens or lengthens the day it falls on, as a clock on the wall does.
"""

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
MAX_DAYS = 7 * 520  # a clock never looks further than ten years ahead

Schedule = dict[str, list[list[str]]]


def _parse(text: str) -> time | None:
    """A local time; 24:00 (end of day) is None."""
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def validate_schedule(value) -> None:
    """Days mon … sun, each a list of ["HH:MM", "HH:MM"] intervals, ascending, not overlapping."""
    message = (
        'Give days mon … sun, each a list of ["HH:MM", "HH:MM"] opening intervals in order, '
        'e.g. {"mon": [["09:00", "17:00"]]}.'
    )
    if not isinstance(value, dict) or set(value) - set(DAYS):
        raise ValidationError(message)
    for intervals in value.values():
        if not isinstance(intervals, list):
            raise ValidationError(message)
        previous_end = "00:00"
        for interval in intervals:
            if (
                not isinstance(interval, list)
                or len(interval) != 2
                or not all(isinstance(part, str) and _TIME.match(part) for part in interval)
            ):
                raise ValidationError(message)
            start, end = interval
            if not previous_end <= start < end or start == "24:00":
                raise ValidationError(message)
            previous_end = end
    if value and not any(value.values()):
        raise ValidationError(
            "Business hours need at least one opening interval in the week (or none at all for round the clock)."
        )


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as missing:
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Berlin.") from missing


def _intervals(day: date, schedule: Schedule, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """The opening intervals of one local day, as aware instants."""
    for start_text, end_text in schedule.get(DAYS[day.weekday()], []):
        start = datetime.combine(day, _parse(start_text), zone)
        end_time = _parse(end_text)
        end = (
            datetime.combine(day + timedelta(days=1), time(0), zone)
            if end_time is None
            else datetime.combine(day, end_time, zone)
        )
        yield start, end


def working_seconds(start: datetime, end: datetime, schedule: Schedule, time_zone: str) -> float:
    """Working time between ``start`` and ``end`` (0 if ``end`` is not after ``start``), in seconds."""
    if end <= start:
        return 0.0
    if not schedule:
        return (end - start).total_seconds()
    zone = ZoneInfo(time_zone)
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    total = 0.0
    while day <= last:
        for opens, closes in _intervals(day, schedule, zone):
            overlap = (min(closes, end) - max(opens, start)).total_seconds()
            if overlap > 0:
                total += overlap
        day += timedelta(days=1)
    return total


def add_working_seconds(start: datetime, seconds: float, schedule: Schedule, time_zone: str) -> datetime:
    """The instant when ``seconds`` of working time counted from ``start`` have passed."""
    if not schedule:
        return start + timedelta(seconds=seconds)
    zone = ZoneInfo(time_zone)
    day = start.astimezone(zone).date()
    left = seconds
    for _ in range(MAX_DAYS):
        for opens, closes in _intervals(day, schedule, zone):
            begin = max(opens, start)
            available = (closes - begin).total_seconds()
            if available <= 0:
                continue
            if left <= available:
                return begin + timedelta(seconds=left)
            left -= available
        day += timedelta(days=1)
    raise ValueError("The business hours leave no working time within ten years.")
