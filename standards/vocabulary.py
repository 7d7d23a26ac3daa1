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


class Language(StrEnum):
    """A language the victim's messages and pages may be in (BCP 47 / ISO 639-1 codes).

    English is every message's fallback: a template missing in the victim's language is
    sent in English, and the message records that it was. Adding a language: a member
    here, its names below, its templates under templates/messages/<code>/, its strings in
    the victim pages' catalogue (web/pages/victim_text.py), and the code in a policy's
    `languages` (docs/standards.md, "Languages")."""

    ENGLISH = "en"
    WELSH = "cy"


DEFAULT_LANGUAGE = Language.ENGLISH

# What staff read for each language (the case page, the CLI).
LANGUAGE_NAMES: dict[Language, str] = {Language.ENGLISH: "English", Language.WELSH: "Welsh"}
# What each language calls itself (the victim pages' language switch).
LANGUAGE_OWN_NAMES: dict[Language, str] = {
    Language.ENGLISH: "English",
    Language.WELSH: "Cymraeg",
}


def language_name(code: str) -> str:
    """A language's name for staff; a code this vocabulary lacks is shown as stored."""
    try:
        return LANGUAGE_NAMES[Language(code)]
    except ValueError:
        return code


def message_language(language: str, fallback_from: str | None) -> str:
    """How staff read the language a message went in: "Welsh", or "English (Welsh not
    available)" when the victim's language had no template for it."""
    name = language_name(language)
    if fallback_from is None or fallback_from == language:
        return name
    return f"{name} ({language_name(fallback_from)} not available)"
