"""The Victims' Code (2021) policy run by the case book: each police-owned right's window
at its boundary, the consent rule for referrals, and the re-timing on a tier change.
Driven directly, no Temporal, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState
from standards.clock import add_calendar_months
from standards.events import RECORDED_EVENTS, TRIGGER_OF_EVENT, CaseEvent, EventRejected, EventType
from standards.obligations import Obligation, ObligationState
from standards.policy import EVENT_TOKEN, load_policy
from standards.schedules import schedule_for
from tests.support.book import carry_out

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = {
    p.name.removesuffix(".email.j2") for p in (ROOT / "templates" / "messages").glob("*.email.j2")
}
CODE = load_policy(ROOT / "policies" / "victims-code-2021.toml", TEMPLATES)
PLEDGE = load_policy(ROOT / "policies" / "met-pledge.toml")
LONDON = ZoneInfo("Europe/London")
STEPS = ("arrest", "suspect_interviewed", "charge")


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def opened(
    category: str = "burglary", reported: datetime | None = None, vulnerable: bool = False
) -> CaseBook:
    at = reported or london(2026, 12, 18, 10)
    case = CaseBook(
        CaseFacts(
            reference="21/1/26",
            category=category,
            borough="Camden",
            reported_at=at,
            policy=CODE,
            vulnerable=vulnerable,
        ),
        CaseState(),
    )
    carry_out(case, case.open_case(), at)
    return case


def event(type: str, at: datetime, **details: Any) -> CaseEvent:
    return CaseEvent(type=EventType(type), at=at, details=details)


def post(case: CaseBook, type: str, at: datetime, **details: Any) -> None:
    posted = event(type, at, **details)
    case.check(posted, at)
    carry_out(case, case.apply(posted), at)


def post_unsent(case: CaseBook, type: str, at: datetime, **details: Any) -> None:
    """Applied and scheduled, its message not (yet) delivered: what it starts stays open."""
    posted = event(type, at, **details)
    case.check(posted, at)
    effects = case.apply(posted)
    case.schedule(effects, {r.key: schedule_for(r) for r in effects.schedule_requests}, at)


def latest(case: CaseBook, standard: str) -> Obligation:
    return [o for o in case.state.obligations if o.standard == standard][-1]


# -- the policy as data ------------------------------------------------------------------


def test_the_code_policy_names_only_events_and_templates_that_exist() -> None:
    events = {e.value for e in EventType}
    for rule in CODE.standards:
        for token in rule.met_by:
            if token.startswith(EVENT_TOKEN):
                assert token.removeprefix(EVENT_TOKEN) in events, (rule.id, token)
    assert all(t in TEMPLATES for t in (m.template for m in CODE.messages))


def test_every_new_event_either_triggers_or_is_recorded_and_sends_its_own_message() -> None:
    for event_type, trigger in TRIGGER_OF_EVENT.items():
        if event_type in (
            EventType.CLOSED,
            EventType.REOPENED,
            EventType.WITNESS_STATEMENT_TAKEN,
            # A person replies to a request for an update: it starts a standard, no message.
            EventType.UPDATE_REQUESTED,
        ):
            assert event_type != EventType.UPDATE_REQUESTED or CODE.started_by(trigger, "burglary")
            continue
        assert CODE.message_for(trigger, "burglary") is not None, event_type
    assert EventType.REFERRAL_MADE in RECORDED_EVENTS
    assert not set(RECORDED_EVENTS) & set(TRIGGER_OF_EVENT)


def test_the_met_pledge_refuses_the_codes_events_as_not_applying() -> None:
    case = opened()
    case.facts.policy = case.policy = PLEDGE
    for type in ("suspect_interviewed", "referral_made", "vrr_requested"):
        with pytest.raises(EventRejected, match=f"{type} does not apply to a burglary case"):
            case.check(event(type, london(2026, 12, 21, 10)), london(2026, 12, 21, 10))


# -- Right 4: referral and needs assessment ---------------------------------------------


def test_a_referral_is_due_at_the_end_of_the_second_working_day_after_a_friday_report() -> None:
    case = opened()
    # Friday 18 December 2026: Monday 21 and Tuesday 22 count.
    assert latest(case, "support_referral").due_at == london(2026, 12, 23)
    assert latest(case, "needs_assessment").due_at == london(2026, 12, 23)


def test_a_referral_at_the_deadline_is_met_and_a_moment_later_is_late() -> None:
    on_time, late = opened(), opened()
    post(on_time, "referral_made", london(2026, 12, 23) - timedelta(microseconds=1))
    post(late, "referral_made", london(2026, 12, 23) + timedelta(seconds=1))
    assert latest(on_time, "support_referral").state == ObligationState.MET
    assert latest(late, "support_referral").state == ObligationState.MET_LATE


def test_a_needs_assessment_is_met_by_recording_it() -> None:
    case = opened()
    post(case, "needs_assessed", london(2026, 12, 21, 11))
    assert latest(case, "needs_assessment").state == ObligationState.MET


@pytest.mark.parametrize("category", ["sexual_offence", "domestic_abuse", "bereaved_relatives"])
def test_a_referral_without_explicit_consent_is_refused_where_the_code_requires_it(
    category: str,
) -> None:
    case = opened(category)
    at = london(2026, 12, 21, 10)
    with pytest.raises(EventRejected, match="needs their explicit consent"):
        case.check(event("referral_made", at), at)
    post(case, "support_consent", at, given=True)
    post(case, "referral_made", at + timedelta(hours=1))
    assert latest(case, "support_referral").state == ObligationState.MET


def test_without_consent_the_referral_is_not_applicable_with_the_reason_recorded() -> None:
    case = opened("sexual_offence")
    post(case, "support_consent", london(2026, 12, 21, 10), given=False)
    referral = latest(case, "support_referral")
    assert referral.state == ObligationState.CANCELLED
    assert referral.history[-1].cause.startswith(
        "not applicable: no explicit consent to a referral (sexual_offence)"
    )
    assert latest(case, "needs_assessment").state == ObligationState.PENDING


def test_a_burglary_victim_needs_no_consent_but_may_decline_the_referral() -> None:
    case = opened()
    case.check(event("referral_made", london(2026, 12, 21)), london(2026, 12, 21))
    post(case, "support_declined", london(2026, 12, 21, 10))
    referral = latest(case, "support_referral")
    assert referral.state == ObligationState.CANCELLED
    assert "the victim declined the referral" in referral.history[-1].cause


# -- Right 6: the investigation's key steps ----------------------------------------------


@pytest.mark.parametrize(
    "type",
    [
        "arrest",
        "suspect_interviewed",
        "charge",
        "released_without_charge",
        "released_on_bail",
        "released_under_investigation",
        "bail_conditions_changed",
        "bail_cancelled",
    ],
)
def test_each_step_is_due_in_5_working_days_over_christmas_and_new_year(type: str) -> None:
    case = opened()
    post_unsent(case, type, london(2026, 12, 23, 9))
    standard = "investigation_update" if type in STEPS else "release_update"
    # Counts 24, 29, 30, 31 December and 4 January (25, 28 Dec and 1 Jan are holidays).
    assert latest(case, standard).due_at == london(2027, 1, 5)


def test_with_enhanced_rights_a_step_on_christmas_eve_is_due_by_the_end_of_29_december() -> None:
    case = opened("domestic_abuse")
    post_unsent(case, "arrest", london(2026, 12, 24, 9))
    assert latest(case, "investigation_update").due_at == london(2026, 12, 30)


def test_an_enhanced_window_ending_after_the_clocks_go_forward_ends_at_london_midnight() -> None:
    case = opened("hate_crime", reported=london(2026, 3, 20, 10))
    post_unsent(case, "released_on_bail", london(2026, 3, 27, 17))
    # Friday 27 March 2026 -> Monday 30 March; BST by then: 23:00 UTC.
    assert latest(case, "release_update").due_at == datetime(2026, 3, 30, 23, tzinfo=UTC)


def test_a_decision_not_to_investigate_is_explained_with_its_reason() -> None:
    case = opened()
    post(case, "not_investigated", london(2026, 12, 21, 10), reason="no lines of enquiry")
    explanation = latest(case, "not_investigated_explanation")
    assert explanation.state == ObligationState.MET
    assert explanation.due_at == london(2026, 12, 31)


def test_a_decision_not_to_investigate_without_a_reason_is_not_explained_by_its_message() -> None:
    case = opened()
    post(case, "not_investigated", london(2026, 12, 21, 10))
    assert latest(case, "not_investigated_explanation").state == ObligationState.PENDING


# -- Enhanced Rights tiers ---------------------------------------------------------------


def test_a_reassessment_giving_enhanced_rights_re_times_the_open_update_and_says_so() -> None:
    case = opened(reported=london(2026, 10, 19, 9))
    post_unsent(case, "released_under_investigation", london(2026, 10, 22, 10))
    # Thursday 22 October 2026: 23, 26, 27, 28, 29 (the clocks go back on the 25th).
    assert latest(case, "release_update").due_at == london(2026, 10, 30)
    post(
        case,
        "needs_assessed",
        london(2026, 10, 22, 15),
        enhanced=True,
        basis="persistently_targeted",
    )
    update = latest(case, "release_update")
    assert update.due_at == london(2026, 10, 24)
    assert update.history[-1].event == "retimed"
    assert "Enhanced Rights (persistently_targeted)" in update.history[-1].cause
    assert case.enhanced and case.state.enhanced_basis == "persistently_targeted"


def test_a_reassessment_ending_enhanced_rights_gives_back_the_standard_window() -> None:
    case = opened("domestic_abuse")
    post_unsent(case, "arrest", london(2026, 12, 23, 9))
    assert latest(case, "investigation_update").due_at == london(2026, 12, 25)
    post(case, "needs_assessed", london(2026, 12, 23, 12), enhanced=False)
    assert latest(case, "investigation_update").due_at == london(2027, 1, 5)
    assert not case.enhanced


def test_a_shorter_window_already_passed_at_the_change_keeps_the_deadline_it_had() -> None:
    case = opened(reported=london(2026, 10, 19, 9))
    post_unsent(case, "released_under_investigation", london(2026, 10, 20, 10))
    post(case, "needs_assessed", london(2026, 10, 23, 15), enhanced=True, basis="vulnerable")
    # One working day from Tuesday 20 October ended before the change: 5 still apply.
    assert latest(case, "release_update").due_at == london(2026, 10, 28)


def test_obligations_started_after_the_change_use_the_new_tier() -> None:
    case = opened()
    post(case, "needs_assessed", london(2026, 12, 21, 9), enhanced=True, basis="intimidated")
    post_unsent(case, "arrest", london(2026, 12, 21, 10))
    assert latest(case, "investigation_update").due_at == london(2026, 12, 23)


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"enhanced": True}, "needs details.basis, one of: domestic_abuse"),
        ({"enhanced": True, "basis": "unlucky"}, "needs details.basis"),
        ({"basis": "vulnerable"}, "takes a basis only with enhanced true"),
    ],
)
def test_a_tier_needs_a_known_basis(details: dict[str, Any], message: str) -> None:
    case = opened()
    at = london(2026, 12, 21, 9)
    with pytest.raises(EventRejected, match=message):
        case.check(event("needs_assessed", at, **details), at)


# -- Victims' Right to Review ------------------------------------------------------------


def test_a_decision_not_to_prosecute_is_told_within_5_working_days() -> None:
    case = opened()
    post_unsent(case, "not_prosecuted", london(2026, 12, 23, 9), reason="not enough evidence")
    assert latest(case, "vrr_notification").due_at == london(2027, 1, 5)


def test_a_review_request_needs_a_decision_and_is_accepted_up_to_3_months_after() -> None:
    case = opened()
    at = london(2026, 12, 21, 9)
    with pytest.raises(EventRejected, match="needs a not_prosecuted decision"):
        case.check(event("vrr_requested", at), at)
    decided = london(2026, 11, 30, 10) + timedelta(days=21)
    post(case, "not_prosecuted", decided, reason="not enough evidence")
    last = add_calendar_months(decided, 3)
    assert last == london(2027, 3, 21, 10)
    with pytest.raises(EventRejected, match="accepted up to 3 months"):
        case.check(event("vrr_requested", last), last)
    case.check(event("vrr_requested", last - timedelta(seconds=1)), last)


def test_three_months_from_the_last_day_of_a_month_ends_on_the_shorter_months_last_day() -> None:
    assert add_calendar_months(london(2026, 11, 30, 10), 3) == london(2027, 2, 28, 10)
    assert add_calendar_months(london(2026, 1, 31, 10), 1) == london(2026, 2, 28, 10)


def test_a_review_is_acknowledged_within_10_and_decided_within_30_working_days() -> None:
    case = opened()
    post(case, "not_prosecuted", london(2026, 12, 21, 9), reason="not enough evidence")
    post_unsent(case, "vrr_requested", london(2026, 12, 23, 9))
    # 24, 29, 30, 31 Dec, 4-8 Jan, 11 Jan: the tenth working day.
    assert latest(case, "vrr_acknowledgement").due_at == london(2027, 1, 12)
    assert latest(case, "vrr_decision").due_at == london(2027, 2, 9)
    at = london(2027, 2, 9) - timedelta(seconds=1)
    with pytest.raises(EventRejected, match="already open"):
        case.check(event("vrr_requested", at), at)
    post(case, "vrr_decided", at, reason="the decision was upheld")
    assert latest(case, "vrr_decision").state == ObligationState.MET


# -- Right 7: the Victim Personal Statement ----------------------------------------------


def test_a_vps_offer_is_due_by_the_end_of_the_next_working_day_and_met_by_recording_it() -> None:
    case = opened()
    post(case, "witness_statement_taken", london(2026, 12, 24, 15))
    assert latest(case, "vps_offer").due_at == london(2026, 12, 30)
    post(case, "vps_offered", london(2026, 12, 29, 23, 59))
    assert latest(case, "vps_offer").state == ObligationState.MET


# -- the Ministry of Justice's measures, as data ------------------------------------------


def test_the_moj_measures_name_standards_of_the_policy_and_cover_every_right_asked_for() -> None:
    measures = {m.id: m.standards for m in CODE.measures_in("moj")}
    assert list(measures) == [
        "written_acknowledgement",
        "referral_to_support",
        "updates_in_timeframe",
        "vps_offered",
        "release_communication",
        "right_to_review",
    ]
    assert measures["release_communication"] == ["release_update"]
    assert PLEDGE.measures_in("moj") == []
