"""Everything the staff case page shows about one case, read from the database.

The timeline of each obligation is `pledge case explain`'s (reporting.register
`case_timeline`, the recorded transitions); the victim's contact profile is read only
when the reader may see it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.case_reads import MessageOut, message_out
from standards.events import NOTE, EventType
from standards.read_rules import is_open, is_overdue, needs_explanation
from standards.vocabulary import DEFAULT_LANGUAGE
from storage import models
from storage.enums import ObligationState
from storage.models import UnknownCase
from storage.timeline import TimelineStep, case_timeline

# Bounds on what one page reads: a case has a handful of each; these stop a runaway one.
MESSAGES_LIMIT: Final = 200
ALERTS_LIMIT: Final = 200
ACTORS_LIMIT: Final = 1000
HISTORY_LIMIT: Final = 200
# How a transition's cause names who recorded an event (CaseEventRecord.actor_reference).
_ACTOR_REFERENCE: Final = re.compile(r"\bactor:(\d+)\b")
# How case_events names a member of staff who recorded an event on the pages.
_STAFF_ACTOR: Final = re.compile(r"^staff:(\d+)$")


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    category: str
    borough: str
    status: str
    vulnerable: bool
    reported_at: datetime
    closed_at: datetime | None
    policy_id: str
    policy_version: int
    officer_name: str | None
    officer_contact: str | None
    # Bulk demo history (`pledge demo-data --history`): rows with no workflow, read-only.
    demo_history: bool = False


@dataclass(frozen=True)
class VictimProfile:
    """How the victim may be contacted: personal data, for the borough's VFU and manager."""

    name: str
    email: str | None
    phone: str | None
    preferred_channel: str
    allowed_channels: list[str]
    safe_hours_start: time | None
    safe_hours_end: time | None
    discreet: bool
    do_not_contact: bool
    sms_opted_out: bool
    update_interval_days: int | None
    updates_paused: bool
    # The language of their messages and pages (standards.vocabulary.Language).
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class ObligationEntry:
    obligation_id: int
    key: str
    standard: str
    occurrence: int
    state: ObligationState
    started_at: datetime
    due_at: datetime
    warn_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    explained_at: datetime | None
    explanation_reason: str | None
    explanation_text: str | None
    # Breached and not yet explained: the case accepts an explanation.
    explainable: bool
    timeline: list[TimelineStep] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return is_open(self)


@dataclass(frozen=True)
class AlertEntry:
    kind: str
    standard: str
    at: datetime
    due_at: datetime | None
    detail: str
    recipient_role: str
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class HistoryEntry:
    """One event recorded on the case: when, what, who (by name), and what they wrote."""

    at: datetime
    type: str
    by: str
    details: dict[str, Any]
    note: str | None


@dataclass(frozen=True)
class CasePage:
    case: CaseSummary
    obligations: list[ObligationEntry]
    messages: list[MessageOut]
    alerts: list[AlertEntry]
    # None when the reader may not see it (or the victim's details were erased).
    victim: VictimProfile | None
    # Newest first.
    history: list[HistoryEntry] = field(default_factory=list)


def case_borough(sessions: sessionmaker[Session], reference: str) -> str | None:
    """The stored borough of a case, or None when there is no such case."""
    with sessions() as session:
        return session.scalar(select(models.Case.borough).where(models.Case.reference == reference))


def _summary(case: models.Case) -> CaseSummary:
    return CaseSummary(
        reference=case.reference,
        category=case.category,
        borough=case.borough,
        status=case.status,
        vulnerable=case.vulnerable,
        reported_at=case.reported_at,
        closed_at=case.closed_at,
        policy_id=case.policy_id,
        policy_version=case.policy_version,
        officer_name=case.officer_name,
        officer_contact=case.officer_contact,
        demo_history=case.demo_history,
    )


def _profile(victim: models.Victim) -> VictimProfile:
    return VictimProfile(
        name=victim.name,
        email=victim.email,
        phone=victim.phone,
        preferred_channel=victim.preferred_channel,
        allowed_channels=list(victim.allowed_channels),
        safe_hours_start=victim.safe_hours_start,
        safe_hours_end=victim.safe_hours_end,
        discreet=victim.discreet,
        do_not_contact=victim.do_not_contact,
        sms_opted_out=victim.sms_opted_out,
        update_interval_days=victim.update_interval_days,
        updates_paused=victim.updates_paused,
        language=victim.language,
    )


def _event_words(code: str) -> str:
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


# "contact_recorded by ..." as people read it: "Contact recorded by ...".
_EVENT_AT_START: Final = re.compile(
    r"^(?:restarted: )?(" + "|".join(sorted((t.value for t in EventType), key=len)[::-1]) + r")\b"
)


def name_actors(cause: str, actors: dict[str, str]) -> str:
    """A cause with each `actor:N` replaced by who recorded that event, where known, and
    the event it names in words."""
    named = _ACTOR_REFERENCE.sub(lambda match: actors.get(match.group(0), match.group(0)), cause)
    return _EVENT_AT_START.sub(
        lambda match: match.group(0).replace(match.group(1), _event_words(match.group(1))), named
    )


def staff_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """Who each `staff:N` actor is, by the name people know them by (their account's display
    name, else the address they sign in with), read now, so a case's workflow never holds it."""
    ids = {int(found.group(1)) for a in actors if (found := _STAFF_ACTOR.match(a))}
    if not ids:
        return {}
    rows = session.execute(
        select(
            models.StaffUserRecord.id, models.staff_known_as(models.StaffUserRecord).label("name")
        ).where(models.StaffUserRecord.id.in_(ids))
    )
    return {f"staff:{row.id}": row.name for row in rows}


def display_actor(actor: str, names: dict[str, str]) -> str:
    """An actor as the page names it: a member of staff by name, anything else as given
    (the crime recording system, an API token)."""
    if actor in names:
        return names[actor]
    if _STAFF_ACTOR.match(actor):
        return "a member of staff whose account has gone"
    return actor


def _events(session: Session, case_id: int) -> list[models.CaseEventRecord]:
    return list(
        session.scalars(
            select(models.CaseEventRecord)
            .where(models.CaseEventRecord.case_id == case_id)
            .order_by(models.CaseEventRecord.id.desc())
            .limit(max(ACTORS_LIMIT, HISTORY_LIMIT))
        )
    )


def _actors(rows: list[models.CaseEventRecord], names: dict[str, str]) -> dict[str, str]:
    return {row.actor_reference: display_actor(row.actor, names) for row in rows}


def _history(rows: list[models.CaseEventRecord], names: dict[str, str]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            at=row.at,
            type=row.type,
            by=display_actor(row.actor, names),
            details={k: v for k, v in (row.details or {}).items() if k != NOTE},
            note=row.note,
        )
        for row in rows[:HISTORY_LIMIT]
    ]


def read_case_page(
    sessions: sessionmaker[Session], reference: str, with_victim: bool
) -> CasePage | None:
    """The case as its page shows it, or None when there is no such case."""
    with sessions() as session:
        case = session.scalar(select(models.Case).where(models.Case.reference == reference))
        if case is None:
            return None
        try:
            steps = case_timeline(session, reference)
        except UnknownCase:
            return None
        events = _events(session, case.id)
        names = staff_names(session, {row.actor for row in events})
        actors = _actors(events, names)
        by_key: dict[str, list[TimelineStep]] = {}
        for step in steps:
            named = TimelineStep(
                obligation_key=step.obligation_key,
                standard=step.standard,
                seq=step.seq,
                event=step.event,
                state=step.state,
                at=step.at,
                cause=name_actors(step.cause, actors),
            )
            by_key.setdefault(step.obligation_key, []).append(named)
        obligations = session.scalars(
            select(models.Obligation)
            .where(models.Obligation.case_id == case.id)
            .order_by(models.Obligation.due_at, models.Obligation.id)
        )
        entries = [
            ObligationEntry(
                obligation_id=row.id,
                key=row.key,
                standard=row.standard,
                occurrence=row.occurrence,
                state=ObligationState(row.state),
                started_at=row.started_at,
                due_at=row.due_at,
                warn_at=row.warn_at,
                met_at=row.met_at,
                breached_at=row.breached_at,
                explained_at=row.explained_at,
                explanation_reason=row.explanation_reason,
                explanation_text=row.explanation_text,
                explainable=needs_explanation(row),
                timeline=by_key.get(row.key, []),
            )
            for row in obligations
        ]
        messages = [
            message_out(m)
            for m in session.scalars(
                select(models.OutboxMessage)
                .where(models.OutboxMessage.case_id == case.id)
                .order_by(models.OutboxMessage.id)
                .limit(MESSAGES_LIMIT)
            )
        ]
        alerts = [
            AlertEntry(
                kind=a.kind,
                standard=a.standard,
                at=a.at,
                due_at=a.due_at,
                detail=a.detail,
                recipient_role=a.recipient_role,
                acknowledged_at=a.acknowledged_at,
            )
            for a in session.scalars(
                select(models.Alert)
                .where(models.Alert.case_id == case.id)
                .order_by(models.Alert.at.desc(), models.Alert.id.desc())
                .limit(ALERTS_LIMIT)
            )
        ]
        victim = _profile(case.victim) if with_victim and case.victim is not None else None
        return CasePage(
            case=_summary(case),
            obligations=entries,
            messages=messages,
            alerts=alerts,
            victim=victim,
            history=_history(events, names),
        )


def needing_action(obligations: list[ObligationEntry], now: datetime) -> list[ObligationEntry]:
    """What needs doing next, most urgent first: the open obligations, overdue ones first
    (the longest overdue first), then by time left; then the breaches met late that still
    need an explanation."""

    def urgency(entry: ObligationEntry) -> tuple[bool, timedelta, int]:
        return (not is_overdue(entry, now), entry.due_at - now, entry.obligation_id)

    still_open = sorted((o for o in obligations if o.is_open), key=urgency)
    unexplained = [o for o in obligations if not o.is_open and o.explainable]
    return still_open + sorted(unexplained, key=urgency)


def open_standards(page: CasePage) -> set[str]:
    """The standards the case has an open obligation of (what an action may name)."""
    return {o.standard for o in page.obligations if o.is_open}


@dataclass(frozen=True)
class ActionTarget:
    """The obligation a form on a staff page acts on, as it stands now."""

    obligation_id: int
    key: str
    standard: str
    state: ObligationState
    explainable: bool

    @property
    def is_open(self) -> bool:
        return is_open(self)


def action_target(
    sessions: sessionmaker[Session], reference: str, obligation_id: int
) -> ActionTarget | None:
    """The obligation `obligation_id` of the case `reference`; None when the case has none."""
    with sessions() as session:
        row = session.scalar(
            select(models.Obligation)
            .join(models.Case, models.Case.id == models.Obligation.case_id)
            .where(models.Case.reference == reference, models.Obligation.id == obligation_id)
        )
        if row is None:
            return None
        return ActionTarget(
            obligation_id=row.id,
            key=row.key,
            standard=row.standard,
            state=ObligationState(row.state),
            explainable=needs_explanation(row),
        )


def recorded_event_at(
    sessions: sessionmaker[Session], reference: str, event_id: str
) -> datetime | None:
    """When the event the case recorded with this id happened (a form sent twice), if any."""
    with sessions() as session:
        return session.scalar(
            select(models.CaseEventRecord.at)
            .join(models.Case, models.Case.id == models.CaseEventRecord.case_id)
            .where(models.Case.reference == reference, models.CaseEventRecord.event_id == event_id)
        )


__all__ = [
    "ActionTarget",
    "AlertEntry",
    "CasePage",
    "CaseSummary",
    "HistoryEntry",
    "ObligationEntry",
    "VictimProfile",
    "action_target",
    "case_borough",
    "display_actor",
    "name_actors",
    "needing_action",
    "open_standards",
    "read_case_page",
    "recorded_event_at",
    "staff_names",
]
