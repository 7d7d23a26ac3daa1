"""The case book: which events start, meet, cancel or refuse what. No Temporal, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from standards.case import CaseBook, CaseEvent, CaseFacts, CaseState, EventRejected, EventType
from standards.obligations import ObligationState
from standards.policy import load_policy
from standards.schedules import schedule_for

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")
REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def book(category: str = "general", vulnerable: bool = False) -> CaseBook:
    case = CaseBook(
        CaseFacts(
            reference="01/1/26",
            category=category,
            borough="Camden",
            reported_at=REPORTED,
            policy=POLICY,
            vulnerable=vulnerable,
        ),
        CaseState(),
    )
    run(case, case.open_case())
    return case


def run(case: CaseBook, effects: Any) -> None:
    """Do what the workflow would: work out deadlines, deliver every message at once."""
    while effects.starts or effects.retimes or effects.messages:
        schedules = {r.key: schedule_for(r) for r in effects.schedule_requests}
        case.begin(effects.starts, schedules)
        case.apply_retimes(effects.retimes, schedules, REPORTED)
        messages, effects = effects.messages, type(effects)()
        for message in messages:
            effects.extend(case.message_delivered(message, message.at))


def post(
    case: CaseBook,
    type: str,
    hours: float,
    now_hours: float | None = None,
    standard: str | None = None,
    **details: Any,
) -> None:
    event = CaseEvent(
        type=EventType(type),
        at=REPORTED + timedelta(hours=hours),
        standard=standard,
        details=details,
    )
    case.check(event, REPORTED + timedelta(hours=now_hours if now_hours is not None else hours))
    run(case, case.apply(event))


def states(case: CaseBook) -> dict[str, str]:
    return {o.key: o.state.value for o in case.state.obligations}


def test_a_contact_naming_a_standard_meets_it_and_counts_as_an_update_but_nothing_else() -> None:
    case = book("domestic_abuse")
    case.state.obligations[0].state = ObligationState.PENDING  # keep the acknowledgement owed
    post(case, "contact_recorded", 2, standard="dv_contact")
    assert states(case) == {
        "acknowledgement#1": "pending",
        "victim_update#1": "met",
        "dv_contact#1": "met",
        "victim_update#2": "pending",
    }


def test_a_contact_naming_no_standard_meets_everything_a_contact_can_meet() -> None:
    case = book("domestic_abuse")
    case.state.obligations[0].state = ObligationState.PENDING
    post(case, "contact_recorded", 2)
    assert states(case)["acknowledgement#1"] == "met"
    assert states(case)["dv_contact#1"] == "met"


def test_an_event_in_the_future_or_without_an_offset_is_refused() -> None:
    case = book()
    with pytest.raises(EventRejected, match="in the future"):
        post(case, "contact_recorded", 10, now_hours=9)
    naive = CaseEvent(type=EventType.ARREST, at=datetime(2026, 6, 2, 9, 0))
    with pytest.raises(EventRejected, match="UTC offset"):
        case.check(naive, REPORTED + timedelta(days=2))


def test_an_event_before_the_report_is_refused() -> None:
    with pytest.raises(EventRejected, match="before the report was received"):
        post(book(), "contact_recorded", -1, now_hours=1)


def test_unknown_details_and_wrong_types_are_refused_with_what_is_accepted() -> None:
    case = book()
    with pytest.raises(EventRejected, match="accepted: reason"):
        post(case, "closed", 1, colour="blue")
    with pytest.raises(EventRejected, match="must be a whole number"):
        post(case, "preferences_changed", 1, update_interval_days=True)
    with pytest.raises(EventRejected, match="between 1 and 28"):
        post(case, "preferences_changed", 1, update_interval_days=35)


def test_an_investigation_event_on_a_feedback_case_is_refused() -> None:
    with pytest.raises(EventRejected, match="does not apply to a feedback case"):
        post(book("feedback"), "arrest", 1)


def test_a_refused_event_changes_nothing() -> None:
    case = book()
    before = [(o.key, o.state, len(o.history)) for o in case.state.obligations]
    with pytest.raises(EventRejected):
        post(case, "breach_explained", 1, standard="victim_update", reason="system_fault")
    assert [(o.key, o.state, len(o.history)) for o in case.state.obligations] == before


def test_enhanced_rights_shorten_the_arrest_window_for_a_vulnerable_victim() -> None:
    case = book("burglary", vulnerable=True)
    post(case, "arrest", 1)
    arrest = next(o for o in case.state.obligations if o.standard == "arrest_charge_update")
    assert arrest.window_amount == 1


def test_the_clock_warns_then_breaches_then_escalates_once_each() -> None:
    case = book("domestic_abuse")
    kinds = []
    for hours in (17, 18, 19, 24, 30, 48, 60):
        kinds += [a.kind.value for a in case.advance(REPORTED + timedelta(hours=hours)).alerts]
    assert kinds == ["warning", "breach", "escalation"]


def test_a_warning_that_comes_too_late_is_folded_into_the_breach() -> None:
    case = book("domestic_abuse")
    alerts = case.advance(REPORTED + timedelta(hours=25)).alerts
    assert [a.kind.value for a in alerts] == ["breach"]
