"""Deadline calculation, run as a local activity.

Working-day deadlines depend on the bank-holiday data of the installed
`holidays` release; computing them here and keeping the result in workflow
state means an upgrade never moves a deadline already set for a running case.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity

from standards.clock import Nation, WindowUnit, add_elapsed, add_window, fraction_of_window
from standards.obligations import Schedule, ScheduleRequest
from workflows.contracts import COMPUTE_SCHEDULES, ScheduleBatch, ScheduleBatchResult


def schedule_for(request: ScheduleRequest) -> Schedule:
    due = add_window(
        request.start, request.amount, WindowUnit(request.unit), Nation(request.nation)
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


class ScheduleActivities:
    @activity.defn(name=COMPUTE_SCHEDULES)
    def compute_schedules(self, batch: ScheduleBatch) -> ScheduleBatchResult:
        return ScheduleBatchResult(schedules=[schedule_for(r) for r in batch.requests])
