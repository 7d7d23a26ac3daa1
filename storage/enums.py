"""The fixed vocabularies stored in the database.

Columns hold plain strings guarded by CHECK constraints; these StrEnums are
the single source of the allowed values, and their members compare equal to
the strings read back. Adding a value needs a migration that rewrites the
matching CHECK constraint: autogenerate does not notice CHECK changes.
"""

from __future__ import annotations

from enum import StrEnum

from standards.case import CaseStatus, EventType
from standards.obligations import AlertKind, ObligationState
from standards.staff import SessionEnd, StaffRole

__all__ = [
    "AlertKind",
    "AuthEvent",
    "CaseStatus",
    "Channel",
    "EventType",
    "MessageStatus",
    "ObligationState",
    "RecipientRole",
    "SessionEnd",
    "StaffRole",
    "TransitionEvent",
]


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class TransitionEvent(StrEnum):
    STARTED = "started"
    WARNED = "warned"
    BREACHED = "breached"
    ESCALATED = "escalated"
    MET = "met"
    MET_LATE = "met_late"
    CANCELLED = "cancelled"
    EXPLAINED = "explained"
    RETIMED = "retimed"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


class RecipientRole(StrEnum):
    VFU = "vfu"
    MANAGER = "manager"


class AuthEvent(StrEnum):
    """What the staff sign-in log records (never a password)."""

    SIGN_IN_OK = "sign_in_ok"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_THROTTLED = "sign_in_throttled"
    SIGNED_OUT = "signed_out"
    SESSION_EXPIRED = "session_expired"
    USER_ADDED = "user_added"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
