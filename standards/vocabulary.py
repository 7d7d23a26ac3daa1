"""One vocabulary: the channels, statuses and events named across the service.

Defined once here, at the bottom, and imported everywhere else (the database's CHECK
constraints, the renderer, the adapters, the API, the pages and the reports). The
members are StrEnums, so they compare equal to the plain strings stored and sent.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class ObligationState(StrEnum):
    PENDING = "pending"
    MET = "met"
    MET_LATE = "met_late"
    BREACHED = "breached"
    CANCELLED = "cancelled"


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
