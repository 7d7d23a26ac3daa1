"""What the VFU queue and the case page read, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.case_page import read_case_page
from service.queue import QueueFilters, QueueRow, QueueState, queue_officers, read_queue
from storage import models
from storage.enums import ObligationState
from tests.support.case_rows import ObligationSpec, add_case

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PENDING = ObligationState.PENDING
BREACHED = ObligationState.BREACHED


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


def test_the_queue_lists_what_needs_someone_most_urgent_first(
    queue_cases: sessionmaker[Session],
) -> None:
    page = read_queue(queue_cases, ["camden"], QueueFilters(), NOW)

    assert queued(page.rows) == [
        ("01/000002/26", "dv_contact"),
        ("01/000003/26", "victim_update"),
        ("01/000001/26", "dv_contact"),
    ]
    assert not page.truncated
    breached, pending_overdue, due_soon = page.rows
    assert breached.overdue and breached.time_left == -30 * HOUR and breached.explainable
    assert pending_overdue.overdue and not pending_overdue.explainable
    assert not due_soon.overdue and due_soon.time_left == 2 * HOUR
    assert due_soon.category == "domestic_abuse" and due_soon.officer_name == "PC Jones"


def test_a_borough_s_queue_never_holds_another_borough_s_case(
    queue_cases: sessionmaker[Session],
) -> None:
    camden = read_queue(queue_cases, ["camden", "Camden"], QueueFilters(), NOW)
    hackney = read_queue(queue_cases, ["hackney"], QueueFilters(), NOW)
    everywhere = read_queue(queue_cases, None, QueueFilters(), NOW)

    assert "01/000004/26" not in {row.reference for row in camden.rows}
    assert queued(hackney.rows) == [("01/000004/26", "dv_contact")]
    assert queued(everywhere.rows)[0] == ("01/000004/26", "dv_contact")
    assert len(everywhere.rows) == 4


def test_the_filters_narrow_the_queue_by_standard_state_and_officer(
    queue_cases: sessionmaker[Session],
) -> None:
    def listed(**filters: object) -> list[tuple[str, str]]:
        return queued(read_queue(queue_cases, ["camden"], QueueFilters(**filters), NOW).rows)  # type: ignore[arg-type]

    assert listed(standard="dv_contact") == [
        ("01/000002/26", "dv_contact"),
        ("01/000001/26", "dv_contact"),
    ]
    assert listed(state=QueueState.OVERDUE) == [
        ("01/000002/26", "dv_contact"),
        ("01/000003/26", "victim_update"),
    ]
    assert listed(state=QueueState.DUE_SOON) == [("01/000001/26", "dv_contact")]
    assert listed(officer="PC Patel") == [("01/000002/26", "dv_contact")]
    assert listed(officer="PC Hackney") == []
    assert listed(standard="victim_update", state=QueueState.DUE_SOON) == []


def test_the_queue_is_capped_and_says_so(db_session_factory: sessionmaker[Session]) -> None:
    for number in range(5):
        add_case(
            db_session_factory,
            NOW,
            f"01/10000{number}/26",
            ObligationSpec("dv_contact", BREACHED, -(number + 1) * HOUR),
        )

    page = read_queue(db_session_factory, ["camden"], QueueFilters(), NOW, limit=3)

    assert [row.reference for row in page.rows] == ["01/100004/26", "01/100003/26", "01/100002/26"]
    assert page.truncated


def test_the_officer_filter_offers_the_officers_of_the_borough_s_queue(
    queue_cases: sessionmaker[Session],
) -> None:
    assert queue_officers(queue_cases, ["camden"], NOW) == ["PC Jones", "PC Patel"]
    assert queue_officers(queue_cases, None, NOW) == ["PC Hackney", "PC Jones", "PC Patel"]


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
        ("met", "contact_recorded by staff:7"),
    ]
    assert read_case_page(sessions, "01/999999/26", with_victim=True) is None
