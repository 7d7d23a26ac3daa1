"""Events that fall exactly on one of the case's own instants, on the time-skipping server.

A timer that fired while an event's workflow task ran, and that the task then
cancelled, used to stall the test server: the rehearsal never ended. Each wait is
bounded, so a regression fails with the step that went silent instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from service.cases import CaseIn, EventIn
from service.simulate import Rehearsal
from tests.workflows.conftest import RehearsalFactory

T = TypeVar("T")

# Domestic abuse reported on a Friday: the contact's warning is at 11:30 the next
# day, its deadline at 17:30 and its escalation a day after that.
DA_REPORTED = datetime(2026, 3, 27, 17, 30, tzinfo=UTC)
DV_WARNING = datetime(2026, 3, 28, 11, 30, tzinfo=UTC)
DV_DUE = datetime(2026, 3, 28, 17, 30, tzinfo=UTC)
DV_ESCALATION = datetime(2026, 3, 29, 17, 30, tzinfo=UTC)
STEP_SECONDS = 60.0
# The simulated provider fails this number twice: retries after 2 s, then 4 s.
FLAKY_NUMBER = "+447700900004"


async def within(step: str, awaitable: Awaitable[T]) -> T:
    try:
        return await asyncio.wait_for(awaitable, STEP_SECONDS)
    except TimeoutError as error:
        raise AssertionError(f"{step}: no answer within {STEP_SECONDS:.0f} s") from error


def da_case(reference: str, phone: str = "+447700900123") -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": reference,
            "category": "domestic_abuse",
            "reported_at": DA_REPORTED,
            "borough": "Camden",
            "victim": {"name": "Alex Smith", "phone": phone, "preferred_channel": "sms"},
        }
    )


def event(reference: str, type: str, at: datetime, standard: str | None = None) -> EventIn:
    return EventIn.model_validate(
        {"reference": reference, "type": type, "at": at, "standard": standard}
    )


async def opened(cases: RehearsalFactory, reference: str, **case: Any) -> Rehearsal:
    rehearsal = cases.rehearsal(DA_REPORTED)
    await rehearsal.begin()
    await within("opening the case", rehearsal.open(da_case(reference, **case)))
    return rehearsal


async def dv_contact(rehearsal: Rehearsal, reference: str) -> Any:
    view = await within("reading the case", rehearsal.view(reference))
    return next(o for o in view.obligations if o.standard == "dv_contact")


async def test_an_event_exactly_at_a_warning_instant_is_applied_and_the_warning_still_raised(
    cases: RehearsalFactory,
) -> None:
    rehearsal = await opened(cases, "01/000001/26")
    receipt = await within(
        "officer_assigned at the warning",
        rehearsal.post(event("01/000001/26", "officer_assigned", DV_WARNING)),
    )
    assert "victim_update#2" in receipt.changed
    await rehearsal.advance_to(DV_WARNING + timedelta(minutes=1))
    contact = await dv_contact(rehearsal, "01/000001/26")
    assert (contact.state.value, contact.warned_at) == ("pending", DV_WARNING)
    warnings = [a for a in rehearsal.alerts() if a["standard"] == "dv_contact"]
    assert [a["kind"] for a in warnings] == ["warning"]


async def test_a_contact_exactly_at_the_deadline_is_met_late_as_the_book_rules(
    cases: RehearsalFactory,
) -> None:
    rehearsal = await opened(cases, "01/000002/26")
    await within(
        "contact_recorded at the deadline",
        rehearsal.post(event("01/000002/26", "contact_recorded", DV_DUE, "dv_contact")),
    )
    await rehearsal.advance_to(DV_DUE + timedelta(hours=1))
    contact = await dv_contact(rehearsal, "01/000002/26")
    # The deadline is the first instant that is late (the case book's rule), whichever
    # of the timer and the event the server delivers first.
    assert (contact.state.value, contact.met_at, contact.breached_at) == ("met", DV_DUE, DV_DUE)


async def test_a_contact_exactly_at_the_escalation_instant_meets_the_breached_obligation(
    cases: RehearsalFactory,
) -> None:
    rehearsal = await opened(cases, "01/000003/26")
    await within(
        "contact_recorded at the escalation",
        rehearsal.post(event("01/000003/26", "contact_recorded", DV_ESCALATION, "dv_contact")),
    )
    await rehearsal.advance_to(DV_ESCALATION + timedelta(hours=1))
    contact = await dv_contact(rehearsal, "01/000003/26")
    assert (contact.met_at, contact.breached_at) == (DV_ESCALATION, DV_DUE)
    kinds = sorted(a["kind"] for a in rehearsal.alerts() if a["standard"] == "dv_contact")
    assert kinds == ["breach", "escalation", "warning"]


async def test_two_events_at_the_same_instant_are_both_applied(
    cases: RehearsalFactory,
) -> None:
    rehearsal = await opened(cases, "01/000004/26")
    at = DV_WARNING
    await rehearsal.advance_to(at)
    await within(
        "two events at one instant",
        asyncio.gather(
            rehearsal.post(event("01/000004/26", "officer_assigned", at)),
            rehearsal.post(event("01/000004/26", "contact_recorded", at, "dv_contact")),
        ),
    )
    contact = await dv_contact(rehearsal, "01/000004/26")
    assert (contact.state.value, contact.met_at) == ("met", at)
    view = await rehearsal.view("01/000004/26")
    # Each event restarts the victim-update clock.
    updates = [o for o in view.obligations if o.standard == "victim_update"]
    assert [(o.occurrence, o.started_at) for o in updates[1:]] == [(2, at), (3, at)]


async def test_an_event_at_the_instant_of_the_report_is_applied(
    cases: RehearsalFactory,
) -> None:
    rehearsal = await opened(cases, "01/000005/26")
    await within(
        "contact_recorded at the report",
        rehearsal.post(event("01/000005/26", "contact_recorded", DA_REPORTED, "dv_contact")),
    )
    contact = await dv_contact(rehearsal, "01/000005/26")
    assert (contact.state.value, contact.met_at, contact.warned_at) == ("met", DA_REPORTED, None)


async def test_an_event_exactly_at_a_send_retry_instant_is_applied_and_the_retry_delivers(
    cases: RehearsalFactory,
) -> None:
    rehearsal = await opened(cases, "01/000006/26", phone=FLAKY_NUMBER)
    first_retry = DA_REPORTED + timedelta(seconds=2)
    await within(
        "contact_recorded at the retry",
        rehearsal.post(event("01/000006/26", "contact_recorded", first_retry, "dv_contact")),
    )
    await rehearsal.advance_to(DA_REPORTED + timedelta(minutes=1))
    contact = await dv_contact(rehearsal, "01/000006/26")
    assert (contact.state.value, contact.met_at) == ("met", first_retry)
    acknowledgements = [m for m in rehearsal.messages() if m["template"] == "acknowledgement"]
    assert [m["status"] for m in acknowledgements] == ["delivered"]
