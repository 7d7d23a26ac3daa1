"""One case run by the case book on a discrete-event clock, as its workflow runs it.

The driver only waits, calls and hands results to the book, in the workflow's order:
open the case, then take whichever comes first of the next event, the book's next
wake, the end of retention and a deferred message's retry. Every decision (what an
event means, what a send's outcome means) is the book's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.delivery import CaseOutbox, SimulatedDelivery
from standards.case import CaseBook
from standards.case_state import CaseFacts, Effects
from standards.clock import NO_CORRECTIONS, HolidayCorrections
from standards.contact import contact_blocked
from standards.delivery import DeferredMessage
from standards.driving import (
    CaseSteps,
    Command,
    ComputeSchedules,
    Record,
    Send,
    run_steps,
)
from standards.events import (
    STORED_DETAILS,
    CaseEvent,
    EventRejected,
    EventType,
    not_running,
    refused_for_victim,
    unaccepted_detail,
)
from standards.obligations import Alert, AlertKind
from standards.schedules import opening, schedule_for


@dataclass
class PostedEvent:
    """An event as a caller posts it, with where it stands in the scenario."""

    index: int
    # When it reaches the case: its own instant, or the report's if it is dated before.
    posted_at: datetime
    type: EventType
    at: datetime
    standard: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    actor: str = "crime recording system"
    event_id: str | None = None


@dataclass
class SentAlert:
    seq: int
    kind: AlertKind
    at: datetime
    standard: str
    obligation_key: str


@dataclass
class Refusal:
    index: int
    event: PostedEvent
    error: str


@dataclass
class CaseRun:
    """Everything one case's run leaves behind."""

    book: CaseBook
    outbox: CaseOutbox
    alerts: list[SentAlert] = field(default_factory=list)
    # The book's alerts behind `alerts`, whole (detail and deadline too), in the same
    # order: what demo data writes to the alerts table.
    raised_alerts: list[Alert] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    finished: bool = False


class CaseDriver:
    """Drives one case's book from its report to `until`."""

    def __init__(
        self,
        facts: CaseFacts,
        outbox: CaseOutbox,
        delivery: SimulatedDelivery,
        corrections: HolidayCorrections = NO_CORRECTIONS,
    ) -> None:
        self._opening = opening(facts, corrections)
        self.run = CaseRun(book=CaseBook(facts, self._opening.state), outbox=outbox)
        self._book = self.run.book
        self._delivery = delivery
        self._corrections = corrections
        # The book's own protocol carries out its effects; this executes its commands.
        self._steps = CaseSteps(
            self._book, lambda: self._now, intake_schedules=self._opening.schedules
        )
        self._alerted: set[tuple[str, str]] = set()
        self._now = facts.reported_at

    # -- the clock -------------------------------------------------------------

    def drive(self, events: list[PostedEvent], until: datetime) -> CaseRun:
        """Open the case, then play its events (in posting order) and its clocks to `until`."""
        self._carry_out(self._opening.effects)
        self._after_step()
        for event in events:
            self._run_clock_to(event.posted_at)
            if self.run.finished:
                self.run.refusals.append(
                    Refusal(
                        event.index,
                        event,
                        not_running(self._book.facts.reference),
                    )
                )
                continue
            self._now = max(self._now, event.posted_at)
            self._post(event)
            self._after_step()
        self._run_clock_to(until)
        return self.run

    def _next_wake(self) -> datetime | None:
        return self._book.wake_with(self._steps.deferred)

    def _run_clock_to(self, instant: datetime) -> None:
        while not self.run.finished:
            wake = self._next_wake()
            if wake is None or wake > instant:
                return
            self._now = max(self._now, wake)
            self._after_step()

    def _after_step(self) -> None:
        """What the workflow does each time it wakes: run the clock, then maybe finish."""
        now = self._now
        due = self._steps.take_due_retries(now)
        self._carry_out(self._book.advance(now), retries=due)
        retention = self._book.retention_ends()
        if retention is not None and retention <= self._now and not self._steps.deferred:
            self.run.finished = True

    # -- events ----------------------------------------------------------------

    def _post(self, event: PostedEvent) -> None:
        reference = self._book.facts.reference
        refused = f"{event.type.value} refused for case {reference}: "
        for name in event.details:
            if (problem := unaccepted_detail(event.type, name)) is not None:
                self.run.refusals.append(Refusal(event.index, event, refused + problem))
                return
        repeat = event.event_id is not None and event.event_id in self._book.state.applied_events
        # The victim's record refuses what would message them now, before the case hears
        # of it (the service asks the same as it records the event).
        blocked = contact_blocked(self.run.outbox.victim.profile)
        victim_refused = refused_for_victim(event.type, contact_blocked=blocked)
        if victim_refused is not None and not repeat:
            self.run.refusals.append(Refusal(event.index, event, refused + victim_refused))
            return
        stored = STORED_DETAILS.get(event.type, ())
        case_event = CaseEvent(
            type=event.type,
            at=event.at,
            standard=event.standard,
            details={k: v for k, v in event.details.items() if k not in stored},
            actor=event.actor,
            event_id=event.event_id,
        )
        officer = self.run.outbox.officer
        previous = dict(officer)
        # A repeat of a recorded event id writes nothing, officer details included.
        if not repeat:
            officer.update({k: str(event.details[k]) for k in stored if k in event.details})
        try:
            self._book.check(case_event, self._now)
            earlier = self._book.repeat_of(case_event)
        except EventRejected as rejected:
            officer.clear()
            officer.update(previous)
            self.run.refusals.append(Refusal(event.index, event, refused + str(rejected)))
            return
        if earlier is None:
            language = case_event.details.get("language")
            if case_event.type == EventType.PREFERENCES_CHANGED and language is not None:
                # Written to the victim's record by the service, as live.
                self.run.outbox.victim.language = language
            changed = self._carry_out(self._book.apply(case_event))
            self._book.remember(case_event, changed)

    # -- side effects ----------------------------------------------------------

    def _carry_out(
        self, effects: Effects, retries: list[DeferredMessage] | None = None
    ) -> list[str]:
        return run_steps(self._steps.carry_out(effects, retries), self._execute)

    def _execute(self, command: Command) -> object:
        if isinstance(command, ComputeSchedules):
            return {r.key: schedule_for(r, self._corrections) for r in command.requests}
        if isinstance(command, Send):
            # A temporary failure comes back DEFERRED: the book has it tried again later,
            # on the case's clock, as the workflow does.
            request = command.request
            return self._delivery.send(
                self.run.outbox, request.intent, request.at, request.excluded_channels
            )
        # The in-process engine's sends record nothing themselves (never SendWithRecords).
        assert isinstance(command, Record)
        self._record(command.changes.alerts)
        return None

    def _record(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            identity = (alert.obligation_key, alert.kind.value)
            if identity in self._alerted:
                continue
            self._alerted.add(identity)
            self.run.raised_alerts.append(alert)
            self.run.alerts.append(
                SentAlert(
                    seq=len(self.run.alerts),
                    kind=alert.kind,
                    at=alert.at,
                    standard=alert.standard,
                    obligation_key=alert.obligation_key,
                )
            )
        # The victim's row follows the case, so later messages read the new interval.
        self.run.outbox.victim.update_interval_days = self._book.state.update_interval_days
