"""The case page's actions as pure decisions: who may record what and why not, what needs
doing next in order of urgency, how the timeline names who did it, and how the action
forms are read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.datastructures import FormData

from service.case_actions import ActionContext, CaseAction, done_text, refusal
from service.case_page import ObligationEntry, display_actor, name_actors, needing_action
from standards.case_reading import applies_to
from standards.events import NOTE, STORED_DETAILS, EventType
from standards.policy import load_policy
from storage.enums import CaseStatus, ObligationState
from web.pages.case_action_forms import case_action_details

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OPEN_CASE = ActionContext(status=CaseStatus.OPEN, category="general", may_see_victim=True)


def entry(
    obligation_id: int,
    due_in: timedelta,
    state: ObligationState = ObligationState.PENDING,
    breached: bool = False,
) -> ObligationEntry:
    due = NOW + due_in
    return ObligationEntry(
        obligation_id=obligation_id,
        key=f"s#{obligation_id}",
        standard="dv_contact",
        occurrence=1,
        state=state,
        started_at=due - timedelta(days=1),
        due_at=due,
        warn_at=due - timedelta(hours=4),
        met_at=None,
        breached_at=due if breached else None,
        explained_at=None,
        explanation_reason=None,
        explanation_text=None,
        explainable=breached,
    )


def form(**fields: str) -> FormData:
    return FormData(
        [
            (name.replace("__", "-").replace("court_outcome-", "court-outcome-"), value)
            for name, value in fields.items()
        ]
    )


def test_an_open_case_takes_every_case_wide_action_but_reopening() -> None:
    for action in CaseAction:
        if action in (CaseAction.CONTACT, CaseAction.EXPLANATION):
            continue
        why = refusal(action, OPEN_CASE, POLICY)
        assert (why is None) == (action != CaseAction.REOPEN), action
    assert refusal(CaseAction.REOPEN, OPEN_CASE, POLICY) == (
        "The case is open: only a closed case can be reopened"
    )


def test_a_closed_case_takes_only_what_the_book_accepts_when_closed() -> None:
    closed = ActionContext(status=CaseStatus.CLOSED, category="general", may_see_victim=True)
    assert refusal(CaseAction.ARREST, closed, POLICY) == "The case is closed: reopen it first"
    assert refusal(CaseAction.ASSIGN, closed, POLICY) == "The case is closed: reopen it first"
    for action in (CaseAction.REVIEW, CaseAction.PREFERENCES, CaseAction.UPDATE):
        assert refusal(action, closed, POLICY) is None
    assert refusal(CaseAction.REOPEN, closed, POLICY) is None


def test_only_those_who_may_see_the_victim_change_what_the_victim_is_sent() -> None:
    overseer = ActionContext(status=CaseStatus.OPEN, category="general", may_see_victim=False)
    for action in (CaseAction.PREFERENCES, CaseAction.UPDATE):
        why = refusal(action, overseer, POLICY)
        assert why is not None and why.startswith("Only the Victim Focus Unit")
        assert "\n" not in why
    assert refusal(CaseAction.ARREST, overseer, POLICY) is None
    assert refusal(CaseAction.REVIEW, overseer, POLICY) is None


def test_an_event_the_policy_has_nothing_for_is_not_offered_as_the_book_refuses_it() -> None:
    feedback = ActionContext(status=CaseStatus.OPEN, category="feedback", may_see_victim=True)
    assert not applies_to(POLICY, EventType.ARREST, "feedback")
    assert applies_to(POLICY, EventType.ARREST, "general")
    assert applies_to(POLICY, EventType.CLOSED, "feedback")
    assert refusal(CaseAction.ARREST, feedback, POLICY) == (
        "The policy has nothing for this on a feedback case"
    )
    assert refusal(CaseAction.CLOSE, feedback, POLICY) is None


def test_what_needs_doing_next_is_overdue_first_then_by_time_left_then_breaches_met_late() -> None:
    later = entry(1, timedelta(days=20))
    soon = entry(2, timedelta(hours=2))
    overdue = entry(3, timedelta(hours=-1), ObligationState.BREACHED, breached=True)
    long_overdue = entry(4, timedelta(days=-2), ObligationState.BREACHED, breached=True)
    met_late = entry(5, timedelta(days=-3), ObligationState.MET_LATE, breached=True)
    met = entry(6, timedelta(days=-1), ObligationState.MET)
    due_now = entry(7, timedelta(0))

    order = needing_action([later, met, soon, met_late, overdue, due_now, long_overdue], NOW)

    assert [o.obligation_id for o in order] == [4, 3, 7, 2, 1, 5]


def test_the_timeline_names_who_recorded_an_event_and_the_event_in_words() -> None:
    actors = {"actor:3": "sam.patel@met.example"}
    assert name_actors("contact_recorded by actor:3", actors) == (
        "Contact recorded by sam.patel@met.example"
    )
    assert name_actors("restarted: update_delivered by actor:3", actors) == (
        "restarted: Update delivered by sam.patel@met.example"
    )
    assert name_actors("deadline passed unmet", actors) == "deadline passed unmet"
    assert name_actors("review_recorded by actor:9", actors) == "Review recorded by actor:9"


def test_an_actor_is_a_staff_member_by_name_or_as_the_event_gave_it() -> None:
    names = {"staff:2": "sam.patel@met.example"}
    assert display_actor("staff:2", names) == "sam.patel@met.example"
    assert display_actor("staff:7", names) == "a member of staff whose account has gone"
    assert display_actor("crime recording system", names) == "crime recording system"


def test_a_note_is_stored_with_every_event_but_an_explanation_never_reaching_the_case() -> None:
    for event_type in EventType:
        assert (NOTE in STORED_DETAILS.get(event_type, ())) == (
            event_type != EventType.BREACH_EXPLAINED
        )


def test_the_forms_give_the_details_of_their_events() -> None:
    assert case_action_details(
        CaseAction.ASSIGN,
        form(assign__officer_name=" DC Sam Patel ", assign__officer_contact="", assign__note="x"),
    ) == ({"officer_name": "DC Sam Patel", NOTE: "x"}, [])
    assert case_action_details(
        CaseAction.PREFERENCES,
        form(preferences__update_interval_days="14", preferences__updates="no"),
    ) == ({"update_interval_days": 14, "no_updates": True}, [])
    assert case_action_details(CaseAction.UPDATE, form(update__channel="phone")) == (
        {"channel": "phone"},
        [],
    )
    assert case_action_details(CaseAction.REOPEN, form()) == ({}, [])


def test_a_wrong_form_says_what_is_wrong_with_which_field_in_one_line() -> None:
    cases = [
        (CaseAction.ASSIGN, form(assign__officer_name=""), "assign-officer_name"),
        (CaseAction.ASSIGN, form(assign__officer_name="x" * 201), "assign-officer_name"),
        (CaseAction.CLOSE, form(), "close-reason"),
        (CaseAction.COURT_OUTCOME, form(court_outcome__outcome="a\x00b"), "court-outcome-outcome"),
        (CaseAction.PREFERENCES, form(), "preferences-update_interval_days"),
        (
            CaseAction.PREFERENCES,
            form(preferences__update_interval_days="0"),
            "preferences-update_interval_days",
        ),
        (CaseAction.PREFERENCES, form(preferences__updates="maybe"), "preferences-updates"),
        (CaseAction.UPDATE, form(update__channel="pigeon"), "update-channel"),
        (CaseAction.REVIEW, form(review__note="n" * 2001), "review-note"),
    ]
    for action, given, field in cases:
        _details, errors = case_action_details(action, given)
        assert [e.field for e in errors] == [field], (action, errors)
        assert "\n" not in errors[0].message


def test_the_confirmation_names_only_an_action_the_site_redirects_with() -> None:
    assert done_text("review", "01/1/26") == "Supervisor review recorded on case 01/1/26"
    assert done_text("contact", "01/1/26") == "Contact recorded on case 01/1/26"
    assert done_text("<script>", "01/1/26") is None
    assert done_text(None, "01/1/26") is None
