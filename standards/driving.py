"""How any driver carries out the case book's effects: one protocol, without I/O.

The book decides; a driver (the case workflow, the in-process engine) waits and calls.
Between the two sits this loop, written once: hold the messages that wait (for a later
instant, or for a provider's report), work out deadlines for what the book planned,
collect its alerts, send what is due now, hand each outcome back to the book, send what
the outcomes lead to, and record the changes once at the end.

It is a generator of commands (`Steps`): the driver executes each command and sends its
result back, until the generator returns. It performs no I/O itself, so it is unit-tested
directly, command order included (tests/unit/test_driving.py):

    steps = case_steps.carry_out(effects)
    result = run_steps(steps, execute)   # or the async loop of workflows/side_effects.py

Commands, and what the driver sends back for each:

- `ComputeSchedules(requests)`: the deadlines, a `dict` of `Schedule` by request key;
- `Send(request)`: one message's `MessageOutcome`;
- `SendWithRecords(wake)`: a wake's sends and its changes in one go, `SentAndRecorded`;
- `Record(changes)`: the changes written; anything (ignored).

The protocol reads the driver's clock (`now`) and, at the first send, which of the two
send shapes the case uses (`sends_recorded_together`), at the same points the workflow
always has: the workflow's clock and patch markers are part of its replayed history.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from standards.case import CaseBook
from standards.case_state import Effects
from standards.contracts import (
    CaseChanges,
    PlannedSend,
    SendAndRecord,
    SendMessage,
    SentAndRecorded,
)
from standards.delivery import DeferredMessage, MessageIntent, MessageOutcome, due_by, send_instant
from standards.obligations import Alert, Obligation, Schedule, ScheduleRequest
from standards.send_outcome import alert_identity


@dataclass(frozen=True)
class ComputeSchedules:
    """Work out these deadlines (outside workflow code: bank-holiday data must not move a
    deadline on replay)."""

    requests: list[ScheduleRequest]


@dataclass(frozen=True)
class Send:
    """Send one message now."""

    request: SendMessage


@dataclass(frozen=True)
class SendWithRecords:
    """Send a wake's messages in the transaction that records its changes so far."""

    wake: SendAndRecord


@dataclass(frozen=True)
class Record:
    """Record the case's changes since the last record."""

    changes: CaseChanges


Command = ComputeSchedules | Send | SendWithRecords | Record

T = TypeVar("T")
# A driver sends back each command's result (see the module's docstring).
Steps = Generator[Command, Any, T]


def run_steps(steps: Steps[T], execute: Callable[[Command], Any]) -> T:
    """Carry out `steps` with a synchronous `execute`; returns what the steps return."""
    try:
        command = next(steps)
        while True:
            command = steps.send(execute(command))
    except StopIteration as finished:
        value: T = finished.value
        return value


def never_together() -> bool:
    """The send shape of a driver whose sends record nothing themselves."""
    return False


class CaseSteps:
    """The messages one case holds, and the protocol carrying out its book's effects."""

    def __init__(
        self,
        book: CaseBook,
        now: Callable[[], datetime],
        *,
        deferred: Iterable[DeferredMessage] = (),
        awaiting: Iterable[MessageIntent] = (),
        intake_schedules: Iterable[Schedule] = (),
        sends_recorded_together: Callable[[], bool] = never_together,
    ) -> None:
        self._book = book
        self._now = now
        self.deferred = list(deferred)
        self.awaiting = {intent.key: intent for intent in awaiting}
        self.pending_alerts: list[Alert] = []
        self._intake_schedules = {s.key: s for s in intake_schedules}
        self._ask_together = sends_recorded_together
        self._sends_recorded_together: bool | None = None
        # Obligations changed since the last `persist` returned (for an event's receipt),
        # including those a send's activity recorded.
        self._changed_since_persist: set[str] = set()
        self._recorded_case_facts: tuple[object, ...] | None = None

    def carry_out(
        self, effects: Effects, retries: list[DeferredMessage] | None = None
    ) -> Steps[list[str]]:
        """Do what the case book asked, and what that leads to, then record once; returns
        the keys of the obligations changed since the last record."""
        sends = effects.sends + (retries or [])
        if effects.replan_waiting:
            # Sent now, each send planning its channels and hours from the victim's record
            # afresh; a message still outside the new safe hours waits again.
            sends += self.deferred
            self.deferred = []
        while True:
            self._hold(effects)
            yield from self._schedule(effects)
            self.pending_alerts += effects.alerts
            if not sends:
                break
            if self._send_with_records():
                effects = yield from self._send_and_record(sends)
            else:
                effects = Effects()
                for deferred in sends:
                    effects.extend((yield from self._send(deferred)))
            sends = effects.sends
        return (yield from self.persist())

    def take_due_retries(self, now: datetime) -> list[DeferredMessage]:
        """The waiting messages due by `now`, no longer held."""
        due, self.deferred = due_by(self.deferred, now)
        return due

    def persist(self) -> Steps[list[str]]:
        """Record what changed since the last record; the keys of the obligations changed
        since the last call."""
        obligations, alerts = self._take_changes()
        changed, self._changed_since_persist = self._changed_since_persist, set()
        if obligations or alerts or self._case_facts_changed():
            yield Record(self._changes(obligations, alerts))
        return [o.key for o in self._book.state.obligations if o.key in changed]

    # -- the steps -------------------------------------------------------------

    def _send_with_records(self) -> bool:
        # Decided once, at the first send (a workflow's patch marker is recorded there).
        if self._sends_recorded_together is None:
            self._sends_recorded_together = self._ask_together()
        return self._sends_recorded_together

    def _hold(self, effects: Effects) -> None:
        """Keep the messages the book says wait: for a later instant, or for a provider."""
        for key in effects.settled:
            self.awaiting.pop(key, None)
        self.deferred += effects.deferrals
        self.awaiting.update({intent.key: intent for intent in effects.awaiting})

    def _schedule(self, effects: Effects) -> Steps[None]:
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
            schedules = yield ComputeSchedules(requests)
        self.pending_alerts += self._book.schedule(effects, schedules, self._now())

    def _send_request(self, deferred: DeferredMessage, sent_at: datetime) -> SendMessage:
        return SendMessage(
            reference=self._book.facts.reference,
            intent=deferred.intent,
            at=sent_at,
            contact_number=self._book.policy.contact_number,
            excluded_channels=deferred.excluded_channels,
        )

    def _send(self, deferred: DeferredMessage) -> Steps[Effects]:
        sent_at = send_instant(deferred, self._now())
        outcome: MessageOutcome = yield Send(self._send_request(deferred, sent_at))
        return self._book.on_send_outcome(deferred, sent_at, outcome)

    def _send_and_record(self, sends: list[DeferredMessage]) -> Steps[Effects]:
        """Send a wake's messages with the changes so far recorded, and the book's reaction
        to each outcome as the book plans it (`delivery_meets`); then the book reacts to
        the real outcomes, and `persist` records only what the send did not."""
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
        result: SentAndRecorded = yield SendWithRecords(
            SendAndRecord(
                changes=self._changes(obligations, alerts),
                sends=planned,
                may_meet=[o for o in self._book.state.obligations if o.key in meets - taken],
            )
        )
        effects = Effects()
        for deferred, send, outcome in zip(sends, planned, result.outcomes, strict=True):
            effects.extend(self._book.on_send_outcome(deferred, send.request.at, outcome))
        # The send worked out the same reaction with the book's rule, on the same
        # obligations: what it recorded of it is not recorded again; the rest is.
        self._book.recorded(result.reacted_obligations)
        self._changed_since_persist.update(result.reacted_obligations)
        reacted_alerts = set(result.reacted_alerts)
        effects.alerts = [a for a in effects.alerts if alert_identity(a) not in reacted_alerts]
        return effects

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
