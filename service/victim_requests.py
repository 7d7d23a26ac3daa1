"""What a victim's page posts to their case: a request for an update, a change of how
they may be reached.

"Request an update" raises an alert for the borough's VFU through the same alert
recording as the case workflow's (at most one a Europe/London day, by the alert's key),
and posts `update_requested` to the case: the policy's reply standard (the one it starts
on `update_requested`) becomes an obligation with its own deadline, on the VFU's queue
and in the compliance report like any other.

"Your preferences" writes the victim's channel, "do not text me" and safe hours to their
record (every send reads them there as it sends) and tells the case they changed
(`preferences_changed` with `contact_changed`, by the victim), never the values. A new
language for their messages goes to the case as `language` (the case checks its policy
offers it; service.cases writes it to the record with the event, as a member of staff's).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from service.bounded_writes import TemporalUnavailable, post_event_within
from service.case_input import EventIn
from service.cases import CaseError
from service.victim_case import UPDATE_REQUEST_STANDARD, london_date, london_time
from standards.contact import ContactChoice
from standards.contracts import EventReceipt
from standards.events import EventType
from standards.obligations import Alert, AlertKind
from standards.victim_sign_in import update_request_key
from storage import models
from storage.case_records import record_alerts

# Who the case hears a victim's own request or change from (case_events.actor).
VICTIM_ACTOR = "the victim"


def _raise_request_alert(
    sessions: sessionmaker[Session], case_id: int, now: datetime
) -> str | None:
    """The case's reference if this request raised the VFU's alert; None if the case
    already asked today (or there is no such case)."""
    with sessions() as session:
        reference = session.scalar(select(models.Case.reference).where(models.Case.id == case_id))
    if reference is None:
        return None
    alert = Alert(
        kind=AlertKind.UPDATE_REQUESTED,
        obligation_key=update_request_key(now),
        standard=UPDATE_REQUEST_STANDARD,
        at=now,
        due_at=None,
        detail=(
            f"the victim asked for an update from their page on {london_date(now)} at "
            f"{london_time(now)}; get in touch safely (a recorded contact or an update "
            "delivered answers the request)"
        ),
    )
    try:
        return reference if record_alerts(sessions, reference, [alert]) == 1 else None
    except IntegrityError:
        # Another request for the same case on the same day got there first.
        return None


@dataclass(frozen=True)
class CaseLine:
    """How a victim's page reaches their case: the clocks, the database, how long it waits."""

    client: Client
    sessions: sessionmaker[Session]
    timeout: float


async def _tell_case(
    line: CaseLine,
    reference: str,
    event_type: EventType,
    now: datetime,
    details: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> bool:
    """Post the victim's event to their case; False if the case did not take it in time."""
    event = EventIn(
        reference=reference,
        type=event_type,
        at=now,
        details=details or {},
        actor=VICTIM_ACTOR,
        event_id=event_id,
    )

    async def nothing_more(_receipt: EventReceipt) -> None:
        # case_events keeps the event with its actor, "the victim".
        return None

    try:
        await post_event_within(line.client, line.sessions, event, line.timeout, nothing_more)
    except (TemporalUnavailable, CaseError):
        return False
    return True


async def request_update(line: CaseLine, case_id: int, now: datetime) -> bool:
    """Ask the VFU for an update and start the reply's clock; False if this case has
    already asked today. The alert stands even if the case's clocks do not answer in
    time (the VFU still sees the request on its alerts desk)."""
    reference = await asyncio.to_thread(_raise_request_alert, line.sessions, case_id, now)
    if reference is None:
        return False
    key = f"victim-{update_request_key(now)}"
    await _tell_case(line, reference, EventType.UPDATE_REQUESTED, now, event_id=key)
    return True


@dataclass(frozen=True)
class WrittenChoice:
    """The case a choice was written for, whether it changed how the victim is reached,
    and the language their record held."""

    reference: str
    contact_changed: bool
    language: str


def _write_choice(
    sessions: sessionmaker[Session], case_id: int, choice: ContactChoice
) -> WrittenChoice | None:
    """Write the victim's choice to their record; None if there is no such victim."""
    with sessions.begin() as session:
        case = session.get(models.Case, case_id)
        if case is None or case.victim is None:
            return None
        victim = case.victim
        current = ContactChoice(
            preferred_channel=victim.preferred_channel,
            allowed_channels=list(victim.allowed_channels or []),
            safe_hours_start=victim.safe_hours_start,
            safe_hours_end=victim.safe_hours_end,
        )
        written = WrittenChoice(case.reference, current != choice, victim.language)
        if written.contact_changed:
            _write(victim, choice)
        return written


def _write(victim: models.Victim, choice: ContactChoice) -> None:
    victim.preferred_channel = choice.preferred_channel
    # Reassigned, never mutated: the JSON column tracks only a new list.
    victim.allowed_channels = list(choice.allowed_channels)
    victim.safe_hours_start = choice.safe_hours_start
    victim.safe_hours_end = choice.safe_hours_end


async def change_preferences(
    line: CaseLine,
    case_id: int,
    choice: ContactChoice,
    now: datetime,
    language: str | None = None,
) -> bool:
    """Write the victim's new choice and tell the case what changed (and their new
    `language`, when it is not the one they have); False if nothing did."""
    written = await asyncio.to_thread(_write_choice, line.sessions, case_id, choice)
    if written is None:
        return False
    details: dict[str, Any] = {}
    if written.contact_changed:
        details["contact_changed"] = True
    if language is not None and language != written.language:
        details["language"] = language
    if not details:
        return False
    await _tell_case(line, written.reference, EventType.PREFERENCES_CHANGED, now, details)
    return True
