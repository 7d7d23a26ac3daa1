"""The VFU worklist's conditions and counts: which rows are on it, of which kind, and
how many, each condition on one state so the planner estimates it from its own
statistics and an index answers it (migration 0020)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from service.queue_model import QueueCounts, QueueFilters, QueueState
from standards.case_state import CaseStatus
from standards.obligations import AlertKind
from standards.vocabulary import ObligationState, RecipientRole
from standards.worklist import end_of_london_day
from storage import models
from storage import read_rules as rules

# How many officers the officer filter offers (the distinct officers of the list).
OFFICER_OPTIONS_LIMIT: Final = 200


def pending_overdue(now: datetime) -> ColumnElement[bool]:
    """Past its deadline, its breach not recorded yet (the clock records it at once)."""
    return and_(
        models.Obligation.state == ObligationState.PENDING.value,
        models.Obligation.due_at <= now,
    )


def breached_unexplained(now: datetime) -> ColumnElement[bool]:
    """Breached and unexplained (an explained breach waits for its meeting elsewhere)."""
    return and_(
        models.Obligation.state == ObligationState.BREACHED.value,
        models.Obligation.due_at <= now,
        rules.needs_explanation(),
    )


# The breached kind of row, in two branches of one state each: each is read in the order
# of ix_obligations_worklist and estimated from its own statistics (one condition naming
# two states made PostgreSQL guess the open rows wrong).
OVERDUE_BRANCHES: Final = (pending_overdue, breached_unexplained)


def overdue_unanswered(now: datetime) -> ColumnElement[bool]:
    return or_(*(branch(now) for branch in OVERDUE_BRANCHES))


def row_kind(state: QueueState, now: datetime) -> ColumnElement[bool]:
    if state == QueueState.OVERDUE:
        return overdue_unanswered(now)
    if state == QueueState.DUE_TODAY:
        return rules.is_due_today(now, end_of_london_day(now))
    return rules.is_due_soon(now)


def on_worklist(now: datetime) -> ColumnElement[bool]:
    return or_(rules.is_due_soon(now), overdue_unanswered(now))


def demo_history_present(session: Session) -> bool:
    """Whether any case is read-only demo history (`pledge demo-data --history` writes it,
    never a live force). An index lookup: the list asks before it reads."""
    found = session.scalar(
        select(models.Case.id).where(models.Case.demo_history.is_(True)).limit(1)
    )
    return found is not None


def narrowed(
    boroughs: list[str] | None,
    filters: QueueFilters,
    officer_joined: bool,
    leave_out_demo: bool = True,
) -> list[ColumnElement[bool]]:
    """The borough and the filters other than the state, as conditions; and, where there
    is demo history (`leave_out_demo`), not its cases."""
    conditions: list[ColumnElement[bool]] = []
    if leave_out_demo:
        # Demo history has no workflow to take an event: nothing there can be cleared. The
        # condition is left out where there is none (a force's own database): it names
        # the case, which the worklist's indexes do not lead with, and it led SQLite to
        # other indexes (one borough's page 80 ms -> 470 ms, by time left 0.15 -> 2.9 s
        # at 900,000 cases; bench/vfu_queue.py).
        conditions.append(
            models.Obligation.case_id.not_in(
                select(models.Case.id).where(models.Case.demo_history.is_(True))
            )
        )
    if boroughs is not None:
        conditions.append(models.Obligation.borough.in_(boroughs or [""]))
    if filters.standard is not None:
        conditions.append(models.Obligation.standard == filters.standard)
    if filters.officer is not None and officer_joined:
        conditions.append(models.Case.officer_name == filters.officer)
    return conditions


def count_rows(
    session: Session,
    kind: ColumnElement[bool],
    boroughs: list[str] | None,
    filters: QueueFilters,
    leave_out_demo: bool = True,
) -> int:
    statement = select(func.count()).select_from(models.Obligation)
    if filters.officer is not None:
        statement = statement.join(models.Case, models.Case.id == models.Obligation.case_id)
    statement = statement.where(kind, *narrowed(boroughs, filters, True, leave_out_demo))
    return session.scalar(statement) or 0


def victim_requests(session: Session, boroughs: list[str] | None) -> int:
    """ "Requests from victims": the open requests for an update the victims made from
    their page (the alerts page's kind), in the boroughs. The one place that says what the
    count is."""
    statement = (
        select(func.count())
        .select_from(models.Alert)
        .where(
            models.Alert.kind == AlertKind.UPDATE_REQUESTED.value,
            models.Alert.recipient_role == RecipientRole.VFU.value,
            models.Alert.acknowledged_at.is_(None),
        )
    )
    if boroughs is not None:
        statement = statement.where(models.Alert.borough.in_(boroughs or [""]))
    return session.scalar(statement) or 0


def count_overdue(
    session: Session,
    boroughs: list[str] | None,
    filters: QueueFilters,
    now: datetime,
    leave_out_demo: bool = True,
) -> int:
    return sum(
        count_rows(session, branch(now), boroughs, filters, leave_out_demo)
        for branch in OVERDUE_BRANCHES
    )


def read_counts(
    session: Session, boroughs: list[str] | None, now: datetime, leave_out_demo: bool = True
) -> QueueCounts:
    everything = QueueFilters()
    today = row_kind(QueueState.DUE_TODAY, now)
    return QueueCounts(
        breached=count_overdue(session, boroughs, everything, now, leave_out_demo),
        due_today=count_rows(session, today, boroughs, everything, leave_out_demo),
        due_soon=count_rows(session, rules.is_due_soon(now), boroughs, everything, leave_out_demo),
        victim_requests=victim_requests(session, boroughs),
    )


def officers_of(
    session: Session, boroughs: list[str] | None, leave_out_demo: bool = True
) -> list[str]:
    """The officers of the boroughs' open cases (for the officer filter), by name."""
    statement = select(models.Case.officer_name).where(
        models.Case.status == CaseStatus.OPEN.value,
        models.Case.officer_name.is_not(None),
    )
    if leave_out_demo:
        statement = statement.where(models.Case.demo_history.is_(False))
    if boroughs is not None:
        statement = statement.where(models.Case.borough.in_(boroughs or [""]))
    statement = statement.distinct().order_by(models.Case.officer_name)
    return [name for name in session.scalars(statement.limit(OFFICER_OPTIONS_LIMIT)) if name]
