"""What the case workflow does for its book: deadlines, sends and records, as activities.

Workflow code (it runs in the case workflow's sandbox): the case book decides, and this
carries out what it asked, and what the outcomes lead to, through local activities,
then records the changes. It holds the messages that wait (for a later instant, or for
a provider's report), which the workflow carries over on continue-as-new.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from standards.case import CaseBook
    from standards.case import Effects as CaseEffects
    from standards.contracts import (
        COMPUTE_SCHEDULES,
        RECORD_CASE_CHANGES,
        SEND_AND_RECORD,
        SEND_MESSAGE,
        CaseChanges,
        CaseWorkflowInput,
        DeferredMessage,
        MessageOutcome,
        PlannedSend,
        RecordResult,
        ScheduleBatch,
        ScheduleBatchResult,
        SendAndRecord,
        SendMessage,
        SentAndRecorded,
    )
    from standards.delivery import due_by, send_instant
    from standards.obligations import Alert, Obligation, Schedule, ScheduleRequest
    from standards.send_outcome import alert_identity

PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
# Cases opened before this change send through a regular activity; replaying their
# history must schedule the same command, so the switch is a patch.
SEND_AS_LOCAL_ACTIVITY = "send-as-local-activity"
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


class CaseSideEffects:
    """Carries out the case book's effects for one run of a case's workflow."""

    def __init__(
        self, book: CaseBook, input: CaseWorkflowInput, now: Callable[[], datetime]
    ) -> None:
        self._book = book
        self._input = input
        self._now = now
        self.deferred = list(input.deferred)
        self.awaiting = {intent.key: intent for intent in input.awaiting_delivery}
        self.pending_alerts: list[Alert] = []
        opening = input.opening if input.state is None else None
        self._intake_schedules = {
            s.key: s for s in (opening.schedules if opening else input.intake_schedules)
        }
        self._sends_recorded_together: bool | None = None
        # Obligations changed since the last `persist` returned (for an event's receipt),
        # including those a send's activity recorded.
        self._changed_since_persist: set[str] = set()
        self._recorded_case_facts: tuple[object, ...] | None = None

    async def carry_out(
        self, effects: CaseEffects, retries: list[DeferredMessage] | None = None
    ) -> list[str]:
        """Do what the case book asked, and what that leads to, then persist once."""
        sends = effects.sends + (retries or [])
        while True:
            self._hold(effects)
            await self._schedule(effects)
            self.pending_alerts += effects.alerts
            if not sends:
                break
            if self._send_with_records():
                effects = await self._send_and_record(sends)
            else:
                effects = CaseEffects()
                for deferred in sends:
                    effects.extend(await self._send(deferred))
            sends = effects.sends
        return await self.persist()

    def take_due_retries(self, now: datetime) -> list[DeferredMessage]:
        """The waiting messages due by `now`, no longer held."""
        due, self.deferred = due_by(self.deferred, now)
        return due

    async def compute_schedules(self, requests: list[ScheduleRequest]) -> dict[str, Schedule]:
        """Deadlines, worked out outside workflow code (bank-holiday data must not change
        a deadline on replay)."""
        result = await workflow.execute_local_activity(
            COMPUTE_SCHEDULES,
            ScheduleBatch(requests=requests),
            result_type=ScheduleBatchResult,
            start_to_close_timeout=timedelta(seconds=30),
        )
        return {s.key: s for s in result.schedules}

    def _send_with_records(self) -> bool:
        # Decided once, at the first send; a run started with the input flag records no marker.
        if self._sends_recorded_together is None:
            self._sends_recorded_together = self._input.send_and_record or workflow.patched(
                SENDS_RECORDED_TOGETHER
            )
        return self._sends_recorded_together

    def _hold(self, effects: CaseEffects) -> None:
        """Keep the messages the book says wait: for a later instant, or for a provider."""
        for key in effects.settled:
            self.awaiting.pop(key, None)
        self.deferred += effects.deferrals
        self.awaiting.update({intent.key: intent for intent in effects.awaiting})

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
            schedules = await self.compute_schedules(requests)
        self.pending_alerts += self._book.schedule(effects, schedules, self._now())

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
        the book reacts to the real outcomes, and `persist` records only what the
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

    async def persist(self) -> list[str]:
        """Record what changed since the last record; the keys of the obligations changed
        since the last call."""
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
        alerts, self.pending_alerts = self.pending_alerts, []
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
        if self._recorded_case_facts == current:
            return False
        self._recorded_case_facts = current
        return True
