"""The case workflow on the time-skipping server, with its real activities."""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError

import service.case_opening
import service.cases
from service.cases import CaseError, CaseIn, EventIn
from service.simulate import Rehearsal
from standards import visibility as sa
from standards.contracts import CaseView, CaseWorkflowInput, EventReceipt, case_workflow_id
from standards.events import FUTURE_TOLERANCE, CaseEvent
from standards.events import EventType as CaseEventType
from standards.policy import Policy
from storage import models
from tests.workflows.conftest import FORCE, POLICY, RehearsalFactory

REPORTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, before the clocks change


def reference() -> str:
    return f"T-{uuid.uuid4().hex[:12]}"


def case_in(
    ref: str, category: str = "general", reported_at: datetime = REPORTED, **victim: Any
) -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": ref,
            "category": category,
            "reported_at": reported_at,
            "borough": "Camden",
            "vulnerable": victim.pop("vulnerable", False),
            "victim": {
                "name": "Alex Smith",
                "email": "alex@example.org",
                "phone": "+447700900123",
                "preferred_channel": "sms",
                **victim,
            },
        }
    )


def event(
    ref: str, type: str, at: datetime, standard: str | None = None, **details: Any
) -> EventIn:
    return EventIn.model_validate(
        {"reference": ref, "type": type, "at": at, "standard": standard, "details": details}
    )


def occurrences(view: CaseView, standard: str) -> list[Any]:
    return [o for o in view.obligations if o.standard == standard]


def only(view: CaseView, standard: str) -> Any:
    found = occurrences(view, standard)
    assert len(found) == 1, found
    return found[0]


async def opened(
    cases: RehearsalFactory,
    category: str = "general",
    reported_at: datetime = REPORTED,
    **victim: Any,
) -> tuple[Rehearsal, str]:
    rehearsal = cases.rehearsal(reported_at)
    await rehearsal.begin()
    ref = reference()
    await rehearsal.open(case_in(ref, category, reported_at, **victim))
    return rehearsal, ref


def alerts_of(cases: RehearsalFactory, ref: str) -> list[tuple[str, str]]:
    with cases.sessions() as session:
        return [
            (a.standard, a.kind)
            for a in session.scalars(
                select(models.Alert).where(models.Alert.reference == ref).order_by(models.Alert.at)
            )
        ]


async def test_acknowledgement_is_sent_at_intake_and_meets_its_standard(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    view = await rehearsal.view(ref)
    ack = only(view, "acknowledgement")
    assert ack.state == "met"
    assert ack.due_at == REPORTED + timedelta(hours=24)
    update = only(view, "victim_update")
    assert update.state == "pending"
    assert update.due_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 09:00 BST, 28 days on
    messages = [m for m in rehearsal.messages() if m["reference"] == ref]
    assert [m["template"] for m in messages] == ["acknowledgement"]
    assert ref in messages[0]["body"] and "101" in messages[0]["body"]
    assert messages[0]["to"] == "+447700900123"


async def test_every_message_gives_the_contact_number_of_the_policy_the_case_runs_under(
    cases: RehearsalFactory, policy: Policy
) -> None:
    own_number = dataclasses.replace(policy, contact_number="0300 123 1212")
    rehearsal = cases.rehearsal(REPORTED, policy=own_number)
    await rehearsal.begin()
    ref = reference()
    await rehearsal.open(case_in(ref, "road_traffic_collision"))
    await rehearsal.post(event(ref, "officer_assigned", REPORTED + timedelta(hours=1)))
    bodies = [m["body"] for m in rehearsal.messages() if m["reference"] == ref]
    assert len(bodies) == 2
    for body in bodies:
        assert "0300 123 1212" in body
        assert "101" not in body


async def intake_markers(cases: RehearsalFactory, ref: str) -> list[str]:
    """The markers the case's intake recorded (local activities and patches), in order."""
    history = await cases.env.client.get_workflow_handle(case_workflow_id(ref)).fetch_history()
    markers = []
    for history_event in history.events:
        if history_event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            break
        if history_event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            markers.append(history_event.marker_recorded_event_attributes.marker_name)
    return markers


CURRENT_INPUT = service.case_opening.workflow_input


def as_started_before_intake_planning(*args: Any, **kwargs: Any) -> CaseWorkflowInput:
    """The input a case got before the service worked out intake deadlines, set local
    sends and had sends recorded with the changes."""
    current = CURRENT_INPUT(*args, **kwargs)
    return dataclasses.replace(
        current, opening=None, intake_schedules=[], local_sends=False, send_and_record=False
    )


async def test_intake_deadlines_come_from_the_service_so_intake_runs_one_local_activity(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases, "road_traffic_collision")
    # The acknowledgement is sent, and recorded with the new obligations, at once.
    assert await intake_markers(cases, ref) == ["core_local_activity"]
    traffic = only(await rehearsal.view(ref), "traffic_unit_contact")
    assert traffic.due_at == datetime(2026, 3, 17, 0, 0, tzinfo=UTC)  # end of 10th working day


async def test_a_delivery_that_restarts_the_update_clock_is_recorded_after_its_send(
    cases: RehearsalFactory,
) -> None:
    """The send's activity cannot record a restart (its deadline is worked out first):
    the workflow records it, and the met update, afterwards."""
    rehearsal, ref = await opened(cases)
    await rehearsal.post(event(ref, "officer_assigned", REPORTED + timedelta(hours=1)))
    updates = occurrences(await rehearsal.view(ref), "victim_update")
    assert [o.state for o in updates] == ["met", "pending"]
    with cases.sessions() as session:
        rows = session.scalars(
            select(models.Obligation)
            .where(
                models.Obligation.standard == "victim_update",
                models.Obligation.case.has(models.Case.reference == ref),
            )
            .order_by(models.Obligation.occurrence)
        )
        assert [(r.key, r.state, [t.event for t in r.transitions]) for r in rows] == [
            (o.key, o.state, [t.event for t in o.history]) for o in updates
        ]


async def test_a_case_started_with_the_older_input_works_out_the_same_deadlines_itself(
    cases: RehearsalFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    rehearsal, current = await opened(cases, "road_traffic_collision")
    with monkeypatch.context() as patch:
        patch.setattr(service.case_opening, "workflow_input", as_started_before_intake_planning)
        older = reference()
        await rehearsal.open(case_in(older, "road_traffic_collision"))
    # Deadlines in a local activity, then the send with the record behind its patch marker.
    assert await intake_markers(cases, older) == [
        "core_local_activity",
        "core_patch",
        "core_local_activity",
    ]

    def clocks(view: CaseView) -> list[tuple[str, str, datetime, datetime, datetime | None]]:
        return [(o.standard, o.state, o.started_at, o.due_at, o.met_at) for o in view.obligations]

    assert clocks(await rehearsal.view(older)) == clocks(await rehearsal.view(current))


async def test_domestic_abuse_contact_within_24_hours_is_met(cases: RehearsalFactory) -> None:
    rehearsal, ref = await opened(cases, "domestic_abuse")
    await rehearsal.post(
        event(ref, "contact_recorded", REPORTED + timedelta(hours=20), standard="dv_contact")
    )
    view = await rehearsal.view(ref)
    dv = only(view, "dv_contact")
    assert (dv.state, dv.met_at) == ("met", REPORTED + timedelta(hours=20))
    # Any recorded contact is also an update: the update clock restarts from it.
    updates = occurrences(view, "victim_update")
    assert [o.state for o in updates] == ["met", "pending"]
    assert updates[1].started_at == REPORTED + timedelta(hours=20)


async def test_unmet_domestic_abuse_contact_warns_breaches_and_escalates_then_is_met_late(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases, "domestic_abuse")
    await rehearsal.advance_to(REPORTED + timedelta(hours=49))
    dv = only(await rehearsal.view(ref), "dv_contact")
    assert dv.state == "breached"
    assert dv.warned_at == REPORTED + timedelta(hours=18)
    assert dv.breached_at == REPORTED + timedelta(hours=24)
    assert dv.escalated_at == REPORTED + timedelta(hours=48)
    assert alerts_of(cases, ref) == [
        ("dv_contact", "warning"),
        ("dv_contact", "breach"),
        ("dv_contact", "escalation"),
    ]
    await rehearsal.post(event(ref, "contact_recorded", REPORTED + timedelta(hours=49)))
    dv = only(await rehearsal.view(ref), "dv_contact")
    assert (dv.state, dv.met_at) == ("met_late", REPORTED + timedelta(hours=49))
    assert [t.event for t in dv.history] == [
        "started",
        "warned",
        "breached",
        "escalated",
        "met_late",
    ]
    with cases.sessions() as session:
        row = session.scalar(
            select(models.Obligation).where(
                models.Obligation.key == dv.key,
                models.Obligation.case.has(models.Case.reference == ref),
            )
        )
        assert row is not None and row.state == "met_late"
        assert [t.event for t in row.transitions] == [
            "started",
            "warned",
            "breached",
            "escalated",
            "met_late",
        ]


async def test_a_case_entered_three_days_late_raises_the_breaches_of_what_it_has_missed(
    cases: RehearsalFactory,
) -> None:
    entered = REPORTED + timedelta(days=3)
    rehearsal = cases.rehearsal(entered)
    await rehearsal.begin()
    ref = reference()
    await rehearsal.open(case_in(ref, "domestic_abuse", REPORTED))
    view = await rehearsal.view(ref)
    ack = only(view, "acknowledgement")
    assert (ack.state, ack.breached_at) == ("met_late", REPORTED + timedelta(hours=24))
    assert timedelta(0) <= ack.met_at - entered < timedelta(minutes=1)  # sent on entry
    assert [t.event for t in ack.history] == ["started", "breached", "met_late"]
    dv = only(view, "dv_contact")
    assert (dv.state, dv.escalated_at) == ("breached", REPORTED + timedelta(hours=48))
    assert sorted(alerts_of(cases, ref)) == [
        ("acknowledgement", "breach"),
        ("dv_contact", "breach"),
        ("dv_contact", "escalation"),
    ]
    with cases.sessions() as session:
        row = session.scalar(
            select(models.Obligation).where(
                models.Obligation.key == ack.key,
                models.Obligation.case.has(models.Case.reference == ref),
            )
        )
        assert row is not None
        assert [t.event for t in row.transitions] == ["started", "breached", "met_late"]


async def test_serious_assault_review_is_met_only_by_a_review(cases: RehearsalFactory) -> None:
    rehearsal, ref = await opened(cases, "serious_assault")
    with pytest.raises(CaseError, match="not met by a recorded contact"):
        await rehearsal.post(
            event(
                ref,
                "contact_recorded",
                REPORTED + timedelta(hours=1),
                standard="serious_assault_review",
            )
        )
    await rehearsal.post(event(ref, "contact_recorded", REPORTED + timedelta(hours=2)))
    assert only(await rehearsal.view(ref), "serious_assault_review").state == "pending"
    await rehearsal.post(event(ref, "review_recorded", REPORTED + timedelta(hours=17)))
    review = only(await rehearsal.view(ref), "serious_assault_review")
    assert (review.state, review.due_at) == ("met", REPORTED + timedelta(hours=18))


async def test_traffic_unit_deadline_counts_ten_working_days_over_christmas(
    cases: RehearsalFactory,
) -> None:
    reported = datetime(2026, 12, 18, 10, 0, tzinfo=UTC)
    rehearsal, ref = await opened(cases, "road_traffic_collision", reported)
    traffic = only(await rehearsal.view(ref), "traffic_unit_contact")
    assert traffic.due_at == datetime(2027, 1, 7, 0, 0, tzinfo=UTC)
    await rehearsal.post(event(ref, "officer_assigned", reported + timedelta(days=3)))
    traffic = only(await rehearsal.view(ref), "traffic_unit_contact")
    assert traffic.state == "met"
    templates = [m["template"] for m in rehearsal.messages() if m["reference"] == ref]
    assert templates == ["acknowledgement", "traffic_unit_contact"]


async def test_arrest_update_is_due_in_one_working_day_for_enhanced_rights_victims(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases, "domestic_abuse", do_not_contact=True)
    arrest_at = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # a Friday
    await rehearsal.post(event(ref, "arrest", arrest_at))
    arrest = only(await rehearsal.view(ref), "arrest_charge_update")
    # Counting starts Monday 9 March; the deadline is the end of that day (GMT).
    assert (arrest.state, arrest.due_at) == ("pending", datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    assert ("arrest", "manual_contact_required") in alerts_of(cases, ref)


async def test_arrest_update_for_a_general_case_is_five_working_days_and_met_by_the_message(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    arrest_at = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    await rehearsal.post(event(ref, "arrest", arrest_at))
    arrest = only(await rehearsal.view(ref), "arrest_charge_update")
    assert arrest.due_at == datetime(2026, 3, 14, 0, 0, tzinfo=UTC)
    assert arrest.state == "met"


async def test_victim_update_recurs_from_each_qualifying_update_and_breaches_when_missed(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    await rehearsal.post(event(ref, "update_delivered", REPORTED + timedelta(days=10)))
    updates = occurrences(await rehearsal.view(ref), "victim_update")
    assert [o.state for o in updates] == ["met", "pending"]
    # 10 days on, then 28 calendar days at 09:00 London time (BST from 29 March).
    assert updates[1].due_at == datetime(2026, 4, 9, 8, 0, tzinfo=UTC)
    await rehearsal.advance_to(datetime(2026, 4, 9, 8, 1, tzinfo=UTC))
    updates = occurrences(await rehearsal.view(ref), "victim_update")
    assert updates[1].state == "breached"
    await rehearsal.post(event(ref, "contact_recorded", datetime(2026, 4, 9, 12, 0, tzinfo=UTC)))
    updates = occurrences(await rehearsal.view(ref), "victim_update")
    assert [o.state for o in updates] == ["met", "met_late", "pending"]
    assert updates[2].started_at == datetime(2026, 4, 9, 12, 0, tzinfo=UTC)


async def test_closing_cancels_the_update_clock_and_the_closure_message_with_a_reason_meets_it(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    closed_at = REPORTED + timedelta(days=3)
    await rehearsal.post(event(ref, "closed", closed_at, reason="no further lines of enquiry"))
    view = await rehearsal.view(ref)
    assert view.status == "closed"
    assert only(view, "victim_update").state == "cancelled"
    closure = only(view, "closure_explanation")
    assert closure.state == "met"
    body = next(m for m in rehearsal.messages() if m["template"] == "closure")["body"]
    assert "no further lines of enquiry" in body


async def test_a_closure_without_a_reason_leaves_the_explanation_owed(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    await rehearsal.post(event(ref, "closed", REPORTED + timedelta(days=1)))
    closure = only(await rehearsal.view(ref), "closure_explanation")
    assert closure.state == "pending"
    assert closure.due_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 5 working days from Tue


async def test_reopening_cancels_an_owed_closure_explanation_and_restarts_updates(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    await rehearsal.post(event(ref, "closed", REPORTED + timedelta(days=1)))
    reopened_at = REPORTED + timedelta(days=2)
    await rehearsal.post(event(ref, "reopened", reopened_at))
    view = await rehearsal.view(ref)
    assert view.status == "open"
    assert only(view, "closure_explanation").state == "cancelled"
    updates = occurrences(view, "victim_update")
    # The clock restarts at the reopening; the reopening message is itself an update.
    assert [o.state for o in updates] == ["cancelled", "met", "pending"]
    assert updates[1].started_at == reopened_at


async def test_events_that_do_not_fit_the_case_are_refused_and_change_nothing(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    before = await rehearsal.view(ref)
    with pytest.raises(CaseError, match="unknown standard 'dv_contcat'"):
        await rehearsal.post(
            event(ref, "contact_recorded", REPORTED + timedelta(hours=1), standard="dv_contcat")
        )
    with pytest.raises(CaseError, match="no unexplained breach"):
        await rehearsal.post(
            event(
                ref,
                "breach_explained",
                REPORTED + timedelta(hours=1),
                standard="victim_update",
                reason="victim_unreachable",
            )
        )
    with pytest.raises(CaseError, match="is open: only a closed case"):
        await rehearsal.post(event(ref, "reopened", REPORTED + timedelta(hours=1)))
    await rehearsal.post(event(ref, "closed", REPORTED + timedelta(hours=2), reason="resolved"))
    with pytest.raises(CaseError, match="is closed: arrest is not accepted"):
        await rehearsal.post(event(ref, "arrest", REPORTED + timedelta(hours=3)))
    after = await rehearsal.view(ref)
    assert after.status == "closed"
    assert [o.key for o in after.obligations] == [o.key for o in before.obligations] + [
        "closure_explanation#1"
    ]


async def test_a_report_from_the_future_is_refused_like_an_event_and_records_nothing(
    cases: RehearsalFactory,
) -> None:
    ref = reference()
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(CaseError, match=r"^'reported_at' .* is in the future$"):
        await service.cases.open_case(
            cases.env.client,
            cases.sessions,
            POLICY,
            case_in(ref, reported_at=tomorrow),
            cases.task_queue,
            force=FORCE,
        )
    with cases.sessions() as session:
        assert session.scalar(select(models.Case).where(models.Case.reference == ref)) is None
    with pytest.raises(RPCError):
        await cases.env.client.get_workflow_handle(case_workflow_id(ref)).describe()
    # A few minutes ahead is a clock that differs, as for events.
    await service.cases.open_case(
        cases.env.client,
        cases.sessions,
        POLICY,
        case_in(reference(), reported_at=datetime.now(UTC) + FUTURE_TOLERANCE / 2),
        cases.task_queue,
        force=FORCE,
    )


async def test_opening_the_same_case_twice_is_refused(cases: RehearsalFactory) -> None:
    rehearsal, ref = await opened(cases)
    with pytest.raises(CaseError, match="already exists"):
        await rehearsal.open(case_in(ref))


async def test_a_shorter_agreed_interval_retimes_the_update_and_no_updates_suspends_it(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    await rehearsal.post(
        event(ref, "preferences_changed", REPORTED + timedelta(days=2), update_interval_days=14)
    )
    update = only(await rehearsal.view(ref), "victim_update")
    assert update.due_at == REPORTED + timedelta(days=14)
    await rehearsal.post(
        event(ref, "preferences_changed", REPORTED + timedelta(days=3), no_updates=True)
    )
    assert only(await rehearsal.view(ref), "victim_update").state == "cancelled"
    await rehearsal.advance_to(REPORTED + timedelta(days=40))
    assert alerts_of(cases, ref) == []
    resumed_at = REPORTED + timedelta(days=40)
    await rehearsal.post(event(ref, "preferences_changed", resumed_at, no_updates=False))
    updates = occurrences(await rehearsal.view(ref), "victim_update")
    assert updates[-1].state == "pending"
    assert updates[-1].started_at == resumed_at
    assert updates[-1].due_at - resumed_at == timedelta(days=14)


async def test_a_breach_explanation_is_recorded_with_its_reason(cases: RehearsalFactory) -> None:
    rehearsal, ref = await opened(cases, "domestic_abuse")
    await rehearsal.advance_to(REPORTED + timedelta(hours=30))
    with pytest.raises(CaseError, match=r"needs details\.text"):
        await rehearsal.post(
            event(
                ref,
                "breach_explained",
                REPORTED + timedelta(hours=30),
                standard="dv_contact",
                reason="other",
            )
        )
    await rehearsal.post(
        event(
            ref,
            "breach_explained",
            REPORTED + timedelta(hours=30),
            standard="dv_contact",
            reason="victim_unreachable",
        )
    )
    dv = only(await rehearsal.view(ref), "dv_contact")
    assert (dv.state, dv.explanation_reason) == ("breached", "victim_unreachable")


async def test_continue_as_new_keeps_every_obligation_and_its_history(
    cases: RehearsalFactory,
) -> None:
    rehearsal = cases.rehearsal(REPORTED, history_event_limit=30)
    await rehearsal.begin()
    ref = reference()
    await rehearsal.open(case_in(ref))
    for day in range(1, 7):
        await rehearsal.post(event(ref, "update_delivered", REPORTED + timedelta(days=day)))
    view = await rehearsal.view(ref)
    updates = occurrences(view, "victim_update")
    assert [o.state for o in updates] == ["met"] * 6 + ["pending"]
    assert updates[-1].started_at == REPORTED + timedelta(days=6)
    history = await cases.env.client.get_workflow_handle(case_workflow_id(ref)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id, "the current run should continue an earlier one"
    await rehearsal.advance_to(REPORTED + timedelta(days=35))
    assert occurrences(await rehearsal.view(ref), "victim_update")[-1].state == "breached"


async def test_search_attributes_show_borough_category_deadline_and_breaches(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases, "domestic_abuse")
    await rehearsal.advance_to(REPORTED + timedelta(hours=25))
    handle = cases.env.client.get_workflow_handle(case_workflow_id(ref))
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(sa.BOROUGH) == "camden"  # the unit's canonical id
    assert attributes.get(sa.CATEGORY) == "domestic_abuse"
    assert attributes.get(sa.CASE_STATUS) == "open"
    assert attributes.get(sa.BREACHED_COUNT) == 1
    assert attributes.get(sa.NEXT_DEADLINE) is not None


def readable(history_json: str) -> str:
    """A history as JSON with every payload's data decoded (JSON keeps them in base64)."""
    decoded: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "data" and isinstance(value, str):
                    decoded.append(base64.b64decode(value).decode("utf-8", "replace"))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(history_json))
    return "\n".join([history_json, *decoded])


async def test_no_personal_data_enters_the_workflow_history(cases: RehearsalFactory) -> None:
    rehearsal, ref = await opened(cases, "road_traffic_collision")
    await rehearsal.post(
        EventIn.model_validate(
            {
                "reference": ref,
                "type": "officer_assigned",
                "at": REPORTED + timedelta(hours=2),
                "details": {"officer_name": "PC Jordan Reeves", "officer_contact": "020 7946 0999"},
                "actor": "DC Jane Doe",
            }
        )
    )
    await rehearsal.post(
        EventIn.model_validate(
            {
                "reference": ref,
                "type": "contact_recorded",
                "at": REPORTED + timedelta(hours=3),
                "standard": "traffic_unit_contact",
                "details": {"method": "phone"},
                "actor": "PS Sam Okafor",
            }
        )
    )
    history = await cases.env.client.get_workflow_handle(case_workflow_id(ref)).fetch_history()
    text = readable(history.to_json())
    assert "officer_assigned" in text  # the payloads are read, not their base64
    for personal in (
        "Alex Smith",
        "alex@example.org",
        "+447700900123",
        "7700900123",
        "Jordan Reeves",
        "7946 0999",
        "Jane Doe",
        "Sam Okafor",
    ):
        assert personal not in text
    body = next(m for m in rehearsal.messages() if m["template"] == "traffic_unit_contact")["body"]
    assert "Jordan Reeves" in body
    with cases.sessions() as session:
        recorded = session.scalars(
            select(models.CaseEventRecord)
            .join(models.Case, models.Case.id == models.CaseEventRecord.case_id)
            .where(models.Case.reference == ref)
            .order_by(models.CaseEventRecord.id)
        ).all()
        assert [(r.type, r.actor, r.at) for r in recorded] == [
            ("officer_assigned", "DC Jane Doe", REPORTED + timedelta(hours=2)),
            ("contact_recorded", "PS Sam Okafor", REPORTED + timedelta(hours=3)),
        ]
        # What the clocks were told is kept for replays; the officer's details are not.
        assert [(r.standard, r.details) for r in recorded] == [
            (None, {}),
            ("traffic_unit_contact", {"method": "phone"}),
        ]
        # The case's record names the event's row, whose actor the database keeps.
        causes = session.scalars(
            select(models.ObligationTransition.cause).where(
                models.ObligationTransition.case_id == recorded[0].case_id
            )
        ).all()
        assert f"contact_recorded by {recorded[1].actor_reference}" in causes


async def test_an_unknown_officer_detail_is_refused_naming_the_accepted_ones_and_stores_nothing(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases, "road_traffic_collision")
    with pytest.raises(
        CaseError,
        match=f"^officer_assigned refused for case {ref}: officer_assigned does not take "
        "detail 'officer_phone'; accepted: officer_name, officer_contact, note$",
    ):
        await rehearsal.post(
            EventIn.model_validate(
                {
                    "reference": ref,
                    "type": "officer_assigned",
                    "at": REPORTED + timedelta(hours=1),
                    "details": {"officer_name": "PC Ada Price", "officer_phone": 1},
                }
            )
        )
    with cases.sessions() as session:
        case = session.scalar(select(models.Case).where(models.Case.reference == ref))
        assert case is not None and case.officer_name is None
    assert only(await rehearsal.view(ref), "traffic_unit_contact").state == "pending"


def officer_assigned(ref: str, hours: float, event_id: str | None, **details: str) -> EventIn:
    return EventIn.model_validate(
        {
            "reference": ref,
            "type": "officer_assigned",
            "at": REPORTED + timedelta(hours=hours),
            "details": details,
            "event_id": event_id,
        }
    )


def traffic_messages(rehearsal: Rehearsal, ref: str) -> list[dict[str, Any]]:
    return [
        m
        for m in rehearsal.messages()
        if m["reference"] == ref and m["template"] == "traffic_unit_contact"
    ]


async def test_an_event_posted_twice_with_one_event_id_acts_once_and_gets_the_first_receipt(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases, "road_traffic_collision")
    first = await rehearsal.post(officer_assigned(ref, 1, "crs-1", officer_name="PC Ada Price"))
    again = await rehearsal.post(officer_assigned(ref, 1, "crs-1", officer_name="PC Ada Price"))
    assert again == first and first.changed
    assert len(traffic_messages(rehearsal, ref)) == 1
    with cases.sessions() as session:
        rows = session.scalars(
            select(models.CaseEventRecord).where(models.CaseEventRecord.event_id == "crs-1")
        ).all()
        assert len(rows) == 1
    with pytest.raises(CaseError, match=r"'crs-1' was already used .* for another event"):
        await rehearsal.post(officer_assigned(ref, 2, "crs-1"))
    # Without an id, each post is an event of its own, as before.
    await rehearsal.post(officer_assigned(ref, 3, None))
    await rehearsal.post(officer_assigned(ref, 3, None))
    assert len(traffic_messages(rehearsal, ref)) == 3


async def test_a_repeat_is_known_after_continue_as_new_and_without_the_update_id(
    cases: RehearsalFactory,
) -> None:
    rehearsal = cases.rehearsal(REPORTED, history_event_limit=30)
    await rehearsal.begin()
    ref = reference()
    await rehearsal.open(case_in(ref, "road_traffic_collision"))
    first = await rehearsal.post(officer_assigned(ref, 1, "crs-7"))
    for day in range(1, 5):
        await rehearsal.post(event(ref, "update_delivered", REPORTED + timedelta(days=day)))
    handle = cases.env.client.get_workflow_handle(case_workflow_id(ref))
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id, "the case should have continued as new"
    # Straight to the workflow, under a new update id: only the case book can tell.
    repeat = CaseEvent(
        type=CaseEventType.OFFICER_ASSIGNED, at=REPORTED + timedelta(hours=1), event_id="crs-7"
    )
    receipt = await handle.execute_update("post_event", repeat, result_type=EventReceipt)
    assert receipt == first
    assert len(traffic_messages(rehearsal, ref)) == 1


async def test_a_refused_officer_assignment_leaves_the_recorded_officer_unchanged(
    cases: RehearsalFactory,
) -> None:
    rehearsal, ref = await opened(cases)
    await rehearsal.post(
        EventIn.model_validate(
            {
                "reference": ref,
                "type": "officer_assigned",
                "at": REPORTED + timedelta(hours=1),
                "details": {"officer_name": "PC Ada Price", "officer_contact": "020 7946 0001"},
            }
        )
    )
    await rehearsal.post(event(ref, "closed", REPORTED + timedelta(hours=2), reason="resolved"))
    with pytest.raises(CaseError, match="is closed"):
        await rehearsal.post(
            EventIn.model_validate(
                {
                    "reference": ref,
                    "type": "officer_assigned",
                    "at": REPORTED + timedelta(hours=3),
                    "details": {"officer_name": "PC Someone Else", "officer_contact": "999"},
                }
            )
        )
    with cases.sessions() as session:
        case = session.scalar(select(models.Case).where(models.Case.reference == ref))
        assert case is not None
        assert (case.officer_name, case.officer_contact) == ("PC Ada Price", "020 7946 0001")
