"""A case's obligations under its policy: which events start, meet or cancel what.

`CaseBook` is the functional core of the case workflow. It never performs I/O:
it mutates the case's state and says what the workflow must do next (work out
deadlines, send messages, raise alerts).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from standards.clock import Nation, WindowUnit
from standards.delivery import (
    DeferredMessage,
    DeliveryStatus,
    MessageIntent,
    MessageOutcome,
)
from standards.obligations import (
    Alert,
    AlertKind,
    BreachReason,
    Obligation,
    ObligationState,
    Schedule,
    ScheduleRequest,
    advance_clock,
    breach_if_overdue,
    cancel,
    explain,
    needs_explanation,
    retime,
    start_obligation,
)
from standards.policy import OnCaseChange, Policy, StandardRule, Trigger
from standards.send_outcome import DeliveryMeets, manual_contact_alert, meet_one, outcome_alerts

# Events may be entered a little after they happened, never before they happen.
FUTURE_TOLERANCE = timedelta(minutes=5)


def in_the_future(name: str, at: datetime, now: datetime) -> str | None:
    """Why an instant given as `name` is refused as not having happened yet, if it is.

    The one rule for every instant a caller says something happened at: an event's
    `at` and a report's `reported_at` alike (clocks may differ by a few minutes).
    """
    if at > now + FUTURE_TOLERANCE:
        return f"{name!r} {at.isoformat()} is in the future"
    return None


PERIODIC_UPDATE_TEMPLATE = "periodic_update"

# Why an event cannot reach a case whose run has finished (its retention ended).
CASE_FINISHED = "its workflow has finished"


def not_running(reference: str, reason: str = CASE_FINISHED) -> str:
    """The refusal of an event for a case that is not running, whoever finds it so."""
    return (
        f"case {reference} is not running ({reason}); "
        "is the reference right, or has the case been archived?"
    )


class EventType(StrEnum):
    CONTACT_RECORDED = "contact_recorded"
    REVIEW_RECORDED = "review_recorded"
    UPDATE_DELIVERED = "update_delivered"
    OFFICER_ASSIGNED = "officer_assigned"
    ARREST = "arrest"
    CHARGE = "charge"
    COURT_OUTCOME = "court_outcome"
    CLOSED = "closed"
    REOPENED = "reopened"
    PREFERENCES_CHANGED = "preferences_changed"
    BREACH_EXPLAINED = "breach_explained"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


# The details each event may carry to the case's clocks.
ALLOWED_DETAILS: dict[EventType, dict[str, type | tuple[type, ...]]] = {
    EventType.CONTACT_RECORDED: {"method": str},
    EventType.REVIEW_RECORDED: {},
    EventType.UPDATE_DELIVERED: {"channel": str},
    EventType.OFFICER_ASSIGNED: {},
    EventType.ARREST: {},
    EventType.CHARGE: {},
    EventType.COURT_OUTCOME: {"outcome": str},
    EventType.CLOSED: {"reason": str},
    EventType.REOPENED: {"reason": str},
    EventType.PREFERENCES_CHANGED: {"update_interval_days": (int, type(None)), "no_updates": bool},
    EventType.BREACH_EXPLAINED: {"reason": str, "text": str},
}

# Details an event may also carry that the service stores in its database and never
# passes to the case: staff contact details are personal data.
STORED_DETAILS: dict[EventType, tuple[str, ...]] = {
    EventType.OFFICER_ASSIGNED: ("officer_name", "officer_contact"),
}


def accepted_details(event_type: EventType) -> list[str]:
    """Every detail a caller may give with this event: what the case uses, what is stored."""
    return [*ALLOWED_DETAILS[event_type], *STORED_DETAILS.get(event_type, ())]


def unaccepted_detail(event_type: EventType, name: str) -> str | None:
    """Why a detail is refused with this event, naming those accepted; None if it is accepted."""
    accepted = accepted_details(event_type)
    if name in accepted:
        return None
    return (
        f"{event_type.value} does not take detail {name!r}; "
        f"accepted: {', '.join(accepted) or 'none'}"
    )


TRIGGER_OF_EVENT = {
    EventType.OFFICER_ASSIGNED: Trigger.OFFICER_ASSIGNED,
    EventType.ARREST: Trigger.ARREST,
    EventType.CHARGE: Trigger.CHARGE,
    EventType.COURT_OUTCOME: Trigger.COURT_OUTCOME,
    EventType.CLOSED: Trigger.CLOSED,
    EventType.REOPENED: Trigger.REOPENED,
}
ALLOWED_WHEN_CLOSED = {
    EventType.CONTACT_RECORDED,
    EventType.REVIEW_RECORDED,
    EventType.UPDATE_DELIVERED,
    EventType.REOPENED,
    EventType.PREFERENCES_CHANGED,
    EventType.BREACH_EXPLAINED,
}


class EventRejected(ValueError):
    """An event that does not fit the case; nothing was changed."""


@dataclass
class CaseFacts:
    """What the clocks need to know about a case: no personal data."""

    reference: str
    category: str
    borough: str
    reported_at: datetime
    policy: Policy
    vulnerable: bool = False
    # The nation of the case's unit (whose bank holidays its working days skip); cases
    # opened before units had nations, and units without one, use the policy's.
    nation: Nation | None = None


@dataclass
class CaseEvent:
    type: EventType
    at: datetime
    standard: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Who recorded it, as an opaque reference or a role: names stay in the database.
    actor: str = "crime recording system"
    # The caller's idempotency key: an event whose id the case has applied is a repeat.
    event_id: str | None = None

    def fingerprint(self) -> str:
        """What makes two events with one id the same event (the actor may differ)."""
        content = [
            self.type.value,
            self.at.astimezone(UTC).isoformat(),
            self.standard,
            self.details,
        ]
        canonical = json.dumps(content, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass
class AppliedEvent:
    """An event with an id the case has applied, and the receipt it was given."""

    type: EventType
    at: datetime
    fingerprint: str
    changed: list[str] = field(default_factory=list)


@dataclass
class PendingStart:
    standard: str
    occurrence: int
    request: ScheduleRequest
    cause: str


@dataclass
class PendingRetime:
    key: str
    request: ScheduleRequest
    cause: str


@dataclass
class Effects:
    """What the book asks its driver to do; the driver decides none of it."""

    starts: list[PendingStart] = field(default_factory=list)
    retimes: list[PendingRetime] = field(default_factory=list)
    # New messages, sent at their own instant.
    messages: list[MessageIntent] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    # Messages to send again now (a provider's late failure: the next channel).
    resends: list[DeferredMessage] = field(default_factory=list)
    # Messages to send again at their `retry_at` (outside the victim's safe hours).
    deferrals: list[DeferredMessage] = field(default_factory=list)
    # Messages handed to a provider that reports on them later, and those it has.
    awaiting: list[MessageIntent] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)

    def extend(self, other: Effects) -> None:
        self.starts += other.starts
        self.retimes += other.retimes
        self.messages += other.messages
        self.alerts += other.alerts
        self.resends += other.resends
        self.deferrals += other.deferrals
        self.awaiting += other.awaiting
        self.settled += other.settled

    @property
    def sends(self) -> list[DeferredMessage]:
        """Every message to send now: the new ones at their instant, then the resends."""
        return [DeferredMessage(intent=m, retry_at=m.at) for m in self.messages] + self.resends

    @property
    def schedule_requests(self) -> list[ScheduleRequest]:
        return [s.request for s in self.starts] + [r.request for r in self.retimes]


@dataclass
class CaseState:
    status: CaseStatus = CaseStatus.OPEN
    closed_at: datetime | None = None
    update_interval_days: int | None = None
    updates_paused: bool = False
    obligations: list[Obligation] = field(default_factory=list)
    occurrences: dict[str, int] = field(default_factory=dict)
    message_seq: int = 0
    dirty: list[str] = field(default_factory=list)
    # By event id; carried across continue-as-new so a repeat is known for good.
    applied_events: dict[str, AppliedEvent] = field(default_factory=dict)


@dataclass
class Opening:
    """A case's opening plan, worked out once as it is opened (standards.schedules.opening):
    the book's state once planned, what the opening starts and sends, and the deadlines
    of what it starts (worked out outside workflow code, like every deadline)."""

    state: CaseState
    effects: Effects
    schedules: list[Schedule] = field(default_factory=list)


class CaseBook:
    def __init__(
        self, facts: CaseFacts, state: CaseState, breach_overdue_at_once: bool = True
    ) -> None:
        self.facts = facts
        self.state = state
        self.policy = facts.policy
        # An obligation whose deadline has passed when it starts (a case or event entered
        # late), or when it is met, is breached there and then, with its alert. Off only
        # to replay the histories of cases that ran before this rule.
        self.breach_overdue_at_once = breach_overdue_at_once

    # -- reading -------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state.status == CaseStatus.OPEN

    @property
    def enhanced(self) -> bool:
        return self.policy.has_enhanced_rights(self.facts.category, self.facts.vulnerable)

    def open_obligations(self, standard: str | None = None) -> list[Obligation]:
        return [
            o
            for o in self.state.obligations
            if o.is_open and (standard is None or o.standard == standard)
        ]

    def breached_count(self) -> int:
        return sum(1 for o in self.state.obligations if o.state == ObligationState.BREACHED)

    def next_deadline(self) -> datetime | None:
        pending = [o.due_at for o in self.state.obligations if o.state == ObligationState.PENDING]
        return min(pending) if pending else None

    def next_wake(self) -> datetime | None:
        wakes = [w for o in self.state.obligations if (w := o.next_wake()) is not None]
        return min(wakes) if wakes else None

    def wake_with(self, deferred: list[DeferredMessage]) -> datetime | None:
        """When a driver next wakes the case: the book's next wake, the end of its
        retention, or the retry of a message waiting in `deferred`, whichever is first."""
        wakes = [w for w in (self.next_wake(), self.retention_ends()) if w]
        wakes += [d.retry_at for d in deferred]
        return min(wakes) if wakes else None

    def retention_ends(self) -> datetime | None:
        """When a closed case with nothing left to do may finish its workflow."""
        if self.is_open or self.state.closed_at is None:
            return None
        if any(o.is_open for o in self.state.obligations):
            return None
        return self.state.closed_at + timedelta(days=self.policy.reopen_window_days)

    def recorded(self, keys: list[str]) -> None:
        """The driver has recorded these obligations as they stand: no longer dirty (a
        later change makes them dirty again)."""
        self.state.dirty = [key for key in self.state.dirty if key not in keys]

    def take_dirty(self) -> list[Obligation]:
        keys = set(self.state.dirty)
        self.state.dirty = []
        return [o for o in self.state.obligations if o.key in keys]

    # -- intake --------------------------------------------------------------

    def open_case(self) -> Effects:
        effects = Effects()
        at = self.facts.reported_at
        for rule in self.policy.started_by(Trigger.CASE_OPENED, self.facts.category):
            if self._may_start(rule):
                effects.starts.append(self._plan(rule, at, "report received"))
        effects.messages += self._message_for(Trigger.CASE_OPENED, at, {})
        return effects

    def schedule(
        self, effects: Effects, schedules: dict[str, Schedule], now: datetime
    ) -> list[Alert]:
        """Start and retime what `effects` planned, on the deadlines worked out for it.

        `schedules` holds one deadline per planned request (`effects.schedule_requests`);
        returns the breach alerts of obligations already overdue as they start.
        """
        alerts = self.begin(effects.starts, schedules, now)
        self.apply_retimes(
            self.keep_future_retimes(effects.retimes, schedules, now), schedules, now
        )
        return alerts

    def begin(
        self, starts: list[PendingStart], schedules: dict[str, Schedule], now: datetime
    ) -> list[Alert]:
        """Start the planned obligations; returns the breach alerts of those already overdue."""
        alerts: list[Alert] = []
        for pending in starts:
            schedule = schedules[pending.request.key]
            obligation = start_obligation(
                pending.standard, pending.occurrence, schedule, pending.request, pending.cause
            )
            self.state.obligations.append(obligation)
            self._touch(obligation)
            if self.breach_overdue_at_once:
                alerts += breach_if_overdue(obligation, now)
        return alerts

    def apply_retimes(
        self, retimes: list[PendingRetime], schedules: dict[str, Schedule], at: datetime
    ) -> None:
        for pending in retimes:
            obligation = self._obligation(pending.key)
            retime(obligation, schedules[pending.request.key], at, pending.cause)
            self._touch(obligation)

    # -- events --------------------------------------------------------------

    def repeat_of(self, event: CaseEvent) -> AppliedEvent | None:
        """The earlier application of an event posted again with the same id, if any.

        A repeat changes nothing and gets the first receipt; an id used again for a
        different event is refused.
        """
        if event.event_id is None:
            return None
        earlier = self.state.applied_events.get(event.event_id)
        if earlier is None:
            return None
        if earlier.fingerprint != event.fingerprint():
            raise EventRejected(
                f"event_id {event.event_id!r} was already used on case {self.facts.reference} "
                f"for another event ({earlier.type.value} at {earlier.at.isoformat()})"
            )
        return earlier

    def remember(self, event: CaseEvent, changed: list[str]) -> None:
        """Record that an event with an id has been applied, with its receipt."""
        if event.event_id is not None:
            self.state.applied_events[event.event_id] = AppliedEvent(
                type=event.type, at=event.at, fingerprint=event.fingerprint(), changed=changed
            )

    def check(self, event: CaseEvent, now: datetime) -> None:
        """Raise EventRejected if the event cannot apply to this case as it stands.

        A repeat is not checked again: it applies nothing, so there is nothing to refuse.
        """
        if self.repeat_of(event) is not None:
            return
        if event.at.tzinfo is None or event.at.utcoffset() is None:
            raise EventRejected(
                "'at' must be an instant with a UTC offset, e.g. 2026-03-28T09:00:00+00:00"
            )
        if event.at < self.facts.reported_at:
            raise EventRejected(
                f"'at' {event.at.isoformat()} is before the report was "
                f"received at {self.facts.reported_at.isoformat()}"
            )
        if (future := in_the_future("at", event.at, now)) is not None:
            raise EventRejected(future)
        self._check_details(event)
        if not self.is_open and event.type not in ALLOWED_WHEN_CLOSED:
            raise EventRejected(
                f"case {self.facts.reference} is closed: {event.type.value} "
                "is not accepted; reopen it first"
            )
        if self.is_open and event.type == EventType.REOPENED:
            raise EventRejected(
                f"case {self.facts.reference} is open: only a closed case can be reopened"
            )
        trigger = TRIGGER_OF_EVENT.get(event.type)
        if trigger in (
            Trigger.OFFICER_ASSIGNED,
            Trigger.ARREST,
            Trigger.CHARGE,
            Trigger.COURT_OUTCOME,
        ) and not (
            self.policy.started_by(trigger, self.facts.category)
            or self.policy.message_for(trigger, self.facts.category)
        ):
            raise EventRejected(
                f"{event.type.value} does not apply to a {self.facts.category} case"
            )
        if event.type == EventType.CONTACT_RECORDED and event.standard is not None:
            rule = self._known_standard(event.standard)
            if not rule.met_by_token("contact"):
                raise EventRejected(
                    f"standard {rule.id} is not met by a recorded contact "
                    f"(met by: {', '.join(rule.met_by)})"
                )
        elif event.type == EventType.BREACH_EXPLAINED:
            self._check_explanation(event)
        elif event.standard is not None:
            raise EventRejected(f"{event.type.value} does not take a standard")
        if event.type == EventType.PREFERENCES_CHANGED:
            self._check_preferences(event.details)

    def apply(self, event: CaseEvent) -> Effects:
        effects = Effects()
        if self.repeat_of(event) is not None:
            return effects
        cause = f"{event.type.value} by {event.actor}"
        if event.type == EventType.CONTACT_RECORDED:
            effects.extend(self._meet_by_contact(event.standard, event.at, cause))
        elif event.type == EventType.REVIEW_RECORDED:
            effects.extend(self._meet({"review"}, event.at, cause))
        elif event.type == EventType.UPDATE_DELIVERED:
            effects.extend(self._meet({"update_delivered"}, event.at, cause))
        elif event.type == EventType.PREFERENCES_CHANGED:
            effects.extend(self._change_preferences(event, cause))
        elif event.type == EventType.BREACH_EXPLAINED:
            self._explain(event, cause)
        else:
            effects.extend(self._case_event(event, cause))
        return effects

    def message_delivered(self, intent: MessageIntent, delivered_at: datetime) -> Effects:
        return self._meet(_delivery_tokens(intent), delivered_at, _delivery_cause(intent))

    def delivery_meets(self, intent: MessageIntent) -> DeliveryMeets | None:
        """What delivering `intent` would meet, planned before it is sent, for the send's
        activity to record with the book's own rule (standards.send_outcome). None when
        a delivery would restart a recurring standard: that start needs its deadline
        worked out first, so the book's reaction is recorded after the send."""
        tokens = _delivery_tokens(intent)
        keys: list[str] = []
        for obligation in self.open_obligations():
            rule = self.policy.standard(obligation.standard)
            if any(rule.met_by_token(t) for t in tokens):
                if rule.recurs:
                    return None
                keys.append(obligation.key)
        return DeliveryMeets(
            obligation_keys=keys,
            cause=_delivery_cause(intent),
            breach_overdue_at_once=self.breach_overdue_at_once,
        )

    def on_send_outcome(
        self, deferred: DeferredMessage, sent_at: datetime, outcome: MessageOutcome
    ) -> Effects:
        """What a send's outcome means: the standards it meets, a retry, or staff alerts.

        `sent_at` is the instant the message went out (`send_instant`).
        """
        intent = deferred.intent
        effects = Effects(alerts=outcome_alerts(intent, outcome))
        if outcome.status == DeliveryStatus.DELIVERED:
            effects.extend(self.message_delivered(intent, sent_at))
        elif outcome.status == DeliveryStatus.PENDING:
            effects.awaiting.append(intent)
        elif outcome.status == DeliveryStatus.DEFERRED and outcome.retry_at is not None:
            effects.deferrals.append(
                DeferredMessage(
                    intent=intent,
                    retry_at=outcome.retry_at,
                    excluded_channels=deferred.excluded_channels,
                )
            )
        return effects

    def on_provider_status(
        self,
        intent: MessageIntent,
        status: DeliveryStatus,
        at: datetime,
        channel: str | None = None,
        error: str | None = None,
    ) -> Effects:
        """What a provider's later report on a message it took means.

        Delivered meets what the message meets; a late "undelivered" is a permanent
        failure like any other: staff hear of it while the next channel is tried.
        Any other status changes nothing and the message is still awaited.
        """
        effects = Effects()
        if status == DeliveryStatus.DELIVERED:
            effects.settled.append(intent.key)
            effects.extend(self.message_delivered(intent, at))
        elif status == DeliveryStatus.FAILED:
            effects.settled.append(intent.key)
            effects.alerts.append(
                self.manual_contact_alert(
                    intent,
                    f"{channel or 'message'} undelivered ({error or 'no reason'}"
                    "); trying the next allowed channel",
                    kind=AlertKind.DELIVERY_FAILED,
                )
            )
            effects.resends.append(
                DeferredMessage(
                    intent=intent, retry_at=at, excluded_channels=[channel] if channel else []
                )
            )
        return effects

    def advance(self, now: datetime) -> Effects:
        effects = Effects()
        for obligation in self.open_obligations():
            if (
                obligation.auto_update_at is not None
                and not obligation.auto_update_sent
                and obligation.state == ObligationState.PENDING
                and obligation.auto_update_at <= now
            ):
                obligation.auto_update_sent = True
                self._touch(obligation)
                effects.messages.append(
                    self._intent(
                        PERIODIC_UPDATE_TEMPLATE, obligation.auto_update_at, {}, obligation.key
                    )
                )
            alerts = advance_clock(obligation, now)
            if alerts:
                self._touch(obligation)
                effects.alerts += alerts
        return effects

    def manual_contact_alert(
        self,
        intent: MessageIntent,
        detail: str,
        kind: AlertKind = AlertKind.MANUAL_CONTACT_REQUIRED,
    ) -> Alert:
        return manual_contact_alert(intent, detail, kind)

    # -- internals -----------------------------------------------------------

    def _case_event(self, event: CaseEvent, cause: str) -> Effects:
        trigger = TRIGGER_OF_EVENT[event.type]
        effects = Effects()
        if event.type == EventType.CLOSED:
            self.state.status = CaseStatus.CLOSED
            self.state.closed_at = event.at
            self._cancel_where(
                lambda rule: rule.on_close == OnCaseChange.CANCEL, event.at, "case closed"
            )
        elif event.type == EventType.REOPENED:
            self.state.status = CaseStatus.OPEN
            self.state.closed_at = None
            self._cancel_where(
                lambda rule: rule.on_reopen == OnCaseChange.CANCEL, event.at, "case reopened"
            )
        for rule in self.policy.started_by(trigger, self.facts.category):
            if self._may_start(rule):
                effects.starts.append(self._plan(rule, event.at, cause))
        facts = {k: str(v) for k, v in event.details.items() if k in ("reason", "outcome")}
        effects.messages += self._message_for(trigger, event.at, facts)
        return effects

    def _message_for(
        self, trigger: Trigger, at: datetime, facts: dict[str, str]
    ) -> list[MessageIntent]:
        template = self.policy.message_for(trigger, self.facts.category)
        return [self._intent(template, at, facts, None)] if template else []

    def _intent(
        self, template: str, at: datetime, facts: dict[str, str], obligation_key: str | None
    ) -> MessageIntent:
        self.state.message_seq += 1
        key = f"{self.facts.reference}|{template}|{self.state.message_seq}"
        return MessageIntent(
            key=key, template=template, at=at, obligation_key=obligation_key, facts=facts
        )

    def _meet_by_contact(self, standard: str | None, at: datetime, cause: str) -> Effects:
        def tokens(obligation: Obligation) -> set[str]:
            if standard is None or obligation.standard == standard:
                return {"contact", "any_contact"}
            return {"any_contact"}

        return self._meet_each(tokens, at, cause)

    def _meet(self, tokens: set[str], at: datetime, cause: str) -> Effects:
        return self._meet_each(lambda _obligation: tokens, at, cause)

    def _meet_each(self, tokens_for: Any, at: datetime, cause: str) -> Effects:
        effects = Effects()
        for obligation in self.open_obligations():
            rule = self.policy.standard(obligation.standard)
            if not any(rule.met_by_token(t) for t in tokens_for(obligation)):
                continue
            # Met after a deadline the clock has not yet seen pass: the breach first.
            alerts, met = meet_one(obligation, at, cause, self.breach_overdue_at_once)
            effects.alerts += alerts
            if met:
                self._touch(obligation)
                if rule.recurs and self._may_start(rule):
                    effects.starts.append(self._plan(rule, at, f"restarted: {cause}"))
        return effects

    def _may_start(self, rule: StandardRule) -> bool:
        if rule.recurs and (not self.is_open or self.open_obligations(rule.id)):
            return False
        return not (rule.victim_interval and self.state.updates_paused)

    def _window(self, rule: StandardRule) -> tuple[int, WindowUnit]:
        if rule.victim_interval and self.state.update_interval_days is not None:
            return self.state.update_interval_days, WindowUnit.DAYS
        return self.policy.window_for(rule, self.enhanced), rule.unit

    def _request(self, rule: StandardRule, key: str, start: datetime) -> ScheduleRequest:
        amount, unit = self._window(rule)
        return ScheduleRequest(
            key=key,
            start=start,
            amount=amount,
            unit=unit.value,
            nation=(self.facts.nation or self.policy.nation).value,
            warning_fraction=self.policy.warning_fraction(rule),
            escalate_after_hours=self.policy.escalation_hours(rule),
            auto_update_fraction=rule.auto_update_at if rule.auto_update else None,
        )

    def _plan(self, rule: StandardRule, start: datetime, cause: str) -> PendingStart:
        occurrence = self.state.occurrences.get(rule.id, 0) + 1
        self.state.occurrences[rule.id] = occurrence
        key = f"{rule.id}#{occurrence}"
        return PendingStart(
            standard=rule.id,
            occurrence=occurrence,
            request=self._request(rule, key, start),
            cause=cause,
        )

    def _cancel_where(self, predicate: Any, at: datetime, cause: str) -> None:
        for obligation in self.open_obligations():
            if predicate(self.policy.standard(obligation.standard)) and cancel(
                obligation, at, cause
            ):
                self._touch(obligation)

    def _change_preferences(self, event: CaseEvent, cause: str) -> Effects:
        effects = Effects()
        details = event.details
        interval_rules = [
            r for r in self.policy.standards_for(self.facts.category) if r.victim_interval
        ]
        if details.get("no_updates") is True and not self.state.updates_paused:
            self.state.updates_paused = True
            self._cancel_where(
                lambda rule: rule.victim_interval, event.at, "victim asked for no updates"
            )
        elif details.get("no_updates") is False and self.state.updates_paused:
            self.state.updates_paused = False
            for rule in interval_rules:
                if self._may_start(rule):
                    effects.starts.append(
                        self._plan(rule, event.at, "victim asked for updates again")
                    )
        if "update_interval_days" in details:
            self.state.update_interval_days = details["update_interval_days"]
            for rule in interval_rules:
                for obligation in self.open_obligations(rule.id):
                    if obligation.state != ObligationState.PENDING:
                        continue
                    request = self._request(rule, obligation.key, obligation.started_at)
                    effects.retimes.append(
                        PendingRetime(
                            key=obligation.key,
                            request=request,
                            cause=f"update interval changed by {event.actor}",
                        )
                    )
        return effects

    def keep_future_retimes(
        self, retimes: list[PendingRetime], schedules: dict[str, Schedule], at: datetime
    ) -> list[PendingRetime]:
        """A new interval applies from the last update, unless that point has already passed."""
        return [r for r in retimes if schedules[r.request.key].due_at > at]

    def _explain(self, event: CaseEvent, cause: str) -> None:
        assert event.standard is not None
        obligation = self._unexplained(event.standard)
        assert obligation is not None
        explain(
            obligation,
            BreachReason(event.details["reason"]),
            event.details.get("text"),
            event.at,
            cause,
        )
        self._touch(obligation)

    def _unexplained(self, standard: str) -> Obligation | None:
        for obligation in self.state.obligations:
            if obligation.standard == standard and needs_explanation(obligation):
                return obligation
        return None

    def _check_details(self, event: CaseEvent) -> None:
        allowed = ALLOWED_DETAILS[event.type]
        for name, value in event.details.items():
            if (problem := unaccepted_detail(event.type, name)) is not None:
                raise EventRejected(problem)
            if name not in allowed:
                # Stored by the service; arriving here it would sit in workflow history.
                raise EventRejected(f"detail {name!r} is personal data and never reaches a case")
            expected = allowed[name]
            accepted_types = expected if isinstance(expected, tuple) else (expected,)
            # bool is an int to Python, never to a caller giving a number of days.
            if isinstance(value, bool) and bool not in accepted_types:
                raise EventRejected(f"detail {name!r} must be a whole number")
            if not isinstance(value, expected):
                raise EventRejected(f"detail {name!r} has the wrong type ({type(value).__name__})")

    def _known_standard(self, standard: str) -> StandardRule:
        if not self.policy.has_standard(standard):
            known = ", ".join(rule.id for rule in self.policy.standards)
            raise EventRejected(f"unknown standard {standard!r}; known: {known}")
        rule = self.policy.standard(standard)
        if not self.policy.covers(rule.applies_to, self.facts.category):
            raise EventRejected(
                f"standard {standard} does not apply to a {self.facts.category} case"
            )
        return rule

    def _check_explanation(self, event: CaseEvent) -> None:
        if event.standard is None:
            raise EventRejected("breach_explained needs the standard whose breach it explains")
        self._known_standard(event.standard)
        reason = event.details.get("reason")
        codes = ", ".join(r.value for r in BreachReason)
        if reason not in {r.value for r in BreachReason}:
            raise EventRejected(f"breach_explained needs details.reason, one of: {codes}")
        if reason == BreachReason.OTHER and not str(event.details.get("text", "")).strip():
            raise EventRejected("reason 'other' needs details.text saying what happened")
        if self._unexplained(event.standard) is None:
            raise EventRejected(
                f"no unexplained breach of {event.standard} on case {self.facts.reference}"
            )

    def _check_preferences(self, details: dict[str, Any]) -> None:
        if not details:
            raise EventRejected("preferences_changed needs update_interval_days or no_updates")
        interval = details.get("update_interval_days")
        if interval is None:
            return
        for rule in self.policy.standards_for(self.facts.category):
            if not rule.victim_interval:
                continue
            longest = rule.window * (7 if rule.unit == WindowUnit.WEEKS else 1)
            if not 1 <= interval <= longest:
                raise EventRejected(f"update_interval_days must be between 1 and {longest}")

    def _obligation(self, key: str) -> Obligation:
        for obligation in self.state.obligations:
            if obligation.key == key:
                return obligation
        raise KeyError(key)

    def _touch(self, obligation: Obligation) -> None:
        if obligation.key not in self.state.dirty:
            self.state.dirty.append(obligation.key)


def _delivery_tokens(intent: MessageIntent) -> set[str]:
    tokens = {f"message:{intent.template}"}
    if intent.facts.get("reason"):
        tokens.add(f"message:{intent.template}+reason")
    return tokens


def _delivery_cause(intent: MessageIntent) -> str:
    return f"{intent.template} message delivered"
