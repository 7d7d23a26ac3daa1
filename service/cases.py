"""Posting events to cases and reading them: the edge where bad input is refused.

Opening a case is service.case_opening; its names stay importable here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

# The input models and checks live in service.case_input; their names stay importable here.
from service.case_input import FRIENDLY_ERRORS as FRIENDLY_ERRORS
from service.case_input import CaseError as CaseError
from service.case_input import CaseIn as CaseIn
from service.case_input import EventId as EventId
from service.case_input import EventIn as EventIn
from service.case_input import Reference as Reference
from service.case_input import VictimIn as VictimIn
from service.case_input import check_category as check_category
from service.case_input import check_language as check_language
from service.case_input import check_unit as check_unit
from service.case_input import describe_validation_error as describe_validation_error
from service.case_opening import CASE_LOOKUP_TIMEOUT_SECONDS as CASE_LOOKUP_TIMEOUT_SECONDS
from service.case_opening import case_record as case_record
from service.case_opening import case_started as case_started
from service.case_opening import open_case as open_case
from service.case_opening import workflow_input as workflow_input
from standards.clock import to_utc_iso
from standards.contact import contact_blocked, profile_of
from standards.contracts import (
    CaseView,
    EventReceipt,
    case_workflow_id,
)
from standards.events import (
    CASE_FINISHED,
    NOTE,
    NOTE_MAX_LENGTH,
    STORED_DETAILS,
    CaseEvent,
    EventType,
    missing_stored_detail,
    not_running,
    refused_for_victim,
    unaccepted_detail,
)
from storage import models


@dataclass
class RecordedEvent:
    """An event's row in `case_events`, and what writing it changed."""

    id: int
    actor_reference: str
    # False for a repeat of an event id already recorded: nothing was written.
    inserted: bool
    # The officer details the event replaced, to put back if the case refuses it.
    previous_officer: dict[str, str | None]
    # The victim's language the event replaced (a `preferences_changed` giving one).
    previous_language: str | None = None


def workflow_details(event: EventIn) -> dict[str, Any]:
    """The event's details the case's workflow is told: all but the stored staff details."""
    stored = STORED_DETAILS.get(event.type, ())
    return {k: v for k, v in event.details.items() if k not in stored}


def demo_history_refusal(reference: str) -> str:
    return (
        f"case {reference} is demo history, read-only: no workflow runs for it, so it takes "
        "no event (`pledge demo-data --cases N` opens demo cases you can act on)"
    )


def victim_refusal(event: EventIn, victim: models.Victim | None) -> str | None:
    """Why the victim's record refuses an event that sends them a message now (they asked
    not to be contacted, no channel is left, their details are gone), worded as the case
    refuses an event; None when it does not. The case never holds the record, so the
    service asks before the event reaches it (the in-process engine asks the same)."""
    blocked = contact_blocked(None if victim is None else profile_of(victim))
    refused = refused_for_victim(event.type, contact_blocked=blocked)
    if refused is None:
        return None
    return f"{event.type.value} refused for case {event.reference}: {refused}"


def language_given(event: EventIn) -> str | None:
    """The victim's new language an event gives (a `preferences_changed` with one)."""
    language = event.details.get("language")
    if event.type != EventType.PREFERENCES_CHANGED or not isinstance(language, str):
        return None
    return language


def record_event(
    sessions: sessionmaker[Session],
    event: EventIn,
    officer: dict[str, str | None],
    received_at: datetime,
    note: str | None = None,
) -> RecordedEvent:
    """Write the event with its actor and note, who is dealing with the case and the
    victim's language it gives, in one transaction.

    A repeat of an event id this case has recorded writes nothing: the first post did.
    """
    try:
        with sessions.begin() as session:
            case = session.scalar(
                select(models.Case).where(models.Case.reference == event.reference)
            )
            if case is None:
                raise CaseError(f"no case with reference {event.reference}")
            if case.demo_history:
                raise CaseError(demo_history_refusal(event.reference))
            earlier = _recorded(session, case.id, event.event_id)
            if earlier is not None:
                return earlier
            if (refused := victim_refusal(event, case.victim)) is not None:
                raise CaseError(refused)
            previous = {name: getattr(case, name) for name in officer}
            for name, value in officer.items():
                setattr(case, name, value)
            previous_language = None
            language = language_given(event)
            if language is not None and case.victim is not None:
                previous_language = case.victim.language
                case.victim.language = language
            row = models.CaseEventRecord(
                case_id=case.id,
                event_id=event.event_id,
                type=event.type.value,
                at=event.at,
                actor=event.actor,
                received_at=received_at,
                standard=event.standard,
                details=to_jsonable_python(workflow_details(event)),
                note=note,
            )
            session.add(row)
            session.flush()
            return RecordedEvent(row.id, row.actor_reference, True, previous, previous_language)
    except IntegrityError:
        # The same event id, recorded by a request posted at the same moment.
        with sessions() as session:
            earlier = _recorded(session, _case_id(session, event.reference), event.event_id)
        if earlier is None:
            raise
        return earlier


def _case_id(session: Session, reference: str) -> int | None:
    return session.scalar(select(models.Case.id).where(models.Case.reference == reference))


def _recorded(session: Session, case_id: int | None, event_id: str | None) -> RecordedEvent | None:
    if event_id is None or case_id is None:
        return None
    row = session.scalar(
        select(models.CaseEventRecord).where(
            models.CaseEventRecord.case_id == case_id,
            models.CaseEventRecord.event_id == event_id,
        )
    )
    return None if row is None else RecordedEvent(row.id, row.actor_reference, False, {})


def forget_event(sessions: sessionmaker[Session], reference: str, recorded: RecordedEvent) -> None:
    """Undo `record_event` for an event the case refused: a refusal changes nothing."""
    if not recorded.inserted:
        return
    with sessions.begin() as session:
        session.execute(
            delete(models.CaseEventRecord).where(models.CaseEventRecord.id == recorded.id)
        )
        case = session.scalar(select(models.Case).where(models.Case.reference == reference))
        if case is not None:
            for name, value in recorded.previous_officer.items():
                setattr(case, name, value)
            if recorded.previous_language is not None and case.victim is not None:
                case.victim.language = recorded.previous_language


async def post_event(
    client: Client,
    sessions: sessionmaker[Session],
    event: EventIn,
    now: datetime | None = None,
) -> EventReceipt:
    """Record the event and who recorded it, then post it to the case's workflow.

    `now` (when the event was received) is the wall clock unless a rehearsal says otherwise.
    """
    for name in event.details:
        if (problem := unaccepted_detail(event.type, name)) is not None:
            raise CaseError(f"{event.type.value} refused for case {event.reference}: {problem}")
    if (missing := missing_stored_detail(event.type, event.details)) is not None:
        raise CaseError(f"{event.type.value} refused for case {event.reference}: {missing}")
    # Stored details (staff contact details, a note) go to the database, never to the
    # workflow: the officer's on the case, the note with the event's row.
    stored = STORED_DETAILS.get(event.type, ())
    officer: dict[str, str | None] = {
        k: str(event.details[k]) for k in stored if k in event.details and k != NOTE
    }
    note = event.details.get(NOTE)
    if note is not None and (not isinstance(note, str) or len(note) > NOTE_MAX_LENGTH):
        raise CaseError(
            f"{event.type.value} refused for case {event.reference}: "
            f"detail {NOTE!r} must be text of at most {NOTE_MAX_LENGTH} characters"
        )
    details = workflow_details(event)
    # The message the event sends reads them from the database, so they are written
    # first, and put back if the case refuses the event: a refusal changes nothing.
    recorded = await asyncio.to_thread(
        record_event, sessions, event, officer, now or datetime.now(UTC), note or None
    )
    handle = client.get_workflow_handle(case_workflow_id(event.reference))
    case_event = CaseEvent(
        type=event.type,
        at=event.at,
        standard=event.standard,
        details=details,
        actor=recorded.actor_reference,
        event_id=event.event_id,
    )
    try:
        receipt: EventReceipt = await handle.execute_update(
            "post_event",
            case_event,
            # Temporal answers a repeated update id with the first outcome, whatever the
            # payload, so the id names the content too: an id reused for another event
            # reaches the case book, which refuses it. The book also knows repeats for
            # good (update ids are forgotten at continue-as-new).
            id=None
            if event.event_id is None
            else f"event:{event.event_id}:{case_event.fingerprint()}",
            result_type=EventReceipt,
        )
        return receipt
    except (WorkflowUpdateFailedError, RPCError) as error:
        await asyncio.to_thread(forget_event, sessions, event.reference, recorded)
        if isinstance(error, WorkflowUpdateFailedError):
            cause = error.cause
            raise CaseError(
                f"{event.type.value} refused for case {event.reference}: "
                f"{getattr(cause, 'message', None) or cause}"
            ) from error
        # The server's words for a finished workflow name a random update id; a
        # rehearsal's output must not.
        reason = CASE_FINISHED if error.status == RPCStatusCode.NOT_FOUND else error.message
        raise CaseError(not_running(event.reference, reason)) from error
    except RuntimeError:
        # The client could not reach Temporal at all: the case never heard of the event,
        # so its record goes too (the caller is told Temporal did not answer).
        await asyncio.to_thread(forget_event, sessions, event.reference, recorded)
        raise


async def view_case(client: Client, reference: str) -> CaseView:
    handle = client.get_workflow_handle(case_workflow_id(reference))
    try:
        view: CaseView = await handle.query("view", result_type=CaseView)
        return view
    except RPCError as error:
        raise CaseError(f"no running case {reference}: {error.message}") from error


def view_as_dict(view: CaseView) -> dict[str, Any]:
    """A case's obligations as plain JSON-ready data, instants in UTC ISO 8601."""
    return {
        "reference": view.reference,
        "category": view.category,
        "borough": view.borough,
        "status": view.status.value,
        "policy": f"{view.policy_id}@{view.policy_version}",
        "breached": view.breached,
        "next_deadline": _iso(view.next_deadline),
        "obligations": [
            {
                "key": o.key,
                "standard": o.standard,
                "state": o.state.value,
                "started_at": _iso(o.started_at),
                "due_at": _iso(o.due_at),
                "met_at": _iso(o.met_at),
                "history": [
                    {"event": t.event, "state": t.state.value, "at": _iso(t.at), "cause": t.cause}
                    for t in o.history
                ],
            }
            for o in view.obligations
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else to_utc_iso(value)
