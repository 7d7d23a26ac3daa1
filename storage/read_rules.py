"""The read-side rules of standards.read_rules, compiled to SQL over the obligations table.

Each function here is the SQL twin of the predicate of the same name there, comparison
for comparison (`<=` where it says `<=`), so a row the database selects is one the book
would say the same of. Plain column comparisons: SQLite and PostgreSQL read them alike,
and the indexes on (borough, state, due_at) and due_at still serve them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, false, literal, or_

from standards.read_rules import OPEN_STATES
from standards.vocabulary import ObligationState
from standards.worklist import BREACHED, HIGH_RISK_CATEGORIES, SAVABLE
from storage.models import Case, Obligation


def is_open() -> ColumnElement[bool]:
    """standards.read_rules.is_open: neither met nor cancelled."""
    return Obligation.state.in_([state.value for state in OPEN_STATES])


def is_overdue(now: datetime) -> ColumnElement[bool]:
    """standards.read_rules.is_overdue: open, deadline at or before `now`."""
    return and_(is_open(), Obligation.due_at <= now)


def is_due_soon(now: datetime) -> ColumnElement[bool]:
    """standards.read_rules.is_due_soon: pending, warning point reached, deadline not."""
    return and_(
        Obligation.state == ObligationState.PENDING.value,
        Obligation.warn_at <= now,
        Obligation.due_at > now,
    )


def needs_explanation() -> ColumnElement[bool]:
    """standards.read_rules.needs_explanation: breached at some point, not explained."""
    return and_(Obligation.breached_at.is_not(None), Obligation.explained_at.is_(None))


def is_savable(now: datetime) -> ColumnElement[bool]:
    """standards.worklist.is_savable: pending and not overdue."""
    return and_(Obligation.state == ObligationState.PENDING.value, Obligation.due_at > now)


def is_due_today(now: datetime, end_of_day: datetime) -> ColumnElement[bool]:
    """standards.worklist.is_due_today: due soon, due before `end_of_day`
    (standards.worklist.end_of_london_day of `now`)."""
    return and_(is_due_soon(now), Obligation.due_at < end_of_day)


def risk_rank(enhanced_categories: Sequence[str]) -> ColumnElement[int]:
    """standards.worklist.risk_rank of the obligation's case (joined), 0 to 7."""
    vulnerable = Case.vulnerable.is_(True)
    enhanced = or_(vulnerable, Obligation.category.in_(list(enhanced_categories) or [""]))
    high_risk = Obligation.category.in_(list(HIGH_RISK_CATEGORIES) or [""])
    return (
        case((vulnerable, literal(0)), else_=literal(4))
        + case((enhanced, literal(0)), else_=literal(2))
        + case((high_risk, literal(0)), else_=literal(1))
    )


def worklist_group(now: datetime) -> ColumnElement[int]:
    """standards.worklist's group: SAVABLE (0) or BREACHED (1)."""
    return case((is_savable(now), literal(SAVABLE)), else_=literal(BREACHED))


def is_not_cancelled() -> ColumnElement[bool]:
    """The part of standards.read_rules.is_counted_in_period that is not the period: not
    cancelled. The report summaries (storage.summary) keep every obligation it admits."""
    return Obligation.state != ObligationState.CANCELLED.value


def is_counted_in_periods(
    periods: Sequence[tuple[datetime, datetime]], as_of: datetime
) -> ColumnElement[bool]:
    """standards.read_rules.is_counted_in_period over any of the half-open `periods`
    (the report reads a period in pieces): due in one, not after `as_of`, not cancelled."""
    within = [and_(Obligation.due_at >= start, Obligation.due_at < end) for start, end in periods]
    return and_(
        or_(*within) if within else false(),
        Obligation.due_at <= as_of,
        is_not_cancelled(),
    )


__all__ = [
    "is_counted_in_periods",
    "is_due_soon",
    "is_due_today",
    "is_not_cancelled",
    "is_open",
    "is_overdue",
    "is_savable",
    "needs_explanation",
    "risk_rank",
    "worklist_group",
]
