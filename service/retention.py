"""The daily Temporal Schedule that erases contact profiles past their retention."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config import Settings
from standards.contracts import RETENTION_SCHEDULE_ID, RETENTION_WORKFLOW, RetentionRun

RETENTION_TIME_ZONE = "Europe/London"


def retention_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RETENTION_WORKFLOW,
            RetentionRun(retention_days=settings.retention_days_after_closure),
            id=f"{RETENTION_SCHEDULE_ID}-run",
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(settings.retention_hour)], minute=[ScheduleRange(15)]
                )
            ],
            time_zone_name=RETENTION_TIME_ZONE,
        ),
        # A run still going (a large backlog) is not doubled by the next day's.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_retention_schedule(client: Client, settings: Settings) -> None:
    """Create the schedule, or bring an existing one up to the current settings."""
    schedule = retention_schedule(settings)
    try:
        await client.create_schedule(RETENTION_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def updated(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(RETENTION_SCHEDULE_ID).update(updated)
