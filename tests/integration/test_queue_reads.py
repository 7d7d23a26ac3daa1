"""What the VFU queue and the case page read, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.case_page import read_case_page
from service.queue import (
    QueueCounts,
    QueueFilters,
    QueuePage,
    QueueQuery,
    QueueRow,
    QueueSort,
    QueueState,
    queue_officers,
    read_queue,
)
from standards.obligations import AlertKind
from standards.vocabulary import RecipientRole
from standards.worklist import risk_of, risk_rank, worklist_key
from storage import models
from storage.enums import ObligationState
from tests.support.case_rows import ObligationSpec, add_case

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PENDING = ObligationState.PENDING
BREACHED = ObligationState.BREACHED
CAMDEN = ["camden"]
ENHANCED = ("domestic_abuse", "sexual_offence", "hate_crime", "serious_assault")


@pytest.fixture
def queue_cases(db_session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Camden: one of each kind of row, in and out of the queue; Hackney: one overdue."""
    sessions = db_session_factory
    add_case(
        sessions,
        NOW,
        "01/000001/26",
        # Due in 2 hours of a 24-hour window: past its warning point.
        ObligationSpec("dv_contact", PENDING, 2 * HOUR),
        # Due in 20 hours: not yet warned, so not in the queue.
        ObligationSpec("acknowledgement", PENDING, 20 * HOUR),
        officer_name="PC Jones",
    )
    add_case(
        sessions,
        NOW,
        "01/000002/26",
        ObligationSpec("dv_contact", BREACHED, -30 * HOUR),
        ObligationSpec("acknowledgement", ObligationState.MET_LATE, -40 * HOUR),
        officer_name="PC Patel",
    )
    add_case(
        sessions,
        NOW,
        "01/000003/26",
        # Past due, the workflow not yet having marked the breach.
        ObligationSpec("victim_update", PENDING, -5 * timedelta(minutes=1)),
        ObligationSpec("dv_contact", BREACHED, -50 * HOUR, explained=True),
        ObligationSpec("acknowledgement", ObligationState.MET, -10 * HOUR),
        ObligationSpec("arrest_charge_update", ObligationState.CANCELLED, -3 * HOUR),
    )
    add_case(
        sessions,
        NOW,
        "01/000004/26",
        ObligationSpec("dv_contact", BREACHED, -60 * HOUR),
        borough="hackney",
        officer_name="PC Hackney",
    )
    return sessions


def queued(rows: list[QueueRow]) -> list[tuple[str, str]]:
    return [(row.reference, row.standard) for row in rows]


def read(
    sessions: sessionmaker[Session], boroughs: list[str] | None = CAMDEN, **changes: Any
) -> QueuePage:
    return read_queue(sessions, QueueQuery(boroughs, enhanced_categories=ENHANCED, **changes), NOW)


def test_the_queue_lists_what_can_still_be_saved_first_then_breaches_most_recent_first(
    queue_cases: sessionmaker[Session],
) -> None:
    page = read(queue_cases)

    assert queued(page.rows) == [
        ("01/000001/26", "dv_contact"),
        ("01/000003/26", "victim_update"),
        ("01/000002/26", "dv_contact"),
    ]
    assert (page.total, page.page, page.pages, page.first, page.last) == (3, 1, 1, 1, 3)
    assert page.counts == QueueCounts(breached=2, due_today=1, due_soon=1, victim_requests=0)
    due_soon, pending_overdue, breached = page.rows
    assert breached.overdue and breached.time_left == -30 * HOUR and breached.explainable
    assert pending_overdue.overdue and not pending_overdue.explainable
    assert not due_soon.overdue and due_soon.time_left == 2 * HOUR
    assert due_soon.category == "domestic_abuse" and due_soon.officer_name == "PC Jones"
    assert due_soon.enhanced and not due_soon.vulnerable
    assert due_soon.channel == "sms" and not due_soon.do_not_contact


def test_a_borough_s_queue_never_holds_another_borough_s_case(
    queue_cases: sessionmaker[Session],
) -> None:
    camden = read(queue_cases, ["camden", "Camden"])
    hackney = read(queue_cases, ["hackney"])
    everywhere = read(queue_cases, None)

    assert "01/000004/26" not in {row.reference for row in camden.rows}
    assert queued(hackney.rows) == [("01/000004/26", "dv_contact")]
    assert queued(everywhere.rows)[0] == ("01/000001/26", "dv_contact")
    assert queued(everywhere.rows)[-1] == ("01/000004/26", "dv_contact")
    assert everywhere.total == len(everywhere.rows) == 4
    assert everywhere.counts.breached == 3


def test_the_filters_narrow_the_queue_by_standard_state_and_officer(
    queue_cases: sessionmaker[Session],
) -> None:
    def listed(**filters: Any) -> list[tuple[str, str]]:
        return queued(read(queue_cases, filters=QueueFilters(**filters)).rows)

    assert listed(standard="dv_contact") == [
        ("01/000001/26", "dv_contact"),
        ("01/000002/26", "dv_contact"),
    ]
    assert listed(state=QueueState.OVERDUE) == [
        ("01/000003/26", "victim_update"),
        ("01/000002/26", "dv_contact"),
    ]
    assert listed(state=QueueState.DUE_SOON) == [("01/000001/26", "dv_contact")]
    assert listed(state=QueueState.DUE_TODAY) == [("01/000001/26", "dv_contact")]
    assert listed(officer="PC Patel") == [("01/000002/26", "dv_contact")]
    assert listed(officer="PC Hackney") == []
    assert listed(standard="victim_update", state=QueueState.DUE_SOON) == []
    assert read(queue_cases, filters=QueueFilters(officer="PC Patel")).total == 1


def _many(sessions: sessionmaker[Session]) -> None:
    """Thirty cases of every kind: due soon at a few deadlines (several equal), breached
    at several ages, vulnerable or not, of several categories."""
    chance = random.Random(5)
    categories = ["burglary", "domestic_abuse", "hate_crime", "general"]
    for number in range(30):
        if number % 3:
            spec = ObligationSpec("dv_contact", PENDING, chance.choice([1, 2, 3]) * HOUR)
        else:
            spec = ObligationSpec("dv_contact", BREACHED, -chance.choice([1, 5, 9]) * HOUR)
        add_case(
            sessions,
            NOW,
            f"01/2{number:05d}/26",
            spec,
            category=chance.choice(categories),
            vulnerable=chance.random() < 0.3,
            officer_name=chance.choice(["PC Adams", "PC Brown", None]),
        )


def test_the_database_gives_the_order_the_book_s_rule_gives_page_after_page(
    db_session_factory: sessionmaker[Session],
) -> None:
    _many(db_session_factory)

    pages = [read(db_session_factory, page=number, per_page=7) for number in range(1, 6)]

    listed = [row for page in pages for row in page.rows]
    assert [page.total for page in pages] == [30] * 5 and pages[0].pages == 5
    assert (pages[-1].first, pages[-1].last) == (29, 30)
    expected = sorted(
        listed,
        key=lambda row: worklist_key(
            _facts(row), risk_of(row.category, row.vulnerable, ENHANCED), row.obligation_id, NOW
        ),
    )
    assert [row.obligation_id for row in listed] == [row.obligation_id for row in expected]
    assert len({row.obligation_id for row in listed}) == 30
    # A page past the last shows the last.
    assert read(db_session_factory, page=99, per_page=7).page == 5


@pytest.mark.parametrize("sort", [s for s in QueueSort if s != QueueSort.PRIORITY])
def test_each_column_sorts_both_ways_over_the_whole_list(
    db_session_factory: sessionmaker[Session], sort: QueueSort
) -> None:
    _many(db_session_factory)

    def values(descending: bool) -> list[Any]:
        rows = [
            row
            for number in (1, 2, 3)
            for row in read(
                db_session_factory, sort=sort, descending=descending, page=number, per_page=10
            ).rows
        ]
        assert len(rows) == 30
        return [_sort_value(sort, row) for row in rows]

    assert values(False) == sorted(values(False))
    assert values(True) == sorted(values(True), reverse=True)


def test_a_list_longer_than_the_column_sort_limit_keeps_most_urgent_first_and_says_so(
    db_session_factory: sessionmaker[Session],
) -> None:
    _many(db_session_factory)
    query = QueueQuery(CAMDEN, enhanced_categories=ENHANCED, sort=QueueSort.REFERENCE)

    too_long = read_queue(db_session_factory, query, NOW, column_sort_limit=29)
    short_enough = read_queue(db_session_factory, query, NOW, column_sort_limit=30)
    by_time_left = read_queue(
        db_session_factory, QueueQuery(CAMDEN, sort=QueueSort.TIME_LEFT), NOW, column_sort_limit=1
    )

    urgent_first = read(db_session_factory)
    assert too_long.sorted_by == QueueSort.PRIORITY and too_long.sort_set_aside(QueueSort.REFERENCE)
    assert not too_long.column_sorts_offered and too_long.total == 30
    assert [r.obligation_id for r in too_long.rows] == [r.obligation_id for r in urgent_first.rows]
    assert short_enough.sorted_by == QueueSort.REFERENCE and short_enough.column_sorts_offered
    references = [row.reference for row in short_enough.rows]
    assert references == sorted(references)
    # Time left is read along the index: it sorts a list of any length.
    assert by_time_left.sorted_by == QueueSort.TIME_LEFT
    assert not by_time_left.sort_set_aside(QueueSort.TIME_LEFT)


@dataclass(frozen=True)
class _Facts:
    state: str
    due_at: datetime
    warn_at: datetime | None = None
    breached_at: datetime | None = None
    explained_at: datetime | None = None


def _facts(row: QueueRow) -> _Facts:
    """What the rule reads of a listed row (the rule reads its state and deadline)."""
    return _Facts(state=row.state, due_at=row.due_at)


def _sort_value(sort: QueueSort, row: QueueRow) -> Any:
    if sort == QueueSort.VULNERABLE:
        return risk_rank(risk_of(row.category, row.vulnerable, ENHANCED))
    return {
        QueueSort.TIME_LEFT: row.due_at,
        QueueSort.REFERENCE: row.reference,
        QueueSort.STANDARD: row.standard,
        QueueSort.CATEGORY: row.category,
        QueueSort.OFFICER: row.officer_name or "",
        QueueSort.CHANNEL: row.channel or "",
    }[sort]


def test_requests_from_victims_count_the_open_update_requests_of_the_boroughs(
    queue_cases: sessionmaker[Session],
) -> None:
    with queue_cases.begin() as session:
        cases = {c.reference: c for c in session.query(models.Case)}
        for reference, kind, acknowledged in [
            ("01/000001/26", AlertKind.UPDATE_REQUESTED, False),
            ("01/000002/26", AlertKind.UPDATE_REQUESTED, True),
            ("01/000003/26", AlertKind.BREACH, False),
            ("01/000004/26", AlertKind.UPDATE_REQUESTED, False),
        ]:
            case = cases[reference]
            session.add(
                models.Alert(
                    case_id=case.id,
                    reference=reference,
                    borough=case.borough,
                    standard="victim_update",
                    obligation_key="victim_update#0",
                    kind=kind,
                    at=NOW,
                    detail="",
                    recipient_role=RecipientRole.VFU,
                    acknowledged_at=NOW if acknowledged else None,
                )
            )

    assert read(queue_cases).counts.victim_requests == 1
    assert read(queue_cases, None).counts.victim_requests == 2


def test_the_officer_filter_offers_the_officers_of_the_borough_s_open_cases(
    queue_cases: sessionmaker[Session],
) -> None:
    assert queue_officers(queue_cases, CAMDEN, NOW) == ["PC Jones", "PC Patel"]
    assert read(queue_cases).officers == ["PC Jones", "PC Patel"]
    # Force-wide the officer is typed: the whole force's would be too many to offer.
    assert read(queue_cases, None).officers == []


def test_the_case_page_reads_the_timeline_naming_who_recorded_each_event(
    db_session_factory: sessionmaker[Session],
) -> None:
    sessions = db_session_factory
    case_id = add_case(sessions, NOW, "01/000009/26", ObligationSpec("dv_contact", PENDING, HOUR))
    with sessions.begin() as session:
        event = models.CaseEventRecord(
            case_id=case_id, type="contact_recorded", at=NOW, actor="staff:7", received_at=NOW
        )
        session.add(event)
        session.flush()
        obligation = session.query(models.Obligation).filter_by(case_id=case_id).one()
        for seq, (name, state, cause) in enumerate(
            [
                ("started", "pending", "case_opened"),
                ("met", "met", f"contact_recorded by {event.actor_reference}"),
            ]
        ):
            session.add(
                models.ObligationTransition(
                    obligation_id=obligation.id,
                    case_id=case_id,
                    seq=seq,
                    event=name,
                    state=state,
                    at=NOW + seq * timedelta(minutes=1),
                    cause=cause,
                )
            )

    without = read_case_page(sessions, "01/000009/26", with_victim=False)
    with_victim = read_case_page(sessions, "01/000009/26", with_victim=True)

    assert without is not None and with_victim is not None
    assert without.victim is None
    assert with_victim.victim is not None and with_victim.victim.name == "Alex Smith"
    (entry,) = without.obligations
    assert [(s.event, s.cause) for s in entry.timeline] == [
        ("started", "case_opened"),
        # staff:7 has no account here: the page says so rather than show the id.
        ("met", "Contact recorded by a member of staff whose account has gone"),
    ]
    assert read_case_page(sessions, "01/999999/26", with_victim=True) is None
