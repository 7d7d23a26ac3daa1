"""How a report's period is read: which parts from which summary, which from raw rows.

A period is any half-open interval of instants. The monthly summary answers for London
months that lie wholly in it and wholly before the as-of instant; the daily summary for
the whole London days left over (a partial first or last month, the month still
running); the raw obligations only for what is left after that: part of a day, when a
period does not start or end at a London midnight, and the day still running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from standards.clock import LONDON
from storage.summary import local_midnight, next_month

# The first and last (inclusive) London month (its first day) or day of a run.
DayRun = tuple[date, date]
InstantRange = tuple[datetime, datetime]


def month_boundaries(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(label, first instant, first instant of next month) for each London month in range."""
    current = start.astimezone(LONDON).date().replace(day=1)
    months: list[tuple[str, datetime, datetime]] = []
    while local_midnight(current) < end:
        following = next_month(current)
        months.append((f"{current:%Y-%m}", local_midnight(current), local_midnight(following)))
        current = following
    return months


@dataclass(frozen=True)
class PeriodSplit:
    """Where each part of a period is read from; together the parts are the period."""

    months: list[DayRun] = field(default_factory=list)
    days: list[DayRun] = field(default_factory=list)
    raw: list[InstantRange] = field(default_factory=list)


def split_period(
    start: datetime, end: datetime, as_of: datetime, *, read_days: bool = True
) -> PeriodSplit:
    """Whole months (read ≤ as_of) from the monthly summary, then whole days from the
    daily one (unless ``read_days`` is False), the rest raw."""
    whole = [
        (lower, upper)
        for _label, lower, upper in month_boundaries(start, end)
        if start <= lower and upper <= end and upper <= as_of
    ]
    months: list[DayRun] = []
    if whole:
        months = [(_london_day(whole[0][0]), _london_day(whole[-1][0]))]
        rest = [(low, high) for low, high in ((start, whole[0][0]), (whole[-1][1], end))]
    else:
        rest = [(start, end)]
    rest = [(low, high) for low, high in rest if low < high]
    if not read_days:
        return PeriodSplit(months=months, raw=rest)
    days: list[DayRun] = []
    raw: list[InstantRange] = []
    for low, high in rest:
        run = _whole_days(low, min(high, as_of))
        if run is None:
            raw.append((low, high))
            continue
        first, last = run
        days.append(run)
        raw += [
            (a, b)
            for a, b in ((low, local_midnight(first)), (local_midnight(last + _DAY), high))
            if a < b
        ]
    return PeriodSplit(months=months, days=days, raw=raw)


_DAY = timedelta(days=1)


def _london_day(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


def _whole_days(low: datetime, high: datetime) -> DayRun | None:
    """The first and last London day wholly inside [low, high), or None when none is."""
    first = _london_day(low)
    if local_midnight(first) < low:
        first += _DAY
    last = _london_day(high)
    # The day containing `high` ends after it, unless `high` is that day's midnight.
    last -= _DAY
    if first > last:
        return None
    return first, last
