"""One long-running workflow per case: it runs the case's service-standard clocks.

The workflow only orchestrates. What an event means is decided by the pure
`CaseBook`; deadlines are worked out outside workflow code (bank-holiday data must not
change a deadline on replay); persistence and messages are activities.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    # Every module whose types cross the data converter is passed through, so
    # type hints resolve against the same modules inside the sandbox.
    import standards.clock
    import standards.policy  # noqa: F401

    # Not `from workflows import search_attributes`: a submodule named in a from-list
    # is loaded past the sandbox's import hook, so it was run again for every case.
    import workflows.search_attributes as sa
    from standards.case import CaseBook, CaseEvent, CaseState, EventRejected
    from standards.case import Effects as CaseEffects
    from standards.delivery import send_instant
    from standards.obligations import Alert, Obligation, Schedule
    from standards.policy_migration import (
        MigrationRefused,
        PolicyMigrationReceipt,
        PolicyMigrationRequest,
        apply_migration,
        deadline_moves,
        plan_migration,
    )
    from standards.send_outcome import alert_identity
    from workflows.contracts import (
        CASE_WORKFLOW,
        COMPUTE_SCHEDULES,
        RECORD_CASE_CHANGES,
        SEND_AND_RECORD,
        SEND_MESSAGE,
        CaseChanges,
        CaseOutcome,
        CaseView,
        CaseWorkflowInput,
        DeferredMessage,
        EventReceipt,
        MessageOutcome,
        MessageStatusUpdate,
        PlannedSend,
        RecordResult,
        ScheduleBatch,
        ScheduleBatchResult,
        SendAndRecord,
        SendMessage,
        SentAndRecorded,
    )

PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
# Cases opened before this change send through a regular activity; replaying their
# history must schedule the same command, so the switch is a patch.
SEND_AS_LOCAL_ACTIVITY = "send-as-local-activity"
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
# Cases opened before this change send each message in a local activity of its own and
# record the wake's changes in another. Now one activity sends a wake's messages and
# records its changes with the book's reaction to each outcome (activities.send_and_record).
SENDS_RECORDED_TOGETHER = "sends-recorded-with-changes"
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5)
)
# A local send's backoff longer than this is a workflow timer, not a sleep inside one
# workflow task (2 s then 4 s held a task open over the core's 5-second warning).
# Replay-safe: a replayed send resolves from its marker and never backs off again.
SEND_LOCAL_RETRY_THRESHOLD = timedelta(seconds=1)


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
        self._deferred = list(input.deferred)
        self._awaiting = {intent.key: intent for intent in input.awaiting_delivery}
        self._pending_alerts: list[Alert] = []
        self._lock = asyncio.Lock()
        self._woken = False
        self._opened = input.state is not None
        self._published: dict[str, object] = {}
        if input.search_attributes_at_start:
            # Published by the start itself: only a value that differs is upserted.
            started = workflow.info().typed_search_attributes
            self._published.update({key.name: started.get(key) for key in sa.ALL})
        self._intake_schedules = {
            s.key: s for s in (opening.schedules if opening else input.intake_schedules)
        }
        self._wake_timer: asyncio.Task[None] | None = None
        self._clock_first: bool | None = None
        self._sends_recorded_together: bool | None = None
        # Obligations changed since the last `_persist` returned (for an event's receipt),
        # including those a send's activity recorded.
        self._changed_since_persist: set[str] = set()
        self._wake_timer_at: datetime | None = None

    # -- time ----------------------------------------------------------------

    def _now(self) -> datetime:
        return workflow.now() + self._offset

    # -- main loop -----------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseOutcome:
        # Decided before the book changes anything; handlers wait for the intake.
        self._book.breach_overdue_at_once = input.breach_overdue_at_once or workflow.patched(
            BREACH_OVERDUE_AT_ONCE
        )
        if input.state is None:
            async with self._lock:
                # Planned by the service as it opened the case; older inputs plan it here.
                plan = input.opening.effects if input.opening else self._book.open_case()
                await self._carry_out(plan)
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
            if retention is not None and retention <= self._now() and not self._deferred:
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
        # Decided once, by whichever of the run and a handler asks first (the same
        # order on replay); a run started with the input flag records no marker.
        if self._clock_first is None:
            self._clock_first = self._input.clock_first or workflow.patched(CLOCK_FIRST)
        return self._clock_first

    def _send_with_records(self) -> bool:
        # Decided once, at the first send; a run started with the input flag records no marker.
        if self._sends_recorded_together is None:
            self._sends_recorded_together = self._input.send_and_record or workflow.patched(
                SENDS_RECORDED_TOGETHER
            )
        return self._sends_recorded_together

    async def _wait_for_wake(self, wake: datetime | None) -> None:
        """Wait for the wake instant or an event, without cancelling a timer (see
        CLOCK_FIRST): a timer is started only for an instant not already timed."""
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
        wakes = [w for w in (self._book.next_wake(), self._book.retention_ends()) if w]
        wakes += [d.retry_at for d in self._deferred]
        return min(wakes) if wakes else None

    async def _on_clock(self) -> None:
        now = self._now()
        due = [d for d in self._deferred if d.retry_at <= now]
        self._deferred = [d for d in self._deferred if d.retry_at > now]
        effects = self._book.advance(now)
        await self._carry_out(effects, retries=due)

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
            deferred=self._deferred,
            awaiting_delivery=list(self._awaiting.values()),
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
                changed = await self._carry_out(self._book.apply(event))
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
                result = await workflow.execute_local_activity(
                    COMPUTE_SCHEDULES,
                    ScheduleBatch(requests=plan.effects.schedule_requests),
                    result_type=ScheduleBatchResult,
                    start_to_close_timeout=timedelta(seconds=30),
                )
                schedules = {s.key: s for s in result.schedules}
            if request.dry_run:
                moves = deadline_moves(self._book, plan, schedules)
            else:
                moves = apply_migration(self._book, plan, schedules, self._now())
                await self._persist()
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
            intent = self._awaiting.get(update.key)
            if intent is None:
                return
            effects = self._book.on_provider_status(
                intent, update.status, update.at, update.channel, update.error
            )
            if effects.settled:
                await self._carry_out(effects)
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

    # -- side effects --------------------------------------------------------

    async def _carry_out(
        self, effects: CaseEffects, retries: list[DeferredMessage] | None = None
    ) -> list[str]:
        """Do what the case book asked, and what that leads to, then persist once."""
        sends = effects.sends + (retries or [])
        while True:
            self._hold(effects)
            await self._schedule(effects)
            self._pending_alerts += effects.alerts
            if not sends:
                break
            if self._send_with_records():
                effects = await self._send_and_record(sends)
            else:
                effects = CaseEffects()
                for deferred in sends:
                    effects.extend(await self._send(deferred))
            sends = effects.sends
        return await self._persist()

    def _hold(self, effects: CaseEffects) -> None:
        """Keep the messages the book says wait: for a later instant, or for a provider."""
        for key in effects.settled:
            self._awaiting.pop(key, None)
        self._deferred += effects.deferrals
        self._awaiting.update({intent.key: intent for intent in effects.awaiting})

    async def _schedule(self, effects: CaseEffects) -> None:
        requests = effects.schedule_requests
        if not requests:
            return
        schedules: dict[str, Schedule] = {
            r.key: self._intake_schedules[r.key]
            for r in requests
            if r.key in self._intake_schedules
        }
        self._intake_schedules = {}
        if len(schedules) < len(requests):
            result = await workflow.execute_local_activity(
                COMPUTE_SCHEDULES,
                ScheduleBatch(requests=requests),
                result_type=ScheduleBatchResult,
                start_to_close_timeout=timedelta(seconds=30),
            )
            schedules = {s.key: s for s in result.schedules}
        self._pending_alerts += self._book.schedule(effects, schedules, self._now())

    def _send_request(self, deferred: DeferredMessage, sent_at: datetime) -> SendMessage:
        return SendMessage(
            reference=self._book.facts.reference,
            intent=deferred.intent,
            at=sent_at,
            contact_number=self._book.policy.contact_number,
            excluded_channels=deferred.excluded_channels,
        )

    async def _send(self, deferred: DeferredMessage) -> CaseEffects:
        sent_at = send_instant(deferred, self._now())
        request = self._send_request(deferred, sent_at)
        # A send is one short call; as a local activity it costs the case no round
        # trip through the server and no second workflow task.
        outcome: MessageOutcome
        if self._input.local_sends or workflow.patched(SEND_AS_LOCAL_ACTIVITY):
            outcome = await workflow.execute_local_activity(
                SEND_MESSAGE,
                request,
                result_type=MessageOutcome,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SEND_RETRY,
                local_retry_threshold=SEND_LOCAL_RETRY_THRESHOLD,
            )
        else:
            outcome = await workflow.execute_activity(
                SEND_MESSAGE,
                request,
                result_type=MessageOutcome,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=SEND_RETRY,
            )
        return self._book.on_send_outcome(deferred, sent_at, outcome)

    async def _send_and_record(self, sends: list[DeferredMessage]) -> CaseEffects:
        """Send a wake's messages in the activity that records the changes so far, and the
        book's reaction to each outcome as the book plans it (`delivery_meets`); then
        the book reacts to the real outcomes, and `_persist` records only what the
        activity did not."""
        obligations, alerts = self._take_changes()
        self._case_facts_changed()  # recorded with the sends, whether or not it changed
        now = self._now()
        planned = [
            PlannedSend(
                request=self._send_request(deferred, send_instant(deferred, now)),
                on_delivery=self._book.delivery_meets(deferred.intent),
            )
            for deferred in sends
        ]
        taken = {o.key for o in obligations}
        meets = {key for p in planned if p.on_delivery for key in p.on_delivery.obligation_keys}
        result = await workflow.execute_local_activity(
            SEND_AND_RECORD,
            SendAndRecord(
                changes=self._changes(obligations, alerts),
                sends=planned,
                may_meet=[o for o in self._book.state.obligations if o.key in meets - taken],
            ),
            result_type=SentAndRecorded,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=SEND_RETRY,
            local_retry_threshold=SEND_LOCAL_RETRY_THRESHOLD,
        )
        effects = CaseEffects()
        for deferred, send, outcome in zip(sends, planned, result.outcomes, strict=True):
            effects.extend(self._book.on_send_outcome(deferred, send.request.at, outcome))
        # The activity worked out the same reaction with the book's rule, on the same
        # obligations: what it recorded of it is not recorded again; the rest is.
        self._book.recorded(result.reacted_obligations)
        self._changed_since_persist.update(result.reacted_obligations)
        reacted_alerts = set(result.reacted_alerts)
        effects.alerts = [a for a in effects.alerts if alert_identity(a) not in reacted_alerts]
        return effects

    async def _persist(self) -> list[str]:
        obligations, alerts = self._take_changes()
        changed, self._changed_since_persist = self._changed_since_persist, set()
        if obligations or alerts or self._case_facts_changed():
            # A short, idempotent write to the case's own records: as a local
            # activity it costs no extra round trip through the server per change.
            await workflow.execute_local_activity(
                RECORD_CASE_CHANGES,
                self._changes(obligations, alerts),
                result_type=RecordResult,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=PERSIST_RETRY,
            )
        return [o.key for o in self._book.state.obligations if o.key in changed]

    def _take_changes(self) -> tuple[list[Obligation], list[Alert]]:
        """What the book changed since the last record, and the alerts it raised."""
        obligations = self._book.take_dirty()
        alerts, self._pending_alerts = self._pending_alerts, []
        self._changed_since_persist.update(o.key for o in obligations)
        return obligations, alerts

    def _changes(self, obligations: list[Obligation], alerts: list[Alert]) -> CaseChanges:
        state = self._book.state
        return CaseChanges(
            reference=self._book.facts.reference,
            status=state.status,
            closed_at=state.closed_at,
            update_interval_days=state.update_interval_days,
            updates_paused=state.updates_paused,
            obligations=obligations,
            alerts=alerts,
        )

    def _case_facts_changed(self) -> bool:
        state = self._book.state
        current = (state.status, state.closed_at, state.update_interval_days, state.updates_paused)
        if self._published.get("case") == current:
            return False
        self._published["case"] = current
        return True

    async def _publish_search_attributes(self) -> None:
        updates = []
        for key, value in sa.case_values(self._book, self._input.publish_category):
            if self._published.get(key.name, ...) == value:
                continue
            self._published[key.name] = value
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
