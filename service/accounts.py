"""Staff accounts: add, list, disable and enable them; passwords hashed with argon2.

The command line (`pledge user ...`) and the admin pages both come here, so an account
is checked the same way whichever made it. Every change is written to the sign-in log
(`staff_auth_events`) and the `pledge.auth` logger; a password never is.
"""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from standards.force import Force, UnknownUnit
from standards.staff import (
    AccountRuleError,
    SessionEnd,
    StaffRole,
    StaffUser,
    borough_problem,
    display_name_problem,
    password_problem,
)
from standards.vocabulary import AuthEvent
from storage import models

log = logging.getLogger("pledge.auth")

# argon2-cffi's defaults (RFC 9106's second recommended option: argon2id, 64 MiB, t=3).
_hasher = PasswordHasher()


@functools.cache
def _unknown_account_hash() -> str:
    """Verified against when no account has the email, so that an unknown address costs the
    same time as a wrong password and the two cannot be told apart. Made on first use: a
    hash takes a noticeable moment, which `pledge --help` should not spend."""
    return _hasher.hash(secrets.token_urlsafe(32))


@dataclass(frozen=True)
class AccountSummary:
    id: int
    email: str
    display_name: str | None
    role: StaffRole
    borough: str | None
    created_at: datetime
    disabled_at: datetime | None
    last_sign_in_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def normalise_email(text: str) -> str:
    """The address as stored: checked for shape (no DNS lookup) and lowercased."""
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountRuleError(f"{text!r} is not an email address: {error}") from error
    return checked.normalized.lower()


def checked_display_name(text: str) -> str:
    """A display name as stored (surrounding spaces dropped). Refuses (AccountRuleError)
    an empty or too long name, or one with a control character (a line break, a tab)."""
    name = text.strip()
    problem = display_name_problem(name)
    if problem is not None:
        raise AccountRuleError(problem)
    return name


def parse_role(text: str) -> StaffRole:
    try:
        return StaffRole(text.strip().lower())
    except ValueError as error:
        accepted = ", ".join(role.value for role in StaffRole)
        raise AccountRuleError(f"unknown role {text!r}; accepted: {accepted}") from error


def resolve_borough(force: Force, text: str | None) -> str | None:
    """The unit id a --borough (id or name, any case) names; None for none given."""
    if text is None or not text.strip():
        return None
    try:
        return force.resolve_unit(text).id
    except UnknownUnit as error:
        raise AccountRuleError(str(error)) from error


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem is not None:
        raise AccountRuleError(problem)
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one behind `password_hash`; None (no such account) takes
    as long as a real check and is always False."""
    try:
        _hasher.verify(password_hash or _unknown_account_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def rehashed(password_hash: str, password: str) -> str | None:
    """A new hash of a password just verified, when its old one used weaker parameters than
    today's; not checked against the password policy (which may have changed since)."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None


def record_event(
    session: Session,
    event: AuthEvent,
    at: datetime,
    email: str | None = None,
    address: str | None = None,
    actor: str | None = None,
    detail: str | None = None,
) -> None:
    """Write one line of the sign-in log and log it to `pledge.auth`."""
    session.add(
        models.StaffAuthEvent(
            event=event, email=email, address=address, actor=actor, detail=detail, at=at
        )
    )
    log.info(
        "%s email=%s address=%s actor=%s%s",
        event.value,
        email or "-",
        address or "-",
        actor or "-",
        f" ({detail})" if detail else "",
    )


def add_user(
    sessions: sessionmaker[Session],
    email: str,
    role: StaffRole,
    borough: str | None,
    password: str,
    actor: str,
    now: datetime | None = None,
    display_name: str | None = None,
) -> StaffUser:
    """Create an account; `borough` is a unit id already resolved (resolve_borough).

    Refuses (AccountRuleError, nothing changed) a bad address or display name, a short
    password, a borough the role cannot have, or an address that already has an account.
    """
    address = normalise_email(email)
    name = checked_display_name(display_name) if display_name is not None else None
    problem = borough_problem(role, borough)
    if problem is not None:
        raise AccountRuleError(problem)
    password_hash = hash_password(password)
    at = now or datetime.now(UTC)
    with sessions.begin() as session:
        taken = session.scalar(
            select(models.StaffUserRecord.id).where(models.StaffUserRecord.email == address)
        )
        if taken is not None:
            raise AccountRuleError(f"{address} already has an account")
        row = models.StaffUserRecord(
            email=address,
            display_name=name,
            password_hash=password_hash,
            role=role,
            borough=borough,
            created_at=at,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            AuthEvent.USER_ADDED,
            at,
            email=address,
            actor=actor,
            detail=f"role {role.value}, borough {borough or 'none'}",
        )
        return StaffUser(id=row.id, email=address, role=role, borough=borough)


def list_users(sessions: sessionmaker[Session]) -> list[AccountSummary]:
    with sessions() as session:
        rows = session.scalars(
            select(models.StaffUserRecord).order_by(models.StaffUserRecord.email)
        )
        return [
            AccountSummary(
                id=row.id,
                email=row.email,
                display_name=row.display_name,
                role=StaffRole(row.role),
                borough=row.borough,
                created_at=row.created_at,
                disabled_at=row.disabled_at,
                last_sign_in_at=row.last_sign_in_at,
            )
            for row in rows
        ]


def has_active_admin(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        found = session.scalar(
            select(models.StaffUserRecord.id).where(
                models.StaffUserRecord.role == StaffRole.ADMIN,
                models.StaffUserRecord.disabled_at.is_(None),
            )
        )
        return found is not None


def _user_row(session: Session, email: str) -> models.StaffUserRecord:
    address = normalise_email(email)
    row = session.scalar(
        select(models.StaffUserRecord).where(models.StaffUserRecord.email == address)
    )
    if row is None:
        raise AccountRuleError(f"no account for {address}; `pledge user list` shows them")
    return row


def disable_user(
    sessions: sessionmaker[Session], email: str, actor: str, now: datetime | None = None
) -> bool:
    """Disable an account and end its sessions at once; False if it already was disabled."""
    at = now or datetime.now(UTC)
    with sessions.begin() as session:
        row = _user_row(session, email)
        if row.disabled_at is not None:
            return False
        row.disabled_at = at
        session.execute(
            update(models.StaffSession)
            .where(models.StaffSession.user_id == row.id, models.StaffSession.ended_at.is_(None))
            .values(ended_at=at, ended_reason=SessionEnd.DISABLED)
        )
        record_event(session, AuthEvent.USER_DISABLED, at, email=row.email, actor=actor)
        return True


def enable_user(
    sessions: sessionmaker[Session], email: str, actor: str, now: datetime | None = None
) -> bool:
    """Let a disabled account sign in again; False if it was not disabled."""
    at = now or datetime.now(UTC)
    with sessions.begin() as session:
        row = _user_row(session, email)
        if row.disabled_at is None:
            return False
        row.disabled_at = None
        record_event(session, AuthEvent.USER_ENABLED, at, email=row.email, actor=actor)
        return True


def rename_user(sessions: sessionmaker[Session], email: str, display_name: str, actor: str) -> str:
    """Give an account a new display name (the pages show it at once, wherever they name
    who did something); the name as stored. Refuses (AccountRuleError, nothing changed)
    a bad name or an address with no account."""
    name = checked_display_name(display_name)
    with sessions.begin() as session:
        row = _user_row(session, email)
        row.display_name = name
    log.info("user_renamed email=%s actor=%s", row.email, actor)
    return name
