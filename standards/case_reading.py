"""What the case book reads of its case, and whether an event fits the case as it stands.

The base of `CaseBook` (standards.case): the reading and bookkeeping every decision uses
(open obligations, wakes, retention, what changed since the last record), the checks an
event passes before it is applied, and nothing that changes an obligation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from standards.case_state import CaseFacts, CaseState, CaseStatus
from standards.clock import WindowUnit, add_calendar_months
from standards.delivery import (
    DeferredMessage,
)
from standards.events import (
    ALLOWED_DETAILS,
    ALLOWED_WHEN_CLOSED,
    CASE_LIFE,
    RECORDED_EVENTS,
    TRIGGER_OF_EVENT,
    AppliedEvent,
    CaseEvent,
    EventRejected,
    EventType,
    in_the_future,
    refused_for_victim,
    unaccepted_detail,
)
from standards.obligations import (
    BreachReason,
    Obligation,
    ObligationState,
    needs_explanation,
)
from standards.policy import EVENT_TOKEN, Policy, StandardRule


def applies_to(policy: Policy, event_type: EventType, category: str) -> bool:
    """Whether a case of `category` takes an event of this type: an event that starts
    something (an officer assigned, an arrest, a Code step...) only where the policy
    starts a standard or sends a message on it; the case's own life (opened, closed,
    reopened) and events with no trigger always. What the case refuses otherwise, and
    the staff page does not offer."""
    trigger = TRIGGER_OF_EVENT.get(event_type)
    if trigger is None or trigger in CASE_LIFE:
        return True
    return bool(policy.started_by(trigger, category) or policy.message_for(trigger, category))


def meets_once_delivered(
    policy: Policy, event_type: EventType, category: str, rule: StandardRule
) -> bool:
    """Whether the message the policy sends on this event, once delivered, meets an
    obligation of `rule` on a case of `category` (what the case page offers it for)."""
    trigger = TRIGGER_OF_EVENT.get(event_type)
    template = None if trigger is None else policy.message_for(trigger, category)
    return template is not None and rule.met_by_token(f"message:{template}")


class CaseRecord:
    """A case's facts and state, read; its events checked."""

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
        if self.state.enhanced is not None:
            return self.state.enhanced
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

    # -- events checked ------------------------------------------------------

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
        if not applies_to(self.policy, event.type, self.facts.category):
            raise EventRejected(
                f"{event.type.value} does not apply to a {self.facts.category} case"
            )
        refused = refused_for_victim(
            event.type,
            updates_paused=self.state.updates_paused,
            update_asked=self.update_asked(),
        )
        if refused is not None:
            raise EventRejected(refused)
        if event.type in RECORDED_EVENTS and not self._met_by_event(event.type):
            raise EventRejected(
                f"{event.type.value} does not apply to a {self.facts.category} case"
            )
        self._check_code_event(event)
        if event.type == EventType.CONTACT_RECORDED and event.standard is not None:
            rule = self._known_standard(event.standard)
            if not rule.met_by_named_contact():
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

    def update_asked(self) -> bool:
        """Whether the victim has asked for an update that is still owed (an open
        obligation of a standard their request starts)."""
        return any(self.policy.answers_request(o.standard) for o in self.open_obligations())

    def _met_by_event(self, event_type: EventType) -> bool:
        """Whether a recorded event has something to do on this case: a standard it meets,
        or, for the victim's answer on support, a referral they may refuse."""
        rules = self.policy.standards_for(self.facts.category)
        if event_type in (EventType.SUPPORT_CONSENT, EventType.SUPPORT_DECLINED):
            return any(self.refusable(rule) for rule in rules)
        token = f"{EVENT_TOKEN}{event_type.value}"
        return any(rule.met_by_token(token) for rule in rules)

    def refusable(self, rule: StandardRule) -> bool:
        """Whether the victim's refusal makes `rule` not applicable on this case: it needs
        their consent here, or they may decline it."""
        return rule.declinable or (
            bool(rule.consent_for) and self.policy.covers(rule.consent_for, self.facts.category)
        )

    def _check_code_event(self, event: CaseEvent) -> None:
        """The Victims' Code's own refusals (issue 21)."""
        details = event.details
        if event.type == EventType.NEEDS_ASSESSED:
            self._check_tier(details)
        elif (
            event.type == EventType.REFERRAL_MADE
            and self.needs_consent()
            and (self.state.support_consent is not True)
        ):
            raise EventRejected(
                f"a referral of a {self.facts.category} victim needs their explicit consent: "
                "record support_consent with given true first"
            )
        elif event.type == EventType.VRR_REQUESTED:
            self._check_review_request(event.at)
        elif event.type == EventType.VRR_DECIDED and self.state.review_requested_at is None:
            raise EventRejected("vrr_decided needs a vrr_requested on the case first")

    def needs_consent(self) -> bool:
        """Whether a referral to support services needs the victim's explicit consent."""
        return any(
            self.policy.covers(rule.consent_for, self.facts.category)
            for rule in self.policy.standards_for(self.facts.category)
            if rule.consent_for
        )

    def _check_tier(self, details: dict[str, Any]) -> None:
        enhanced, basis = details.get("enhanced"), details.get("basis")
        if basis is not None and enhanced is not True:
            raise EventRejected("needs_assessed takes a basis only with enhanced true")
        if enhanced is True:
            bases = [*self.policy.enhanced_rights, *self.policy.enhanced_bases]
            if basis not in bases:
                raise EventRejected(
                    f"needs_assessed with enhanced true needs details.basis, one of: "
                    f"{', '.join(bases)}"
                )

    def _check_review_request(self, at: datetime) -> None:
        months = self.policy.review_request_months
        decided = self.state.not_prosecuted_at
        if months is None or decided is None:
            raise EventRejected("vrr_requested needs a not_prosecuted decision on the case first")
        if self.state.review_requested_at is not None:
            raise EventRejected("a Right to Review request is already open on this case")
        last_day = add_calendar_months(decided, months)
        if at >= last_day:
            raise EventRejected(
                f"a Right to Review request is accepted up to {months} months after the "
                f"decision not to prosecute ({decided.isoformat()}): until {last_day.isoformat()}"
            )

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
            raise EventRejected(
                "preferences_changed needs update_interval_days, no_updates, contact_changed "
                "or language"
            )
        language = details.get("language")
        if language is not None and (refusal := self.policy.language_refusal(language)):
            raise EventRejected(refusal)
        interval = details.get("update_interval_days")
        if interval is None:
            return
        for rule in self.policy.standards_for(self.facts.category):
            if not rule.victim_interval:
                continue
            longest = rule.window * (7 if rule.unit == WindowUnit.WEEKS else 1)
            if not 1 <= interval <= longest:
                raise EventRejected(f"update_interval_days must be between 1 and {longest}")

    def _unexplained(self, standard: str) -> Obligation | None:
        for obligation in self.state.obligations:
            if obligation.standard == standard and needs_explanation(obligation):
                return obligation
        return None

    # -- internals -----------------------------------------------------------

    def _obligation(self, key: str) -> Obligation:
        for obligation in self.state.obligations:
            if obligation.key == key:
                return obligation
        raise KeyError(key)

    def _touch(self, obligation: Obligation) -> None:
        if obligation.key not in self.state.dirty:
            self.state.dirty.append(obligation.key)
