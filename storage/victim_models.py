"""The tables of victims' sign-in ("track my report"), apart from staff sign-in.

No code and no session token is kept: only digests. The address a code was asked from is
kept as a SHA-256 digest too, enough to count requests per address.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from standards.victim_sign_in import CODE_HASH_LENGTH, CodeRequestOutcome
from storage.base import Base
from storage.models import REFERENCE_LENGTH, SHA256_HEX_LENGTH, VOCABULARY_LENGTH, one_of
from storage.types import UTCDateTime

__all__ = ["VictimCodeRequest", "VictimSession", "VictimSignInCode", "VictimWrongCodes"]


class VictimSignInCode(Base):
    """A one-time code sent to a victim; `used_at` makes it single-use."""

    __tablename__ = "victim_sign_in_codes"
    __table_args__ = (Index("ix_victim_sign_in_codes_case_id_issued_at", "case_id", "issued_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    code_hash: Mapped[str] = mapped_column(String(CODE_HASH_LENGTH))
    channel: Mapped[str] = mapped_column(String(VOCABULARY_LENGTH))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The digest of the device token of the browser that asked: the code works only there.
    # None for codes sent before codes were bound to a device (they work nowhere now).
    device_hash: Mapped[str | None] = mapped_column(String(SHA256_HEX_LENGTH))


class VictimWrongCodes(Base):
    """Wrong codes typed for a reference from one device, and that device's lock; by the
    reference as typed, whether or not a case has it, so a lock says nothing about which
    references exist, and by device, so nobody can lock the victim's own browser out."""

    __tablename__ = "victim_wrong_codes"

    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), primary_key=True)
    device_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VictimCodeRequest(Base):
    """One request for a code: from which address (digest), for which reference, what came
    of it (for staff: the asker always sees the same page)."""

    __tablename__ = "victim_code_requests"
    __table_args__ = (
        one_of("outcome", CodeRequestOutcome),
        Index("ix_victim_code_requests_address_at", "address_hash", "at"),
        Index("ix_victim_code_requests_reference_at", "reference", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The asking browser's device token, as a digest; None for requests made before it.
    device_hash: Mapped[str | None] = mapped_column(String(SHA256_HEX_LENGTH))
    # None until the request has been dealt with (the code is sent after the page answers).
    outcome: Mapped[str | None] = mapped_column(String(VOCABULARY_LENGTH))


class VictimSession(Base):
    """A signed-in victim: the cookie holds a random token, this row only its digest."""

    __tablename__ = "victim_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
