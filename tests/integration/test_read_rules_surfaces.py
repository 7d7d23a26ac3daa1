"""Every database-reading surface states the read-side rules at their boundary instants,
on SQLite and PostgreSQL: the VFU queue, the case page, the breach register of the
dashboard, `pledge cases`' listing and the compliance report (the API's own test, over a
real socket, is tests/integration/test_api_read_rules.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from reporting.compliance import compliance_report
from reporting.register import STALE_AFTER, breach_register
from service.case_page import read_case_page
from service.listings import open_cases
from service.queue import QueueFilters, QueueQuery, QueueState, read_queue
from storage.summary import rebuild_report_summary
from tests.support.read_rules import (
    BOUNDARIES,
    END,
    NOW,
    PERIOD_BOUNDARIES,
    START,
    Boundary,
    PeriodBoundary,
    add_boundary_cases,
)


@pytest.fixture
def boundary_cases(db_session_factory: sessionmaker[Session]) -> dict[str, str]:
    return add_boundary_cases(db_session_factory, BOUNDARIES)


QUEUE_VIEWS: dict[QueueState | None, Callable[[Boundary], bool]] = {
    None: lambda b: b.queued,
    QueueState.OVERDUE: lambda b: b.queued and b.overdue,
    QueueState.DUE_SOON: lambda b: b.queued and b.due_soon,
}


@pytest.mark.parametrize("state", list(QUEUE_VIEWS), ids=lambda s: str(s or "everything"))
def test_the_queue_lists_exactly_the_rows_the_rules_put_in_it_at_the_boundaries(
    db_session_factory: sessionmaker[Session],
    boundary_cases: dict[str, str],
    state: QueueState | None,
) -> None:
    page = read_queue(
        db_session_factory, QueueQuery(["camden"], QueueFilters(state=state), per_page=500), NOW
    )

    expected = {boundary_cases[b.name] for b in BOUNDARIES if QUEUE_VIEWS[state](b)}
    assert {row.reference for row in page.rows} == expected
    by_reference = {boundary_cases[b.name]: b for b in BOUNDARIES}
    for row in page.rows:
        boundary = by_reference[row.reference]
        assert (row.overdue, row.explainable) == (boundary.overdue, boundary.needs_explanation)


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.name)
def test_the_case_page_shows_an_obligation_open_and_explainable_as_the_rules_say(
    db_session_factory: sessionmaker[Session], boundary: Boundary
) -> None:
    reference = add_boundary_cases(db_session_factory, (boundary,))[boundary.name]

    page = read_case_page(db_session_factory, reference, with_victim=False)

    assert page is not None
    (entry,) = page.obligations
    assert (entry.is_open, entry.explainable) == (boundary.open, boundary.needs_explanation)


def test_the_breach_register_puts_first_exactly_the_breaches_needing_an_explanation(
    db_session_factory: sessionmaker[Session], boundary_cases: dict[str, str]
) -> None:
    # As of 48 hours after NOW, a breach due exactly at NOW is at the staleness edge.
    with db_session_factory() as session:
        register = breach_register(session, as_of=NOW + STALE_AFTER)

    stale = {entry.reference for entry in register if entry.stale_unexplained}
    breached = {boundary_cases[b.name] for b in BOUNDARIES if b.breached}
    assert {entry.reference for entry in register} == breached
    assert stale == {boundary_cases[b.name] for b in BOUNDARIES if b.needs_explanation}
    assert [entry.stale_unexplained for entry in register] == sorted(
        (entry.stale_unexplained for entry in register), reverse=True
    )


# A listing's flags (--overdue, --due-soon) and the cases it should hold.
LISTINGS: dict[str, tuple[bool, bool, Callable[[Boundary], bool]]] = {
    "open": (False, False, lambda b: True),
    "overdue": (True, False, lambda b: b.overdue),
    "due soon": (False, True, lambda b: b.due_soon),
    "overdue or due soon": (True, True, lambda b: b.overdue or b.due_soon),
}


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_pledge_cases_lists_the_cases_the_rules_name_at_the_boundaries(
    db_session_factory: sessionmaker[Session], boundary_cases: dict[str, str], listing: str
) -> None:
    overdue, due_soon, wanted = LISTINGS[listing]

    rows = open_cases(db_session_factory, NOW, overdue=overdue, due_soon=due_soon)

    assert {row.reference for row in rows} == {
        boundary_cases[b.name] for b in BOUNDARIES if wanted(b)
    }


def test_pledge_cases_counts_breaches_and_gives_the_next_pending_deadline(
    db_session_factory: sessionmaker[Session], boundary_cases: dict[str, str]
) -> None:
    rows = {row.reference: row for row in open_cases(db_session_factory, NOW)}

    for boundary in BOUNDARIES:
        row = rows[boundary_cases[boundary.name]]
        assert row.breached == (1 if boundary.state == "breached" else 0)
        assert row.next_deadline == (boundary.due_at if boundary.state == "pending" else None)


@pytest.mark.parametrize("boundary", PERIOD_BOUNDARIES, ids=lambda b: b.name)
def test_the_report_counts_an_obligation_due_in_the_period_as_the_rule_says(
    db_session_factory: sessionmaker[Session], boundary: PeriodBoundary
) -> None:
    add_boundary_cases(db_session_factory, (boundary,))
    with db_session_factory.begin() as session:
        rebuild_report_summary(session)

    for read_days in (True, False):
        with db_session_factory() as session:
            report = compliance_report(
                session, START, END, as_of=boundary.as_of, read_days=read_days
            )
        assert report.total.due == (1 if boundary.counted else 0)
