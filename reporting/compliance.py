"""The compliance report: how often each standard was met on time, and why not.

Definitions (shown verbatim in the terminal and HTML reports; copy them into the README):

- **Period**: the half-open interval [from, to). Dates given on the command line are
  local midnights in Europe/London.
- **As of**: the instant the report counts to (``--as-of``, by default the moment it
  runs). Obligations whose deadline is after it are not due yet and are not counted at
  all, so they can never look like failures. States are as recorded when the report runs,
  so a rehearsal written with ``pledge simulate --into-database`` is reported as it stood
  at its end by giving that end as the as-of instant.
- **Due in the period**: an obligation whose deadline (due_at) falls in the period and
  is not after the as-of instant, and which was not cancelled.
- **Met on time**: due, and in state ``met`` (satisfied on or before the deadline).
- **Met late**: due, and in state ``met_late`` (satisfied after the breach).
- **Breached**: due, and in state ``breached`` (deadline passed, still unmet).
- **Awaiting breach**: due, but still ``pending`` because the breach has not been
  recorded yet (the deadline passed moments ago). Counted in Due, in none of the others.
- **On-time rate**: met on time / due, as a percentage (0 to 100) in the table, CSV
  and HTML alike; blank when nothing was due.
- **Time to meet**: met_at - started_at, in whole seconds, for obligations met on time
  or late; shown in hours. **As share of window**: time to meet / (due_at - started_at),
  so 1.0 means met exactly at the deadline and above 1.0 means late.
- **Median and p90**: nearest-rank percentiles: sort the n values; the p-th percentile
  is the value at position ceil(p/100 x n). Always a value that was observed.
- **Month**: the Europe/London calendar month of the deadline (due_at).
- **Breach reasons**: for obligations that are breached or met late, the reason code the
  victim focus unit recorded, or ``unexplained`` when none has been recorded.

Speed: a year of a London-sized force is millions of obligations, so the report reads the
monthly summary ``report_month_summary`` (see ``storage.summary``) for every London month
that lies wholly in the period and wholly before the as-of instant, and the raw
obligations only for the rest (a partial first or last month, the month still running).
The summary keeps every time to meet exactly (to the second, and the share as the same
double), so both paths give the same numbers; nothing is rounded or approximated.
Percentiles are picked from the runs (the summary rows' packed arrays, read in place, and
the raw rows' values) by ``reporting.percentiles.select_positions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from reporting.definitions import AS_OF_TERM as AS_OF_TERM
from reporting.definitions import DEFINITIONS as DEFINITIONS
from reporting.definitions import definitions as definitions
from reporting.percentiles import nearest_rank_position, select_positions
from reporting.periods import DayRun, month_boundaries, split_period
from standards.clock import require_aware
from storage.enums import ObligationState
from storage.models import Obligation
from storage.read_rules import is_counted_in_periods
from storage.report_models import ReportDaySummary, ReportMonthSummary
from storage.summary import (
    LATE_STATES,
    MET_STATES,
    UNEXPLAINED,
    as_float,
    local_midnight,
    seconds_array,
    shares_array,
    time_to_meet,
)

DIMENSIONS: Final = ("standard", "borough", "category", "month")
# The figure a due obligation in each state counts towards.
FIGURE_OF_STATE: Final = {
    ObligationState.MET.value: "met_on_time",
    ObligationState.MET_LATE.value: "met_late",
    ObligationState.BREACHED.value: "breached",
    ObligationState.PENDING.value: "awaiting_breach",
}
MEDIAN: Final = 50
P90: Final = 90

__all__ = [
    "DEFINITIONS",
    "DIMENSIONS",
    "FIGURE_OF_STATE",
    "UNEXPLAINED",
    "ComplianceReport",
    "GroupFigures",
    "ReportError",
    "compliance_report",
    "definitions",
    "local_midnight",
    "month_boundaries",
    "parse_dimensions",
]


class ReportError(ValueError):
    """A report asked for something that cannot be answered (bad dimension, empty period)."""


@dataclass
class GroupFigures:
    """Every figure for one group (or, with an empty key, for the whole period)."""

    key: tuple[str, ...]
    due: int = 0
    met_on_time: int = 0
    met_late: int = 0
    breached: int = 0
    awaiting_breach: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    median_share: float | None = None
    p90_share: float | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return self.met_on_time / self.due if self.due else None


@dataclass
class ComplianceReport:
    start: datetime
    end: datetime
    as_of: datetime
    by: tuple[str, ...]
    groups: list[GroupFigures]
    total: GroupFigures
    # Only this borough's (or standard's) obligations were counted, when set.
    borough: str | None = None
    standard: str | None = None


def parse_dimensions(raw: str | Sequence[str]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names = tuple(item.strip() for item in items if item.strip())
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ReportError(f"cannot group by {', '.join(unknown)}; use any of {DIMENSIONS}")
    if len(set(names)) != len(names):
        raise ReportError(f"--by names a dimension twice: {','.join(names)}")
    return names


def _month_expression(start: datetime, end: datetime) -> ColumnElement[Any]:
    # A CASE over precomputed UTC boundaries is exact across clock changes and identical
    # on SQLite (which has no time-zone database) and PostgreSQL.
    months = month_boundaries(start, end)
    if not months:
        return literal("")
    return case(
        *((Obligation.due_at < upper, label) for label, _lower, upper in months),
        else_=literal(months[-1][0]),
    )


def _dimension_column(name: str, month: ColumnElement[Any]) -> ColumnElement[Any]:
    if name == "month":
        return month
    column: ColumnElement[Any] = getattr(Obligation, name)
    return column


def _connection(bind: Connection | Session) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


@dataclass
class _Runs:
    """Runs of times to meet (seconds) and shares for one group, in no particular order."""

    seconds: list[Sequence[int] | NDArray[np.int64]] = field(default_factory=list)
    shares: list[Sequence[float] | NDArray[np.float64]] = field(default_factory=list)


def compliance_report(
    bind: Connection | Session,
    start: datetime,
    end: datetime,
    by: Sequence[str] = (),
    as_of: datetime | None = None,
    *,
    percentiles: bool = True,
    borough: str | None = None,
    standard: str | None = None,
    read_days: bool = True,
) -> ComplianceReport:
    """Every figure of the report for [start, end), grouped by ``by``, as of ``as_of``;
    only one ``borough``'s and one ``standard``'s obligations when given.

    ``read_days=False`` reads what lies outside whole months from the raw obligations, as
    the report did before the daily summary; ``bench/report.py`` times it as the baseline.
    """
    start = require_aware(start, "start").astimezone(UTC)
    end = require_aware(end, "end").astimezone(UTC)
    as_of = require_aware(as_of or datetime.now(UTC), "as_of").astimezone(UTC)
    if end <= start:
        raise ReportError(f"the period is empty: to ({end}) is not after from ({start})")
    dims = parse_dimensions(by)
    connection = _connection(bind)
    split = split_period(start, end, as_of, read_days=read_days)
    only = _Only(borough=borough, standard=standard)

    groups: dict[tuple[str, ...], GroupFigures] = {}
    total = GroupFigures(key=())
    runs: dict[tuple[str, ...], _Runs] = {}
    total_runs = _Runs()

    def figures_for(key: tuple[str, ...]) -> GroupFigures:
        found = groups.get(key)
        if found is None:
            found = groups[key] = GroupFigures(key=key)
        return found

    for period, spans in (
        (ReportMonthSummary.month, split.months),
        (ReportDaySummary.day, split.days),
    ):
        if spans:
            source = _SummarySource(period, spans, only, dims)
            _read_summary(connection, source, percentiles, figures_for, total, runs, total_runs)
    if split.raw:
        raw = split.raw
        month = _month_expression(start, end)
        keys = [_dimension_column(name, month).label(f"k_{name}") for name in dims]
        for row in connection.execute(_counts_query(keys, raw, as_of, only)):
            key = tuple(str(part) for part in row[: len(keys)])
            state, reason, count = row[len(keys)], row[len(keys) + 1], int(row[len(keys) + 2])
            _add(figures_for(key), state, reason, count)
            _add(total, state, reason, count)
        if percentiles:
            _read_raw_times(connection, keys, raw, as_of, only, runs, total_runs)

    if percentiles:
        for key, group_runs in runs.items():
            # With no --by the single group () is the total itself; as before, only the
            # total row carries its percentiles.
            if key and key in groups:
                _set_percentiles(groups[key], group_runs)
        _set_percentiles(total, total_runs)
    return ComplianceReport(
        start=start,
        end=end,
        as_of=as_of,
        by=dims,
        groups=[groups[key] for key in sorted(groups)],
        total=total,
        borough=borough,
        standard=standard,
    )


@dataclass(frozen=True)
class _Only:
    """The report's filters: one borough, one standard, or all when None."""

    borough: str | None = None
    standard: str | None = None

    def where(self, table: Any) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.borough is not None:
            conditions.append(table.borough == self.borough)
        if self.standard is not None:
            conditions.append(table.standard == self.standard)
        return conditions


@dataclass(frozen=True)
class _SummarySource:
    """The rows of one summary table (month or day) whose period lies in ``spans``."""

    period: Any
    spans: Sequence[DayRun]
    only: _Only
    dims: Sequence[str]

    @property
    def keys(self) -> list[Any]:
        table = self.period.class_
        return [self.period if name == "month" else getattr(table, name) for name in self.dims]

    def where(self, *more: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        period = self.period
        inside = or_(*(and_(period >= first, period <= last) for first, last in self.spans))
        return [inside, *self.only.where(period.class_), *more]


def _read_summary(
    connection: Connection,
    source: _SummarySource,
    percentiles: bool,
    figures_for: Any,
    total: GroupFigures,
    runs: dict[tuple[str, ...], _Runs],
    total_runs: _Runs,
) -> None:
    """Add the summary rows' figures: the counts summed by the database, the reasons only
    of rows with late obligations, the times only of rows with met ones."""
    table = source.period.class_
    keys = source.keys
    width = len(keys)
    month_at = source.dims.index("month") if "month" in source.dims else None
    labels: dict[date, str] = {}

    def key_of(row: Any) -> tuple[str, ...]:
        parts = [str(part) for part in row[:width]]
        if month_at is not None:
            # A day row's month is the month it lies in.
            day = row[month_at]
            label = labels.get(day)
            if label is None:
                label = labels[day] = f"{day:%Y-%m}"
            parts[month_at] = label
        return tuple(parts)

    counts = select(
        *keys,
        func.sum(table.met),
        func.sum(table.met_late),
        func.sum(table.breached),
        func.sum(table.pending),
    ).where(*source.where())
    if keys:
        counts = counts.group_by(*keys)
    for row in connection.execute(counts).all():
        met, late, breached, pending = (int(value or 0) for value in row[width:])
        if not met + late + breached + pending:
            continue
        for figures in (figures_for(key_of(row)), total):
            figures.met_on_time += met
            figures.met_late += late
            figures.breached += breached
            figures.awaiting_breach += pending
            figures.due += met + late + breached + pending
    reasons = select(*keys, table.reasons).where(*source.where(table.met_late + table.breached > 0))
    for row in connection.execute(reasons).all():
        group = figures_for(key_of(row))
        for reason, count in row[width].items():
            for figures in (group, total):
                figures.reasons[reason] = figures.reasons.get(reason, 0) + count
    if not percentiles:
        return
    times = select(*keys, table.hours, table.shares).where(
        *source.where(table.met + table.met_late > 0)
    )
    for row in connection.execute(times).all():
        seconds, shares = seconds_array(row[width]), shares_array(row[width + 1])
        group_runs = runs.setdefault(key_of(row), _Runs())
        for target in (group_runs, total_runs):
            target.seconds.append(seconds)
            target.shares.append(shares)


def _read_raw_times(
    connection: Connection,
    keys: Sequence[ColumnElement[Any]],
    raw: Sequence[tuple[datetime, datetime]],
    as_of: datetime,
    only: _Only,
    runs: dict[tuple[str, ...], _Runs],
    total_runs: _Runs,
) -> None:
    ttm, share = time_to_meet(connection.dialect.name)
    query = select(*keys, ttm, share).where(
        is_counted_in_periods(raw, as_of), Obligation.state.in_(MET_STATES), *only.where(Obligation)
    )
    seconds: dict[tuple[str, ...], list[int]] = {}
    shares: dict[tuple[str, ...], list[float]] = {}
    for row in connection.execute(query):
        key = tuple(str(part) for part in row[: len(keys)])
        value, fraction = row[len(keys)], as_float(row[len(keys) + 1])
        # NULLs (no met_at, or an empty window) are ignored, as percentile_disc does.
        if value is not None:
            seconds.setdefault(key, []).append(int(value))
        if fraction is not None:
            shares.setdefault(key, []).append(fraction)
    for key, values in seconds.items():
        runs.setdefault(key, _Runs()).seconds.append(values)
        total_runs.seconds.append(values)
    for key, fractions in shares.items():
        runs.setdefault(key, _Runs()).shares.append(fractions)
        total_runs.shares.append(fractions)


def _set_percentiles(figures: GroupFigures, runs: _Runs) -> None:
    count = sum(map(len, runs.seconds))
    if count:
        positions = [nearest_rank_position(MEDIAN, count), nearest_rank_position(P90, count)]
        median, p90 = select_positions(runs.seconds, positions)
        figures.median_hours, figures.p90_hours = median / 3600.0, p90 / 3600.0
    count = sum(map(len, runs.shares))
    if count:
        positions = [nearest_rank_position(MEDIAN, count), nearest_rank_position(P90, count)]
        figures.median_share, figures.p90_share = select_positions(runs.shares, positions)


def _add(figures: GroupFigures, state: str, reason: str | None, count: int) -> None:
    figures.due += count
    column = FIGURE_OF_STATE.get(state)
    if column is not None:
        setattr(figures, column, getattr(figures, column) + count)
    if reason is not None:
        figures.reasons[reason] = figures.reasons.get(reason, 0) + count


def _counts_query(
    keys: Sequence[ColumnElement[Any]],
    ranges: Sequence[tuple[datetime, datetime]],
    as_of: datetime,
    only: _Only,
) -> Any:
    # One scan: the reason is only meaningful for late obligations, so it is NULL for the
    # rest and the state/reason pairs stay few; Python then folds them into the columns.
    reason = case(
        (
            Obligation.state.in_(LATE_STATES),
            func.coalesce(Obligation.explanation_reason, UNEXPLAINED),
        ),
        else_=None,
    ).label("reason")
    return (
        select(*keys, Obligation.state, reason, func.count().label("n"))
        .where(is_counted_in_periods(ranges, as_of), *only.where(Obligation))
        .group_by(*keys, Obligation.state, reason)
    )
