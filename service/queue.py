"""The VFU queue: a borough's obligations that need someone now, most urgent first.

Read from the obligations the case workflows record in the database, not from Temporal
visibility. The page is reloaded every minute by every VFU, so its source must be:
- per obligation (visibility holds one row per case: a breached count and the next
  deadline, not which standard is late or what would meet it);
- current the moment an event is accepted (a case's `post_event` update returns only
  after its changes are recorded, whereas visibility catches up a second or so later,
  and a row that stays after "Contact recorded" would be recorded twice);
- cheap and bounded (one indexed query with a LIMIT on our own database, instead of a
  list-workflows scan on the Temporal cluster every case depends on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import CTE, ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from standards.policy import Policy, StandardRule
from standards.read_rules import is_overdue, needs_explanation
from storage import models
from storage import read_rules as rules
from storage.enums import ObligationState

# The most rows one page shows; the rest are reached by narrowing the filters.
QUEUE_LIMIT: Final = 100
# How many officers the officer filter offers (the distinct officers of the queue).
OFFICER_OPTIONS_LIMIT: Final = 200


class QueueState(StrEnum):
    """Which of the queue's two kinds of row to show."""

    # Past its deadline and not met: pending the breach, or breached and unexplained.
    OVERDUE = "overdue"
    # Pending, before its deadline, past its warning point.
    DUE_SOON = "due_soon"


QUEUE_STATE_LABELS: Final = {QueueState.OVERDUE: "Overdue", QueueState.DUE_SOON: "Due soon"}


@dataclass(frozen=True)
class QueueFilters:
    """What the VFU narrowed the queue to; None shows everything."""

    standard: str | None = None
    state: QueueState | None = None
    officer: str | None = None


@dataclass(frozen=True)
class QueueRow:
    """One obligation in the queue. No victim details: the list may be on a shared screen."""

    obligation_id: int
    reference: str
    category: str
    borough: str
    standard: str
    key: str
    state: ObligationState
    due_at: datetime
    # Negative once the deadline has passed.
    time_left: timedelta
    # standards.read_rules.is_overdue as of the page's instant (due exactly now: overdue).
    overdue: bool
    # standards.read_rules.needs_explanation: an explanation is accepted.
    explainable: bool
    officer_name: str | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    # More rows matched than the page shows (QUEUE_LIMIT).
    truncated: bool
    now: datetime


def _needs_someone(now: datetime) -> ColumnElement[bool]:
    """Open obligations a VFU should act on: due soon, overdue and not yet breached, or
    breached and unexplained (an explained breach waits for its meeting elsewhere)."""
    return or_(
        rules.is_due_soon(now),
        and_(models.Obligation.state == ObligationState.PENDING, rules.is_overdue(now)),
        and_(rules.is_open(), rules.needs_explanation()),
    )


def _in_state(state: QueueState, now: datetime) -> ColumnElement[bool]:
    if state == QueueState.DUE_SOON:
        return rules.is_due_soon(now)
    return rules.is_overdue(now)


def _open_in(boroughs: list[str]) -> CTE:
    """The ids of the boroughs' open obligations, read first by ix_obligations_queue.

    Materialized on purpose: left to itself, PostgreSQL walks the due_at index from the
    oldest obligation, expecting open ones all along, when they are only the newest
    few among years of met ones (bench/vfu_queue.py: a second per page, not ms).
    """
    return (
        select(models.Obligation.id)
        .where(models.Obligation.borough.in_(boroughs), rules.is_open())
        .cte("open_obligations")
        .prefix_with("MATERIALIZED")
    )


def _scoped(
    statement: Select[models.Obligation, str, str | None],
    boroughs: list[str] | None,
    filters: QueueFilters,
    now: datetime,
) -> Select[models.Obligation, str, str | None]:
    Obligation = models.Obligation
    statement = statement.where(
        rules.is_open(),
        _needs_someone(now),
        # Demo history has no workflow to take an event: nothing there can be cleared.
        models.Case.demo_history.is_(False),
    )
    if boroughs is not None:
        open_ids = _open_in(boroughs)
        statement = statement.join(open_ids, open_ids.c.id == Obligation.id)
    if filters.standard is not None:
        statement = statement.where(Obligation.standard == filters.standard)
    if filters.state is not None:
        statement = statement.where(_in_state(filters.state, now))
    if filters.officer is not None:
        statement = statement.where(models.Case.officer_name == filters.officer)
    return statement


def queue_statement(
    boroughs: list[str] | None, filters: QueueFilters, now: datetime, limit: int
) -> Select[models.Obligation, str, str | None]:
    """The queue's one query: `limit` rows and one more (to tell a longer queue)."""
    Obligation = models.Obligation
    statement: Select[models.Obligation, str, str | None] = select(
        Obligation, models.Case.reference, models.Case.officer_name
    ).join(models.Case, models.Case.id == Obligation.case_id)
    return (
        _scoped(statement, boroughs, filters, now)
        .order_by(Obligation.due_at, Obligation.id)
        .limit(limit + 1)
    )


def read_queue(
    sessions: sessionmaker[Session],
    boroughs: list[str] | None,
    filters: QueueFilters,
    now: datetime,
    limit: int = QUEUE_LIMIT,
) -> QueuePage:
    """The obligations needing someone in `boroughs` (the stored spellings of the units the
    reader may see; None: every unit), earliest deadline first, at most `limit` of them."""
    statement = queue_statement(boroughs, filters, now, limit)
    with sessions() as session:
        found = [
            (row, reference, officer) for row, reference, officer in session.execute(statement)
        ]
    rows = [
        QueueRow(
            obligation_id=row.id,
            reference=reference,
            category=row.category,
            borough=row.borough,
            standard=row.standard,
            key=row.key,
            state=ObligationState(row.state),
            due_at=row.due_at,
            time_left=row.due_at - now,
            overdue=is_overdue(row, now),
            explainable=needs_explanation(row),
            officer_name=officer,
        )
        for row, reference, officer in found[:limit]
    ]
    return QueuePage(rows=rows, truncated=len(found) > limit, now=now)


def queue_officers(
    sessions: sessionmaker[Session], boroughs: list[str] | None, now: datetime
) -> list[str]:
    """The officers dealing with cases in the queue (for the officer filter), by name."""
    statement = (
        select(models.Case.officer_name)
        .join(models.Obligation, models.Obligation.case_id == models.Case.id)
        .where(
            models.Case.officer_name.is_not(None),
            rules.is_open(),
            _needs_someone(now),
            models.Case.demo_history.is_(False),
        )
        .distinct()
        .order_by(models.Case.officer_name)
        .limit(OFFICER_OPTIONS_LIMIT)
    )
    if boroughs is not None:
        open_ids = _open_in(boroughs)
        statement = statement.join(open_ids, open_ids.c.id == models.Obligation.id)
    with sessions() as session:
        return [name for name in session.scalars(statement) if name]


# What each `met_by` token of a policy means, for the people who have to meet it.
_MEANING: Final = {
    "contact": "a recorded contact with the victim about this",
    "any_contact": "any recorded contact with the victim",
    "review": "a supervisor's review",
    "update_delivered": "an update given to the victim outside the monitor",
}


def met_by_text(token: str) -> str:
    """One `met_by` token in words: "the arrest message, once delivered"."""
    if token in _MEANING:
        return _MEANING[token]
    name, _, reason = token.removeprefix("message:").partition("+")
    words = name.replace("_", " ")
    return f"the {words} message{' with a reason' if reason else ''}, once delivered"


def what_meets(rule: StandardRule) -> list[str]:
    """Everything that would meet an obligation of this standard, in words."""
    return [met_by_text(token) for token in rule.met_by]


def met_by_contact(rule: StandardRule) -> bool:
    """Whether recording a contact naming this standard meets it."""
    return rule.met_by_token("contact") or rule.met_by_token("any_contact")


def standard_rule(policy: Policy, standard: str) -> StandardRule | None:
    """The policy's rule for a stored standard; None for one the policy no longer has."""
    return policy.standard(standard) if policy.has_standard(standard) else None


def duration_text(span: timedelta) -> str:
    """A span to the minute in the largest two units: "2 days 3 hours", "45 minutes"."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(shown[:2]) or "less than a minute"


def urgency_text(time_left: timedelta) -> str:
    """How late, or the time left: "3 hours 5 minutes late", "due in 40 minutes"."""
    if time_left <= timedelta(0):
        return f"{duration_text(time_left)} late"
    return f"due in {duration_text(time_left)}"


__all__ = [
    "OFFICER_OPTIONS_LIMIT",
    "QUEUE_LIMIT",
    "QUEUE_STATE_LABELS",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "QueueState",
    "duration_text",
    "met_by_contact",
    "met_by_text",
    "queue_officers",
    "queue_statement",
    "read_queue",
    "standard_rule",
    "urgency_text",
    "what_meets",
]
