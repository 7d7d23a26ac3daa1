"""A note added to a case, as the case book decides it: it changes no clock, a closed case
takes it, it names no standard, and the note itself never reaches the case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState
from standards.events import (
    NOTE,
    CaseEvent,
    EventRejected,
    EventType,
    missing_stored_detail,
    unaccepted_detail,
)
from standards.policy import load_policy
from tests.support.book import carry_out

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")
REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def opened(category: str = "domestic_abuse") -> CaseBook:
    facts = CaseFacts(
        reference="01/2/26",
        category=category,
        borough="Camden",
        reported_at=REPORTED,
        policy=POLICY,
    )
    case = CaseBook(facts, CaseState())
    carry_out(case, case.open_case(), REPORTED)
    return case


def apply(case: CaseBook, event: CaseEvent) -> None:
    case.check(event, event.at)
    carry_out(case, case.apply(event), event.at)


def snapshot(case: CaseBook) -> list[tuple[str, str, datetime, int]]:
    return [(o.key, o.state.value, o.due_at, len(o.history)) for o in case.state.obligations]


def test_a_note_starts_meets_and_moves_nothing() -> None:
    case = opened()
    before = snapshot(case)
    note = CaseEvent(type=EventType.NOTE_ADDED, at=REPORTED + timedelta(hours=2), actor="actor:1")

    effects = case.apply(note)

    assert not effects.starts and not effects.messages and not effects.alerts
    assert not effects.retimes
    assert snapshot(case) == before


def test_a_closed_case_takes_a_note_and_stays_closed() -> None:
    case = opened()
    apply(case, CaseEvent(type=EventType.CLOSED, at=REPORTED + timedelta(hours=1)))
    before = snapshot(case)
    apply(case, CaseEvent(type=EventType.NOTE_ADDED, at=REPORTED + timedelta(hours=2)))
    assert snapshot(case) == before
    assert not case.is_open


def test_a_note_names_no_standard() -> None:
    case = opened()
    event = CaseEvent(
        type=EventType.NOTE_ADDED, at=REPORTED + timedelta(hours=2), standard="dv_contact"
    )
    with pytest.raises(EventRejected, match="note_added does not take a standard"):
        case.check(event, event.at)


def test_the_note_itself_is_personal_data_that_never_reaches_the_case() -> None:
    case = opened()
    event = CaseEvent(
        type=EventType.NOTE_ADDED, at=REPORTED + timedelta(hours=2), details={NOTE: "said"}
    )
    with pytest.raises(EventRejected, match="personal data and never reaches a case"):
        case.check(event, event.at)
    assert unaccepted_detail(EventType.NOTE_ADDED, NOTE) is None


def test_a_note_event_without_its_note_is_refused_before_the_case() -> None:
    assert missing_stored_detail(EventType.NOTE_ADDED, {}) == (
        "note_added needs detail 'note' (the text of the note)"
    )
    assert missing_stored_detail(EventType.NOTE_ADDED, {NOTE: "  "}) is not None
    assert missing_stored_detail(EventType.NOTE_ADDED, {NOTE: "Rang back"}) is None
    assert missing_stored_detail(EventType.CONTACT_RECORDED, {}) is None
