"""Inputs and outputs of the case workflow and its activities.

One dataclass in and one out for each, so fields can be added (with defaults)
without breaking running workflows. Nothing here may carry personal data:
contact details stay in the database and activities look them up by reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from standards.case_state import CaseFacts, CaseState, CaseStatus, Opening

# Defined with the case book's delivery rules, named here too because they are activity
# inputs and outputs.
from standards.delivery import DeferredMessage as DeferredMessage
from standards.delivery import DeliveryStatus as DeliveryStatus
from standards.delivery import MessageIntent as MessageIntent
from standards.delivery import MessageOutcome as MessageOutcome
from standards.obligations import Alert, Obligation, Schedule, ScheduleRequest
from standards.send_outcome import DeliveryMeets

# Activities are called by name so the workflow sandbox never imports their
# modules (and with them SQLAlchemy, SMTP or Twilio).
COMPUTE_SCHEDULES = "compute_schedules"
RECORD_CASE_CHANGES = "record_case_changes"
SEND_MESSAGE = "send_message"
SEND_AND_RECORD = "send_and_record"

CASE_WORKFLOW = "CaseWorkflow"
# The case workflow's signal for a message's final delivery status (its method's name in
# workflows/case.py): the web app's Twilio callback signals it by name.
MESSAGE_STATUS_SIGNAL = "message_status"


def case_workflow_id(reference: str) -> str:
    """Workflow id for a crime reference: one workflow per case, so a second open is refused."""
    return f"case:{reference}"


@dataclass
class ScheduleBatch:
    requests: list[ScheduleRequest]


@dataclass
class ScheduleBatchResult:
    schedules: list[Schedule]


@dataclass
class SendMessage:
    reference: str
    intent: MessageIntent
    # The instant of the case's own clock; simulations run in scenario time.
    at: datetime
    # The number every message gives, from the policy the case runs under. No default:
    # every input ever written carries it, and a default is how it went missing.
    contact_number: str
    excluded_channels: list[str] = field(default_factory=list)


@dataclass
class MessageStatusUpdate:
    """Sent to the case by the delivery webhook when a provider reports on a message."""

    key: str
    status: DeliveryStatus
    at: datetime
    channel: str | None = None
    error: str | None = None


@dataclass
class CaseChanges:
    reference: str
    status: CaseStatus
    closed_at: datetime | None
    update_interval_days: int | None
    updates_paused: bool
    obligations: list[Obligation]
    alerts: list[Alert]


@dataclass
class RecordResult:
    obligations_written: int
    alerts_raised: int


@dataclass
class PlannedSend:
    request: SendMessage
    # What a delivery meets, planned by the case book; None: the book records the
    # reaction to a delivery itself, after the send.
    on_delivery: DeliveryMeets | None = None


@dataclass
class SendAndRecord:
    """A wake's sends, with the case's changes so far, to record in one transaction with
    the sends and the book's reaction to each outcome (standards.send_outcome). The
    activity adds the reaction it records to `changes`, so that afterwards `changes`
    is what it recorded (the worker's metrics count from it)."""

    changes: CaseChanges
    sends: list[PlannedSend]
    # Obligations a delivery may meet that are not among `changes.obligations`.
    may_meet: list[Obligation] = field(default_factory=list)


@dataclass
class SentAndRecorded:
    # One per send, in order.
    outcomes: list[MessageOutcome]
    # What was recorded of the book's reaction to the outcomes: obligation keys, and
    # alerts as "obligation key|kind".
    reacted_obligations: list[str] = field(default_factory=list)
    reacted_alerts: list[str] = field(default_factory=list)


@dataclass
class CaseWorkflowInput:
    facts: CaseFacts
    # Carried across continue-as-new; None when the case is first opened.
    state: CaseState | None = None
    deferred: list[DeferredMessage] = field(default_factory=list)
    awaiting_delivery: list[MessageIntent] = field(default_factory=list)
    # Rehearsals on the time-skipping server run in scenario time, not wall time.
    clock_offset_seconds: float = 0.0
    # Continue-as-new once history passes this many events (the server may suggest sooner).
    history_event_limit: int = 5_000
    # Deadlines of the obligations the case opens with, worked out by the service as it
    # opens the case (outside workflow code, like every deadline). Empty for cases
    # opened before this field, which work them out in a local activity.
    intake_schedules: list[Schedule] = field(default_factory=list)
    # The case's opening plan with its deadlines, worked out once by the service as it
    # opens the case; the workflow carries it out. None for cases opened before this
    # field, whose workflow plans the opening itself (with `intake_schedules`).
    opening: Opening | None = None
    # Sends run as local activities. Cases opened before this field decide by the
    # patch marker instead, so their histories replay; a run that starts with the
    # field set records no marker (and no change-version search attribute).
    local_sends: bool = False
    # An obligation overdue when it starts, or when it is met, is breached at once (the
    # case book's rule). Cases opened before this field decide by the patch marker.
    breach_overdue_at_once: bool = False
    # Whether the PledgeCategory search attribute is published: visibility is not
    # encrypted, and a force may count the category itself as sensitive. Older cases
    # (no field) published it, and still do.
    publish_category: bool = True

    # What is due by an event's arrival happens before the event, and a wake timer no
    # longer wanted is left to fire rather than cancelled (workflows/case.py
    # CLOCK_FIRST). Cases opened before this field decide by the patch marker.
    clock_first: bool = False
    # A wake's sends and its changes are recorded by one activity (SEND_AND_RECORD; see
    # workflows/side_effects.py). Cases opened before this field decide by the patch marker.
    send_and_record: bool = False
    # The run started with its search attributes set (as a new case's start sets them,
    # see standards/visibility.py at_start, and as continue-as-new carries them
    # over): the workflow counts them as published and upserts only what differs. Runs
    # started before this field upserted every attribute on their first workflow task.
    search_attributes_at_start: bool = False


@dataclass
class EventReceipt:
    reference: str
    event: str
    changed: list[str]


@dataclass
class CaseView:
    reference: str
    category: str
    borough: str
    status: CaseStatus
    policy_id: str
    policy_version: int
    breached: int
    next_deadline: datetime | None
    obligations: list[Obligation]


@dataclass
class CaseOutcome:
    reference: str
    status: CaseStatus
    obligations: int


# -- the daily erasure of expired contact profiles (workflows.retention) --

RETENTION_WORKFLOW = "RetentionWorkflow"
ERASE_EXPIRED_CONTACTS = "erase_expired_contacts"
RETENTION_SCHEDULE_ID = "pledge-retention"


@dataclass
class RetentionRun:
    retention_days: int
    batch_size: int = 500


@dataclass
class ErasureBatch:
    closed_before: datetime
    retention_days: int
    limit: int
    erased_at: datetime


@dataclass
class ErasureBatchResult:
    erased: int
    more: bool


@dataclass
class RetentionOutcome:
    erased: int
    closed_before: datetime
    backlog_left: bool
