"""Deadline calculation, run as a local activity for obligations a case starts later on.

Working-day deadlines depend on the bank-holiday data of the installed
`holidays` release; computing them here and keeping the result in workflow
state means an upgrade never moves a deadline already set for a running case.
"""

from __future__ import annotations

from temporalio import activity

from standards.clock import NO_CORRECTIONS, HolidayCorrections
from standards.contracts import COMPUTE_SCHEDULES, ScheduleBatch, ScheduleBatchResult
from standards.schedules import schedule_for


class ScheduleActivities:
    def __init__(self, corrections: HolidayCorrections = NO_CORRECTIONS) -> None:
        # The force's bank-holiday corrections, from its force file.
        self._corrections = corrections

    @activity.defn(name=COMPUTE_SCHEDULES)
    def compute_schedules(self, batch: ScheduleBatch) -> ScheduleBatchResult:
        return ScheduleBatchResult(
            schedules=[schedule_for(r, self._corrections) for r in batch.requests]
        )
