"""What the API reads about cases: one case in full, and obligations across cases.

Read from the database (the records the workflow keeps there), so reading never
waits on Temporal. Victim contact details are included only when asked for.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from standards.vocabulary import DEFAULT_LANGUAGE, Channel, MessageStatus
from storage import models
from storage import read_rules as rules
from storage.deadline_order import after_in_deadline_order
from storage.enums import ObligationState


class ObligationOut(BaseModel):
    standard: str
    occurrence: int
    state: ObligationState
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    warning_at: datetime | None


class PolicyRef(BaseModel):
    id: str
    version: int


class MessageOut(BaseModel):
    template: str
    channel: Channel
    status: MessageStatus
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    error: str | None
    # The language it was sent in, and the victim's language when that had no template
    # for it (sent in English instead).
    language: str = DEFAULT_LANGUAGE
    fallback_from: str | None = None


class VictimOut(BaseModel):
    name: str
    email: str | None
    phone: str | None
    preferred_channel: Channel
    allowed_channels: list[Channel]
    do_not_contact: bool
    sms_opted_out: bool
    language: str = DEFAULT_LANGUAGE


class CaseOut(BaseModel):
    """A case as the API shows it."""

    reference: str
    category: str
    borough: str
    status: str
    vulnerable: bool
    reported_at: datetime
    closed_at: datetime | None
    policy: PolicyRef
    obligations: list[ObligationOut]
    messages: list[MessageOut]
    # Present only for a token with the victims:read scope.
    victim: VictimOut | None = None


def case_borough(sessions: sessionmaker[Session], reference: str) -> str | None:
    """The borough of a recorded case, or None when there is no such case."""
    with sessions() as session:
        return session.scalar(select(models.Case.borough).where(models.Case.reference == reference))


def read_case(sessions: sessionmaker[Session], reference: str, with_victim: bool) -> CaseOut | None:
    with sessions() as session:
        case = session.scalar(
            select(models.Case)
            .where(models.Case.reference == reference)
            .options(selectinload(models.Case.obligations), selectinload(models.Case.victim))
        )
        if case is None:
            return None
        messages = session.scalars(
            select(models.OutboxMessage)
            .where(models.OutboxMessage.case_id == case.id)
            .order_by(models.OutboxMessage.id)
        )
        victim = case.victim
        return CaseOut(
            reference=case.reference,
            category=case.category,
            borough=case.borough,
            status=case.status,
            vulnerable=case.vulnerable,
            reported_at=case.reported_at,
            closed_at=case.closed_at,
            policy=PolicyRef(id=case.policy_id, version=case.policy_version),
            obligations=[
                obligation_out(o) for o in sorted(case.obligations, key=lambda o: (o.due_at, o.id))
            ],
            messages=[message_out(m) for m in messages],
            victim=VictimOut(
                name=victim.name,
                email=victim.email,
                phone=victim.phone,
                preferred_channel=Channel(victim.preferred_channel),
                allowed_channels=[Channel(c) for c in victim.allowed_channels],
                do_not_contact=victim.do_not_contact,
                sms_opted_out=victim.sms_opted_out,
                language=victim.language,
            )
            if with_victim and victim is not None
            else None,
        )


def message_out(row: models.OutboxMessage) -> MessageOut:
    """A message as staff read it (the API and the case page): never its text."""
    return MessageOut(
        template=row.template,
        channel=Channel(row.channel),
        status=MessageStatus(row.status),
        created_at=row.created_at,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        error=row.error,
        language=row.language,
        fallback_from=row.fallback_from,
    )


def obligation_out(row: models.Obligation) -> ObligationOut:
    return ObligationOut(
        standard=row.standard,
        occurrence=row.occurrence,
        state=ObligationState(row.state),
        started_at=row.started_at,
        due_at=row.due_at,
        met_at=row.met_at,
        warning_at=row.warn_at,
    )


class ObligationFilter(StrEnum):
    """A state to list: one of the stored states, or one of the two views of pending."""

    PENDING = ObligationState.PENDING.value
    MET = ObligationState.MET.value
    MET_LATE = ObligationState.MET_LATE.value
    BREACHED = ObligationState.BREACHED.value
    CANCELLED = ObligationState.CANCELLED.value
    # standards.read_rules.is_overdue: open (pending or breached) and due at or before now.
    OVERDUE = "overdue"
    # standards.read_rules.is_due_soon: pending, past its warning point, not yet overdue.
    DUE_SOON = "due_soon"


class ObligationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: ObligationFilter | None = None
    borough: str | None = None
    standard: str | None = None
    due_before: AwareDatetime | None = None
    due_after: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    cursor: str | None = None


class ListedObligation(ObligationOut):
    reference: str
    borough: str
    category: str


class ObligationPage(BaseModel):
    obligations: list[ListedObligation]
    # Pass as `cursor` for the next page; absent on the last page.
    next_cursor: str | None


class BadCursor(ValueError):
    pass


def encode_cursor(due_at: datetime, row_id: int) -> str:
    raw = f"{due_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        instant, _, row_id = raw.partition("|")
        due_at = datetime.fromisoformat(instant)
        if due_at.tzinfo is None:
            raise ValueError("naive")
        return due_at, int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor(
            "cursor is not one this API gave out: pass next_cursor from the previous page"
        ) from error


def list_obligations(
    sessions: sessionmaker[Session],
    query: ObligationQuery,
    now: datetime,
    borough_limit: str | None,
) -> ObligationPage:
    """Obligations across cases, most urgent (earliest due) first, one page of them."""
    Obligation = models.Obligation
    statement: Select[models.Obligation, str] = select(Obligation, models.Case.reference).join(
        models.Case, models.Case.id == Obligation.case_id
    )
    if query.state == ObligationFilter.OVERDUE:
        statement = statement.where(rules.is_overdue(now))
    elif query.state == ObligationFilter.DUE_SOON:
        statement = statement.where(rules.is_due_soon(now))
    elif query.state is not None:
        statement = statement.where(Obligation.state == query.state.value)
    for borough in (query.borough, borough_limit):
        if borough is not None:
            statement = statement.where(func.lower(Obligation.borough) == borough.casefold())
    if query.standard is not None:
        statement = statement.where(Obligation.standard == query.standard)
    if query.due_before is not None:
        statement = statement.where(Obligation.due_at < query.due_before)
    if query.due_after is not None:
        statement = statement.where(Obligation.due_at > query.due_after)
    if query.cursor is not None:
        due_at, row_id = decode_cursor(query.cursor)
        statement = statement.where(after_in_deadline_order(due_at, row_id))
    statement = statement.order_by(Obligation.due_at, Obligation.id).limit(query.limit + 1)
    with sessions() as session:
        rows: list[tuple[models.Obligation, str]] = [
            (row, reference) for row, reference in session.execute(statement)
        ]
    page = rows[: query.limit]
    next_cursor = (
        encode_cursor(page[-1][0].due_at, page[-1][0].id) if len(rows) > query.limit else None
    )
    return ObligationPage(
        obligations=[
            ListedObligation(
                **obligation_out(row).model_dump(),
                reference=reference,
                borough=row.borough,
                category=row.category,
            )
            for row, reference in page
        ],
        next_cursor=next_cursor,
    )
