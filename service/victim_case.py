"""What a signed-in victim sees of their case, and their request for an update.

A discreet case's view carries nothing that names the crime type, the unit or the
department: no category, no unit, the contact without a rank, and only messages whose
words pass the same discreet check the message renderer applies.

"Request an update" raises an alert for the borough's VFU through the same alert
recording as the case workflow's (at most one a Europe/London day, by the alert's key),
and does nothing else: no obligation is met, moved or started, and the workflow is not
told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from messaging.discreet import discreet_problems
from messaging.rendering import SIGN_IN_CODE_TEMPLATE
from standards.case_state import CaseStatus
from standards.clock import LONDON, require_aware
from standards.force import Force
from standards.obligations import Alert, AlertKind, ObligationState
from standards.victim_sign_in import update_request_key
from standards.vocabulary import Channel
from storage import models
from storage.case_records import record_alerts

# The policy's standard for regular updates to the victim (policies/met-pledge.toml).
VICTIM_UPDATE_STANDARD = "victim_update"
# The alert's "standard" column for a victim's request (not a standard of any policy).
UPDATE_REQUEST_STANDARD = "update_request"


def london_date(instant: datetime) -> str:
    """ "Wednesday 2 December 2026": the day in Europe/London, as victims read dates."""
    local = require_aware(instant, "instant").astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y}"


def london_time(instant: datetime) -> str:
    """ "2:05pm", in Europe/London."""
    local = require_aware(instant, "instant").astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


@dataclass(frozen=True)
class MessageShown:
    sent_on: str
    channel: str
    subject: str | None
    # None: the words are withheld on a discreet page (they would say what it is about).
    text: str | None


@dataclass(frozen=True)
class VictimCaseView:
    reference: str
    discreet: bool
    open: bool
    closed_on: str | None
    # None on a discreet page.
    crime_type: str | None
    unit_name: str | None
    officer_name: str | None
    officer_contact: str | None
    next_update_due: str | None
    messages: list[MessageShown]
    update_requested_today: bool


def revealing_terms(
    case: models.Case, force: Force, force_name: str, unit_name_pattern: str
) -> list[str]:
    """Words a discreet page must not contain: the crime type, the unit, the department."""
    borough = force.display_name(case.borough)
    return [
        case.category,
        case.category.replace("_", " "),
        case.borough,
        borough,
        unit_name_pattern.format(borough=borough),
        force_name,
    ]


def crime_type_text(category: str) -> str:
    return category.replace("_", " ").capitalize()


def read_victim_case(
    sessions: sessionmaker[Session],
    case_id: int,
    now: datetime,
    force: Force,
    force_name: str,
    unit_name_pattern: str,
) -> VictimCaseView | None:
    with sessions() as session:
        case = session.get(models.Case, case_id)
        if case is None or case.victim is None:
            return None
        discreet = case.victim.discreet
        terms = revealing_terms(case, force, force_name, unit_name_pattern)
        due = session.scalar(
            select(models.Obligation.due_at)
            .where(
                models.Obligation.case_id == case.id,
                models.Obligation.standard == VICTIM_UPDATE_STANDARD,
                models.Obligation.state == ObligationState.PENDING,
            )
            .order_by(models.Obligation.due_at)
            .limit(1)
        )
        rows = session.scalars(
            select(models.OutboxMessage)
            .where(
                models.OutboxMessage.case_id == case.id,
                models.OutboxMessage.template != SIGN_IN_CODE_TEMPLATE,
            )
            .order_by(models.OutboxMessage.created_at.desc(), models.OutboxMessage.id.desc())
        )
        messages = [_shown(row, discreet, terms) for row in rows]
        requested = session.scalar(
            select(models.Alert.id).where(
                models.Alert.case_id == case.id,
                models.Alert.kind == AlertKind.UPDATE_REQUESTED,
                models.Alert.obligation_key == update_request_key(now),
            )
        )
        unit = unit_name_pattern.format(borough=force.display_name(case.borough))
        return VictimCaseView(
            reference=case.reference,
            discreet=discreet,
            open=case.status == CaseStatus.OPEN,
            closed_on=london_date(case.closed_at) if case.closed_at else None,
            crime_type=None if discreet else crime_type_text(case.category),
            unit_name=None if discreet else unit,
            officer_name=_discreetly(case.officer_name, discreet, terms),
            officer_contact=_discreetly(case.officer_contact, discreet, terms),
            next_update_due=london_date(due) if due is not None else None,
            messages=messages,
            update_requested_today=requested is not None,
        )


def _discreetly(value: str | None, discreet: bool, terms: list[str]) -> str | None:
    if value is None or (discreet and discreet_problems(value, terms)):
        return None
    return value


def _shown(row: models.OutboxMessage, discreet: bool, terms: list[str]) -> MessageShown:
    sent = row.sent_at or row.created_at
    subject: str | None = row.subject
    text: str | None = row.body
    if discreet and (discreet_problems(row.body, terms) or discreet_problems(subject or "", terms)):
        # Sent before the case was marked discreet, say: the page must not repeat it.
        subject, text = None, None
    return MessageShown(
        sent_on=f"{london_date(sent)} at {london_time(sent)}",
        channel="Text message" if row.channel == Channel.SMS else "Email",
        subject=subject,
        text=text,
    )


def request_update(sessions: sessionmaker[Session], case_id: int, now: datetime) -> bool:
    """Ask the VFU for an update; False if this case has already asked today."""
    with sessions() as session:
        reference = session.scalar(select(models.Case.reference).where(models.Case.id == case_id))
    if reference is None:
        return False
    alert = Alert(
        kind=AlertKind.UPDATE_REQUESTED,
        obligation_key=update_request_key(now),
        standard=UPDATE_REQUEST_STANDARD,
        at=now,
        due_at=None,
        detail=(
            f"the victim asked for an update from their page on {london_date(now)} at "
            f"{london_time(now)}; get in touch safely (this meets no promise by itself)"
        ),
    )
    try:
        return record_alerts(sessions, reference, [alert]) == 1
    except IntegrityError:
        # Another request for the same case on the same day got there first.
        return False
