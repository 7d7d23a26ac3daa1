"""What the case workflow does for its book: deadlines, sends and records, as activities.

Workflow code (it runs in the case workflow's sandbox). The loop that carries out the
book's effects is the book's own protocol (standards.driving): this only executes its
commands, as local activities (or, for cases opened before SEND_AS_LOCAL_ACTIVITY, a
regular activity), and holds the protocol's state, the messages that wait (for a later
instant, or for a provider's report), which the workflow carries over on continue-as-new.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from standards.case import CaseBook
    from standards.case_state import Effects as CaseEffects
    from standards.contracts import (
        COMPUTE_SCHEDULES,
        RECORD_CASE_CHANGES,
        SEND_AND_RECORD,
        SEND_MESSAGE,
        CaseWorkflowInput,
        DeferredMessage,
        MessageIntent,
        MessageOutcome,
        RecordResult,
        ScheduleBatch,
        ScheduleBatchResult,
        SentAndRecorded,
    )
    from standards.driving import (
        CaseSteps,
        Command,
        ComputeSchedules,
        Record,
        Send,
        SendWithRecords,
        Steps,
    )
    from standards.obligations import Schedule, ScheduleRequest

PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5)
)
# A local send's backoff longer than this is a workflow timer, not a sleep inside one
# workflow task (2 s then 4 s held a task open over the core's 5-second warning).
# Replay-safe: a replayed send resolves from its marker and never backs off again.
SEND_LOCAL_RETRY_THRESHOLD = timedelta(seconds=1)

T = TypeVar("T")

# -- the code versions -------------------------------------------------------------
# Each change that would break replay is decided here, once per run, by the input's
# flag (a run started under the change records no marker) or the patch marker (cases
# opened before the flag). None can be collapsed yet: every old branch is taken by a
# saved history (tests/workflows/histories; see CodeVersion).

# Cases opened before this change send through a regular activity; replaying their
# history must schedule the same command, so the switch is a patch.
SEND_AS_LOCAL_ACTIVITY = "send-as-local-activity"
# Cases opened before this change send each message in a local activity of its own and
# record the wake's changes in another. Now one activity sends a wake's messages and
# records its changes with the book's reaction to each outcome (activities.send_and_record).
SENDS_RECORDED_TOGETHER = "sends-recorded-with-changes"
# Cases opened before the rule that an obligation overdue when it starts, or when it is
# met, is breached at once: their histories replay without it.
BREACH_OVERDUE_AT_ONCE = "breach-overdue-at-once"
# Cases opened before this change cancel their wake timer when an event wakes them,
# and apply an event before a clock step due at the same instant if the event's
# workflow task comes first. A timer that fires while the event's workflow task runs
# and is then cancelled in that task stalls the time-skipping test server ("invalid
# history builder state for action"): the rehearsal of an event exactly at a warning,
# breach or retry instant hung. Now a timer no longer wanted is left to fire (its wake
# finds nothing due), and what is due by an event's arrival happens first, so the
# outcome never depends on which of the two the server delivers first.
CLOCK_FIRST = "clock-first-timers-kept"


class CodeVersion:
    """Which side of each replay-breaking change a case's run is on.

    Each is asked where the workflow first needs it (a patch marker is recorded at that
    point of the history, so the points must not move), and `patched` is asked only when
    the input's flag is off. The old branches are still taken by saved histories:
    closed-reopened.json and da-breached-met.json send through a regular activity (no
    flag, no marker); *-planned-intake.json run without breach-at-once (no flag, no
    marker); *-event-ids.json and *-opening-plan.json run before clock-first;
    *-clock-first.json and *-start-sas.json send and record apart (no flag, no marker),
    and *-sends-patch.json decide it by the marker. So none is deprecated
    (`workflow.deprecate_patch` is for a patch whose old branch no history takes).
    """

    def __init__(self, input: CaseWorkflowInput) -> None:
        self._input = input
        self._clock_first: bool | None = None

    def breach_overdue_at_once(self) -> bool:
        return self._input.breach_overdue_at_once or workflow.patched(BREACH_OVERDUE_AT_ONCE)

    def clock_first(self) -> bool:
        # Decided once, by whichever of the run and a handler asks first (the same
        # order on replay).
        if self._clock_first is None:
            self._clock_first = self._input.clock_first or workflow.patched(CLOCK_FIRST)
        return self._clock_first

    def local_sends(self) -> bool:
        return self._input.local_sends or workflow.patched(SEND_AS_LOCAL_ACTIVITY)

    def sends_recorded_together(self) -> bool:
        # Asked once, at the case's first send (standards.driving).
        return self._input.send_and_record or workflow.patched(SENDS_RECORDED_TOGETHER)


class CaseSideEffects:
    """Carries out the case book's effects for one run of a case's workflow."""

    def __init__(
        self,
        book: CaseBook,
        input: CaseWorkflowInput,
        now: Callable[[], datetime],
        version: CodeVersion,
    ) -> None:
        self._version = version
        opening = input.opening if input.state is None else None
        self._steps = CaseSteps(
            book,
            now,
            deferred=input.deferred,
            awaiting=input.awaiting_delivery,
            intake_schedules=opening.schedules if opening else input.intake_schedules,
            sends_recorded_together=version.sends_recorded_together,
        )

    @property
    def deferred(self) -> list[DeferredMessage]:
        return self._steps.deferred

    @property
    def awaiting(self) -> dict[str, MessageIntent]:
        return self._steps.awaiting

    async def carry_out(
        self, effects: CaseEffects, retries: list[DeferredMessage] | None = None
    ) -> list[str]:
        """Do what the case book asked, and what that leads to, then persist once."""
        return await self._run(self._steps.carry_out(effects, retries))

    def take_due_retries(self, now: datetime) -> list[DeferredMessage]:
        """The waiting messages due by `now`, no longer held."""
        return self._steps.take_due_retries(now)

    async def compute_schedules(self, requests: list[ScheduleRequest]) -> dict[str, Schedule]:
        """Deadlines, worked out outside workflow code (bank-holiday data must not change
        a deadline on replay)."""
        schedules: dict[str, Schedule] = await self._execute(ComputeSchedules(requests))
        return schedules

    async def persist(self) -> list[str]:
        """Record what changed since the last record; the keys of the obligations changed
        since the last call."""
        return await self._run(self._steps.persist())

    async def _run(self, steps: Steps[T]) -> T:
        try:
            command = next(steps)
            while True:
                command = steps.send(await self._execute(command))
        except StopIteration as finished:
            value: T = finished.value
            return value

    async def _execute(self, command: Command) -> Any:
        if isinstance(command, ComputeSchedules):
            batch = await workflow.execute_local_activity(
                COMPUTE_SCHEDULES,
                ScheduleBatch(requests=command.requests),
                result_type=ScheduleBatchResult,
                start_to_close_timeout=timedelta(seconds=30),
            )
            return {s.key: s for s in batch.schedules}
        if isinstance(command, Send):
            # A send is one short call; as a local activity it costs the case no round
            # trip through the server and no second workflow task.
            if self._version.local_sends():
                return await workflow.execute_local_activity(
                    SEND_MESSAGE,
                    command.request,
                    result_type=MessageOutcome,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=SEND_RETRY,
                    local_retry_threshold=SEND_LOCAL_RETRY_THRESHOLD,
                )
            return await workflow.execute_activity(
                SEND_MESSAGE,
                command.request,
                result_type=MessageOutcome,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SEND_RETRY,
            )
        if isinstance(command, SendWithRecords):
            return await workflow.execute_local_activity(
                SEND_AND_RECORD,
                command.wake,
                result_type=SentAndRecorded,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SEND_RETRY,
                local_retry_threshold=SEND_LOCAL_RETRY_THRESHOLD,
            )
        assert isinstance(command, Record)
        # A short, idempotent write to the case's own records: as a local
        # activity it costs no extra round trip through the server per change.
        return await workflow.execute_local_activity(
            RECORD_CASE_CHANGES,
            command.changes,
            result_type=RecordResult,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=PERSIST_RETRY,
        )
