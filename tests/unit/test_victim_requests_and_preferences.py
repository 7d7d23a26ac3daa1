"""A victim's request for an update is an obligation with the policy's own window, and a
victim's change of channel or safe hours is theirs to make: the book's decisions and the
form's rules, driven directly (no Temporal, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.victim_case import promised_day, reply_rule, window_words
from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState
from standards.clock import WindowUnit
from standards.contact import ChoiceProblem, ContactChoice, contact_choice, parse_clock_time
from standards.delivery import DeferredMessage, DeliveryStatus, MessageIntent, MessageOutcome
from standards.driving import CaseSteps, Command, ComputeSchedules, Send, run_steps
from standards.events import CaseEvent, EventType
from standards.obligations import ObligationState
from standards.policy import load_policy
from standards.schedules import schedule_for
from standards.vocabulary import Channel, Language
from tests.support.book import carry_out
from web.pages.victim_text import CATALOGUE, text

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")
REPLY = "update_request_reply"
# Sunday 6 December 2026, mid-morning in London.
SUNDAY = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def opened(category: str = "burglary") -> CaseBook:
    case = CaseBook(
        CaseFacts(
            reference="01/8/26",
            category=category,
            borough="Camden",
            reported_at=SUNDAY - timedelta(days=3),
            policy=POLICY,
        ),
        CaseState(),
    )
    carry_out(case, case.open_case(), SUNDAY - timedelta(days=3))
    return case


def post(case: CaseBook, type: EventType, at: datetime, **details: Any) -> None:
    event = CaseEvent(type=type, at=at, details=details, actor="actor:1")
    case.check(event, at)
    carry_out(case, case.apply(event), at)


def replies(case: CaseBook) -> list[tuple[str, ObligationState, datetime]]:
    return [(o.key, o.state, o.due_at) for o in case.state.obligations if o.standard == REPLY]


def test_a_request_for_an_update_starts_a_reply_due_at_the_end_of_the_second_working_day() -> None:
    case = opened()
    post(case, EventType.UPDATE_REQUESTED, SUNDAY)
    # Monday 7 and Tuesday 8 December: due at midnight starting Wednesday 9, London time.
    assert replies(case) == [
        (f"{REPLY}#1", ObligationState.PENDING, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    ]


def test_asking_again_before_the_reply_starts_no_second_clock_but_after_it_does() -> None:
    case = opened()
    post(case, EventType.UPDATE_REQUESTED, SUNDAY)
    post(case, EventType.UPDATE_REQUESTED, SUNDAY + timedelta(days=1))
    assert len(replies(case)) == 1
    post(case, EventType.CONTACT_RECORDED, SUNDAY + timedelta(days=1, hours=2))
    assert replies(case)[0][1] == ObligationState.MET
    post(case, EventType.UPDATE_REQUESTED, SUNDAY + timedelta(days=2))
    assert [state for _key, state, _due in replies(case)] == [
        ObligationState.MET,
        ObligationState.PENDING,
    ]


@pytest.mark.parametrize(
    ("type", "details"),
    [
        (EventType.CONTACT_RECORDED, {"method": "phone"}),
        (EventType.UPDATE_DELIVERED, {"channel": "email"}),
    ],
)
def test_a_recorded_contact_or_an_update_given_after_the_request_meets_the_reply(
    type: EventType, details: dict[str, Any]
) -> None:
    case = opened()
    post(case, EventType.UPDATE_REQUESTED, SUNDAY)
    post(case, type, SUNDAY + timedelta(hours=5), **details)
    assert replies(case)[0][1] == ObligationState.MET


def test_a_reply_not_given_by_its_deadline_is_breached_like_any_standard() -> None:
    case = opened()
    post(case, EventType.UPDATE_REQUESTED, SUNDAY)
    alerts = carry_out(case, case.advance(SUNDAY + timedelta(days=3)), SUNDAY + timedelta(days=3))
    assert replies(case)[0][1] == ObligationState.BREACHED
    assert any(alert.obligation_key == f"{REPLY}#1" for alert in alerts)


def test_a_closed_case_still_owes_the_victim_a_reply() -> None:
    case = opened()
    post(case, EventType.CLOSED, SUNDAY - timedelta(days=1), reason="no further lines of enquiry")
    post(case, EventType.UPDATE_REQUESTED, SUNDAY)
    assert [state for _key, state, _due in replies(case)] == [ObligationState.PENDING]


def test_a_change_of_channel_or_safe_hours_moves_no_clock_and_sends_nothing() -> None:
    case = opened()
    before = [(o.key, o.state, o.due_at) for o in case.state.obligations]
    event = CaseEvent(
        type=EventType.PREFERENCES_CHANGED, at=SUNDAY, details={"contact_changed": True}
    )
    case.check(event, SUNDAY)
    effects = case.apply(event)
    assert not effects.starts and not effects.retimes and not effects.messages
    assert not effects.alerts
    assert [(o.key, o.state, o.due_at) for o in case.state.obligations] == before


def test_the_page_promises_the_day_the_policy_gives() -> None:
    rule = reply_rule(POLICY, "burglary")
    assert rule is not None and rule.id == REPLY
    assert window_words(rule.window, rule.unit) == "2 working days"
    case = opened()
    post(case, EventType.UPDATE_REQUESTED, SUNDAY)
    ((_key, _state, due),) = replies(case)
    assert promised_day(due) == "Tuesday 8 December"
    assert window_words(1, WindowUnit.HOURS) == "1 hour"
    # A deadline in the middle of a day is that day.
    assert promised_day(datetime(2026, 12, 8, 15, 0, tzinfo=UTC)) == "Tuesday 8 December"


def test_every_enhanced_rights_category_is_discreet_by_default() -> None:
    assert set(POLICY.enhanced_rights) <= set(POLICY.discreet_by_default)
    assert POLICY.discreet_by_default_for("hate_crime")
    assert not POLICY.discreet_by_default_for("burglary")


def choose(**given: Any) -> ContactChoice | list[ChoiceProblem]:
    values: dict[str, Any] = {
        "channel": "email",
        "no_texts": False,
        "safe_from": "",
        "safe_until": "",
        "has_email": True,
        "has_phone": True,
        "contact_number": "101",
        **given,
    }
    return contact_choice(**values)


def test_a_victim_may_choose_text_messages_at_safe_hours_that_wrap_past_midnight() -> None:
    assert choose(channel="sms", safe_from="21:00", safe_until="7.30") == ContactChoice(
        preferred_channel=Channel.SMS,
        allowed_channels=[Channel.SMS, Channel.EMAIL],
        safe_hours_start=time(21),
        safe_hours_end=time(7, 30),
    )


def test_do_not_text_me_takes_text_messages_out_of_the_allowed_channels() -> None:
    choice = choose(no_texts=True)
    assert isinstance(choice, ContactChoice)
    assert choice.allowed_channels == [Channel.EMAIL]
    assert choice.safe_hours_start is None and choice.safe_hours_end is None


@pytest.mark.parametrize(
    ("given", "fields"),
    [
        ({"channel": "sms", "no_texts": True}, ["channel"]),
        ({"channel": "email", "has_email": False}, ["channel"]),
        ({"channel": "pigeon"}, ["channel"]),
        ({"safe_from": "9am", "safe_until": "25:00"}, ["safe_from", "safe_until"]),
        ({"safe_from": "09:00"}, ["safe_until"]),
        ({"safe_from": "09:00", "safe_until": "9.00"}, ["safe_until"]),
    ],
)
def test_a_choice_that_cannot_be_used_names_every_wrong_field(
    given: dict[str, Any], fields: list[str]
) -> None:
    problems = choose(**given)
    assert isinstance(problems, list)
    assert [problem.field for problem in problems] == fields
    assert all(problem.message for problem in problems)


@pytest.mark.parametrize(
    "given",
    [
        {"channel": "pigeon"},
        {"channel": "sms", "no_texts": True},
        {"channel": "email", "has_email": False},
        {"channel": "sms", "has_phone": False},
        {"safe_from": "9am"},
        {"safe_from": "09:00"},
        {"safe_from": "09:00", "safe_until": "9.00"},
    ],
)
def test_every_problem_with_a_choice_is_worded_in_english_and_welsh_on_the_victim_page(
    given: dict[str, Any],
) -> None:
    problems = choose(**given)
    assert isinstance(problems, list) and problems
    for problem in problems:
        key = f"prefs.error.{problem.code}"
        english = text(Language.ENGLISH, key, number="101")
        # The page's English is the book's own wording; the Welsh is its own string.
        assert english == problem.message
        assert key in CATALOGUE and Language.WELSH.value in CATALOGUE[key]
        assert text(Language.WELSH, key, number="101") != english


def test_a_clock_time_is_on_the_24_hour_clock() -> None:
    assert parse_clock_time(" 9:05 ") == time(9, 5)
    assert parse_clock_time("23.59") == time(23, 59)
    assert parse_clock_time("24:00") is None
    assert parse_clock_time("noon") is None


def test_a_message_waiting_for_the_old_safe_hours_is_planned_again_when_they_change() -> None:
    book = opened()
    intent = MessageIntent(key="01/8/26|arrest|9", template="arrest", at=SUNDAY)
    waiting = DeferredMessage(intent=intent, retry_at=SUNDAY + timedelta(hours=10))
    steps = CaseSteps(book, lambda: SUNDAY + timedelta(hours=1), deferred=[waiting])
    sent: list[Command] = []

    def execute(command: Command) -> object:
        sent.append(command)
        if isinstance(command, ComputeSchedules):
            return {r.key: schedule_for(r) for r in command.requests}
        if isinstance(command, Send):
            return MessageOutcome(status=DeliveryStatus.DELIVERED, channel="sms")
        return None

    other = CaseEvent(type=EventType.PREFERENCES_CHANGED, at=SUNDAY, details={"no_updates": False})
    run_steps(steps.carry_out(book.apply(other)), execute)
    assert steps.deferred == [waiting] and not any(isinstance(c, Send) for c in sent)
    changed = CaseEvent(
        type=EventType.PREFERENCES_CHANGED, at=SUNDAY, details={"contact_changed": True}
    )
    run_steps(steps.carry_out(book.apply(changed)), execute)
    sends = [c for c in sent if isinstance(c, Send)]
    assert [s.request.intent.key for s in sends] == [intent.key]
    # Sent as planned now, not at the old hours' opening.
    assert sends[0].request.at == SUNDAY + timedelta(hours=1)
    assert steps.deferred == []
