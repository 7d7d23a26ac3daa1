"""The monthly report summary: keeping it right, and reading exact percentiles from it.

``report_month_summary`` (see ``storage.report_models``) holds, per London month of the
deadline and (standard, borough, category), the counts per state, the breach reasons and
every time to meet as a sorted packed array. The report reads it for months that lie
wholly in the period and wholly before the as-of instant, and the raw obligations for the
rest, so each row must always equal what the raw obligations say. Every writer therefore
refreshes the rows it touched, in its own transaction:

- ``activities.records`` (the service) reads what the obligations it writes contribute,
  before and after the change (:func:`contributions`), and applies the difference with
  :func:`apply_contribution_changes`: a case's write costs the same however many
  obligations share its summary row;
- ``reporting.demo`` (bulk data) and migration 0004 call :func:`rebuild_report_summary`;
- :func:`refresh_report_summary` recomputes chosen rows from the raw obligations, which
  repairs any row a writer outside these paths left behind.

Percentiles stay exact: times are stored to the second and shares as the same double the
SQL expression yields, and :func:`select_positions` picks the nearest-rank values from many
sorted runs without sorting them all together.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from itertools import chain
from math import isqrt
from typing import Any, Final, TypeVar, cast

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
from storage.enums import ObligationState
from storage.models import Obligation
from storage.report_models import ReportMonthSummary

UNEXPLAINED: Final = "unexplained"
MET_STATES: Final = (ObligationState.MET.value, ObligationState.MET_LATE.value)
LATE_STATES: Final = (ObligationState.BREACHED.value, ObligationState.MET_LATE.value)
# Below this many values a plain sort is quicker than sampling.
SMALL: Final = 20_000
_BIG_ENDIAN: Final = sys.byteorder == "big"

SummaryKey = tuple[date, str, str, str]
T = TypeVar("T", int, float)


def local_midnight(day: date) -> datetime:
    """The UTC instant of local midnight at the start of ``day`` in Europe/London."""
    # Midnight always exists in London (clocks change at 01:00 and 02:00).
    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def month_of(instant: datetime) -> date:
    """The first day of the Europe/London calendar month containing ``instant``."""
    return instant.astimezone(LONDON).date().replace(day=1)


def next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


def summary_key(due_at: datetime, standard: str, borough: str, category: str) -> SummaryKey:
    return (month_of(due_at), standard, borough, category)


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole seconds from ``earlier`` to ``later``, computed by the database."""
    if dialect == "sqlite":
        # Instants are stored as UTC text; julianday() parses them to fractional days.
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0)
    return func.round(func.extract("epoch", later - earlier))


def time_to_meet(dialect: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """(seconds to meet, share of the window): the expressions every percentile sorts."""
    ttm = seconds_between(dialect, Obligation.met_at, Obligation.started_at)
    window = seconds_between(dialect, Obligation.due_at, Obligation.started_at)
    return ttm, ttm / window


def as_float(value: Any) -> float | None:
    # PostgreSQL answers with Decimal, SQLite with float: float() takes either.
    return None if value is None else float(value)


def _pack(typecode: str, values: Sequence[float]) -> bytes:
    # Stored little-endian whatever the machine, so a database moves between hosts.
    packed = array(typecode, sorted(values))
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def _unpack(typecode: str, blob: bytes) -> list[Any]:
    packed = array(typecode)
    packed.frombytes(blob)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tolist()


def pack_seconds(values: Sequence[int]) -> bytes:
    return _pack("q", values)


def pack_shares(values: Sequence[float]) -> bytes:
    return _pack("d", values)


def unpack_seconds(blob: bytes) -> list[int]:
    return _unpack("q", blob)


def unpack_shares(blob: bytes) -> list[float]:
    return _unpack("d", blob)


@dataclass
class _Row:
    met: int = 0
    met_late: int = 0
    breached: int = 0
    pending: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: list[int] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)

    def add(self, state: str, reason: str | None, ttm: Any, share: Any) -> None:
        self._count(state, reason, ttm, share, 1)

    def remove(self, state: str, reason: str | None, ttm: Any, share: Any) -> None:
        """Undo :meth:`add` of the same values, in a row whose times are sorted (as stored)."""
        self._count(state, reason, ttm, share, -1)

    def _count(self, state: str, reason: str | None, ttm: Any, share: Any, step: int) -> None:
        if state == ObligationState.MET:
            self.met += step
        elif state == ObligationState.MET_LATE:
            self.met_late += step
        elif state == ObligationState.BREACHED:
            self.breached += step
        elif state == ObligationState.PENDING:
            self.pending += step
        if state in LATE_STATES:
            name = reason or UNEXPLAINED
            count = self.reasons.get(name, 0) + step
            if count < 0:
                raise ValueError(f"summary out of step: no {name!r} breach is recorded")
            if count:
                self.reasons[name] = count
            else:
                del self.reasons[name]
        if state in MET_STATES:
            # NULLs (no met_at, or an empty window) are ignored, as percentile_disc does.
            if ttm is not None:
                _count_value(self.seconds, int(ttm), step)
            share_value = as_float(share)
            if share_value is not None:
                _count_value(self.shares, share_value, step)

    def is_empty(self) -> bool:
        return not (self.met or self.met_late or self.breached or self.pending)

    @classmethod
    def stored(cls, row: ReportMonthSummary) -> _Row:
        return cls(
            met=row.met,
            met_late=row.met_late,
            breached=row.breached,
            pending=row.pending,
            reasons=dict(row.reasons),
            seconds=unpack_seconds(row.hours),
            shares=unpack_shares(row.shares),
        )

    def values(self, key: SummaryKey) -> dict[str, Any]:
        month, standard, borough, category = key
        return {
            "month": month,
            "standard": standard,
            "borough": borough,
            "category": category,
            "met": self.met,
            "met_late": self.met_late,
            "breached": self.breached,
            "pending": self.pending,
            "reasons": dict(sorted(self.reasons.items())),
            "hours": pack_seconds(self.seconds),
            "shares": pack_shares(self.shares),
        }


def _count_value(values: list[T], value: T, step: int) -> None:
    """Add ``value``, or take it out of the sorted ``values`` (it must be there)."""
    if step > 0:
        values.append(value)
        return
    index = bisect_left(values, value)
    if index == len(values) or values[index] != value:
        raise ValueError(f"summary out of step: {value!r} is not recorded")
    del values[index]


def _connection(bind: Connection | Session) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


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
    ).where(Obligation.state != ObligationState.CANCELLED.value, *where)


def _summarise(connection: Connection, *where: ColumnElement[bool]) -> dict[SummaryKey, _Row]:
    rows: dict[SummaryKey, _Row] = {}
    bounds: list[tuple[datetime, datetime, date]] = []  # (lower, upper, month), cached
    for due_at, standard, borough, category, state, reason, ttm, share in connection.execute(
        _source(connection.dialect.name, *where)
    ):
        month = _cached_month(bounds, due_at)
        key = (month, standard, borough, category)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _Row()
        row.add(state, reason, ttm, share)
    return rows


def _cached_month(bounds: list[tuple[datetime, datetime, date]], due_at: datetime) -> date:
    # Converting millions of instants to London time one by one is slow; most rows of a
    # scan share a handful of months, so remember their boundaries.
    for lower, upper, month in bounds:
        if lower <= due_at < upper:
            return month
    month = month_of(due_at)
    bounds.append((local_midnight(month), local_midnight(next_month(month)), month))
    return month


def _insert(connection: Connection, rows: dict[SummaryKey, _Row]) -> None:
    if rows:
        connection.execute(
            insert(ReportMonthSummary), [row.values(key) for key, row in sorted(rows.items())]
        )


def refresh_report_summary(bind: Connection | Session, keys: Iterable[SummaryKey]) -> None:
    """Recompute the summary rows of ``keys`` from the raw obligations, in this transaction."""
    connection = _connection(bind)
    for key in sorted(set(keys)):
        month, standard, borough, category = key
        connection.execute(delete(ReportMonthSummary).where(_key_filter(key)))
        rows = _summarise(
            connection,
            Obligation.standard == standard,
            Obligation.borough == borough,
            Obligation.category == category,
            Obligation.due_at >= local_midnight(month),
            Obligation.due_at < local_midnight(next_month(month)),
        )
        _insert(connection, rows)


# What one obligation adds to the summary: its row's key, state, reason, time to meet
# and share of the window (the last two exactly as the database computes them).
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
    bounds: list[tuple[datetime, datetime, date]] = []
    query = _source(connection.dialect.name, Obligation.id.in_(ids)).add_columns(Obligation.id)
    for due_at, standard, borough, category, state, reason, ttm, share, ident in connection.execute(
        query
    ):
        key = (_cached_month(bounds, due_at), standard, borough, category)
        found[ident] = (key, state, reason, ttm, share)
    return found


def apply_contribution_changes(
    bind: Connection | Session,
    before: dict[int, Contribution],
    after: dict[int, Contribution],
) -> None:
    """Move the summary from what obligations contributed ``before`` to ``after``.

    Each row touched is locked while it is changed (rows in key order, so two writers
    cannot deadlock); a row left with no obligations is deleted, as a rebuild would.
    """
    connection = _connection(bind)
    removed: dict[SummaryKey, list[Contribution]] = {}
    added: dict[SummaryKey, list[Contribution]] = {}
    for ident in before.keys() | after.keys():
        old, new = before.get(ident), after.get(ident)
        if old == new:
            continue
        if old is not None:
            removed.setdefault(old[0], []).append(old)
        if new is not None:
            added.setdefault(new[0], []).append(new)
    for key in sorted(removed.keys() | added.keys()):
        stored = _locked_row(connection, key)
        row = _Row() if stored is None else _Row.stored(stored)
        for _, state, reason, ttm, share in removed.get(key, []):
            row.remove(state, reason, ttm, share)
        for _, state, reason, ttm, share in added.get(key, []):
            row.add(state, reason, ttm, share)
        _store_row(connection, key, row, exists=stored is not None)


def apply_contribution_changes_batched(
    bind: Connection | Session,
    before: dict[int, Contribution],
    after: dict[int, Contribution],
) -> None:
    """:func:`apply_contribution_changes` in a fixed number of statements, however many
    rows the change touches: one read that locks them all (in key order), then one
    delete, one update and one insert at most (on PostgreSQL one insert first, so that
    every row exists to be locked). A case's write runs after almost every step of every
    case, so statements per row are what its cost is made of."""
    connection = _connection(bind)
    removed, added = _contribution_moves(before, after)
    keys = sorted(removed.keys() | added.keys())
    if not keys:
        return
    stored = _locked_rows(connection, keys)
    empty: list[SummaryKey] = []
    changed: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
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
            values = row.values(key)
            parameters = {f"key_{name}": values[name] for name in _KEY_NAMES}
            parameters.update({name: values[name] for name in _VALUE_NAMES})
            changed.append(parameters)
        else:
            new.append(row.values(key))
    table = cast(Table, ReportMonthSummary.__table__)
    if empty:
        connection.execute(delete(table).where(_key_column().in_(empty)))
    if changed:
        connection.execute(
            update(table)
            # SET takes the value columns each parameter set names.
            .where(*(table.c[name] == bindparam(f"key_{name}") for name in _KEY_NAMES)),
            changed,
        )
    if new:
        connection.execute(insert(table), new)


_KEY_NAMES: Final = ("month", "standard", "borough", "category")
_VALUE_NAMES: Final = ("met", "met_late", "breached", "pending", "reasons", "hours", "shares")


def _key_column() -> Any:
    table = ReportMonthSummary
    return tuple_(table.month, table.standard, table.borough, table.category)


def _contribution_moves(
    before: dict[int, Contribution], after: dict[int, Contribution]
) -> tuple[dict[SummaryKey, list[Contribution]], dict[SummaryKey, list[Contribution]]]:
    removed: dict[SummaryKey, list[Contribution]] = {}
    added: dict[SummaryKey, list[Contribution]] = {}
    for ident in before.keys() | after.keys():
        old, new = before.get(ident), after.get(ident)
        if old == new:
            continue
        if old is not None:
            removed.setdefault(old[0], []).append(old)
        if new is not None:
            added.setdefault(new[0], []).append(new)
    return removed, added


def _locked_rows(
    connection: Connection, keys: list[SummaryKey]
) -> dict[SummaryKey, ReportMonthSummary]:
    """The stored rows of these keys, locked until the transaction ends."""
    if connection.dialect.name == "postgresql":
        # As in _locked_row: rows must exist to be locked (SQLite writers already queue).
        connection.execute(
            postgresql_insert(ReportMonthSummary)
            .values([_Row().values(key) for key in keys])
            .on_conflict_do_nothing()
        )
    table = ReportMonthSummary
    found: dict[SummaryKey, ReportMonthSummary] = {}
    for row in connection.execute(
        select(table)
        .where(_key_column().in_(keys))
        .order_by(table.month, table.standard, table.borough, table.category)
        .with_for_update()
    ):
        stored = ReportMonthSummary(**row._mapping)
        found[(stored.month, stored.standard, stored.borough, stored.category)] = stored
    return found


def _key_filter(key: SummaryKey) -> ColumnElement[bool]:
    month, standard, borough, category = key
    table = ReportMonthSummary
    return and_(
        table.month == month,
        table.standard == standard,
        table.borough == borough,
        table.category == category,
    )


def _locked_row(connection: Connection, key: SummaryKey) -> ReportMonthSummary | None:
    if connection.dialect.name == "postgresql":
        # A row must exist to be locked: otherwise two writers could both find none
        # and both insert. (SQLite writers already queue for the database lock.)
        connection.execute(
            postgresql_insert(ReportMonthSummary)
            .values(_Row().values(key))
            .on_conflict_do_nothing()
        )
    found = connection.execute(
        select(ReportMonthSummary).where(_key_filter(key)).with_for_update()
    ).first()
    return None if found is None else ReportMonthSummary(**found._mapping)


def _store_row(connection: Connection, key: SummaryKey, row: _Row, exists: bool) -> None:
    table = ReportMonthSummary
    if row.is_empty():
        if exists:
            connection.execute(delete(table).where(_key_filter(key)))
    elif exists:
        values = row.values(key)
        connection.execute(update(table).where(_key_filter(key)).values(**values))
    else:
        connection.execute(insert(table), [row.values(key)])


def rebuild_report_summary(
    bind: Connection | Session, start: datetime | None = None, end: datetime | None = None
) -> int:
    """Recompute every summary row of the months that overlap [start, end) (default: all).

    Returns the number of summary rows written. Works a month at a time, so memory stays
    bounded by one month of obligations.
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
        rows = _summarise(
            connection,
            and_(
                Obligation.due_at >= local_midnight(month),
                Obligation.due_at < local_midnight(following),
            ),
        )
        _insert(connection, rows)
        written += len(rows)
        month = following
    return written


def select_positions(runs: Sequence[Sequence[T]], positions: Sequence[int]) -> list[T]:
    """The values at 1-based ``positions`` of the sorted union of sorted ``runs``.

    Exact. Rather than merging every run, it sorts a regular sample of them, takes the two
    sample values that should bracket the wanted position, counts exactly (by bisection in
    each run) how many values lie below the bracket, and sorts only the values inside it.
    A bracket that misses is widened until it cannot miss.
    """
    runs = [run for run in runs if run]
    if not runs:
        return []
    if len(runs) == 1:
        return [runs[0][position - 1] for position in positions]
    total = sum(map(len, runs))
    if total <= SMALL:
        merged = sorted(chain.from_iterable(runs))
        return [merged[position - 1] for position in positions]
    step = max(1, isqrt(total // max(1, isqrt(len(runs)))))
    sample = sorted(chain.from_iterable(run[step // 2 :: step] for run in runs))
    return [_select_one(runs, sample, total, position) for position in positions]


def _select_one(runs: list[Sequence[T]], sample: list[T], total: int, position: int) -> T:
    guess = position * len(sample) // total
    # The sample rank errs by about sqrt(runs) / 3.5 places; start at about 3.5 sigma.
    margin = isqrt(len(runs)) + 16
    while True:
        low_index, high_index = guess - margin, guess + margin
        starts = (
            [bisect_left(run, sample[low_index]) for run in runs]
            if 0 <= low_index < len(sample)
            else [0] * len(runs)
        )
        below = sum(starts)
        if below < position:
            ends = (
                [bisect_right(run, sample[high_index]) for run in runs]
                if 0 <= high_index < len(sample)
                else [len(run) for run in runs]
            )
            if sum(ends) >= position:
                inside = sorted(
                    chain.from_iterable(
                        run[begin:end] for run, begin, end in zip(runs, starts, ends, strict=True)
                    )
                )
                return inside[position - below - 1]
        margin *= 4
