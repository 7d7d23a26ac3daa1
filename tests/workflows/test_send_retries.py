"""A send that fails for a moment is retried without holding a workflow task open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.api.enums.v1 import EventType

from service.cases import CaseIn
from standards.contracts import case_workflow_id
from storage import models
from tests.workflows.conftest import RehearsalFactory

REPORTED = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
# The simulated provider fails this number twice, then delivers (README, rehearsals).
FLAKY_NUMBER = "+447700900004"


async def test_a_send_that_fails_twice_backs_off_on_a_timer_not_inside_one_workflow_task(
    cases: RehearsalFactory,
) -> None:
    rehearsal = cases.rehearsal(REPORTED)
    await rehearsal.begin()
    case = CaseIn.model_validate(
        {
            "reference": "09/000004/26",
            "category": "burglary",
            "reported_at": REPORTED,
            "borough": "Lambeth",
            "victim": {"name": "Flaky Line", "phone": FLAKY_NUMBER, "preferred_channel": "sms"},
        }
    )
    await rehearsal.open(case)
    await rehearsal.advance_to(REPORTED + timedelta(minutes=1))

    messages = rehearsal.messages()
    assert [(m["template"], m["status"]) for m in messages] == [("acknowledgement", "delivered")]
    with cases.sessions() as session:
        row = session.scalars(select(models.OutboxMessage)).one()
        # Retried after 2 s, then 4 s, on the case's clock: the time skipping passed
        # over both waits, and the delivery carries the instant of the third try.
        assert (row.attempts, row.delivered_at) == (3, REPORTED + timedelta(seconds=6))
    handle = cases.env.client.get_workflow_handle(case_workflow_id(case.reference))
    began = REPORTED
    longest = timedelta(0)
    timers = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            began = event.event_time.ToDatetime()
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            longest = max(longest, event.event_time.ToDatetime() - began)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timers += 1
    # Backoffs of 2 and 4 seconds: waited in one workflow task they held it over 5 s,
    # which the core warns about; as timers the task completes at once.
    assert timers >= 2
    assert longest < timedelta(seconds=2)
