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

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.queue_conditions import (
    OFFICER_OPTIONS_LIMIT,
    OVERDUE_BRANCHES,
    count_overdue,
    count_rows,
    demo_history_present,
    narrowed,
    officers_of,
    on_worklist,
    read_counts,
    row_kind,
    victim_requests,
)
from service.queue_model import (
    COLUMN_SORT_LIMIT,
    INDEXED_SORTS,
    PER_PAGE,
    QUEUE_STATE_LABELS,
    QueueCounts,
    QueueFilters,
    QueuePage,
    QueueQuery,
    QueueRow,
    QueueSort,
    QueueState,
)
from service.queue_text import (
    duration_text,
    met_by_contact,
    met_by_text,
    standard_rule,
    urgency_text,
    what_meets,
)
from standards.read_rules import is_overdue, needs_explanation
from standards.vocabulary import ObligationState
from standards.worklist import risk_of, risk_rank
from storage import models
from storage import read_rules as rules

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
        .where(kind, *narrowed(query.boroughs, query.filters, True, query.leave_out_demo))
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
        kind = row_kind(state, now) if state is not None else on_worklist(now)
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
            kind = row_kind(state if state is not None else QueueState.DUE_SOON, now)
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


def read_queue(
    sessions: sessionmaker[Session],
    query: QueueQuery,
    now: datetime,
    column_sort_limit: int = COLUMN_SORT_LIMIT,
) -> QueuePage:
    """One page of the list, its counts and the officers the filter offers. A list longer
    than `column_sort_limit` is not sorted by a column outside INDEXED_SORTS: its rows come
    most urgent first and the page says so (`QueuePage.sorted_by`)."""
    filters = query.filters
    unfiltered = filters.standard is None and filters.officer is None
    with sessions() as session:
        demo = demo_history_present(session)
        query = replace(query, leave_out_demo=demo)
        counts = read_counts(session, query.boroughs, now, demo)
        if unfiltered:
            savable_total = counts.due_soon
            overdue_total = counts.breached
            today_total = counts.due_today
        else:
            boroughs = query.boroughs
            savable_total = count_rows(session, rules.is_due_soon(now), boroughs, filters, demo)
            overdue_total = count_overdue(session, boroughs, filters, now, demo)
            today = row_kind(QueueState.DUE_TODAY, now)
            today_total = (
                count_rows(session, today, boroughs, filters, demo)
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
        if query.sort not in INDEXED_SORTS and total > column_sort_limit:
            query = replace(query, sort=QueueSort.PRIORITY, descending=False)
        if filters.state == QueueState.DUE_TODAY:
            savable_total = today_total
        pages = max(1, -(-total // query.per_page))
        page = min(max(query.page, 1), pages)
        offset = (page - 1) * query.per_page
        found = _page_rows(session, query, now, (savable_total, overdue_total), offset)
        # Every officer of the force would be a list too long to choose from (and to read).
        officers = officers_of(session, query.boroughs, demo) if query.boroughs is not None else []
    return QueuePage(
        rows=[_row(columns, query.enhanced_categories, now) for columns in found],
        total=total,
        page=page,
        pages=pages,
        per_page=query.per_page,
        counts=counts,
        officers=officers,
        now=now,
        sorted_by=query.sort,
        column_sort_limit=column_sort_limit,
    )


def queue_officers(
    sessions: sessionmaker[Session], boroughs: list[str] | None, now: datetime
) -> list[str]:
    with sessions() as session:
        return officers_of(session, boroughs, demo_history_present(session))


__all__ = [
    "COLUMN_SORT_LIMIT",
    "INDEXED_SORTS",
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
