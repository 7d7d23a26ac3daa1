"""A summary row's figures, and the helpers every summary reader and writer shares.

Counts per state, breach reasons, and every time to meet as a sorted array packed
little-endian (whole seconds, and share of the window), exactly as the database computes
them; see ``storage.summary`` for how the rows are kept right.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final, TypeVar

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, func

from standards.clock import LONDON
from storage.enums import ObligationState
from storage.models import Obligation

UNEXPLAINED: Final = "unexplained"
MET_STATES: Final = (ObligationState.MET.value, ObligationState.MET_LATE.value)
LATE_STATES: Final = (ObligationState.BREACHED.value, ObligationState.MET_LATE.value)
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


def seconds_array(blob: bytes) -> NDArray[np.int64]:
    """The packed seconds as an array over the stored bytes (no copy, no list)."""
    return np.frombuffer(blob, dtype="<i8")


def shares_array(blob: bytes) -> NDArray[np.float64]:
    return np.frombuffer(blob, dtype="<f8")


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

    def merge(self, other: _Row) -> None:
        """Add every obligation of ``other`` (the times are left unsorted)."""
        self.met += other.met
        self.met_late += other.met_late
        self.breached += other.breached
        self.pending += other.pending
        for name, count in other.reasons.items():
            self.reasons[name] = self.reasons.get(name, 0) + count
        self.seconds += other.seconds
        self.shares += other.shares

    @classmethod
    def stored(cls, row: Any) -> _Row:
        """The row as read back from either summary table (its times come back sorted)."""
        return cls(
            met=row.met,
            met_late=row.met_late,
            breached=row.breached,
            pending=row.pending,
            reasons=dict(row.reasons),
            seconds=unpack_seconds(row.hours),
            shares=unpack_shares(row.shares),
        )

    def values(self, key: SummaryKey, column: str = "month") -> dict[str, Any]:
        """The stored columns; ``column`` names the period column ("month" or "day")."""
        period, standard, borough, category = key
        return {
            column: period,
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
