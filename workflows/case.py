"""One long-running workflow per case: it runs the case's service-standard clocks.

The workflow only orchestrates. What an event means is decided by the pure
`CaseBook`; deadlines are worked out outside workflow code (bank-holiday data must not
change a deadline on replay); persistence and messages are activities, which
`workflows.side_effects` runs for the book.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    # Every module whose types cross the data converter is passed through, so
    # type hints resolve against the same modules inside the sandbox.
    import standards.case_reading
    import standards.clock
    import standards.delivery
    import standards.events
    import standards.policy
    import standards.send_outcome  # noqa: F401

    # Imported as a module, not through a package's from-list: a submodule named in a
    # from-list is loaded past the sandbox's import hook, so it was run again per case.
    import standards.visibility as sa
    from standards.case import CaseBook
    from standards.case_state import CaseState
    from standards.contracts import (
        CASE_WORKFLOW,
        CaseOutcome,
        CaseView,
        CaseWorkflowInput,
        EventReceipt,
        MessageStatusUpdate,
    )
    from standards.events import CaseEvent, EventRejected
    from standards.obligations import Schedule
    from standards.policy_migration import (
        MigrationRefused,
        PolicyMigrationReceipt,
        PolicyMigrationRequest,
        apply_migration,
        deadline_moves,
        plan_migration,
    )

# Workflow code too, so imported into the sandbox, not passed through.
from workflows.side_effects import CaseSideEffects, CodeVersion


@workflow.defn(name=CASE_WORKFLOW)
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseWorkflowInput) -> None:
        self._input = input
        opening = input.opening if input.state is None else None
        self._book = CaseBook(
            input.facts, input.state or (opening.state if opening else None) or CaseState()
        )
        self._offset = timedelta(seconds=input.clock_offset_seconds)
        self._version = CodeVersion(input)
        self._effects = CaseSideEffects(self._book, input, self._now, self._version)
        self._lock = asyncio.Lock()
        self._woken = False
        self._opened = input.state is not None
        self._published: dict[str, object] = {}
        if input.search_attributes_at_start:
            # Published by the start itself: only a value that differs is upserted.
            started = workflow.info().typed_search_attributes
            self._published.update({key.name: started.get(key) for key in sa.ALL})
        self._wake_timer: asyncio.Task[None] | None = None
        self._wake_timer_at: datetime | None = None

    # -- time ----------------------------------------------------------------

    def _now(self) -> datetime:
        return workflow.now() + self._offset

    # -- main loop -----------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseOutcome:
        # Decided before the book changes anything; handlers wait for the intake.
        self._book.breach_overdue_at_once = self._version.breach_overdue_at_once()
        if input.state is None:
            async with self._lock:
                # Planned by the service as it opened the case; older inputs plan it here.
                plan = input.opening.effects if input.opening else self._book.open_case()
                await self._effects.carry_out(plan)
            self._opened = True
        while True:
            await self._publish_search_attributes()
            wake = self._next_wake()
            if self._clock_goes_first():
                await self._wait_for_wake(wake)
            elif wake is None or wake > self._now():
                timeout = None if wake is None else (wake - self._now()).total_seconds()
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._woken or self._should_continue_as_new(),
                        timeout=timeout,
                    )
            self._woken = False
            async with self._lock:
                await self._on_clock()
            retention = self._book.retention_ends()
            if retention is not None and retention <= self._now() and not self._effects.deferred:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return CaseOutcome(
                    reference=self._book.facts.reference,
                    status=self._book.state.status,
                    obligations=len(self._book.state.obligations),
                )
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._publish_search_attributes()
                workflow.continue_as_new(self._carry_over())

    def _clock_goes_first(self) -> bool:
        return self._version.clock_first()

    async def _wait_for_wake(self, wake: datetime | None) -> None:
        """Wait for the wake instant or an event, without cancelling a timer (see
        side_effects.CLOCK_FIRST): a timer is started only for an instant not already timed."""
        if wake is not None and wake > self._now() and wake != self._wake_timer_at:
            self._wake_timer_at = wake
            self._wake_timer = asyncio.create_task(
                workflow.sleep((wake - self._now()).total_seconds())
            )
        if wake is None or wake > self._now():
            await workflow.wait_condition(
                lambda: (
                    self._woken
                    or self._should_continue_as_new()
                    or (self._wake_timer is not None and self._wake_timer.done())
                )
            )
        if self._wake_timer is not None and self._wake_timer.done():
            self._wake_timer = self._wake_timer_at = None

    def _next_wake(self) -> datetime | None:
        return self._book.wake_with(self._effects.deferred)

    async def _on_clock(self) -> None:
        now = self._now()
        due = self._effects.take_due_retries(now)
        await self._effects.carry_out(self._book.advance(now), retries=due)

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_event_limit
        )

    def _carry_over(self) -> CaseWorkflowInput:
        return CaseWorkflowInput(
            facts=self._book.facts,
            state=self._book.state,
            deferred=self._effects.deferred,
            awaiting_delivery=list(self._effects.awaiting.values()),
            clock_offset_seconds=self._input.clock_offset_seconds,
            history_event_limit=self._input.history_event_limit,
            publish_category=self._input.publish_category,
            # The next run's history starts under this code: no old path to replay.
            local_sends=True,
            breach_overdue_at_once=True,
            clock_first=True,
            send_and_record=True,
            # Continue-as-new carries the run's search attributes over to the next run.
            search_attributes_at_start=True,
        )

    # -- events --------------------------------------------------------------

    @workflow.update
    async def post_event(self, event: CaseEvent) -> EventReceipt:
        # An event can arrive before the intake has run; it waits for the obligations.
        await workflow.wait_condition(lambda: self._opened)
        async with self._lock:
            if self._clock_goes_first():
                wake = self._next_wake()
                if wake is not None and wake <= self._now():
                    await self._on_clock()
            try:
                # Checked again: an earlier event may have changed the case meanwhile
                # (or been this one, posted twice at once).
                self._book.check(event, self._now())
                earlier = self._book.repeat_of(event)
            except EventRejected as rejected:
                raise ApplicationError(
                    str(rejected), type="EventRejected", non_retryable=True
                ) from rejected
            if earlier is not None:
                changed = earlier.changed
            else:
                changed = await self._effects.carry_out(self._book.apply(event))
                self._book.remember(event, changed)
                self._woken = True
        return EventReceipt(
            reference=self._book.facts.reference, event=event.type.value, changed=changed
        )

    @post_event.validator
    def _validate_event(self, event: CaseEvent) -> None:
        self._book.check(event, self._now())

    @workflow.update
    async def migrate_policy(self, request: PolicyMigrationRequest) -> PolicyMigrationReceipt:
        """Move the case's running deadlines to a newer version of its policy, as the case
        book decides; a dry run only says which would move. A new handler: histories
        that never received it replay unchanged, so it needs no patch."""
        await workflow.wait_condition(lambda: self._opened)
        async with self._lock:
            before = self._book.policy.version
            try:
                plan = plan_migration(self._book, request.policy)
            except MigrationRefused as refused:
                raise ApplicationError(
                    str(refused), type="MigrationRefused", non_retryable=True
                ) from refused
            schedules: dict[str, Schedule] = {}
            if plan.effects.retimes:
                schedules = await self._effects.compute_schedules(plan.effects.schedule_requests)
            if request.dry_run:
                moves = deadline_moves(self._book, plan, schedules)
            else:
                moves = apply_migration(self._book, plan, schedules, self._now())
                await self._effects.persist()
                self._woken = True
        return PolicyMigrationReceipt(
            reference=self._book.facts.reference,
            from_version=before,
            to_version=request.policy.version,
            moves=moves,
            dropped=plan.dropped,
            applied=not request.dry_run,
        )

    @workflow.update
    async def intake_done(self) -> CaseView:
        """Returns once the case's first obligations are running (for callers that wait)."""
        await workflow.wait_condition(lambda: self._opened)
        return self.view()

    @workflow.signal
    async def message_status(self, update: MessageStatusUpdate) -> None:
        await workflow.wait_condition(lambda: self._opened)
        async with self._lock:
            intent = self._effects.awaiting.get(update.key)
            if intent is None:
                return
            effects = self._book.on_provider_status(
                intent, update.status, update.at, update.channel, update.error
            )
            if effects.settled:
                await self._effects.carry_out(effects)
            self._woken = True

    @workflow.query
    def view(self) -> CaseView:
        return CaseView(
            reference=self._book.facts.reference,
            category=self._book.facts.category,
            borough=self._book.facts.borough,
            status=self._book.state.status,
            policy_id=self._book.policy.id,
            policy_version=self._book.policy.version,
            breached=self._book.breached_count(),
            next_deadline=self._book.next_deadline(),
            obligations=self._book.state.obligations,
        )

    # -- visibility ----------------------------------------------------------

    async def _publish_search_attributes(self) -> None:
        updates = []
        for key, value in sa.case_values(self._book, self._input.publish_category):
            if self._published.get(key.name, ...) == value:
                continue
            self._published[key.name] = value
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
