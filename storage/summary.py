"""The report summaries (by month and by day): keeping them right.

``report_month_summary`` and ``report_day_summary`` (see ``storage.report_models``) hold,
per London month (or day) of the deadline and (standard, borough, category), the counts
per state, the breach reasons and every time to meet as a sorted packed array. The
report reads the month rows for months that lie wholly in the period and wholly before
the as-of instant, the day rows for the whole days left over, and the raw obligations
only for the rest (part of a day), so each row must always equal what the raw
obligations say. Every writer therefore
refreshes the rows it touched, in its own transaction:

- ``activities.records`` (the service) reads what the obligations it writes contribute,
  before and after the change (:func:`contributions`), and applies the difference with
  :func:`apply_contribution_changes`: a case's write costs the same however many
  obligations share its summary row;
- ``reporting.demo`` (bulk data) calls :func:`rebuild_report_summary`; migrations 0004
  and 0008 write the rows of what was recorded before them with their own code;
- :func:`refresh_report_summary` recomputes chosen rows from the raw obligations, which
  repairs any row a writer outside these paths left behind.

Percentiles stay exact: times are stored to the second and shares as the same double the
SQL expression yields, and ``reporting.percentiles.select_positions`` picks the
nearest-rank values from the rows' packed arrays, read in place, without sorting them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session

from standards.clock import LONDON
from storage.models import Obligation
from storage.read_rules import is_not_cancelled
from storage.report_models import ReportDaySummary, ReportMonthSummary
from storage.summary_rows import (
    LATE_STATES,
    MET_STATES,
    UNEXPLAINED,
    SummaryKey,
    _Row,
    as_float,
    local_midnight,
    month_of,
    next_month,
    pack_seconds,
    pack_shares,
    seconds_array,
    seconds_between,
    shares_array,
    summary_key,
    time_to_meet,
    unpack_seconds,
    unpack_shares,
)

__all__ = [
    "DAYS",
    "LATE_STATES",
    "MET_STATES",
    "MONTHS",
    "UNEXPLAINED",
    "SummaryKey",
    "_Row",
    "apply_contribution_changes",
    "as_float",
    "contributions",
    "local_midnight",
    "month_of",
    "next_month",
    "pack_seconds",
    "pack_shares",
    "rebuild_report_summary",
    "refresh_report_summary",
    "seconds_array",
    "seconds_between",
    "shares_array",
    "summary_key",
    "time_to_meet",
    "unpack_seconds",
    "unpack_shares",
]


def _connection(bind: Connection | Session) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


@dataclass(frozen=True)
class Grain:
    """One summary table: its period column and the period a London day belongs to."""

    table: type[ReportMonthSummary] | type[ReportDaySummary]
    column: str
    period_of: Callable[[date], date]

    def key(self, day_key: SummaryKey) -> SummaryKey:
        day, standard, borough, category = day_key
        return (self.period_of(day), standard, borough, category)

    def filter(self, key: SummaryKey) -> ColumnElement[bool]:
        period, standard, borough, category = key
        table = self.table
        return and_(
            getattr(table, self.column) == period,
            table.standard == standard,
            table.borough == borough,
            table.category == category,
        )


MONTHS: Final = Grain(ReportMonthSummary, "month", lambda day: day.replace(day=1))
DAYS: Final = Grain(ReportDaySummary, "day", lambda day: day)
# Writers change the month rows before the day rows, each in key order: two writers
# always take their locks in the same order, so they cannot deadlock.
GRAINS: Final = (MONTHS, DAYS)


def _source(dialect: str, *where: ColumnElement[bool]) -> Any:
    ttm, share = time_to_meet(dialect)
    return select(
        Obligation.due_at,
        Obligation.standard,
        Obligation.borough,
        Obligation.category,
        Obligation.state,
        Obligation.explanation_reason,
        ttm,
        share,
    ).where(is_not_cancelled(), *where)


class _Days:
    """The London day of an instant, remembering day boundaries already found.

    Converting millions of instants to London time one by one is slow; the rows of a
    scan share a few hundred days, so their boundaries are kept sorted and bisected.
    """

    def __init__(self) -> None:
        self._lowers: list[datetime] = []
        self._bounds: list[tuple[datetime, datetime, date]] = []

    def __call__(self, due_at: datetime) -> date:
        index = bisect_right(self._lowers, due_at) - 1
        if index >= 0:
            lower, upper, day = self._bounds[index]
            if due_at < upper:
                return day
        day = due_at.astimezone(LONDON).date()
        lower = local_midnight(day)
        position = bisect_left(self._lowers, lower)
        self._lowers.insert(position, lower)
        self._bounds.insert(position, (lower, local_midnight(day + timedelta(days=1)), day))
        return day


def _summarise(connection: Connection, *where: ColumnElement[bool]) -> dict[SummaryKey, _Row]:
    """The day rows of the obligations ``where`` selects."""
    rows: dict[SummaryKey, _Row] = {}
    day_of = _Days()
    for due_at, standard, borough, category, state, reason, ttm, share in connection.execute(
        _source(connection.dialect.name, *where)
    ):
        key = (day_of(due_at), standard, borough, category)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _Row()
        row.add(state, reason, ttm, share)
    return rows


def _months(day_rows: dict[SummaryKey, _Row]) -> dict[SummaryKey, _Row]:
    """The month rows the day rows add up to."""
    months: dict[SummaryKey, _Row] = {}
    for key, row in day_rows.items():
        months.setdefault(MONTHS.key(key), _Row()).merge(row)
    for row in months.values():
        row.seconds.sort()
        row.shares.sort()
    return months


def _insert(connection: Connection, grain: Grain, rows: dict[SummaryKey, _Row]) -> None:
    if rows:
        connection.execute(
            insert(grain.table),
            [row.values(key, grain.column) for key, row in sorted(rows.items())],
        )


def _month_range(month: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (
        Obligation.due_at >= local_midnight(month),
        Obligation.due_at < local_midnight(next_month(month)),
    )


def refresh_report_summary(bind: Connection | Session, keys: Iterable[SummaryKey]) -> None:
    """Recompute the month rows of ``keys`` (months) and their day rows from the raw
    obligations, in this transaction."""
    connection = _connection(bind)
    for key in sorted({MONTHS.key(key) for key in keys}):
        month, standard, borough, category = key
        connection.execute(delete(ReportMonthSummary).where(MONTHS.filter(key)))
        connection.execute(
            delete(ReportDaySummary).where(
                ReportDaySummary.day >= month,
                ReportDaySummary.day < next_month(month),
                ReportDaySummary.standard == standard,
                ReportDaySummary.borough == borough,
                ReportDaySummary.category == category,
            )
        )
        days = _summarise(
            connection,
            Obligation.standard == standard,
            Obligation.borough == borough,
            Obligation.category == category,
            *_month_range(month),
        )
        _insert(connection, MONTHS, _months(days))
        _insert(connection, DAYS, days)


# What one obligation adds to the summary: its day row's key (London day of the deadline,
# standard, borough, category), state, reason, time to meet and share of the window (the
# last two exactly as the database computes them). Its month row's key follows.
Contribution = tuple[SummaryKey, str, str | None, Any, Any]


def contributions(
    bind: Connection | Session, obligation_ids: Iterable[int]
) -> dict[int, Contribution]:
    """What each of these obligations contributes to the summary now (cancelled: nothing)."""
    ids = list(obligation_ids)
    if not ids:
        return {}
    connection = _connection(bind)
    found: dict[int, Contribution] = {}
    day_of = _Days()
    query = _source(connection.dialect.name, Obligation.id.in_(ids)).add_columns(Obligation.id)
    for due_at, standard, borough, category, state, reason, ttm, share, ident in connection.execute(
        query
    ):
        found[ident] = ((day_of(due_at), standard, borough, category), state, reason, ttm, share)
    return found


def apply_contribution_changes(
    bind: Connection | Session,
    before: dict[int, Contribution],
    after: dict[int, Contribution],
) -> None:
    """Move the summary (month and day rows) from what obligations contributed ``before``
    to ``after``, in a fixed number of statements per summary table, however many rows
    the change touches: one read that locks them all (in key
    order), then one delete, one update and one insert at most (on PostgreSQL one insert
    first, so that every row exists to be locked). A case's write runs after almost every
    step of every case, so statements per row are what its cost is made of."""
    connection = _connection(bind)
    changed = _changed_contributions(before, after)
    if not changed:
        return
    for grain in GRAINS:
        removed, added = _contribution_moves(changed, grain)
        keys = sorted(removed.keys() | added.keys())
        stored = _locked_rows(connection, grain, keys)
        empty: list[SummaryKey] = []
        updates: list[dict[str, Any]] = []
        new: list[dict[str, Any]] = []
        names = _key_names(grain)
        for key in keys:
            found = stored.get(key)
            row = _Row() if found is None else _Row.stored(found)
            for _, state, reason, ttm, share in removed.get(key, []):
                row.remove(state, reason, ttm, share)
            for _, state, reason, ttm, share in added.get(key, []):
                row.add(state, reason, ttm, share)
            if row.is_empty():
                if found is not None:
                    empty.append(key)
            elif found is not None:
                values = row.values(key, grain.column)
                parameters = {f"key_{name}": values[name] for name in names}
                parameters.update({name: values[name] for name in _VALUE_NAMES})
                updates.append(parameters)
            else:
                new.append(row.values(key, grain.column))
        table = cast(Table, grain.table.__table__)
        if empty:
            connection.execute(delete(table).where(_key_column(grain).in_(empty)))
        if updates:
            connection.execute(
                update(table)
                # SET takes the value columns each parameter set names.
                .where(*(table.c[name] == bindparam(f"key_{name}") for name in names)),
                updates,
            )
        if new:
            connection.execute(insert(table), new)


_VALUE_NAMES: Final = ("met", "met_late", "breached", "pending", "reasons", "hours", "shares")


def _key_names(grain: Grain) -> tuple[str, str, str, str]:
    return (grain.column, "standard", "borough", "category")


def _key_column(grain: Grain) -> Any:
    table = grain.table
    return tuple_(*(getattr(table, name) for name in _key_names(grain)))


def _changed_contributions(
    before: dict[int, Contribution], after: dict[int, Contribution]
) -> list[tuple[Contribution | None, Contribution | None]]:
    return [
        (before.get(ident), after.get(ident))
        for ident in before.keys() | after.keys()
        if before.get(ident) != after.get(ident)
    ]


def _contribution_moves(
    changed: list[tuple[Contribution | None, Contribution | None]], grain: Grain
) -> tuple[dict[SummaryKey, list[Contribution]], dict[SummaryKey, list[Contribution]]]:
    removed: dict[SummaryKey, list[Contribution]] = {}
    added: dict[SummaryKey, list[Contribution]] = {}
    for old, new in changed:
        if old is not None:
            removed.setdefault(grain.key(old[0]), []).append(old)
        if new is not None:
            added.setdefault(grain.key(new[0]), []).append(new)
    return removed, added


def _locked_rows(
    connection: Connection, grain: Grain, keys: list[SummaryKey]
) -> dict[SummaryKey, Any]:
    """The stored rows of these keys, locked until the transaction ends."""
    if not keys:
        return {}
    if connection.dialect.name == "postgresql":
        # A row must exist to be locked: otherwise two writers could both find none and
        # both insert. (SQLite writers already queue for the database lock.)
        connection.execute(
            postgresql_insert(grain.table)
            .values([_Row().values(key, grain.column) for key in keys])
            .on_conflict_do_nothing()
        )
    table = grain.table
    names = _key_names(grain)
    found: dict[SummaryKey, Any] = {}
    for row in connection.execute(
        select(table.__table__)
        .where(_key_column(grain).in_(keys))
        .order_by(*(getattr(table, name) for name in names))
        .with_for_update()
    ):
        period, standard, borough, category = (getattr(row, name) for name in names)
        found[(period, standard, borough, category)] = row
    return found


def rebuild_report_summary(
    bind: Connection | Session, start: datetime | None = None, end: datetime | None = None
) -> int:
    """Recompute every summary row (month and day) of the months that overlap [start, end)
    (default: all).

    Returns the number of summary rows written, months and days together. Works a month
    at a time, so memory stays bounded by one month of obligations.
    """
    connection = _connection(bind)
    if start is None or end is None:
        low, high = connection.execute(
            select(func.min(Obligation.due_at), func.max(Obligation.due_at))
        ).one()
        if low is None:
            return 0
        start = start or low
        end = end or high
    written = 0
    month = month_of(start)
    while local_midnight(month) <= end:
        following = next_month(month)
        connection.execute(delete(ReportMonthSummary).where(ReportMonthSummary.month == month))
        connection.execute(
            delete(ReportDaySummary).where(
                ReportDaySummary.day >= month, ReportDaySummary.day < following
            )
        )
        days = _summarise(connection, *_month_range(month))
        months = _months(days)
        _insert(connection, MONTHS, months)
        _insert(connection, DAYS, days)
        written += len(months) + len(days)
        month = following
    return written
