"""A case's obligations under its policy: which events start, meet or cancel what.

`CaseBook` is the functional core of the case workflow. It never performs I/O:
it mutates the case's state and says what the workflow must do next (work out
deadlines, send messages, raise alerts).

The book is split by responsibility: the events (standards.events), the facts, state and
effects (standards.case_state), the reading and the checking of events
(standards.case_reading, `CaseRecord`), and here the decisions.
"""

from __future__ import annotations

from datetime import datetime

from standards.case_planning import CasePlanner
from standards.case_state import (
    CaseStatus,
    Effects,
    PendingRetime,
    PendingStart,
)
from standards.delivery import (
    DeferredMessage,
    DeliveryStatus,
    MessageIntent,
    MessageOutcome,
)
from standards.events import (
    CASE_LIFE,
    RECORDED_EVENTS,
    TRIGGER_OF_EVENT,
    CaseEvent,
    EventType,
)
from standards.obligations import (
    Alert,
    AlertKind,
    BreachReason,
    ObligationState,
    Schedule,
    advance_clock,
    breach_if_overdue,
    explain,
    retime,
    start_obligation,
)
from standards.policy import EVENT_TOKEN, OnCaseChange, Trigger
from standards.send_outcome import DeliveryMeets, manual_contact_alert, outcome_alerts

PERIODIC_UPDATE_TEMPLATE = "periodic_update"


class CaseBook(CasePlanner):
    """The case's decisions: what its opening, each event, the clock and each message's
    outcome start, meet, cancel, send and alert."""

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
        elif event.type in RECORDED_EVENTS:
            effects.extend(self._code_event(event, cause))
        elif event.type == EventType.NOTE_ADDED:
            # A note starts, meets and stops nothing: the case only knows one was added.
            pass
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
        elif trigger not in CASE_LIFE:
            effects.extend(self._code_decision(event, cause))
        for rule in self.policy.started_by(trigger, self.facts.category):
            if self._may_start(rule):
                effects.starts.append(self._plan(rule, event.at, cause))
        facts = {k: str(v) for k, v in event.details.items() if k in ("reason", "outcome")}
        effects.messages += self._message_for(trigger, event.at, facts)
        return effects

    # -- the Victims' Code (2021), issue 21 ------------------------------------

    def _code_decision(self, event: CaseEvent, cause: str) -> Effects:
        """A decision or step the Code's rights follow: it meets what names it, and a
        decision not to prosecute opens the Right to Review window (a review's request
        and decision close it)."""
        effects = self._meet({EVENT_TOKEN + event.type.value}, event.at, cause)
        if event.type == EventType.NOT_PROSECUTED:
            self.state.not_prosecuted_at = event.at
            self.state.review_requested_at = None
        elif event.type == EventType.VRR_REQUESTED:
            self.state.review_requested_at = event.at
        elif event.type == EventType.VRR_DECIDED:
            self.state.review_requested_at = None
            self.state.not_prosecuted_at = None
        return effects

    def _code_event(self, event: CaseEvent, cause: str) -> Effects:
        """What a needs assessment, the victim's answer on support, a referral or a VPS
        offer means: it meets what names it; a refusal of consent or a declined referral
        makes the referral not applicable, with its reason; an assessment sets the tier."""
        effects = self._meet({EVENT_TOKEN + event.type.value}, event.at, cause)
        details = event.details
        if event.type == EventType.SUPPORT_CONSENT:
            self.state.support_consent = bool(details["given"])
            if not self.state.support_consent:
                self._cancel_where(
                    self.refusable,
                    event.at,
                    f"not applicable: no explicit consent to a referral "
                    f"({self.facts.category}), recorded by {event.actor}",
                )
        elif event.type == EventType.SUPPORT_DECLINED:
            self._cancel_where(
                lambda rule: rule.declinable,
                event.at,
                f"not applicable: the victim declined the referral, recorded by {event.actor}",
            )
        elif event.type == EventType.NEEDS_ASSESSED and "enhanced" in details:
            effects.extend(self.change_tier(bool(details["enhanced"]), details.get("basis"), event))
        return effects

    def change_tier(self, enhanced: bool, basis: str | None, event: CaseEvent) -> Effects:
        """A (re)assessment's tier: when it changes, every pending obligation with an
        enhanced window is re-timed from its start by the new window (a deadline the new
        window puts in the past is kept, see `keep_future_retimes`)."""
        effects = Effects()
        changed = enhanced != self.enhanced
        self.state.enhanced = enhanced
        self.state.enhanced_basis = basis if enhanced else None
        if not changed:
            return effects
        tier = f"Enhanced Rights ({basis})" if enhanced else "standard rights"
        for obligation in self.open_obligations():
            rule = self.policy.standard(obligation.standard)
            if obligation.state != ObligationState.PENDING or rule.enhanced_window is None:
                continue
            effects.retimes.append(
                PendingRetime(
                    key=obligation.key,
                    request=self._request(rule, obligation.key, obligation.started_at),
                    cause=f"tier changed to {tier} by {event.actor}",
                )
            )
        return effects

    def _change_preferences(self, event: CaseEvent, cause: str) -> Effects:
        """A new interval retimes, "no updates" suspends; a new channel or safe hours
        (`contact_changed`) changes no clock (each send reads them from the victim's
        record as it sends), but what waits for the old safe hours is planned again."""
        effects = Effects()
        details = event.details
        if details.get("contact_changed") is True:
            effects.replan_waiting = True
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


def _delivery_tokens(intent: MessageIntent) -> set[str]:
    tokens = {f"message:{intent.template}"}
    if intent.facts.get("reason"):
        tokens.add(f"message:{intent.template}+reason")
    return tokens


def _delivery_cause(intent: MessageIntent) -> str:
    return f"{intent.template} message delivered"
