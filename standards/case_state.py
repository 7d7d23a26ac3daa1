"""A case as its book keeps it: the facts, the state carried across runs, and the effects.

Part of the case book (standards.case): the data the book reads and changes, and what it
asks its driver to do (`Effects`, carried out by standards.driving).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from standards.clock import Nation
from standards.delivery import (
    DeferredMessage,
    MessageIntent,
)
from standards.events import AppliedEvent
from standards.obligations import (
    Alert,
    Obligation,
    Schedule,
    ScheduleRequest,
)
from standards.policy import Policy


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


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
    # The victim's channel or safe hours changed: every message waiting for the old safe
    # hours is planned again now (sent if the new ones allow, waiting again if not).
    replan_waiting: bool = False

    def extend(self, other: Effects) -> None:
        self.starts += other.starts
        self.retimes += other.retimes
        self.messages += other.messages
        self.alerts += other.alerts
        self.resends += other.resends
        self.deferrals += other.deferrals
        self.awaiting += other.awaiting
        self.settled += other.settled
        self.replan_waiting = self.replan_waiting or other.replan_waiting

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
    # The Victims' Code (2021), issue 21. The tier a needs assessment set (None: as the
    # case's category and vulnerability give it at intake) and why.
    enhanced: bool | None = None
    enhanced_basis: str | None = None
    # The victim's answer on consent to a referral to support services (None: not asked).
    support_consent: bool | None = None
    # The last decision not to prosecute, and the Right to Review request open after it.
    not_prosecuted_at: datetime | None = None
    review_requested_at: datetime | None = None


@dataclass
class Opening:
    """A case's opening plan, worked out once as it is opened (standards.schedules.opening):
    the book's state once planned, what the opening starts and sends, and the deadlines
    of what it starts (worked out outside workflow code, like every deadline)."""

    state: CaseState
    effects: Effects
    schedules: list[Schedule] = field(default_factory=list)
