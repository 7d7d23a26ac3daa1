"""The tables of the monitor.

Personal data about a victim lives only in ``victims`` so that it can be
erased or restricted without touching the compliance record.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from standards.vocabulary import (
    DEFAULT_LANGUAGE,
    AuthEvent,
    Channel,
    MessageStatus,
    RecipientRole,
    TransitionEvent,
)
from storage.base import Base, utcnow
from storage.enums import AlertKind, CaseStatus, EventType, ObligationState, SessionEnd, StaffRole
from storage.limits import (
    ACTOR_LENGTH,
    CODE_LENGTH,
    DISPLAY_NAME_LENGTH,
    E164_LENGTH,
    EMAIL_LENGTH,
    EVENT_ID_LENGTH,
    LANGUAGE_LENGTH,
    OBLIGATION_KEY_LENGTH,
    REFERENCE_LENGTH,
    VOCABULARY_LENGTH,
)
from storage.types import UTCDateTime

__all__ = [
    # Re-exported: the column widths are read as models.<NAME> too.
    "ACTOR_LENGTH",
    "CODE_LENGTH",
    "DISPLAY_NAME_LENGTH",
    "E164_LENGTH",
    "EMAIL_LENGTH",
    "EVENT_ID_LENGTH",
    "LANGUAGE_LENGTH",
    "OBLIGATION_KEY_LENGTH",
    "REFERENCE_LENGTH",
    "VOCABULARY_LENGTH",
    "Alert",
    "ApiAuditRecord",
    "ApiToken",
    "Base",
    "Case",
    "CaseEventRecord",
    "Obligation",
    "ObligationTransition",
    "OutboxMessage",
    "StaffAuthEvent",
    "StaffSession",
    "StaffUserRecord",
    "Victim",
    "staff_known_as",
]


def one_of(column: str, vocabulary: type[StrEnum]) -> CheckConstraint:
    """A CHECK constraint, named after its column, limiting it to the vocabulary."""
    allowed = ", ".join(f"'{member.value}'" for member in vocabulary)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        one_of("status", CaseStatus),
        # Retention finds closed cases by closing time.
        Index("ix_cases_status_closed_at", "status", "closed_at"),
        # The VFU worklist's officer filter: the officers of a borough's open cases.
        Index("ix_cases_officers", "borough", "status", "officer_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True)
    workflow_id: Mapped[str] = mapped_column(String(255), unique=True)
    category: Mapped[str] = mapped_column(String(CODE_LENGTH))
    borough: Mapped[str] = mapped_column(String(CODE_LENGTH), index=True)
    vulnerable: Mapped[bool] = mapped_column(Boolean)
    nation: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    policy_id: Mapped[str] = mapped_column(String(CODE_LENGTH))
    policy_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH), default=CaseStatus.OPEN)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who is dealing with the case, for the victim's messages (never sent to Temporal).
    officer_name: Mapped[str | None] = mapped_column(String(200))
    officer_contact: Mapped[str | None] = mapped_column(String(100))
    # Written by `pledge demo-data --history` (reporting/demo.py): no workflow runs for it,
    # so it takes no event and stays out of the VFU queue (read-only history).
    demo_history: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )

    victim: Mapped[Victim | None] = relationship(back_populates="case")
    obligations: Mapped[list[Obligation]] = relationship(back_populates="case")


class CaseEventRecord(Base):
    """An event as the service received it, with who recorded it.

    The actor is personal data (a member of staff) and stays here: the case's
    workflow is told only `actor_reference`, which leads back to this row.
    """

    __tablename__ = "case_events"
    __table_args__ = (
        # NULLs never collide: events posted without an id are never taken for repeats.
        UniqueConstraint("case_id", "event_id"),
        one_of("type", EventType),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The caller's idempotency key, if it gave one.
    event_id: Mapped[str | None] = mapped_column(String(EVENT_ID_LENGTH))
    type: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the case's clocks were told (the standard it names and its details, never the
    # staff details kept on the case), so its history can be replayed under another policy.
    standard: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    # NULL for events recorded before the details were kept.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    # What the member of staff wrote with it (standards.events.NOTE): personal data, never
    # told to the case's clocks, erased with the victim's contact profile.
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def actor_reference(self) -> str:
        """Who recorded the event, as the case's workflow (and its transitions) name them."""
        return f"actor:{self.id}"


class UnknownCase(LookupError):
    """No case has this crime reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no case with reference {reference!r}")


class Victim(Base):
    __tablename__ = "victims"
    __table_args__ = (one_of("preferred_channel", Channel),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    phone: Mapped[str | None] = mapped_column(String(E164_LENGTH))
    preferred_channel: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    # Reassign the list rather than mutating it: plain JSON columns do not track
    # in-place changes, so an append would silently never be written.
    allowed_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Local Europe/London wall-clock times; a window may wrap past midnight.
    safe_hours_start: Mapped[time | None] = mapped_column(Time)
    safe_hours_end: Mapped[time | None] = mapped_column(Time)
    discreet: Mapped[bool] = mapped_column(Boolean)
    do_not_contact: Mapped[bool] = mapped_column(Boolean)
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    update_interval_days: Mapped[int | None] = mapped_column(Integer)
    updates_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The language of their messages and pages (standards.vocabulary.Language); one the
    # case's policy offers. Rows from before migration 0027 are English.
    language: Mapped[str] = mapped_column(
        String(LANGUAGE_LENGTH), default=DEFAULT_LANGUAGE, server_default=DEFAULT_LANGUAGE.value
    )

    case: Mapped[Case] = relationship(back_populates="victim")


class Obligation(Base):
    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("case_id", "key"),
        one_of("state", ObligationState),
        Index("ix_obligations_standard_due_at", "standard", "due_at"),
        Index("ix_obligations_borough_due_at", "borough", "due_at"),
        # The VFU queue: a borough's open obligations, earliest due first.
        Index("ix_obligations_queue", "borough", "state", "due_at"),
        # The VFU worklist (migration 0020): each kind of row in deadline order, one state
        # at a time, the rest checked in the index; and the due-soon count.
        Index(
            "ix_obligations_worklist",
            "state",
            "due_at",
            "borough",
            "warn_at",
            "explained_at",
            "breached_at",
        ),
        Index("ix_obligations_due_soon", "borough", "state", "warn_at", "due_at"),
        # Covers the compliance report's scan of a period, so it never reads the table.
        Index(
            "ix_obligations_report",
            "due_at",
            "state",
            "standard",
            "borough",
            "category",
            "started_at",
            "met_at",
            "explanation_reason",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    key: Mapped[str] = mapped_column(String(OBLIGATION_KEY_LENGTH))
    standard: Mapped[str] = mapped_column(String(CODE_LENGTH))
    occurrence: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(
        String(VOCABULARY_LENGTH), index=True, default=ObligationState.PENDING
    )
    # Copies of the case's values so that compliance reports need no join.
    borough: Mapped[str] = mapped_column(String(CODE_LENGTH))
    category: Mapped[str] = mapped_column(String(CODE_LENGTH))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_amount: Mapped[int] = mapped_column(Integer)
    window_unit: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    explanation_reason: Mapped[str | None] = mapped_column(String(VOCABULARY_LENGTH))
    explanation_text: Mapped[str | None] = mapped_column(Text)
    explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship(back_populates="obligations")
    transitions: Mapped[list[ObligationTransition]] = relationship(
        back_populates="obligation", order_by="ObligationTransition.seq"
    )


class ObligationTransition(Base):
    """One step in an obligation's history; the (obligation, seq) pair makes a retried write
    collide instead of recording the same step twice."""

    __tablename__ = "obligation_transitions"
    __table_args__ = (
        UniqueConstraint("obligation_id", "seq"),
        one_of("event", TransitionEvent),
        one_of("state", ObligationState),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    state: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(Text)

    obligation: Mapped[Obligation] = relationship(back_populates="transitions")


class OutboxMessage(Base):
    """A message to a victim, written before it is sent so a retried send can find it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        one_of("channel", Channel),
        one_of("status", MessageStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    template: Mapped[str] = mapped_column(String(CODE_LENGTH))
    channel: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    recipient: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    subject: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH), default=MessageStatus.QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    # Twilio SID or SMTP Message-ID, the handle a delivery callback arrives with.
    provider_id: Mapped[str | None] = mapped_column(String(255), index=True)
    obligation_key: Mapped[str | None] = mapped_column(String(OBLIGATION_KEY_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The language it was rendered in, and the victim's language when that had no
    # template for it (sent in English instead); rows before migration 0026 are English.
    language: Mapped[str] = mapped_column(
        String(LANGUAGE_LENGTH), default=DEFAULT_LANGUAGE, server_default=DEFAULT_LANGUAGE.value
    )
    fallback_from: Mapped[str | None] = mapped_column(String(LANGUAGE_LENGTH))


class Alert(Base):
    """A staff alert; the unique key keeps one alert of each kind per obligation occurrence."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("case_id", "obligation_key", "kind"),
        one_of("kind", AlertKind),
        one_of("recipient_role", RecipientRole),
        # A desk's open count (the dashboard's escalations) reads this index alone.
        Index("ix_alerts_open_desk", "recipient_role", "kind", "acknowledged_at", "borough"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    borough: Mapped[str] = mapped_column(String(CODE_LENGTH), index=True)
    standard: Mapped[str] = mapped_column(String(CODE_LENGTH))
    # Not nullable: NULLs never collide in a unique constraint, so a nullable key
    # would quietly defeat the deduplication.
    obligation_key: Mapped[str] = mapped_column(String(OBLIGATION_KEY_LENGTH))
    kind: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text)
    recipient_role: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who acknowledged it, and who it is given to, by whom and when (the alerts page).
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Widths of the API's own columns.
TOKEN_NAME_LENGTH = 64
SHA256_HEX_LENGTH = 64


class ApiToken(Base):
    """A bearer token of the HTTP API; only a digest of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_LENGTH), unique=True)
    token_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A token limited to one borough reads and writes only that borough's cases.
    borough: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiAuditRecord(Base):
    """One accepted write through the API: who, which route, which case, what came of it.

    Never the body: `request_key` is the client's event id or a SHA-256 digest of the
    body, kept so that a retried request gets the first outcome, and `receipt` holds
    the non-personal answer (an event receipt) to give it again.
    """

    __tablename__ = "api_audit"
    __table_args__ = (UniqueConstraint("route", "reference", "request_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_name: Mapped[str] = mapped_column(String(TOKEN_NAME_LENGTH))
    route: Mapped[str] = mapped_column(String(128))
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), index=True)
    outcome: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    status_code: Mapped[int] = mapped_column(Integer)
    request_key: Mapped[str] = mapped_column(String(255))
    receipt: Mapped[dict[str, object] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Widths of the staff pages' columns.
PASSWORD_HASH_LENGTH = 255
ADDRESS_LENGTH = 64


class StaffUserRecord(Base):
    """A member of staff who signs in to the pages; only an argon2 hash of the password."""

    __tablename__ = "staff_users"
    __table_args__ = (one_of("role", StaffRole),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lowercased, so one address is one account however it is typed.
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    # What the pages call them; None (an account made before names): their email.
    display_name: Mapped[str | None] = mapped_column(String(DISPLAY_NAME_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_LENGTH))
    role: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    # A unit id; None for an admin, or a manager of the whole force.
    borough: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def staff_known_as(record: Any) -> ColumnElement[str]:
    """A member of staff as the pages name them: their display name, else their email
    (`record` is the table or an alias of it)."""
    return func.coalesce(record.display_name, record.email)


class StaffSession(Base):
    """A signed-in browser. Only a SHA-256 digest of the session id is kept, so a copy of
    the table signs nobody in; ending a session is one update every web process sees."""

    __tablename__ = "staff_sessions"
    __table_args__ = (one_of("ended_reason", SessionEnd),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(VOCABULARY_LENGTH))


class StaffAuthEvent(Base):
    """The sign-in log: who, from where, what happened (never a password). Failed sign-ins
    here are also what the rate limits count."""

    __tablename__ = "staff_auth_events"
    __table_args__ = (
        one_of("event", AuthEvent),
        Index("ix_staff_auth_events_email_at", "email", "at"),
        Index("ix_staff_auth_events_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    # The account the event is about (as typed, lowercased, for a failed sign-in).
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    # Who did it, when that is someone else (an admin adding a user); "cli" for a command.
    actor: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    detail: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactErasure(Base):
    """A closed case whose victim's contact profile was erased once retention ran out.

    The case's obligations, transitions and alerts stay (they carry no personal data),
    so reports do not change; the victim row goes, and the messages keep no recipient
    or text.
    """

    __tablename__ = "contact_erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retention_days: Mapped[int] = mapped_column(Integer)
    messages_scrubbed: Mapped[int] = mapped_column(Integer)
