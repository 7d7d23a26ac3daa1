"""The clock's shortcuts (a per-day cached London offset, a per-year set of bank holidays)
give what converting through zoneinfo and asking day by day give, around every change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from standards.clock import (
    HolidayCorrections,
    Nation,
    add_calendar_days,
    add_working_days,
    is_working_day,
)

LONDON = ZoneInfo("Europe/London")


def wall_clock_days_later(start: datetime, days: int) -> datetime:
    """add_calendar_days as the rules say it, through zoneinfo at every step."""
    wall = start.astimezone(LONDON).replace(tzinfo=None) + timedelta(days=days)
    instant = wall.replace(tzinfo=LONDON).astimezone(UTC)
    if instant.astimezone(LONDON).replace(tzinfo=None) == wall:
        return instant
    # In the spring-forward gap: London's clocks go forward at 01:00 UTC.
    return datetime.combine(wall.date(), time(1), tzinfo=UTC)


def instants_around_clock_changes() -> list[datetime]:
    changes = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]
    return [
        datetime.combine(change, time(), tzinfo=UTC) + timedelta(minutes=minutes)
        for change in changes
        for minutes in range(-3 * 24 * 60, 3 * 24 * 60, 20)
    ]


@pytest.mark.parametrize("days", [0, 1, 2, 7, 14, 28])
def test_calendar_days_match_zoneinfo_at_every_instant_around_a_clock_change(days: int) -> None:
    for start in instants_around_clock_changes():
        assert add_calendar_days(start, days) == wall_clock_days_later(start, days), start


def test_calendar_days_from_a_london_offset_match_zoneinfo() -> None:
    for start in instants_around_clock_changes()[::7]:
        local = start.astimezone(LONDON)
        assert add_calendar_days(local, 1) == wall_clock_days_later(start, 1), local


CORRECTIONS = HolidayCorrections(
    added=frozenset({(Nation.ENGLAND_AND_WALES, date(2026, 6, 3))}),
    removed=frozenset({(Nation.ENGLAND_AND_WALES, date(2026, 12, 28))}),
)


@pytest.mark.parametrize("nation", list(Nation))
def test_working_days_match_counting_day_by_day_across_new_year_and_corrections(
    nation: Nation,
) -> None:
    day = date(2026, 5, 25)
    while day < date(2027, 1, 20):
        start = datetime.combine(day, time(12), tzinfo=UTC)
        counted, end = 0, day
        while counted < 10:
            end += timedelta(days=1)
            counted += is_working_day(end, nation, CORRECTIONS)
        expected = datetime.combine(end + timedelta(days=1), time(), tzinfo=LONDON)
        assert add_working_days(start, 10, nation, CORRECTIONS) == expected, day
        day += timedelta(days=3)
