"""The events a case takes: their types, the details each may carry, and an event's identity.

Part of the case book (standards.case): what a caller may post to a case, and the
refusals that need no case to decide.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from standards.policy import Trigger

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
    UPDATE_REQUESTED = "update_requested"
    # A member of staff sends the victim an update now (the policy's message on it, the
    # periodic update): delivered, it counts as any update delivered does.
    UPDATE_SENT_ON_REQUEST = "update_sent_on_request"
    # The Victims' Code (2021), issue 21: the police-owned rights' events.
    SUSPECT_INTERVIEWED = "suspect_interviewed"
    RELEASED_WITHOUT_CHARGE = "released_without_charge"
    RELEASED_ON_BAIL = "released_on_bail"
    RELEASED_UNDER_INVESTIGATION = "released_under_investigation"
    BAIL_CONDITIONS_CHANGED = "bail_conditions_changed"
    BAIL_CANCELLED = "bail_cancelled"
    NOT_INVESTIGATED = "not_investigated"
    NEEDS_ASSESSED = "needs_assessed"
    SUPPORT_CONSENT = "support_consent"
    SUPPORT_DECLINED = "support_declined"
    REFERRAL_MADE = "referral_made"
    WITNESS_STATEMENT_TAKEN = "witness_statement_taken"
    VPS_OFFERED = "vps_offered"
    NOT_PROSECUTED = "not_prosecuted"
    VRR_REQUESTED = "vrr_requested"
    VRR_DECIDED = "vrr_decided"
    # A note a member of staff adds to the case: it changes no clock (the note itself is
    # a stored detail, so the case is told only that one was added, and by whom).
    NOTE_ADDED = "note_added"


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
    # `contact_changed`: the victim's channel or safe hours changed. The choice itself is
    # in the victim's record, which every send reads as it sends: the case needs only
    # to know that it changed (and by whom), never the phone, email or hours.
    # `language`: the victim's new language (a code the policy offers); the service
    # writes it to the victim's record, which every send reads; it changes no clock.
    EventType.PREFERENCES_CHANGED: {
        "update_interval_days": (int, type(None)),
        "no_updates": bool,
        "contact_changed": bool,
        "language": str,
    },
    EventType.BREACH_EXPLAINED: {"reason": str, "text": str},
    EventType.UPDATE_REQUESTED: {},
    EventType.UPDATE_SENT_ON_REQUEST: {},
    # The Victims' Code (2021), issue 21.
    EventType.SUSPECT_INTERVIEWED: {},
    EventType.RELEASED_WITHOUT_CHARGE: {},
    EventType.RELEASED_ON_BAIL: {},
    EventType.RELEASED_UNDER_INVESTIGATION: {},
    EventType.BAIL_CONDITIONS_CHANGED: {},
    EventType.BAIL_CANCELLED: {},
    EventType.NOT_INVESTIGATED: {"reason": str},
    # A needs assessment, or a reassessment: `enhanced` with its `basis` sets the tier.
    EventType.NEEDS_ASSESSED: {"enhanced": bool, "basis": str},
    EventType.SUPPORT_CONSENT: {"given": bool},
    EventType.SUPPORT_DECLINED: {},
    EventType.REFERRAL_MADE: {},
    EventType.WITNESS_STATEMENT_TAKEN: {},
    EventType.VPS_OFFERED: {},
    EventType.NOT_PROSECUTED: {"reason": str},
    EventType.VRR_REQUESTED: {},
    EventType.VRR_DECIDED: {"reason": str},
    EventType.NOTE_ADDED: {},
}

# What a member of staff wrote with an event (what was said, what was done): personal
# data, kept with the event's row in the database and shown on the case page only.
NOTE = "note"
NOTE_MAX_LENGTH = 2000

# Details an event may also carry that the service stores in its database and never
# passes to the case: staff contact details and staff notes are personal data.
STORED_DETAILS: dict[EventType, tuple[str, ...]] = {
    **{t: (NOTE,) for t in EventType if t != EventType.BREACH_EXPLAINED},
    EventType.OFFICER_ASSIGNED: ("officer_name", "officer_contact", NOTE),
}


# The stored details an event is nothing without (the book never sees them, so the
# service refuses the event before it reaches the case).
REQUIRED_STORED: dict[EventType, tuple[str, ...]] = {EventType.NOTE_ADDED: (NOTE,)}


def missing_stored_detail(event_type: EventType, details: dict[str, Any]) -> str | None:
    """Why an event is refused for lacking a stored detail it needs, or None."""
    for name in REQUIRED_STORED.get(event_type, ()):
        value = details.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"{event_type.value} needs detail {name!r} (the text of the note)"
    return None


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
    EventType.UPDATE_REQUESTED: Trigger.UPDATE_REQUESTED,
    EventType.UPDATE_SENT_ON_REQUEST: Trigger.UPDATE_SENT_ON_REQUEST,
    # The Victims' Code (2021), issue 21.
    EventType.SUSPECT_INTERVIEWED: Trigger.SUSPECT_INTERVIEWED,
    EventType.RELEASED_WITHOUT_CHARGE: Trigger.RELEASED_WITHOUT_CHARGE,
    EventType.RELEASED_ON_BAIL: Trigger.RELEASED_ON_BAIL,
    EventType.RELEASED_UNDER_INVESTIGATION: Trigger.RELEASED_UNDER_INVESTIGATION,
    EventType.BAIL_CONDITIONS_CHANGED: Trigger.BAIL_CONDITIONS_CHANGED,
    EventType.BAIL_CANCELLED: Trigger.BAIL_CANCELLED,
    EventType.NOT_INVESTIGATED: Trigger.NOT_INVESTIGATED,
    EventType.NOT_PROSECUTED: Trigger.NOT_PROSECUTED,
    EventType.VRR_REQUESTED: Trigger.VRR_REQUESTED,
    EventType.VRR_DECIDED: Trigger.VRR_DECIDED,
    EventType.WITNESS_STATEMENT_TAKEN: Trigger.WITNESS_STATEMENT_TAKEN,
}
# The triggers of the case's own life: they apply to every case, whatever its policy.
CASE_LIFE = {Trigger.CASE_OPENED, Trigger.CLOSED, Trigger.REOPENED}
# Events that only meet what names them (`event:NAME` in a standard's met_by), or set
# what the Code's rights depend on (the tier, the consent to a referral).
RECORDED_EVENTS = {
    EventType.NEEDS_ASSESSED,
    EventType.SUPPORT_CONSENT,
    EventType.SUPPORT_DECLINED,
    EventType.REFERRAL_MADE,
    EventType.VPS_OFFERED,
}
ALLOWED_WHEN_CLOSED = {
    EventType.CONTACT_RECORDED,
    EventType.REVIEW_RECORDED,
    EventType.UPDATE_DELIVERED,
    EventType.REOPENED,
    EventType.PREFERENCES_CHANGED,
    EventType.BREACH_EXPLAINED,
    EventType.UPDATE_REQUESTED,
    # A decision not to prosecute may close the investigation; its review comes after.
    EventType.NOT_PROSECUTED,
    EventType.VRR_REQUESTED,
    EventType.VRR_DECIDED,
    EventType.NOTE_ADDED,
}

# Events that send the victim a message there and then, at a member of staff's word (not
# accepted on a closed case: the case is told of a closure by its own message).
SENT_TO_VICTIM_NOW = frozenset({EventType.UPDATE_SENT_ON_REQUEST})


def refused_for_victim(
    event_type: EventType,
    *,
    contact_blocked: str | None = None,
    updates_paused: bool = False,
    update_asked: bool = False,
) -> str | None:
    """Why an event that sends the victim a message now is refused for the victim's own
    choices, in one line; None when it is not, or when the event sends nothing now.

    The one rule for every surface, each giving what it holds: the service and the
    in-process engine how the victim may be reached (`standards.contact.contact_blocked`
    of the victim's record, which the case never holds), the case book whether the victim
    asked for no updates and whether they have asked for one since (its state), the case
    page all three. A victim who asked for no updates may still be sent the update they
    asked for.
    """
    if event_type not in SENT_TO_VICTIM_NOW:
        return None
    if contact_blocked is not None:
        return f"{contact_blocked}: contact them another way and record the contact"
    if updates_paused and not update_asked:
        return (
            "the victim asked for no updates and has not asked for one since: "
            "change their update preferences first if they want them again"
        )
    return None


class EventRejected(ValueError):
    """An event that does not fit the case; nothing was changed."""


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
