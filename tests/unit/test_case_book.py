"""The case book: which events start, meet, cancel or refuse what. No Temporal, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState, Effects
from standards.events import CaseEvent, EventRejected, EventType
from standards.obligations import Alert, ObligationState
from standards.policy import load_policy
from standards.schedules import schedule_for
from tests.support.book import carry_out

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")
REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def book(category: str = "general", vulnerable: bool = False, now: datetime = REPORTED) -> CaseBook:
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
    carry_out(case, case.open_case(), now)
    return case


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
    now = REPORTED + timedelta(hours=now_hours if now_hours is not None else hours)
    case.check(event, now)
    carry_out(case, case.apply(event), now)


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
    with pytest.raises(
        EventRejected,
        match=r"^officer_assigned does not take detail 'officer_phone'; "
        r"accepted: officer_name, officer_contact, note$",
    ):
        post(book("road_traffic_collision"), "officer_assigned", 1, officer_phone=1)
    with pytest.raises(EventRejected, match="personal data"):
        post(book("road_traffic_collision"), "officer_assigned", 1, officer_name="PC Reeves")
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


def kinds(alerts: list[Alert]) -> list[tuple[str, str, datetime]]:
    return [(a.standard, a.kind.value, a.at) for a in alerts]


def unopened(category: str) -> CaseBook:
    facts = CaseFacts(
        reference="01/2/26",
        category=category,
        borough="Camden",
        reported_at=REPORTED,
        policy=POLICY,
    )
    return CaseBook(facts, CaseState())


def test_an_obligation_already_overdue_when_the_case_is_entered_is_breached_at_once() -> None:
    case = unopened("domestic_abuse")
    three_days_on = REPORTED + timedelta(days=3)
    effects = case.open_case()
    effects.messages = []  # the acknowledgement is not delivered: nothing meets anything
    schedules = {r.key: schedule_for(r) for r in effects.schedule_requests}
    alerts = case.begin(effects.starts, schedules, three_days_on)
    assert states(case) == {
        "acknowledgement#1": "breached",
        "victim_update#1": "pending",
        "dv_contact#1": "breached",
    }
    day_one = REPORTED + timedelta(hours=24)
    assert kinds(alerts) == [
        ("acknowledgement", "breach", day_one),
        ("dv_contact", "breach", day_one),
    ]
    ack = case.state.obligations[0]
    assert [(t.event, t.at) for t in ack.history] == [
        ("started", REPORTED),
        ("breached", day_one),
    ]
    # The escalation clock runs from the breach: its moment has passed too, so it is next.
    assert case.next_wake() == REPORTED + timedelta(hours=48)
    assert kinds(case.advance(three_days_on).alerts) == [
        ("acknowledgement", "escalation", REPORTED + timedelta(hours=48)),
        ("dv_contact", "escalation", REPORTED + timedelta(hours=48)),
    ]


def test_an_overdue_obligation_met_in_the_same_step_is_met_late_with_its_breach_alert() -> None:
    case = unopened("general")
    three_days_on = REPORTED + timedelta(days=3)
    alerts = carry_out(case, case.open_case(), three_days_on)
    ack = case.state.obligations[0]
    assert (ack.state, ack.met_at) == ("met_late", three_days_on)
    assert [t.event for t in ack.history] == ["started", "breached", "met_late"]
    assert kinds(alerts) == [("acknowledgement", "breach", REPORTED + timedelta(hours=24))]
    assert case.advance(three_days_on).alerts == []  # met: no escalation follows


def test_a_backdated_event_starting_an_overdue_obligation_breaches_it_before_meeting_it() -> None:
    case = book("domestic_abuse", vulnerable=True)
    arrest = CaseEvent(type=EventType.ARREST, at=REPORTED + timedelta(hours=1))
    two_weeks_on = REPORTED + timedelta(days=14)
    case.check(arrest, two_weeks_on)
    alerts = carry_out(case, case.apply(arrest), two_weeks_on)
    update = next(o for o in case.state.obligations if o.standard == "arrest_charge_update")
    assert [t.event for t in update.history] == ["started", "breached", "met_late"]
    assert [(a.standard, a.kind.value) for a in alerts] == [("arrest_charge_update", "breach")]


def test_a_pending_obligation_met_after_its_deadline_has_its_breach_recorded_first() -> None:
    case = book("domestic_abuse")
    alerts = carry_out(
        case,
        case.apply(CaseEvent(type=EventType.CONTACT_RECORDED, at=REPORTED + timedelta(hours=30))),
        REPORTED + timedelta(hours=30),
    )
    dv = next(o for o in case.state.obligations if o.standard == "dv_contact")
    assert [t.event for t in dv.history] == ["started", "breached", "met_late"]
    assert ("dv_contact", "breach") in [(a.standard, a.kind.value) for a in alerts]


def test_without_the_rule_for_replayed_histories_an_overdue_start_stays_pending() -> None:
    case = unopened("domestic_abuse")
    case.breach_overdue_at_once = False
    effects = case.open_case()
    schedules = {r.key: schedule_for(r) for r in effects.schedule_requests}
    assert case.begin(effects.starts, schedules, REPORTED + timedelta(days=3)) == []
    assert set(states(case).values()) == {"pending"}


def test_an_event_applied_under_an_id_is_a_repeat_when_posted_again_and_changes_nothing() -> None:
    case = book("road_traffic_collision")
    assigned = CaseEvent(
        type=EventType.OFFICER_ASSIGNED, at=REPORTED + timedelta(hours=1), event_id="crs-1"
    )
    assert case.repeat_of(assigned) is None
    case.check(assigned, REPORTED + timedelta(hours=1))
    effects = case.apply(assigned)
    assert [m.template for m in effects.messages] == ["traffic_unit_contact"]
    case.remember(assigned, ["traffic_unit_contact#1"])
    before = (states(case), case.state.message_seq)
    # The same event again, under another offset and by another actor, is the same event.
    again = CaseEvent(
        type=EventType.OFFICER_ASSIGNED,
        at=(REPORTED + timedelta(hours=1)).astimezone(timezone(timedelta(hours=1))),
        actor="actor:99",
        event_id="crs-1",
    )
    earlier = case.repeat_of(again)
    assert earlier is not None and earlier.changed == ["traffic_unit_contact#1"]
    case.check(again, REPORTED + timedelta(days=30))
    assert case.apply(again) == Effects()
    assert (states(case), case.state.message_seq) == before


def test_an_event_id_used_again_for_another_event_is_refused() -> None:
    case = book("road_traffic_collision")
    first = CaseEvent(type=EventType.ARREST, at=REPORTED + timedelta(hours=1), event_id="crs-2")
    case.check(first, REPORTED + timedelta(hours=1))
    carry_out(case, case.apply(first), REPORTED + timedelta(hours=1))
    case.remember(first, [])
    other = CaseEvent(type=EventType.CHARGE, at=REPORTED + timedelta(hours=2), event_id="crs-2")
    with pytest.raises(EventRejected, match=r"'crs-2' was already used .* \(arrest at "):
        case.check(other, REPORTED + timedelta(hours=2))


def test_events_without_an_id_are_never_repeats() -> None:
    case = book("road_traffic_collision")
    assigned = CaseEvent(type=EventType.OFFICER_ASSIGNED, at=REPORTED + timedelta(hours=1))
    case.remember(assigned, [])
    assert case.state.applied_events == {}
    assert case.repeat_of(assigned) is None
