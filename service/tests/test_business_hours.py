"""Working time in a weekly calendar and time zone, hand-computed."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from service.business_hours import add_working_seconds, validate_schedule, working_seconds

WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = "Europe/Berlin"
HOUR = 3600


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_round_the_clock_without_a_schedule():
    assert working_seconds(at("2026-03-06 10:00"), at("2026-03-07 10:00"), {}, "UTC") == 24 * HOUR
    assert add_working_seconds(at("2026-03-06 10:00"), 4 * HOUR, {}, "UTC") == at("2026-03-06 14:00")


def test_working_time_stops_over_the_weekend():
    # Friday 2026-03-06 15:00 in Berlin (UTC+1) is 14:00 UTC; 2 h left on Friday, Monday from 09:00.
    friday_3pm = at("2026-03-06 14:00")
    due = add_working_seconds(friday_3pm, 4 * HOUR, WEEKDAYS, BERLIN)
    assert due == at("2026-03-09 10:00")  # Monday 11:00 Berlin
    assert working_seconds(friday_3pm, due, WEEKDAYS, BERLIN) == 4 * HOUR


def test_outside_hours_the_clock_starts_at_opening():
    saturday = at("2026-03-07 12:00")
    assert add_working_seconds(saturday, HOUR, WEEKDAYS, BERLIN) == at("2026-03-09 09:00")  # Mon 10:00 Berlin
    assert working_seconds(saturday, at("2026-03-08 23:00"), WEEKDAYS, BERLIN) == 0


def test_a_daylight_saving_change_is_a_wall_clock_day():
    # Berlin goes to summer time on Sunday 2026-03-29: Monday 09:00 is 07:00 UTC.
    friday_4pm = at("2026-03-27 15:00")  # 16:00 Berlin (UTC+1)
    assert add_working_seconds(friday_4pm, 2 * HOUR, WEEKDAYS, BERLIN) == at("2026-03-30 08:00")


def test_several_intervals_in_a_day():
    split = {"mon": [["08:00", "12:00"], ["13:00", "17:00"]]}
    monday = at("2026-03-09 11:00")
    assert add_working_seconds(monday, 2 * HOUR, split, "UTC") == at("2026-03-09 14:00")
    assert working_seconds(monday, at("2026-03-09 14:00"), split, "UTC") == 2 * HOUR


@pytest.mark.parametrize(
    "schedule",
    [
        {"monday": [["09:00", "17:00"]]},
        {"mon": [["17:00", "09:00"]]},
        {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {"mon": [["9:00", "17:00"]]},
        {"mon": "09:00-17:00"},
        {"mon": []},
    ],
)
def test_invalid_schedules_are_refused(schedule):
    with pytest.raises(ValidationError):
        validate_schedule(schedule)


def test_a_whole_day_is_allowed():
    validate_schedule({"sat": [["00:00", "24:00"]]})
    assert (
        working_seconds(at("2026-03-07 00:00"), at("2026-03-08 00:00"), {"sat": [["00:00", "24:00"]]}, "UTC")
        == 24 * HOUR
    )
