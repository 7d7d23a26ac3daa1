"""How the case book plans: the obligations it may start, their windows and deadline
requests, what meets them, what it cancels and the messages it sends.

The base of the book's decisions (standards.case): each helper here is pure and changes
only the book's state; `CaseBook` decides when each is used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from standards.case_reading import CaseRecord
from standards.case_state import Effects, PendingStart
from standards.clock import WindowUnit
from standards.delivery import MessageIntent
from standards.obligations import Obligation, ScheduleRequest, cancel
from standards.policy import ANY_CONTACT_TOKEN, CONTACT_TOKEN, StandardRule, Trigger
from standards.send_outcome import meet_one


class CasePlanner(CaseRecord):
    """The book's planning: starts, windows, meeting, cancelling and messages."""

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
                return {CONTACT_TOKEN, ANY_CONTACT_TOKEN}
            return {ANY_CONTACT_TOKEN}

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
        if rule.one_open and self.open_obligations(rule.id):
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
