"""The fixed vocabularies stored in the database (defined in standards, named here).

Columns hold plain strings guarded by CHECK constraints; these StrEnums are
the single source of the allowed values, and their members compare equal to
the strings read back. Adding a value needs a migration that rewrites the
matching CHECK constraint: autogenerate does not notice CHECK changes.
"""

from __future__ import annotations

from standards.case_state import CaseStatus
from standards.events import EventType
from standards.obligations import AlertKind, ObligationState
from standards.staff import SessionEnd, StaffRole
from standards.vocabulary import (
    AuthEvent,
    Channel,
    MessageStatus,
    RecipientRole,
    TransitionEvent,
)

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
