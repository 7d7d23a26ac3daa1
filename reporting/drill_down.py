"""The obligations behind a dashboard figure, a page at a time.

Every figure on the dashboard (a standard's, a borough's, a grid cell's, a state's count)
is a count of obligations counted in the period by standards.read_rules.is_counted_in_period
(storage.read_rules compiles it), narrowed by borough, standard and state. This lists
those same obligations, earliest deadline first, paged by keyset on (due_at, id): a page
reads the rows it shows from an index in deadline order (migration 0021 for one state
force-wide, the queue's index for one borough), never counting or sorting the rest. How
many there are in all is the report's own figure, read from its summaries, so the list's
total is the number that was clicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, select
from sqlalchemy.orm import Session

from reporting.compliance import FIGURE_OF_STATE, GroupFigures, compliance_report
from reporting.list_position import ListPosition
from storage.deadline_order import after_in_deadline_order
from storage.models import Case, Obligation
from storage.read_rules import is_counted_in_periods
from storage.timeline import as_connection

PAGE_SIZE: Final = 50


@dataclass(frozen=True)
class Filters:
    """What a figure counted: its period, as-of instant, and any borough, standard, state."""

    start: datetime
    end: datetime
    as_of: datetime
    borough: str | None = None
    standard: str | None = None
    # An obligation state (see reporting.compliance.FIGURE_OF_STATE), or None for all due.
    state: str | None = None


@dataclass(frozen=True)
class ListedObligation:
    reference: str
    case_id: int
    borough: str
    standard: str
    key: str
    state: str
    due_at: datetime
    met_at: datetime | None
    reason: str | None
    position: ListPosition


@dataclass(frozen=True)
class ObligationPage:
    rows: list[ListedObligation]
    # The report's count of what the filters select (the figure that was clicked).
    total: int
    next_position: ListPosition | None


def figure_count(figures: GroupFigures, state: str | None) -> int:
    """How many of a report's obligations are in ``state`` (all due when None)."""
    if state is None:
        return figures.due
    count: int = getattr(figures, FIGURE_OF_STATE[state])
    return count


def obligation_page(
    bind: Connection | Session,
    filters: Filters,
    after: ListPosition | None = None,
    limit: int = PAGE_SIZE,
) -> ObligationPage:
    """Up to ``limit`` obligations the filters select, after ``after``, and their total."""
    connection = as_connection(bind)
    conditions: list[ColumnElement[bool]] = [
        is_counted_in_periods([(filters.start, filters.end)], filters.as_of)
    ]
    if filters.borough is not None:
        conditions.append(Obligation.borough == filters.borough)
    if filters.standard is not None:
        conditions.append(Obligation.standard == filters.standard)
    if filters.state is not None:
        conditions.append(Obligation.state == filters.state)
    if after is not None:
        conditions.append(after_in_deadline_order(after.due_at, after.obligation_id))
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
        )
        .join(Case, Case.id == Obligation.case_id)
        .where(*conditions)
        .order_by(Obligation.due_at, Obligation.id)
        .limit(limit + 1)
    )
    rows = [
        ListedObligation(
            reference=row.reference,
            case_id=row.case_id,
            borough=row.borough,
            standard=row.standard,
            key=row.key,
            state=row.state,
            due_at=row.due_at,
            met_at=row.met_at,
            reason=row.explanation_reason,
            position=ListPosition(row.due_at, row.id),
        )
        for row in connection.execute(query)
    ]
    report = compliance_report(
        connection,
        filters.start,
        filters.end,
        (),
        filters.as_of,
        percentiles=False,
        borough=filters.borough,
        standard=filters.standard,
    )
    shown = rows[:limit]
    following = shown[-1].position if len(rows) > limit else None
    return ObligationPage(shown, figure_count(report.total, filters.state), following)
