"""Deadline arithmetic for statutory windows, following the clock rules in STANDARDS.md.

Everything here is a pure function of its arguments (plus the bundled tz database and the
`holidays` package, as corrected by a force's `HolidayCorrections`), so workflows can call
it deterministically and tests need no fixtures.
Instants go in and come out as aware datetimes; results are always normalised to UTC so
that callers never persist a London offset that could be misread after a clock change.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays


class WindowUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    WORKING_DAYS = "working_days"


class Nation(StrEnum):
    ENGLAND_AND_WALES = "england_and_wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern_ireland"


LONDON: ZoneInfo = ZoneInfo("Europe/London")

# Wales shares England's bank holidays, so ENG stands for both.
_SUBDIVISION: dict[Nation, str] = {
    Nation.ENGLAND_AND_WALES: "ENG",
    Nation.SCOTLAND: "SCT",
    Nation.NORTHERN_IRELAND: "NIR",
}

# HolidayBase fills in a year on first lookup by mutating itself, and it records the year as
# populated before the dates are added; a concurrent lookup (e.g. from a threaded activity
# worker) could then see a half-filled year and miss a bank holiday.
_HOLIDAY_LOCK = threading.Lock()


class NaiveDatetimeError(ValueError):
    """A datetime without a UTC offset reached code that needs an unambiguous instant."""

    def __init__(self, field: str, value: datetime) -> None:
        super().__init__(
            f"{field} must be timezone-aware; include a UTC offset such as +00:00 "
            f"(got naive {value.isoformat()})"
        )
        self.field = field


def require_aware(value: datetime, field: str = "datetime") -> datetime:
    """Return `value` as a UTC datetime, refusing naive input rather than guessing a zone."""
    if value.tzinfo is UTC:
        return value  # what astimezone(UTC) gives back, without the two calls
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(field, value)
    return value.astimezone(UTC)


def _require_non_negative(amount: int | timedelta, field: str) -> None:
    negative = amount < timedelta(0) if isinstance(amount, timedelta) else amount < 0
    if negative:
        raise ValueError(f"{field} must not be negative (got {amount})")


def add_elapsed(start: datetime, delta: timedelta) -> datetime:
    """Add physical elapsed time; a clock change neither lengthens nor shortens the window."""
    start_utc = require_aware(start, "start")
    _require_non_negative(delta, "delta")
    return start_utc + delta


def _first_instant_at_or_after(wall: datetime) -> datetime:
    """Map a naive London wall-clock time to a UTC instant.

    fold=0 already picks the first occurrence of an ambiguous (fall-back) time. A time in
    the spring-forward gap does not survive a round trip through UTC, and then the rules ask
    for the first instant after the gap, i.e. the transition itself.
    """
    candidate = wall.replace(tzinfo=LONDON, fold=0)
    as_utc = candidate.astimezone(UTC)
    if as_utc.astimezone(LONDON).replace(tzinfo=None) == wall:
        return as_utc

    # zoneinfo gives no API for "when is the next transition", so bisect between the two
    # readings of the gap time: the earlier one is still on the old offset, the later one is
    # on the new offset, and the transition lies between them.
    offset_before = candidate.utcoffset()
    offset_after = wall.replace(tzinfo=LONDON, fold=1).utcoffset()
    assert offset_before is not None and offset_after is not None
    lo = wall - offset_after
    hi = wall - offset_before
    lo, hi = min(lo, hi).replace(tzinfo=UTC), max(lo, hi).replace(tzinfo=UTC)
    new_offset = hi.astimezone(LONDON).utcoffset()
    resolution = timedelta(microseconds=1)
    while hi - lo > resolution:
        mid = lo + (hi - lo) / 2
        if mid.astimezone(LONDON).utcoffset() == new_offset:
            hi = mid
        else:
            lo = mid
    return hi


@lru_cache(maxsize=8192)
def _steady_offset(day: date, local: bool) -> timedelta | None:
    """London's UTC offset all through `day` (a London calendar day if `local`, else a UTC
    one), or None if the clocks change during it. Keyed by day, which repeats across cases
    where instants do not; London changes its clocks at most twice a year, so the same
    offset at both ends of the day means no change in between."""
    ends = (datetime.combine(day, time()), datetime.combine(day + timedelta(days=1), time()))
    if local:
        offsets = [end.replace(tzinfo=LONDON).utcoffset() for end in ends]
    else:
        offsets = [end.replace(tzinfo=UTC).astimezone(LONDON).utcoffset() for end in ends]
    return offsets[0] if offsets[0] == offsets[1] else None


def _london_wall(instant_utc: datetime) -> datetime:
    """The naive Europe/London wall-clock time of a UTC instant."""
    offset = _steady_offset(instant_utc.date(), False)
    if offset is None:
        return instant_utc.astimezone(LONDON).replace(tzinfo=None)
    return instant_utc.replace(tzinfo=None) + offset


def add_calendar_days(start: datetime, days: int) -> datetime:
    """Same Europe/London wall-clock time `days` later (23 or 25 elapsed hours across a change)."""
    start_utc = require_aware(start, "start")
    _require_non_negative(days, "days")
    wall = _london_wall(start_utc) + timedelta(days=days)
    offset = _steady_offset(wall.date(), True)
    if offset is not None:  # no gap or repeated hour that day: one fixed offset
        return (wall - offset).replace(tzinfo=UTC)
    return _first_instant_at_or_after(wall)


def add_calendar_months(start: datetime, months: int) -> datetime:
    """Same Europe/London wall-clock time `months` later; a day the month lacks (31 May + 1
    month) is the month's last day. Used for a victim's own window, e.g. a Right to Review
    request up to 3 months after a decision."""
    start_utc = require_aware(start, "start")
    _require_non_negative(months, "months")
    wall = _london_wall(start_utc)
    index = wall.month - 1 + months
    year, month = wall.year + index // 12, index % 12 + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    day = min(wall.day, (next_month - timedelta(days=1)).day)
    return _first_instant_at_or_after(wall.replace(year=year, month=month, day=day))


@lru_cache(maxsize=len(Nation))
def _bank_holidays(nation: Nation) -> holidays.HolidayBase:
    # Built empty with expand=True so each year is computed on first use; a deadline that
    # runs over New Year then picks up the next year's holidays without any bookkeeping here.
    return holidays.country_holidays("GB", subdiv=_SUBDIVISION[nation], expand=True)


def listed_bank_holidays(nation: Nation, year: int) -> dict[date, str]:
    """The `holidays` package's bank holidays for `nation` in `year`, uncorrected, by day."""
    calendar = _bank_holidays(Nation(nation))
    with _HOLIDAY_LOCK:
        _ = date(year, 1, 1) in calendar  # a lookup fills in the year (expand=True)
        return {day: name for day, name in calendar.items() if day.year == year}


@dataclass(frozen=True)
class HolidayCorrections:
    """Bank holidays a force adds to, or takes off, the `holidays` data for a nation.

    The data is not always right (a one-off holiday announced late, or listed by one
    source and not another); the force file says what it knows better. Frozen sets of
    (nation, day), so the value is hashable and cached arithmetic can key on it.
    """

    added: frozenset[tuple[Nation, date]] = frozenset()
    removed: frozenset[tuple[Nation, date]] = frozenset()


NO_CORRECTIONS: Final = HolidayCorrections()


def is_bank_holiday(
    day: date, nation: Nation, corrections: HolidayCorrections = NO_CORRECTIONS
) -> bool:
    """A bank holiday (including substitute days) in `nation`, after the force's corrections."""
    nation = Nation(nation)
    if (nation, day) in corrections.added:
        return True
    if (nation, day) in corrections.removed:
        return False
    calendar = _bank_holidays(nation)
    with _HOLIDAY_LOCK:
        return day in calendar


@lru_cache(maxsize=64)
def _bank_holiday_days(
    nation: Nation, corrections: HolidayCorrections, year: int
) -> frozenset[date]:
    """Every day of `year` that `is_bank_holiday` says is one: a set to look days up in,
    rather than asking the `holidays` calendar (under its lock) day by day."""
    listed = listed_bank_holidays(nation, year)
    return frozenset(
        {day for day in listed if (nation, day) not in corrections.removed}
        | {day for n, day in corrections.added if n == nation and day.year == year}
    )


def is_working_day(
    day: date, nation: Nation, corrections: HolidayCorrections = NO_CORRECTIONS
) -> bool:
    """Monday to Friday and not a bank holiday (including substitute days) in `nation`."""
    if isinstance(day, datetime):
        # A datetime's calendar day depends on its zone; make the caller pick the London day.
        raise TypeError("is_working_day takes a date, not a datetime; convert to London first")
    return day.weekday() < 5 and not is_bank_holiday(day, nation, corrections)


def add_working_days(
    start: datetime,
    days: int,
    nation: Nation,
    corrections: HolidayCorrections = NO_CORRECTIONS,
) -> datetime:
    """Local midnight at the end of the `days`-th working day after the London start day."""
    start_utc = require_aware(start, "start")
    if days < 1:
        raise ValueError(f"a working-days window must be at least 1 working day (got {days})")
    # The start day never counts, even when it is itself a working day, and the start day is
    # the London calendar day: 23:30 UTC in summer is already tomorrow locally.
    return _end_of_working_days(_london_wall(start_utc).date(), days, nation, corrections)


@lru_cache(maxsize=4096)
def _end_of_working_days(
    start_day: date, days: int, nation: Nation, corrections: HolidayCorrections
) -> datetime:
    """Local midnight ending the `days`-th working day after `start_day` (one answer per
    day: a rehearsal of a force's year asks for the same few hundred again and again)."""
    day = start_day
    counted = 0
    holidays_in = _bank_holiday_days(Nation(nation), corrections, day.year)
    while counted < days:
        day += timedelta(days=1)
        if day.month == 1 and day.day == 1:
            holidays_in = _bank_holiday_days(Nation(nation), corrections, day.year)
        if day.weekday() < 5 and day not in holidays_in:
            counted += 1
    return _first_instant_at_or_after(datetime.combine(day + timedelta(days=1), time()))


def add_window(
    start: datetime,
    amount: int,
    unit: WindowUnit,
    nation: Nation = Nation.ENGLAND_AND_WALES,
    corrections: HolidayCorrections = NO_CORRECTIONS,
) -> datetime:
    """Deadline for a window of `amount` `unit`s starting at `start`, as a UTC datetime."""
    require_aware(start, "start")
    _require_non_negative(amount, "amount")
    match WindowUnit(unit):
        case WindowUnit.MINUTES:
            return add_elapsed(start, timedelta(minutes=amount))
        case WindowUnit.HOURS:
            return add_elapsed(start, timedelta(hours=amount))
        case WindowUnit.DAYS:
            return add_calendar_days(start, amount)
        case WindowUnit.WEEKS:
            return add_calendar_days(start, 7 * amount)
        case WindowUnit.WORKING_DAYS:
            return add_working_days(start, amount, nation, corrections)


def fraction_of_window(start: datetime, due: datetime, fraction: float) -> datetime:
    """The instant `fraction` of the way through the window, measured in elapsed time.

    Elapsed rather than wall-clock so that a 75% warning on a window spanning a clock change
    still leaves a quarter of the real time remaining.
    """
    start_utc = require_aware(start, "start")
    due_utc = require_aware(due, "due")
    if due_utc < start_utc:
        raise ValueError(f"due ({due_utc.isoformat()}) is before start ({start_utc.isoformat()})")
    if not math.isfinite(fraction) or not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be between 0 and 1 inclusive (got {fraction})")
    return start_utc + (due_utc - start_utc) * fraction


def to_utc_iso(value: datetime) -> str:
    """ISO 8601 in UTC with an explicit +00:00 offset, the exchange format for instants."""
    if value.tzinfo is UTC:
        return value.isoformat()  # what the general case gives, without the call
    return require_aware(value, "value").isoformat()
