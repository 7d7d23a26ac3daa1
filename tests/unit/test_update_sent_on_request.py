"""A member of staff sends the victim an update now (`update_sent_on_request`): the book
sends the policy's periodic update, which, delivered, counts as any delivered update does;
and the one refusal rule for the victim, as the book, the service and the case page use it
(driven directly: no Temporal, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.case_actions import ActionContext, CaseAction, refusal, role_refusal
from standards.case import PERIODIC_UPDATE_TEMPLATE, CaseBook
from standards.case_reading import meets_once_delivered
from standards.case_state import CaseFacts, CaseState
from standards.contact import (
    DO_NOT_CONTACT,
    NO_CHANNEL_LEFT,
    NO_CONTACT_DETAILS,
    ContactProfile,
    contact_blocked,
)
from standards.events import (
    SENT_TO_VICTIM_NOW,
    CaseEvent,
    EventRejected,
    EventType,
    refused_for_victim,
)
from standards.obligations import ObligationState
from standards.policy import Policy, Trigger, load_policy
from tests.support.book import carry_out

POLICIES = Path(__file__).resolve().parents[2] / "policies"
PLEDGE = load_policy(POLICIES / "met-pledge.toml")
CODE = load_policy(POLICIES / "victims-code-2021.toml")
# Monday 4 May 2026, mid-morning in London.
REPORTED = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
NOW = EventType.UPDATE_SENT_ON_REQUEST


def opened(policy: Policy = PLEDGE, category: str = "burglary") -> CaseBook:
    case = CaseBook(
        CaseFacts(
            reference="05/1/26",
            category=category,
            borough="Camden",
            reported_at=REPORTED,
            policy=policy,
        ),
        CaseState(),
    )
    carry_out(case, case.open_case(), REPORTED)
    return case


def post(case: CaseBook, type: EventType, at: datetime, **details: Any) -> None:
    event = CaseEvent(type=type, at=at, details=details, actor="actor:1")
    case.check(event, at)
    carry_out(case, case.apply(event), at)


def states(case: CaseBook, standard: str) -> list[ObligationState]:
    return [o.state for o in case.state.obligations if o.standard == standard]


@pytest.mark.parametrize("policy", [PLEDGE, CODE], ids=["met-pledge", "victims-code-2021"])
def test_sending_an_update_now_sends_the_periodic_update_in_both_shipped_policies(
    policy: Policy,
) -> None:
    case = opened(policy)
    at = REPORTED + timedelta(days=2)
    event = CaseEvent(type=NOW, at=at, actor="actor:1")
    case.check(event, at)
    effects = case.apply(event)
    assert [m.template for m in effects.messages] == [PERIODIC_UPDATE_TEMPLATE]
    assert effects.messages[0].at == at
    assert not effects.starts and not effects.alerts


@pytest.mark.parametrize("policy", [PLEDGE, CODE], ids=["met-pledge", "victims-code-2021"])
def test_delivered_it_answers_the_victims_request_and_restarts_the_periodic_update_clock(
    policy: Policy,
) -> None:
    case = opened(policy)
    post(case, EventType.UPDATE_REQUESTED, REPORTED + timedelta(days=1))
    sent = REPORTED + timedelta(days=2)
    post(case, NOW, sent)
    assert states(case, "update_request_reply") == [ObligationState.MET]
    assert states(case, "victim_update") == [ObligationState.MET, ObligationState.PENDING]
    restarted = case.state.obligations[-1]
    assert restarted.standard == "victim_update" and restarted.started_at == sent
    assert restarted.due_at == sent + timedelta(days=28)
    # What a contact alone meets is left for the contact.
    assert states(case, "acknowledgement") == [ObligationState.MET]


def test_it_meets_what_a_delivered_periodic_update_meets_and_nothing_else() -> None:
    for policy in (PLEDGE, CODE):
        for rule in policy.standards_for("domestic_abuse"):
            periodic = rule.met_by_token(f"message:{PERIODIC_UPDATE_TEMPLATE}")
            assert meets_once_delivered(policy, NOW, "domestic_abuse", rule) == periodic
    case = opened(category="domestic_abuse")
    post(case, NOW, REPORTED + timedelta(hours=2))
    assert states(case, "dv_contact") == [ObligationState.PENDING]


def test_delivered_on_the_replys_deadline_it_is_met_and_a_moment_after_it_is_met_late() -> None:
    on_time = opened()
    post(on_time, EventType.UPDATE_REQUESTED, REPORTED + timedelta(hours=1))
    (reply,) = [o for o in on_time.state.obligations if o.standard == "update_request_reply"]
    post(on_time, NOW, reply.due_at)
    assert states(on_time, "update_request_reply") == [ObligationState.MET]

    late = opened()
    post(late, EventType.UPDATE_REQUESTED, REPORTED + timedelta(hours=1))
    post(late, NOW, reply.due_at + timedelta(seconds=1))
    assert states(late, "update_request_reply") == [ObligationState.MET_LATE]


def test_a_closed_case_refuses_it_and_changes_nothing() -> None:
    case = opened()
    post(case, EventType.CLOSED, REPORTED + timedelta(days=1), reason="no further enquiries")
    before = [(o.key, o.state) for o in case.state.obligations]
    at = REPORTED + timedelta(days=2)
    with pytest.raises(EventRejected, match="is closed: update_sent_on_request is not accepted"):
        case.check(CaseEvent(type=NOW, at=at), at)
    assert [(o.key, o.state) for o in case.state.obligations] == before


def test_feedback_takes_no_update_now_as_the_policy_sends_none_on_it() -> None:
    case = opened(category="feedback")
    at = REPORTED + timedelta(hours=2)
    with pytest.raises(EventRejected, match="does not apply to a feedback case"):
        case.check(CaseEvent(type=NOW, at=at), at)


def test_a_victim_who_asked_for_no_updates_is_refused_one_until_they_ask_for_one() -> None:
    case = opened()
    post(case, EventType.PREFERENCES_CHANGED, REPORTED + timedelta(hours=1), no_updates=True)
    at = REPORTED + timedelta(hours=2)
    with pytest.raises(EventRejected, match="the victim asked for no updates"):
        case.check(CaseEvent(type=NOW, at=at), at)
    post(case, EventType.UPDATE_REQUESTED, REPORTED + timedelta(hours=3))
    post(case, NOW, REPORTED + timedelta(hours=4))
    assert states(case, "update_request_reply") == [ObligationState.MET]
    # Still no periodic updates: the victim's "no updates" stands.
    assert ObligationState.PENDING not in states(case, "victim_update")


def test_the_refusal_rule_names_why_nothing_can_reach_the_victim() -> None:
    email = ContactProfile(preferred_channel="email", allowed_channels=["email"], has_email=True)
    texts_stopped = ContactProfile(
        preferred_channel="sms", allowed_channels=["sms"], has_phone=True, sms_opted_out=True
    )
    assert contact_blocked(email) is None
    assert contact_blocked(ContactProfile("email", ["email"], True, do_not_contact=True)) == (
        DO_NOT_CONTACT
    )
    assert contact_blocked(texts_stopped) == NO_CHANNEL_LEFT
    assert contact_blocked(None) == NO_CONTACT_DETAILS
    assert refused_for_victim(NOW, contact_blocked=DO_NOT_CONTACT) == (
        f"{DO_NOT_CONTACT}: contact them another way and record the contact"
    )
    assert refused_for_victim(NOW, updates_paused=True, update_asked=True) is None
    assert refused_for_victim(NOW) is None


def test_only_events_that_message_the_victim_now_are_refused_for_the_victim() -> None:
    assert {NOW} == SENT_TO_VICTIM_NOW
    for event_type in EventType:
        if event_type not in SENT_TO_VICTIM_NOW:
            blocked = refused_for_victim(
                event_type, contact_blocked=DO_NOT_CONTACT, updates_paused=True
            )
            assert blocked is None, event_type
    assert PLEDGE.message_for(Trigger.UPDATE_SENT_ON_REQUEST, "burglary") == "periodic_update"


def page_context(**victim: Any) -> ActionContext:
    return ActionContext(status="open", category="burglary", may_see_victim=True, **victim)


def test_the_case_page_refuses_the_same_with_the_role_first() -> None:
    action = CaseAction.SEND_UPDATE
    assert refusal(action, page_context(), PLEDGE) is None
    assert refusal(action, page_context(contact_blocked=DO_NOT_CONTACT), PLEDGE) == (
        "The victim asked not to be contacted automatically: "
        "contact them another way and record the contact"
    )
    paused = page_context(updates_paused=True)
    assert (refusal(action, paused, PLEDGE) or "").startswith("The victim asked for no updates")
    assert refusal(action, page_context(updates_paused=True, update_asked=True), PLEDGE) is None
    closed = ActionContext(status="closed", category="burglary", may_see_victim=True)
    assert refusal(action, closed, PLEDGE) == "The case is closed: reopen it first"
    hidden = ActionContext(
        status="open", category="burglary", may_see_victim=False, contact_blocked=DO_NOT_CONTACT
    )
    assert role_refusal(action, False) == refusal(action, hidden, PLEDGE)
    assert (role_refusal(action, False) or "").startswith("Only the Victim Focus Unit")
