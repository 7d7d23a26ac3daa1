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

__all__ = [
    "AlertKind",
    "CaseStatus",
    "Channel",
    "EventType",
    "MessageStatus",
    "ObligationState",
    "RecipientRole",
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
