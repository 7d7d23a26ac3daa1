"""The case book decides what every outcome means: sends, provider reports, closing,
reopening, retiming and explaining breaches. Driven directly, no Temporal, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState, Effects
from standards.delivery import (
    DeferredMessage,
    DeliveryStatus,
    MessageIntent,
    MessageOutcome,
    due_by,
    send_instant,
)
from standards.events import CaseEvent, EventRejected, EventType
from standards.obligations import Alert, AlertKind, ObligationState
from standards.policy import load_policy
from standards.schedules import schedule_for
from tests.support.book import carry_out

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")
REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def opened(category: str = "burglary") -> CaseBook:
    case = CaseBook(
        CaseFacts(
            reference="01/7/26",
            category=category,
            borough="Camden",
            reported_at=REPORTED,
            policy=POLICY,
        ),
        CaseState(),
    )
    carry_out(case, case.open_case(), REPORTED)
    return case


def post(
    case: CaseBook, type: str, at: datetime, standard: str | None = None, **details: Any
) -> list[Alert]:
    event = CaseEvent(type=EventType(type), at=at, standard=standard, details=details)
    case.check(event, at)
    return carry_out(case, case.apply(event), at)


def states(case: CaseBook, standard: str) -> list[ObligationState]:
    return [o.state for o in case.state.obligations if o.standard == standard]


def intent() -> MessageIntent:
    return MessageIntent(key="01/7/26|arrest|9", template="arrest", at=REPORTED)


def test_closing_a_case_cancels_its_updates_and_keeps_it_until_the_reopen_window_ends() -> None:
    case = opened()
    closed_at = REPORTED + timedelta(days=3)
    post(case, "closed", closed_at, reason="no further lines of enquiry")
    assert not case.is_open
    assert states(case, "victim_update") == [ObligationState.CANCELLED]
    # The closure explanation went out with the closing message, so nothing is left open.
    assert states(case, "closure_explanation") == [ObligationState.MET]
    assert case.retention_ends() == closed_at + timedelta(days=POLICY.reopen_window_days)


def test_reopening_cancels_the_closure_explanation_and_restarts_the_updates() -> None:
    case = opened()
    event = CaseEvent(type=EventType.CLOSED, at=REPORTED + timedelta(days=3), details={})
    case.check(event, event.at)
    effects = case.apply(event)
    # Deadlines worked out, but the closing message not yet delivered.
    case.schedule(effects, {r.key: schedule_for(r) for r in effects.schedule_requests}, event.at)
    reopened_at = REPORTED + timedelta(days=4)
    post(case, "reopened", reopened_at, reason="new witness")
    assert case.is_open and case.retention_ends() is None
    assert states(case, "closure_explanation") == [ObligationState.CANCELLED]
    updates = states(case, "victim_update")
    # Cancelled on closing; restarted on reopening (the reopening message counts as an
    # update, so the next one is running from then).
    assert updates[0] == ObligationState.CANCELLED and updates[-1] == ObligationState.PENDING
    restarted = case.state.obligations[-1]
    assert (restarted.standard, restarted.started_at) == ("victim_update", reopened_at)


def test_reopening_an_open_case_is_refused() -> None:
    case = opened()
    with pytest.raises(EventRejected, match="only a closed case can be reopened"):
        case.check(CaseEvent(type=EventType.REOPENED, at=REPORTED, details={}), REPORTED)


def test_a_new_update_interval_retimes_the_pending_update_from_its_start() -> None:
    case = opened()
    post(case, "preferences_changed", REPORTED + timedelta(days=1), update_interval_days=7)
    update = next(o for o in case.state.obligations if o.standard == "victim_update")
    assert update.due_at == REPORTED + timedelta(days=7)
    assert update.history[-1].event == "retimed"


def test_an_interval_whose_new_deadline_has_passed_leaves_the_update_as_it_was() -> None:
    case = opened()
    before = next(o for o in case.state.obligations if o.standard == "victim_update").due_at
    post(case, "preferences_changed", REPORTED + timedelta(days=10), update_interval_days=7)
    update = next(o for o in case.state.obligations if o.standard == "victim_update")
    assert update.due_at == before
    assert all(t.event != "retimed" for t in update.history)


def test_a_breach_is_explained_once_and_a_second_explanation_is_refused() -> None:
    case = opened()
    late = REPORTED + timedelta(days=30)
    alerts = case.advance(late).alerts
    assert [(a.standard, a.kind) for a in alerts if a.kind == AlertKind.BREACH] == [
        ("victim_update", AlertKind.BREACH)
    ]
    post(case, "breach_explained", late, standard="victim_update", reason="victim_unreachable")
    update = next(o for o in case.state.obligations if o.standard == "victim_update")
    assert (update.explanation_reason, update.explained_at) == ("victim_unreachable", late)
    with pytest.raises(EventRejected, match="no unexplained breach of victim_update"):
        post(case, "breach_explained", late, standard="victim_update", reason="other", text="x")


def test_explaining_other_needs_text_saying_what_happened() -> None:
    case = opened()
    case.advance(REPORTED + timedelta(days=30))
    with pytest.raises(EventRejected, match=r"reason .other. needs details\.text"):
        post(
            case,
            "breach_explained",
            REPORTED + timedelta(days=30),
            standard="victim_update",
            reason="other",
        )


def test_a_delivered_send_meets_what_its_message_meets_at_the_instant_it_went_out() -> None:
    case = opened()
    arrest_at = REPORTED + timedelta(hours=5)
    event = CaseEvent(type=EventType.ARREST, at=arrest_at, details={})
    case.check(event, arrest_at)
    effects = case.apply(event)
    case.schedule(effects, {r.key: schedule_for(r) for r in effects.schedule_requests}, arrest_at)
    [message] = effects.sends
    outcome = MessageOutcome(status=DeliveryStatus.DELIVERED, channel="sms")
    case.on_send_outcome(message, arrest_at, outcome)
    [arrest_update] = [o for o in case.state.obligations if o.standard == "arrest_charge_update"]
    assert (arrest_update.state, arrest_update.met_at) == (ObligationState.MET, arrest_at)


def test_a_send_handed_to_a_provider_is_awaited_and_its_report_settles_it() -> None:
    case = opened()
    deferred = DeferredMessage(intent=intent(), retry_at=REPORTED)
    pending = case.on_send_outcome(
        deferred, REPORTED, MessageOutcome(status=DeliveryStatus.PENDING, channel="sms")
    )
    assert pending.awaiting == [deferred.intent] and not pending.alerts
    delivered = case.on_provider_status(deferred.intent, DeliveryStatus.DELIVERED, REPORTED)
    assert delivered.settled == [deferred.intent.key] and not delivered.resends


def test_a_provider_s_late_failure_alerts_staff_and_tries_the_next_channel() -> None:
    case = opened()
    failed_at = REPORTED + timedelta(minutes=3)
    effects = case.on_provider_status(
        intent(), DeliveryStatus.FAILED, failed_at, channel="sms", error="30006"
    )
    assert effects.settled == [intent().key]
    [alert] = effects.alerts
    assert alert.kind == AlertKind.DELIVERY_FAILED
    assert alert.detail == "sms undelivered (30006); trying the next allowed channel"
    assert effects.resends == [
        DeferredMessage(intent=intent(), retry_at=failed_at, excluded_channels=["sms"])
    ]


def test_a_provider_status_that_settles_nothing_changes_nothing() -> None:
    effects = opened().on_provider_status(intent(), DeliveryStatus.PENDING, REPORTED)
    assert effects == Effects()


def test_a_send_outside_safe_hours_is_deferred_to_when_they_open_on_the_same_channels() -> None:
    opens = REPORTED + timedelta(hours=12)
    deferred = DeferredMessage(intent=intent(), retry_at=REPORTED, excluded_channels=["sms"])
    effects = opened().on_send_outcome(
        deferred, REPORTED, MessageOutcome(status=DeliveryStatus.DEFERRED, retry_at=opens)
    )
    assert effects.deferrals == [
        DeferredMessage(intent=intent(), retry_at=opens, excluded_channels=["sms"])
    ]
    assert not effects.alerts


@pytest.mark.parametrize(
    ("outcome", "kind", "detail"),
    [
        (
            MessageOutcome(status=DeliveryStatus.NOT_ALLOWED, error="do not contact"),
            AlertKind.MANUAL_CONTACT_REQUIRED,
            "do not contact",
        ),
        (
            MessageOutcome(status=DeliveryStatus.FAILED, error="sms: 21211"),
            AlertKind.DELIVERY_FAILED,
            "message could not be delivered on any allowed channel: sms: 21211",
        ),
    ],
)
def test_a_message_nobody_receives_becomes_a_staff_alert(
    outcome: MessageOutcome, kind: AlertKind, detail: str
) -> None:
    deferred = DeferredMessage(intent=intent(), retry_at=REPORTED)
    effects = opened().on_send_outcome(deferred, REPORTED, outcome)
    assert [(a.kind, a.detail, a.obligation_key) for a in effects.alerts] == [
        (kind, detail, intent().key)
    ]


def test_a_fallback_to_another_channel_is_delivered_and_tells_staff_the_first_failed() -> None:
    case = opened()
    outcome = MessageOutcome(
        status=DeliveryStatus.DELIVERED, channel="email", fell_back_from="sms", error="21211"
    )
    effects = case.on_send_outcome(DeferredMessage(intent(), REPORTED), REPORTED, outcome)
    assert [a.detail for a in effects.alerts] == [
        "sms failed permanently (21211); fell back to email"
    ]


def test_a_message_held_up_by_a_moment_keeps_its_instant_and_a_long_hold_up_does_not() -> None:
    deferred = DeferredMessage(intent(), REPORTED)
    assert send_instant(deferred, REPORTED + timedelta(seconds=40)) == REPORTED
    late = REPORTED + timedelta(minutes=5)
    assert send_instant(deferred, late) == late


def test_a_case_wakes_for_the_earliest_of_its_clocks_and_its_waiting_retries() -> None:
    case = opened()
    own = case.next_wake()
    assert own is not None and case.retention_ends() is None
    assert case.wake_with([]) == own
    soon = DeferredMessage(intent(), own - timedelta(hours=1))
    later = DeferredMessage(intent(), own + timedelta(hours=1))
    assert case.wake_with([later, soon]) == soon.retry_at
    assert case.wake_with([later]) == own


def test_the_retries_due_by_a_wake_are_taken_and_the_later_ones_keep_waiting_in_order() -> None:
    first, second, third = (
        DeferredMessage(intent(), REPORTED + timedelta(hours=h)) for h in (2, 1, 3)
    )
    due, waiting = due_by([first, second, third], REPORTED + timedelta(hours=2))
    assert due == [first, second]
    assert waiting == [third]
