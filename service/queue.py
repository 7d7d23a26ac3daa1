"""The VFU worklist: a borough's obligations that need someone now, what can still be
saved first (standards.worklist), a page at a time, with the counts at the top.

Read from the obligations the case workflows record in the database, not from Temporal
visibility. The page is reloaded every minute by every VFU, so its source must be:
- per obligation (visibility holds one row per case: a breached count and the next
  deadline, not which standard is late or what would meet it);
- current the moment an event is accepted (a case's `post_event` update returns only
  after its changes are recorded, whereas visibility catches up a second or so later,
  and a row that stays after "Contact recorded" would be recorded twice);
- cheap and bounded: the two kinds of row (savable, breached) are each read in the
  order of an index (deadline first, later deadline first), a page at a time, and counted
  by conditions on one state each, so neither the history of met obligations nor the
  length of the list makes a page slower to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from service.queue_text import (
    duration_text,
    met_by_contact,
    met_by_text,
    standard_rule,
    urgency_text,
    what_meets,
)
from standards.case_state import CaseStatus
from standards.obligations import AlertKind
from standards.read_rules import is_overdue, needs_explanation
from standards.vocabulary import ObligationState, RecipientRole
from standards.worklist import end_of_london_day, risk_of, risk_rank
from storage import models
from storage import read_rules as rules

# Rows a page shows.
PER_PAGE: Final = 50
# How many officers the officer filter offers (the distinct officers of the list).
OFFICER_OPTIONS_LIMIT: Final = 200
# The index the savable and breached rows are read in the order of (migration 0020).
WORKLIST_INDEX: Final = "ix_obligations_worklist"


class QueueState(StrEnum):
    """Which kind of row to show."""

    # Past its deadline and not met: pending the breach, or breached and unexplained.
    OVERDUE = "overdue"
    # Pending, before its deadline, past its warning point.
    DUE_SOON = "due_soon"
    # Due soon, and due before midnight in London.
    DUE_TODAY = "due_today"


QUEUE_STATE_LABELS: Final = {
    QueueState.OVERDUE: "Overdue",
    QueueState.DUE_SOON: "Due soon",
    QueueState.DUE_TODAY: "Due today",
}


class QueueSort(StrEnum):
    """The column the list is sorted by; PRIORITY is standards.worklist's order."""

    PRIORITY = "priority"
    TIME_LEFT = "time_left"
    REFERENCE = "reference"
    STANDARD = "standard"
    CATEGORY = "category"
    VULNERABLE = "vulnerable"
    OFFICER = "officer"
    CHANNEL = "channel"


@dataclass(frozen=True)
class QueueFilters:
    """What the VFU narrowed the list to; None shows everything."""

    standard: str | None = None
    state: QueueState | None = None
    officer: str | None = None


@dataclass(frozen=True)
class QueueQuery:
    """One page of the list: whose boroughs (the stored spellings of the units the reader
    may see and chose; None: every unit), the filters, the order and the page."""

    boroughs: list[str] | None
    filters: QueueFilters = field(default_factory=QueueFilters)
    sort: QueueSort = QueueSort.PRIORITY
    descending: bool = False
    page: int = 1
    per_page: int = PER_PAGE
    # The policy's enhanced-rights categories (Policy.enhanced_rights), for the order.
    enhanced_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueCounts:
    """The counts at the top of the list, over the boroughs whatever the other filters."""

    breached: int
    due_today: int
    due_soon: int
    victim_requests: int


@dataclass(frozen=True)
class QueueRow:
    """One obligation in the list. No victim details: the list may be on a shared screen."""

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
    vulnerable: bool
    enhanced: bool
    # The victim's preferred channel (None: no victim recorded).
    channel: str | None
    do_not_contact: bool


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    # Rows matching the filters, on every page.
    total: int
    page: int
    pages: int
    per_page: int
    counts: QueueCounts
    # The officers the filter offers: those of the boroughs' open cases (none force-wide).
    officers: list[str]
    now: datetime

    @property
    def first(self) -> int:
        """The position of the page's first row (1-based; 0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


def _pending_overdue(now: datetime) -> ColumnElement[bool]:
    """Past its deadline, its breach not recorded yet (the clock records it at once)."""
    return and_(
        models.Obligation.state == ObligationState.PENDING.value,
        models.Obligation.due_at <= now,
    )


def _breached_unexplained(now: datetime) -> ColumnElement[bool]:
    """Breached and unexplained (an explained breach waits for its meeting elsewhere)."""
    return and_(
        models.Obligation.state == ObligationState.BREACHED.value,
        models.Obligation.due_at <= now,
        rules.needs_explanation(),
    )


# The breached kind of row, in two branches of one state each: each is read in the order
# of ix_obligations_worklist and estimated from its own statistics (one condition naming
# two states made PostgreSQL guess the open rows wrong).
OVERDUE_BRANCHES: Final = (_pending_overdue, _breached_unexplained)


def _overdue_unanswered(now: datetime) -> ColumnElement[bool]:
    return or_(*(branch(now) for branch in OVERDUE_BRANCHES))


def _kind(state: QueueState, now: datetime) -> ColumnElement[bool]:
    if state == QueueState.OVERDUE:
        return _overdue_unanswered(now)
    if state == QueueState.DUE_TODAY:
        return rules.is_due_today(now, end_of_london_day(now))
    return rules.is_due_soon(now)


def _on_worklist(now: datetime) -> ColumnElement[bool]:
    return or_(rules.is_due_soon(now), _overdue_unanswered(now))


def _narrowed(
    boroughs: list[str] | None, filters: QueueFilters, officer_joined: bool
) -> list[ColumnElement[bool]]:
    """The borough and the filters other than the state, as conditions."""
    conditions: list[ColumnElement[bool]] = []
    if boroughs is not None:
        conditions.append(models.Obligation.borough.in_(boroughs or [""]))
    if filters.standard is not None:
        conditions.append(models.Obligation.standard == filters.standard)
    if filters.officer is not None and officer_joined:
        conditions.append(models.Case.officer_name == filters.officer)
    return conditions


def _count(
    session: Session, kind: ColumnElement[bool], boroughs: list[str] | None, filters: QueueFilters
) -> int:
    statement = select(func.count()).select_from(models.Obligation)
    if filters.officer is not None:
        statement = statement.join(models.Case, models.Case.id == models.Obligation.case_id)
    statement = statement.where(kind, *_narrowed(boroughs, filters, True))
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


def _count_overdue(
    session: Session, boroughs: list[str] | None, filters: QueueFilters, now: datetime
) -> int:
    return sum(_count(session, branch(now), boroughs, filters) for branch in OVERDUE_BRANCHES)


def read_counts(session: Session, boroughs: list[str] | None, now: datetime) -> QueueCounts:
    everything = QueueFilters()
    return QueueCounts(
        breached=_count_overdue(session, boroughs, everything, now),
        due_today=_count(session, _kind(QueueState.DUE_TODAY, now), boroughs, everything),
        due_soon=_count(session, rules.is_due_soon(now), boroughs, everything),
        victim_requests=victim_requests(session, boroughs),
    )


Columns = tuple[models.Obligation, str, str | None, bool, str | None, bool | None]


def _rows_statement(
    query: QueueQuery, kind: ColumnElement[bool]
) -> Select[models.Obligation, str, str | None, bool, str | None, bool | None]:
    Obligation = models.Obligation
    return (
        select(
            Obligation,
            models.Case.reference,
            models.Case.officer_name,
            models.Case.vulnerable,
            models.Victim.preferred_channel,
            models.Victim.do_not_contact,
        )
        .join(models.Case, models.Case.id == Obligation.case_id)
        .outerjoin(models.Victim, models.Victim.case_id == Obligation.case_id)
        .where(kind, *_narrowed(query.boroughs, query.filters, True))
    )


def _sort_column(query: QueueQuery) -> Any:
    columns: dict[QueueSort, Any] = {
        QueueSort.TIME_LEFT: models.Obligation.due_at,
        QueueSort.REFERENCE: models.Case.reference,
        QueueSort.STANDARD: models.Obligation.standard,
        QueueSort.CATEGORY: models.Obligation.category,
        # The highest risk first when ascending (vulnerable, enhanced rights, high risk).
        QueueSort.VULNERABLE: rules.risk_rank(query.enhanced_categories),
        QueueSort.OFFICER: func.coalesce(models.Case.officer_name, ""),
        QueueSort.CHANNEL: func.coalesce(models.Victim.preferred_channel, ""),
    }
    return columns[query.sort]


def priority_statement(
    query: QueueQuery, kind: ColumnElement[bool], ascending: bool, offset: int, limit: int
) -> Select[models.Obligation, str, str | None, bool, str | None, bool | None]:
    """One kind of row by deadline (standards.worklist's order: the savable ones deadline
    first, the breached ones later deadline first), then the risk and the id."""
    due = models.Obligation.due_at if ascending else models.Obligation.due_at.desc()
    return (
        _rows_statement(query, kind)
        .order_by(due, rules.risk_rank(query.enhanced_categories), models.Obligation.id)
        .offset(offset)
        .limit(limit)
        .with_hint(models.Obligation, f"INDEXED BY {WORKLIST_INDEX}", "sqlite")
    )


def _sorted_statement(
    query: QueueQuery, kind: ColumnElement[bool], offset: int, limit: int
) -> Select[models.Obligation, str, str | None, bool, str | None, bool | None]:
    column = _sort_column(query)
    ordered = column.desc() if query.descending else column
    return (
        _rows_statement(query, kind)
        .order_by(ordered, models.Obligation.due_at, models.Obligation.id)
        .offset(offset)
        .limit(limit)
    )


def _fetch(
    session: Session,
    statement: Select[models.Obligation, str, str | None, bool, str | None, bool | None],
) -> list[Columns]:
    return [
        (o, ref, officer, vul, channel, dnc)
        for o, ref, officer, vul, channel, dnc in session.execute(statement)
    ]


def _breached_rows(
    session: Session, query: QueueQuery, now: datetime, offset: int, ascending: bool
) -> list[Columns]:
    """A page of the breached kind: the first `offset + per_page` of each branch, merged
    by the SQL's own key (deadline, risk, id)."""
    wanted = offset + query.per_page
    found: list[Columns] = []
    for branch in OVERDUE_BRANCHES:
        found += _fetch(session, priority_statement(query, branch(now), ascending, 0, wanted))
    enhanced = query.enhanced_categories
    sign = 1 if ascending else -1

    def key(columns: Columns) -> tuple[float, int, int]:
        obligation, vulnerable = columns[0], bool(columns[3])
        rank = risk_rank(risk_of(obligation.category, vulnerable, enhanced))
        return (sign * obligation.due_at.timestamp(), rank, obligation.id)

    return sorted(found, key=key)[offset:wanted]


def _groups(query: QueueQuery) -> list[tuple[bool, bool]]:
    """The kinds of row in the order the list shows them: (savable, ascending) each."""
    state = query.filters.state
    if query.sort == QueueSort.TIME_LEFT:
        # The breached rows' deadlines are all before the savable ones'.
        groups = (
            [(True, False), (False, False)] if query.descending else [(False, True), (True, True)]
        )
    else:
        # standards.worklist's order.
        groups = [(True, True), (False, False)]
    if state == QueueState.OVERDUE:
        return [group for group in groups if not group[0]]
    if state is not None:
        return [group for group in groups if group[0]]
    return groups


def _page_rows(
    session: Session,
    query: QueueQuery,
    now: datetime,
    totals: tuple[int, int],
    offset: int,
) -> list[Columns]:
    """A page of rows; `totals` are the savable and breached rows the filters leave."""
    limit = query.per_page
    state = query.filters.state
    if query.sort not in (QueueSort.PRIORITY, QueueSort.TIME_LEFT):
        kind = _kind(state, now) if state is not None else _on_worklist(now)
        return _fetch(session, _sorted_statement(query, kind, offset, limit))
    found: list[Columns] = []
    skip = offset
    for savable, ascending in _groups(query):
        total = totals[0] if savable else totals[1]
        if skip >= total:
            skip -= total
            continue
        wanted = limit - len(found)
        if savable:
            kind = _kind(state if state is not None else QueueState.DUE_SOON, now)
            found += _fetch(session, priority_statement(query, kind, ascending, skip, wanted))
        else:
            found += _breached_rows(session, replace(query, per_page=wanted), now, skip, ascending)
        skip = 0
        if len(found) >= limit:
            break
    return found


def _row(columns: Columns, enhanced_categories: tuple[str, ...], now: datetime) -> QueueRow:
    row, reference, officer, vulnerable, channel, do_not_contact = columns
    risk = risk_of(row.category, bool(vulnerable), enhanced_categories)
    return QueueRow(
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
        vulnerable=risk.vulnerable,
        enhanced=risk.enhanced,
        channel=channel,
        do_not_contact=bool(do_not_contact),
    )


def read_queue(sessions: sessionmaker[Session], query: QueueQuery, now: datetime) -> QueuePage:
    """One page of the list, its counts and the officers the filter offers."""
    filters = query.filters
    unfiltered = filters.standard is None and filters.officer is None
    with sessions() as session:
        counts = read_counts(session, query.boroughs, now)
        if unfiltered:
            savable_total = counts.due_soon
            overdue_total = counts.breached
            today_total = counts.due_today
        else:
            savable_total = _count(session, rules.is_due_soon(now), query.boroughs, filters)
            overdue_total = _count_overdue(session, query.boroughs, filters, now)
            today_total = (
                _count(session, _kind(QueueState.DUE_TODAY, now), query.boroughs, filters)
                if filters.state == QueueState.DUE_TODAY
                else 0
            )
        totals = {
            None: savable_total + overdue_total,
            QueueState.DUE_SOON: savable_total,
            QueueState.OVERDUE: overdue_total,
            QueueState.DUE_TODAY: today_total,
        }
        total = totals[filters.state]
        if filters.state == QueueState.DUE_TODAY:
            savable_total = today_total
        pages = max(1, -(-total // query.per_page))
        page = min(max(query.page, 1), pages)
        offset = (page - 1) * query.per_page
        found = _page_rows(session, query, now, (savable_total, overdue_total), offset)
        # Every officer of the force would be a list too long to choose from (and to read).
        officers = _officers(session, query.boroughs) if query.boroughs is not None else []
    return QueuePage(
        rows=[_row(columns, query.enhanced_categories, now) for columns in found],
        total=total,
        page=page,
        pages=pages,
        per_page=query.per_page,
        counts=counts,
        officers=officers,
        now=now,
    )


def _officers(session: Session, boroughs: list[str] | None) -> list[str]:
    """The officers of the boroughs' open cases (for the officer filter), by name."""
    statement = select(models.Case.officer_name).where(
        models.Case.status == CaseStatus.OPEN.value, models.Case.officer_name.is_not(None)
    )
    if boroughs is not None:
        statement = statement.where(models.Case.borough.in_(boroughs or [""]))
    statement = statement.distinct().order_by(models.Case.officer_name)
    return [name for name in session.scalars(statement.limit(OFFICER_OPTIONS_LIMIT)) if name]


def queue_officers(
    sessions: sessionmaker[Session], boroughs: list[str] | None, now: datetime
) -> list[str]:
    with sessions() as session:
        return _officers(session, boroughs)


__all__ = [
    "OFFICER_OPTIONS_LIMIT",
    "PER_PAGE",
    "QUEUE_STATE_LABELS",
    "QueueCounts",
    "QueueFilters",
    "QueuePage",
    "QueueQuery",
    "QueueRow",
    "QueueSort",
    "QueueState",
    "duration_text",
    "met_by_contact",
    "met_by_text",
    "priority_statement",
    "queue_officers",
    "read_counts",
    "read_queue",
    "standard_rule",
    "urgency_text",
    "victim_requests",
    "what_meets",
]
