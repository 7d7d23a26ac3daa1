"""Deadlines for new obligations, worked out from their schedule requests.

This is the one place deadlines are calculated. It runs outside workflow code
(in a local activity, or in the service as a case is opened), because
working-day deadlines depend on the bank-holiday data of the installed
`holidays` release (and the force's corrections to it): the result is kept in
workflow state, so an upgrade never moves a deadline already set for a running case.
"""

from __future__ import annotations

from datetime import timedelta

from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState, Opening
from standards.clock import (
    NO_CORRECTIONS,
    HolidayCorrections,
    Nation,
    WindowUnit,
    add_elapsed,
    add_window,
    fraction_of_window,
)
from standards.obligations import Schedule, ScheduleRequest


def schedule_for(
    request: ScheduleRequest, corrections: HolidayCorrections = NO_CORRECTIONS
) -> Schedule:
    """`corrections` are the force's changes to the bank holidays (from its force file)."""
    due = add_window(
        request.start,
        request.amount,
        WindowUnit(request.unit),
        Nation(request.nation),
        corrections,
    )
    auto = None
    if request.auto_update_fraction is not None:
        auto = fraction_of_window(request.start, due, request.auto_update_fraction)
    return Schedule(
        key=request.key,
        due_at=due,
        warn_at=fraction_of_window(request.start, due, request.warning_fraction),
        escalate_at=add_elapsed(due, timedelta(hours=request.escalate_after_hours)),
        auto_update_at=auto,
    )


def opening(facts: CaseFacts, corrections: HolidayCorrections = NO_CORRECTIONS) -> Opening:
    """A case's opening plan: what it starts and sends, with their deadlines.

    Worked out once, as the case is opened; every driver of the book carries it out.
    """
    book = CaseBook(facts, CaseState())
    effects = book.open_case()
    schedules = [schedule_for(request, corrections) for request in effects.schedule_requests]
    return Opening(state=book.state, effects=effects, schedules=schedules)
