"""Obligations and their states: the pure half of a case's clocks.

An obligation is one occurrence of a standard for one case. Its deadlines are
computed elsewhere (working-day deadlines depend on bank-holiday data that may
change between releases) and handed in as a `Schedule`, so nothing here moves
a deadline that has already been set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The book decides by the read-side rules, so every reader agrees with it at the boundary.
from standards.read_rules import is_due_soon, is_open, is_overdue
from standards.read_rules import needs_explanation as needs_explanation
from standards.vocabulary import ObligationState as ObligationState


class AlertKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"
    ESCALATION = "escalation"
    DELIVERY_FAILED = "delivery_failed"
    MANUAL_CONTACT_REQUIRED = "manual_contact_required"
    # The victim pressed "request an update" on their page; it meets and moves nothing.
    UPDATE_REQUESTED = "update_requested"


class BreachReason(StrEnum):
    VICTIM_UNREACHABLE = "victim_unreachable"
    VICTIM_DECLINED = "victim_declined"
    OFFICER_UNAVAILABLE = "officer_unavailable"
    AWAITING_INFORMATION = "awaiting_information"
    SYSTEM_FAULT = "system_fault"
    OTHER = "other"


@dataclass
class Transition:
    """One step in an obligation's life: what happened, the state after, when, and why."""

    event: str
    state: ObligationState
    at: datetime
    cause: str


@dataclass
class ScheduleRequest:
    """What the deadline calculator needs for one new obligation."""

    key: str
    start: datetime
    amount: int
    unit: str
    nation: str
    warning_fraction: float
    escalate_after_hours: float
    auto_update_fraction: float | None = None


@dataclass
class Schedule:
    key: str
    due_at: datetime
    warn_at: datetime
    escalate_at: datetime
    auto_update_at: datetime | None = None


@dataclass
class Obligation:
    key: str
    standard: str
    occurrence: int
    state: ObligationState
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    escalate_at: datetime
    window_amount: int
    window_unit: str
    auto_update_at: datetime | None = None
    auto_update_sent: bool = False
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    escalated_at: datetime | None = None
    met_at: datetime | None = None
    cancelled_at: datetime | None = None
    explained_at: datetime | None = None
    explanation_reason: str | None = None
    explanation_text: str | None = None
    history: list[Transition] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return is_open(self)

    def record(self, event: str, at: datetime, cause: str) -> None:
        self.history.append(Transition(event=event, state=self.state, at=at, cause=cause))

    def next_wake(self) -> datetime | None:
        """The next instant at which this obligation's clock needs attention."""
        candidates: list[datetime] = []
        if self.state == ObligationState.PENDING:
            candidates.append(self.due_at)
            if self.warned_at is None and self.warn_at < self.due_at:
                candidates.append(self.warn_at)
            if self.auto_update_at is not None and not self.auto_update_sent:
                candidates.append(self.auto_update_at)
        elif self.state == ObligationState.BREACHED and self.escalated_at is None:
            candidates.append(self.escalate_at)
        return min(candidates) if candidates else None


@dataclass
class Alert:
    kind: AlertKind
    obligation_key: str
    standard: str
    at: datetime
    due_at: datetime | None
    detail: str


def start_obligation(
    standard: str, occurrence: int, schedule: Schedule, request: ScheduleRequest, cause: str
) -> Obligation:
    obligation = Obligation(
        key=schedule.key,
        standard=standard,
        occurrence=occurrence,
        state=ObligationState.PENDING,
        started_at=request.start,
        due_at=schedule.due_at,
        warn_at=schedule.warn_at,
        escalate_at=schedule.escalate_at,
        auto_update_at=schedule.auto_update_at,
        window_amount=request.amount,
        window_unit=request.unit,
    )
    obligation.record("started", request.start, cause)
    return obligation


def advance_clock(obligation: Obligation, now: datetime) -> list[Alert]:
    """Fire whatever warning, breach or escalation is due by `now`, once each."""
    alerts: list[Alert] = []
    if obligation.state == ObligationState.PENDING:
        alerts += breach_if_overdue(obligation, now)
        if not alerts and obligation.warned_at is None and is_due_soon(obligation, now):
            # A warning whose deadline has already gone is noise: the breach says it.
            obligation.warned_at = obligation.warn_at
            obligation.record("warned", obligation.warn_at, "warning point reached")
            alerts.append(_alert(obligation, AlertKind.WARNING, obligation.warn_at, "due soon"))
    if (
        obligation.state == ObligationState.BREACHED
        and obligation.escalated_at is None
        and obligation.escalate_at <= now
    ):
        obligation.escalated_at = obligation.escalate_at
        obligation.record(
            "escalated", obligation.escalate_at, "still unmet after the escalation delay"
        )
        alerts.append(
            _alert(
                obligation,
                AlertKind.ESCALATION,
                obligation.escalate_at,
                "still unmet after the breach: escalated to the borough manager",
            )
        )
    return alerts


def breach_if_overdue(obligation: Obligation, now: datetime) -> list[Alert]:
    """Breach a pending obligation whose deadline has passed by `now`, as of its deadline.

    The clock does this when the deadline comes; the case book does it too when an
    obligation starts, or is met, after its deadline (a case or event entered late),
    so every missed deadline has its breach and its alert.
    """
    if obligation.state != ObligationState.PENDING or not is_overdue(obligation, now):
        return []
    obligation.state = ObligationState.BREACHED
    obligation.breached_at = obligation.due_at
    obligation.record("breached", obligation.due_at, "deadline passed unmet")
    return [
        _alert(
            obligation,
            AlertKind.BREACH,
            obligation.due_at,
            "deadline passed with the standard unmet",
        )
    ]


def satisfy(obligation: Obligation, at: datetime, cause: str) -> bool:
    """Meet an open obligation at `at`; on or before the deadline is `met`, after is `met_late`."""
    if not obligation.is_open or at < obligation.started_at:
        return False
    obligation.met_at = at
    obligation.state = ObligationState.MET if at <= obligation.due_at else ObligationState.MET_LATE
    obligation.record(obligation.state.value, at, cause)
    return True


def cancel(obligation: Obligation, at: datetime, cause: str) -> bool:
    if obligation.state != ObligationState.PENDING:
        return False
    obligation.state = ObligationState.CANCELLED
    obligation.cancelled_at = at
    obligation.record("cancelled", at, cause)
    return True


def retime(obligation: Obligation, schedule: Schedule, at: datetime, cause: str) -> None:
    obligation.due_at = schedule.due_at
    obligation.warn_at = schedule.warn_at
    obligation.escalate_at = schedule.escalate_at
    obligation.auto_update_at = schedule.auto_update_at
    if obligation.warned_at is not None and obligation.warned_at < schedule.warn_at:
        obligation.warned_at = None
    obligation.record("retimed", at, cause)


def explain(
    obligation: Obligation, reason: BreachReason, text: str | None, at: datetime, cause: str
) -> None:
    obligation.explanation_reason = reason.value
    obligation.explanation_text = text
    obligation.explained_at = at
    obligation.record("explained", at, cause)


def _alert(obligation: Obligation, kind: AlertKind, at: datetime, detail: str) -> Alert:
    return Alert(
        kind=kind,
        obligation_key=obligation.key,
        standard=obligation.standard,
        at=at,
        due_at=obligation.due_at,
        detail=detail,
    )
