"""Staff sign-in, server-side sessions and the sign-in rate limits.

A session id is 256 random bits given to the browser in a cookie; the database keeps
only its SHA-256 digest, so signing out (or disabling the account) ends it at once in
every web process. The form token that guards against cross-site requests is derived
from the session id, so it needs no storage and no other secret.

The rate limits count failed sign-ins in the database (`staff_auth_events`), not in a
process's memory: several web processes share them and a restart does not forget them.
Attempts that were refused are not counted, so an account is free again once its
oldest counted failure leaves the window, however long someone keeps trying.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from config import Settings
from service.accounts import password_matches, record_event, rehashed
from standards.staff import (
    SessionEnd,
    SessionLimits,
    StaffRole,
    StaffUser,
    ThrottleRule,
    retry_after,
    session_expiry,
)
from standards.vocabulary import AuthEvent
from storage import models

# How long sign-in log rows and ended sessions are kept; older ones are pruned as new
# sign-ins arrive.
AUTH_LOG_RETENTION = timedelta(days=90)


@dataclass(frozen=True)
class SignInRules:
    limits: SessionLimits
    per_account: ThrottleRule
    per_address: ThrottleRule

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInRules:
        window = timedelta(minutes=settings.staff_sign_in_window_minutes)
        return cls(
            limits=SessionLimits(
                idle=timedelta(minutes=settings.staff_idle_timeout_minutes),
                lifetime=timedelta(hours=settings.staff_session_lifetime_hours),
            ),
            per_account=ThrottleRule(settings.staff_sign_in_failures_per_account, window),
            per_address=ThrottleRule(settings.staff_sign_in_failures_per_address, window),
        )


@dataclass(frozen=True)
class SignedIn:
    user: StaffUser
    # The new session's id, for the cookie; never stored.
    session_id: str


@dataclass(frozen=True)
class Refused:
    """Wrong email or password (deliberately not saying which)."""


@dataclass(frozen=True)
class Throttled:
    retry_after: timedelta


SignInOutcome = SignedIn | Refused | Throttled


@dataclass(frozen=True)
class ActiveSession:
    user: StaffUser
    csrf_token: str


@dataclass(frozen=True)
class EndedSession:
    reason: SessionEnd | None  # None: no such session (never existed, or long pruned)


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def csrf_token_for(session_id: str) -> str:
    """The form token of a session (or of a sign-in form's pre-session cookie)."""
    return hashlib.sha256(b"pledge csrf\0" + session_id.encode("utf-8")).hexdigest()


def csrf_matches(session_id: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token_for(session_id), presented)


def _failure_times(
    session: Session, column: InstrumentedAttribute[str | None], value: str, since: datetime
) -> list[datetime]:
    rows = session.scalars(
        select(models.StaffAuthEvent.at).where(
            column == value,
            models.StaffAuthEvent.event == AuthEvent.SIGN_IN_FAILED,
            models.StaffAuthEvent.at > since,
        )
    )
    return list(rows)


def _user_of(row: models.StaffUserRecord) -> StaffUser:
    return StaffUser(id=row.id, email=row.email, role=StaffRole(row.role), borough=row.borough)


def sign_in(
    sessions: sessionmaker[Session],
    email: str,
    password: str,
    address: str,
    now: datetime,
    rules: SignInRules,
    replacing: str | None = None,
) -> SignInOutcome:
    """Check a sign-in and, if it is right, start a new session (ending `replacing`, the
    browser's previous session id, if it had one). `email` is as typed."""
    account = email.strip().lower()[: models.EMAIL_LENGTH]
    source = address[: models.ADDRESS_LENGTH]
    with sessions.begin() as session:
        window_start = now - max(rules.per_account.window, rules.per_address.window)
        waits = [
            retry_after(
                _failure_times(session, models.StaffAuthEvent.email, account, window_start),
                now,
                rules.per_account,
            ),
            retry_after(
                _failure_times(session, models.StaffAuthEvent.address, source, window_start),
                now,
                rules.per_address,
            ),
        ]
        longest = max((wait for wait in waits if wait is not None), default=None)
        if longest is not None:
            record_event(session, AuthEvent.SIGN_IN_THROTTLED, now, email=account, address=source)
            return Throttled(longest)
        row = session.scalar(
            select(models.StaffUserRecord).where(models.StaffUserRecord.email == account)
        )
        usable = row is not None and row.disabled_at is None
        # Checked even for an unknown or disabled account, so each takes the same time.
        right = password_matches(row.password_hash if usable and row else None, password)
        if not right or row is None:
            record_event(
                session,
                AuthEvent.SIGN_IN_FAILED,
                now,
                email=account,
                address=source,
                detail=None if usable else "no active account",
            )
            return Refused()
        row.password_hash = rehashed(row.password_hash, password) or row.password_hash
        if replacing is not None:
            _end(session, replacing, now, SessionEnd.REPLACED)
        session_id = new_session_id()
        session.add(
            models.StaffSession(
                session_hash=session_digest(session_id),
                user_id=row.id,
                created_at=now,
                last_seen_at=now,
            )
        )
        row.last_sign_in_at = now
        record_event(session, AuthEvent.SIGN_IN_OK, now, email=account, address=source)
        _prune(session, now)
        return SignedIn(_user_of(row), session_id)


def _prune(session: Session, now: datetime) -> None:
    """Forget log rows and sessions past the retention (sessions are long over by then:
    none outlives its lifetime)."""
    cutoff = now - AUTH_LOG_RETENTION
    session.execute(delete(models.StaffAuthEvent).where(models.StaffAuthEvent.at < cutoff))
    session.execute(delete(models.StaffSession).where(models.StaffSession.created_at < cutoff))


def current_session(
    sessions: sessionmaker[Session],
    session_id: str,
    now: datetime,
    limits: SessionLimits,
    touch: bool = True,
) -> ActiveSession | EndedSession:
    """The session's user if it is still live (and marks it seen now, unless `touch` is
    False: a page reloading itself is no sign anyone is there); otherwise why not.

    A session found idle too long or past its lifetime is ended here and logged.
    """
    with sessions.begin() as session:
        found = session.execute(
            select(models.StaffSession, models.StaffUserRecord)
            .join(models.StaffUserRecord, models.StaffSession.user_id == models.StaffUserRecord.id)
            .where(models.StaffSession.session_hash == session_digest(session_id))
        ).first()
        if found is None:
            return EndedSession(None)
        row, user = found
        if row.ended_at is not None:
            return EndedSession(SessionEnd(row.ended_reason or SessionEnd.SIGNED_OUT))
        if user.disabled_at is not None:
            row.ended_at, row.ended_reason = now, SessionEnd.DISABLED
            return EndedSession(SessionEnd.DISABLED)
        expired = session_expiry(row.created_at, row.last_seen_at, now, limits)
        if expired is not None:
            row.ended_at, row.ended_reason = now, expired
            record_event(session, AuthEvent.SESSION_EXPIRED, now, email=user.email, detail=expired)
            return EndedSession(expired)
        if touch:
            row.last_seen_at = max(row.last_seen_at, now)
        return ActiveSession(_user_of(user), csrf_token_for(session_id))


def _end(session: Session, session_id: str, now: datetime, reason: SessionEnd) -> bool:
    ended = session.execute(
        update(models.StaffSession)
        .where(
            models.StaffSession.session_hash == session_digest(session_id),
            models.StaffSession.ended_at.is_(None),
        )
        .values(ended_at=now, ended_reason=reason)
    )
    return bool(getattr(ended, "rowcount", 0))


def sign_out(
    sessions: sessionmaker[Session], session_id: str, user: StaffUser, address: str, now: datetime
) -> None:
    """End the session on the server: its cookie signs nobody in from now on."""
    with sessions.begin() as session:
        if _end(session, session_id, now, SessionEnd.SIGNED_OUT):
            record_event(session, AuthEvent.SIGNED_OUT, now, email=user.email, address=address)
