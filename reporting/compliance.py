"""The compliance report: how often each standard was met on time, and why not.

Definitions (shown verbatim in the terminal and HTML reports; copy them into the README):

- **Period**: the half-open interval [from, to). Dates given on the command line are
  local midnights in Europe/London.
- **As of**: the instant the report was run. Obligations whose deadline is still ahead
  are not due yet and are not counted at all, so they can never look like failures.
- **Due in the period**: an obligation whose deadline (due_at) falls in the period and
  is not after the as-of instant, and which was not cancelled.
- **Met on time**: due, and in state ``met`` (satisfied on or before the deadline).
- **Met late**: due, and in state ``met_late`` (satisfied after the breach).
- **Breached**: due, and in state ``breached`` (deadline passed, still unmet).
- **Awaiting breach**: due, but still ``pending`` because the breach has not been
  recorded yet (the deadline passed moments ago). Counted in Due, in none of the others.
- **On-time rate**: met on time / due, between 0 and 1; blank when nothing was due.
- **Time to meet**: met_at - started_at, in whole seconds, for obligations met on time
  or late; shown in hours. **As share of window**: time to meet / (due_at - started_at),
  so 1.0 means met exactly at the deadline and above 1.0 means late.
- **Median and p90**: nearest-rank percentiles: sort the n values; the p-th percentile
  is the value at position ceil(p/100 x n). Always a value that was observed.
- **Month**: the Europe/London calendar month of the deadline (due_at).
- **Breach reasons**: for obligations that are breached or met late, the reason code the
  victim focus unit recorded, or ``unexplained`` when none has been recorded.

Counting is pushed into SQL with one GROUP BY over the denormalised obligations table
(no join to cases). Percentiles use ``percentile_disc`` on PostgreSQL, which is exactly
nearest-rank, and ROW_NUMBER() windows on SQLite, which has no ordered-set aggregates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from standards.clock import LONDON, require_aware
from storage.enums import ObligationState
from storage.models import Obligation

DIMENSIONS: Final = ("standard", "borough", "category", "month")
UNEXPLAINED: Final = "unexplained"
MEDIAN: Final = 50
P90: Final = 90

DEFINITIONS: Final[tuple[tuple[str, str], ...]] = (
    ("Period", "the half-open interval [from, to); dates are local midnights, Europe/London."),
    (
        "As of",
        "the instant the report was run; obligations whose deadline is still ahead are "
        "not due yet and are not counted at all.",
    ),
    (
        "Due",
        "deadline (due_at) in the period and not after the as-of instant; cancelled "
        "obligations are excluded.",
    ),
    ("Met on time", "due and in state met: satisfied on or before the deadline."),
    ("Met late", "due and in state met_late: satisfied after the breach."),
    ("Breached", "due and in state breached: deadline passed, still unmet."),
    (
        "Awaiting breach",
        "due but still pending because the breach is not recorded yet; counted in Due only.",
    ),
    ("On-time rate", "met on time / due, from 0 to 1; blank when nothing was due."),
    (
        "Time to meet",
        "met_at - started_at in whole seconds, for met and met-late obligations; in hours.",
    ),
    (
        "Share of window",
        "time to meet / (due_at - started_at); 1.0 is exactly at the deadline, above 1 is late.",
    ),
    (
        "Median, p90",
        "nearest-rank: sort the n values; the p-th percentile is the value at position "
        "ceil(p/100 x n).",
    ),
    ("Month", "the Europe/London calendar month of the deadline."),
    (
        "Breach reasons",
        "for breached and met-late obligations, the recorded reason code, or 'unexplained'.",
    ),
)

_MET_STATES: Final = (ObligationState.MET.value, ObligationState.MET_LATE.value)
_LATE_STATES: Final = (ObligationState.BREACHED.value, ObligationState.MET_LATE.value)


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


def local_midnight(day: date) -> datetime:
    """The UTC instant of local midnight at the start of ``day`` in Europe/London."""
    # Midnight always exists in London (clocks change at 01:00 and 02:00).
    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def parse_dimensions(raw: str | Sequence[str]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names = tuple(item.strip() for item in items if item.strip())
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ReportError(f"cannot group by {', '.join(unknown)}; use any of {DIMENSIONS}")
    if len(set(names)) != len(names):
        raise ReportError(f"--by names a dimension twice: {','.join(names)}")
    return names


def month_boundaries(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(label, first instant, first instant of next month) for each London month in range."""
    first = start.astimezone(LONDON).date().replace(day=1)
    months: list[tuple[str, datetime, datetime]] = []
    current = first
    while local_midnight(current) < end:
        following = (
            date(current.year + 1, 1, 1)
            if current.month == 12
            else date(current.year, current.month + 1, 1)
        )
        months.append((f"{current:%Y-%m}", local_midnight(current), local_midnight(following)))
        current = following
    return months


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


def _seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole seconds from ``earlier`` to ``later``, computed by the database."""
    if dialect == "sqlite":
        # Instants are stored as UTC text; julianday() parses them to fractional days.
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0)
    return func.round(func.extract("epoch", later - earlier))


def _due_filter(start: datetime, end: datetime, as_of: datetime) -> ColumnElement[bool]:
    return and_(
        Obligation.due_at >= start,
        Obligation.due_at < end,
        Obligation.due_at <= as_of,
        Obligation.state != ObligationState.CANCELLED.value,
    )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def _connection(bind: Connection | Session) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def compliance_report(
    bind: Connection | Session,
    start: datetime,
    end: datetime,
    by: Sequence[str] = (),
    as_of: datetime | None = None,
    *,
    percentiles: bool = True,
) -> ComplianceReport:
    """Every figure of the report for [start, end), grouped by ``by``, as of ``as_of``."""
    start = require_aware(start, "start").astimezone(UTC)
    end = require_aware(end, "end").astimezone(UTC)
    as_of = require_aware(as_of or datetime.now(UTC), "as_of").astimezone(UTC)
    if end <= start:
        raise ReportError(f"the period is empty: to ({end}) is not after from ({start})")
    dims = parse_dimensions(by)
    connection = _connection(bind)
    month = _month_expression(start, end)
    keys = [_dimension_column(name, month).label(f"k_{name}") for name in dims]

    groups: dict[tuple[str, ...], GroupFigures] = {}
    total = GroupFigures(key=())
    for row in connection.execute(_counts_query(keys, start, end, as_of)):
        key = tuple(str(part) for part in row[: len(keys)])
        state, reason, count = row[len(keys)], row[len(keys) + 1], int(row[len(keys) + 2])
        for figures in (groups.setdefault(key, GroupFigures(key=key)), total):
            _add(figures, state, reason, count)

    if percentiles:
        dialect = connection.dialect.name
        for key, values in _percentiles(connection, dialect, keys, start, end, as_of):
            target = groups.get(key) if key else total
            if target is not None:
                (
                    target.median_hours,
                    target.p90_hours,
                    target.median_share,
                    target.p90_share,
                ) = values
    return ComplianceReport(
        start=start,
        end=end,
        as_of=as_of,
        by=dims,
        groups=[groups[key] for key in sorted(groups)],
        total=total,
    )


def _add(figures: GroupFigures, state: str, reason: str | None, count: int) -> None:
    figures.due += count
    if state == ObligationState.MET:
        figures.met_on_time += count
    elif state == ObligationState.MET_LATE:
        figures.met_late += count
    elif state == ObligationState.BREACHED:
        figures.breached += count
    elif state == ObligationState.PENDING:
        figures.awaiting_breach += count
    if reason is not None:
        figures.reasons[reason] = figures.reasons.get(reason, 0) + count


def _counts_query(
    keys: Sequence[ColumnElement[Any]], start: datetime, end: datetime, as_of: datetime
) -> Any:
    # One scan: the reason is only meaningful for late obligations, so it is NULL for the
    # rest and the state/reason pairs stay few; Python then folds them into the columns.
    reason = case(
        (
            Obligation.state.in_(_LATE_STATES),
            func.coalesce(Obligation.explanation_reason, UNEXPLAINED),
        ),
        else_=None,
    ).label("reason")
    return (
        select(*keys, Obligation.state, reason, func.count().label("n"))
        .where(_due_filter(start, end, as_of))
        .group_by(*keys, Obligation.state, reason)
    )


Quadruple = tuple[float | None, float | None, float | None, float | None]


def _percentiles(
    connection: Connection,
    dialect: str,
    keys: Sequence[ColumnElement[Any]],
    start: datetime,
    end: datetime,
    as_of: datetime,
) -> Iterable[tuple[tuple[str, ...], Quadruple]]:
    ttm = _seconds_between(dialect, Obligation.met_at, Obligation.started_at)
    window = _seconds_between(dialect, Obligation.due_at, Obligation.started_at)
    share = ttm / window
    met = and_(_due_filter(start, end, as_of), Obligation.state.in_(_MET_STATES))
    groupings = [list(keys), []] if keys else [[]]
    for grouping in groupings:
        if dialect == "postgresql":
            yield from _percentiles_postgresql(connection, grouping, ttm, share, met)
        else:
            yield from _percentiles_windowed(connection, grouping, ttm, share, met)


def _percentiles_postgresql(
    connection: Connection,
    keys: Sequence[ColumnElement[Any]],
    ttm: ColumnElement[Any],
    share: ColumnElement[Any],
    met: ColumnElement[bool],
) -> Iterable[tuple[tuple[str, ...], Quadruple]]:
    # percentile_disc(p) is the first value whose cumulative share reaches p: nearest-rank.
    query = select(
        *keys,
        func.percentile_disc(MEDIAN / 100).within_group(ttm),
        func.percentile_disc(P90 / 100).within_group(ttm),
        func.percentile_disc(MEDIAN / 100).within_group(share),
        func.percentile_disc(P90 / 100).within_group(share),
    ).where(met)
    if keys:
        query = query.group_by(*keys)
    for row in connection.execute(query):
        key = tuple(str(part) for part in row[: len(keys)])
        m, p, ms, ps = (_number(value) for value in row[len(keys) :])
        yield key, (_hours(m), _hours(p), ms, ps)


def _percentiles_windowed(
    connection: Connection,
    keys: Sequence[ColumnElement[Any]],
    ttm: ColumnElement[Any],
    share: ColumnElement[Any],
    met: ColumnElement[bool],
) -> Iterable[tuple[tuple[str, ...], Quadruple]]:
    found: dict[tuple[str, ...], list[float | None]] = {}
    for slot, measure in ((0, ttm), (2, share)):
        ranked = (
            select(
                *keys,
                measure.label("value"),
                func.row_number()
                .over(partition_by=list(keys) or None, order_by=measure)
                .label("rn"),
                func.count().over(partition_by=list(keys) or None).label("n"),
            )
            .where(met)
            .subquery()
        )
        key_columns = [ranked.c[key.name] for key in keys]
        # ceil(p * n / 100) in integer arithmetic: SQLite's ceil() is optional.
        median_at = (ranked.c.n * MEDIAN + 99) // 100
        p90_at = (ranked.c.n * P90 + 99) // 100
        query = select(
            *key_columns,
            ranked.c.value,
            ranked.c.rn == median_at,
            ranked.c.rn == p90_at,
        ).where((ranked.c.rn == median_at) | (ranked.c.rn == p90_at))
        for row in connection.execute(query):
            key = tuple(str(part) for part in row[: len(keys)])
            value, is_median, is_p90 = row[len(keys) :]
            slots = found.setdefault(key, [None, None, None, None])
            if is_median:
                slots[slot] = _number(value)
            if is_p90:
                slots[slot + 1] = _number(value)
    for key, (m, p, ms, ps) in found.items():
        yield key, (_hours(m), _hours(p), ms, ps)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600.0
