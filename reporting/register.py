"""The breach register, read from recorded history (the per-case timeline is
storage.timeline's: the staff case page reads it too).

The register is paged by keyset, never by sorting every breach of the period: its order
is (band, due_at, id), band 0 being the breaches needing an explanation whose deadline is
over 48 hours before the as-of instant. Each (band, state) is read as its own query in
due_at order, which the index on (state, due_at, id) (migration 0021) and, for one
borough, the queue's index on (borough, state, due_at) serve without a sort; the few rows
each answers are merged here. A page of 50 therefore reads about 50 rows per query
however many breaches the period holds.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, and_, not_, select
from sqlalchemy.orm import Session

from reporting.list_position import SEPARATOR, ListPosition, PositionError
from storage.deadline_order import after_in_deadline_order
from storage.enums import ObligationState
from storage.models import Case, Obligation
from storage.read_rules import needs_explanation
from storage.timeline import as_connection

# An unexplained breach older than this is the VFU's first job, so it heads the register.
STALE_AFTER: Final = timedelta(hours=48)
LATE_STATES: Final = (ObligationState.BREACHED.value, ObligationState.MET_LATE.value)


@dataclass(frozen=True, order=True)
class RegisterCursor:
    """Where a page of the register ends: the last entry's band and its position in
    deadline order, written `band~due_at~id`."""

    band: int
    position: ListPosition

    def text(self) -> str:
        return f"{self.band}{SEPARATOR}{self.position.text()}"

    @classmethod
    def parse(cls, raw: str) -> RegisterCursor:
        band, _, rest = raw.strip().partition(SEPARATOR)
        if band not in ("0", "1"):
            raise PositionError("the register position is not one this page wrote")
        return cls(int(band), ListPosition.parse(rest))


@dataclass(frozen=True)
class BreachEntry:
    reference: str
    borough: str
    standard: str
    key: str
    state: str
    due_at: datetime
    late_by: timedelta
    explained: bool
    reason: str | None
    stale_unexplained: bool
    case_id: int = 0
    cursor: RegisterCursor | None = None


@dataclass(frozen=True)
class RegisterPage:
    entries: list[BreachEntry]
    # Where the next page starts, or None when this is the last.
    next_cursor: RegisterCursor | None


def breach_register(
    bind: Connection | Session,
    *,
    borough: str | None = None,
    limit: int | None = None,
    as_of: datetime | None = None,
    standard: str | None = None,
    due_from: datetime | None = None,
    due_before: datetime | None = None,
) -> list[BreachEntry]:
    """Breached and met-late obligations; breaches needing an explanation
    (standards.read_rules.needs_explanation) older than 48 hours first.

    Only deadlines at or before as_of (default now) are listed, so a history that runs
    past today can be read as it stood at an earlier instant. How late: met_at - due_at
    when met late by as_of, as_of - due_at while still unmet then. Within each band the
    longest-overdue come first. ``standard`` and [``due_from``, ``due_before``) narrow it
    to one standard's deadlines, and to a report's period.
    """
    return register_page(
        bind,
        borough=borough,
        limit=limit,
        as_of=as_of,
        standard=standard,
        due_from=due_from,
        due_before=due_before,
    ).entries


def register_page(
    bind: Connection | Session,
    *,
    borough: str | None = None,
    limit: int | None = None,
    as_of: datetime | None = None,
    standard: str | None = None,
    due_from: datetime | None = None,
    due_before: datetime | None = None,
    after: RegisterCursor | None = None,
) -> RegisterPage:
    """One page of the register (:func:`breach_register`'s order): up to ``limit``
    entries after ``after`` (from the start when None), and where the next page starts."""
    now = (as_of or datetime.now(UTC)).astimezone(UTC)
    stale_before = now - STALE_AFTER
    stale = and_(needs_explanation(), Obligation.due_at <= stale_before)
    filters: list[ColumnElement[bool]] = [Obligation.due_at <= now]
    if borough:
        filters.append(Obligation.borough == borough)
    if standard:
        filters.append(Obligation.standard == standard)
    if due_from is not None:
        filters.append(Obligation.due_at >= due_from)
    if due_before is not None:
        filters.append(Obligation.due_at < due_before)
    wanted = None if limit is None else limit + 1
    connection = as_connection(bind)
    runs = []
    for band, in_band in ((0, stale), (1, not_(stale))):
        if after is not None and band < after.band:
            continue
        for state in LATE_STATES:
            conditions = [Obligation.state == state, in_band, *filters]
            if after is not None and band == after.band:
                position = after.position
                conditions.append(after_in_deadline_order(position.due_at, position.obligation_id))
            runs.append(_entries(connection, band, conditions, wanted, now, stale_before))
    merged = [entry for _cursor, entry in heapq.merge(*runs, key=lambda pair: pair[0])]
    if limit is None or len(merged) <= limit:
        return RegisterPage(merged, None)
    shown = merged[:limit]
    return RegisterPage(shown, shown[-1].cursor)


def _entries(
    connection: Connection,
    band: int,
    conditions: list[ColumnElement[bool]],
    limit: int | None,
    now: datetime,
    stale_before: datetime,
) -> list[tuple[RegisterCursor, BreachEntry]]:
    query: Any = (
        select(
            Case.reference,
            Obligation.id,
            Obligation.case_id,
            Obligation.borough,
            Obligation.standard,
            Obligation.key,
            Obligation.state,
            Obligation.due_at,
            Obligation.met_at,
            Obligation.explanation_reason,
            needs_explanation().label("unexplained"),
        )
        .join(Case, Case.id == Obligation.case_id)
        .where(*conditions)
        .order_by(Obligation.due_at, Obligation.id)
    )
    if limit is not None:
        query = query.limit(limit)
    entries = []
    for row in connection.execute(query):
        end = row.met_at if row.met_at is not None and row.met_at <= now else now
        cursor = RegisterCursor(band, ListPosition(row.due_at, row.id))
        entries.append(
            (
                cursor,
                BreachEntry(
                    reference=row.reference,
                    borough=row.borough,
                    standard=row.standard,
                    key=row.key,
                    state=row.state,
                    due_at=row.due_at,
                    late_by=end - row.due_at,
                    explained=row.explanation_reason is not None,
                    reason=row.explanation_reason,
                    stale_unexplained=bool(row.unexplained) and row.due_at <= stale_before,
                    case_id=row.case_id,
                    cursor=cursor,
                ),
            )
        )
    return entries
