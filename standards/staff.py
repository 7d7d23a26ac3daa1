"""Who may see what on the staff pages, and the rules of a staff sign-in, as pure functions.

Roles: a `vfu` user works one borough's Victim Focus Unit; a `manager` oversees one
borough, or the whole force when they have none; an `admin` manages accounts and API
tokens and sees no case at all. Nothing here reads a clock, a database or a request.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from standards.force import Force, unit_key

# Long enough that a passphrase is the easy way to meet it (NCSC / NIST SP 800-63B
# favour length over composition rules, which this policy therefore does not have).
MIN_PASSWORD_LENGTH = 12
# argon2 hashes anything; a cap stops a megabyte "password" costing the server a hash.
MAX_PASSWORD_LENGTH = 256
# A staff account's display name: what the pages call who did something.
MAX_DISPLAY_NAME_LENGTH = 100


class StaffRole(StrEnum):
    VFU = "vfu"
    MANAGER = "manager"
    ADMIN = "admin"


# Where each role lands after signing in (and when it opens "/").
HOME_PATH: dict[StaffRole, str] = {
    StaffRole.VFU: "/queue",
    StaffRole.MANAGER: "/dashboard",
    StaffRole.ADMIN: "/admin/users",
}


@dataclass(frozen=True)
class StaffUser:
    """A signed-in member of staff. `borough` is a unit id; None means force-wide (a
    manager) or no case access at all (an admin)."""

    id: int
    email: str
    role: StaffRole
    borough: str | None


def can_see(user: StaffUser, unit_id: str) -> bool:
    """Whether `user` may see (and act on) a case of the unit `unit_id` (a case's borough
    column; one stored by name before boroughs were checked is matched by its key)."""
    if user.role == StaffRole.ADMIN:
        return False
    if user.role == StaffRole.MANAGER and user.borough is None:
        return True
    return user.borough is not None and user.borough in (unit_id, unit_key(unit_id))


def sees_cases(user: StaffUser) -> bool:
    return user.role != StaffRole.ADMIN


def visible_boroughs(user: StaffUser, force: Force) -> list[str] | None:
    """What a case's borough column may hold for the cases `user` may see, for a query's
    `Case.borough.in_(...)`: None means every borough, [] none at all (an admin)."""
    if not sees_cases(user):
        return []
    if user.borough is None:
        return None if user.role == StaffRole.MANAGER else []
    unit = force.unit(user.borough)
    return unit.stored_spellings() if unit is not None else [user.borough]


class AccountRuleError(ValueError):
    """An account that breaks a rule (password, role and borough); one line, nothing changed."""


def display_name_problem(name: str) -> str | None:
    """Why `name` is refused as an account's display name, in one line, or None."""
    accepted = f"a name of 1 to {MAX_DISPLAY_NAME_LENGTH} characters on one line"
    if not name.strip():
        return f"the name is empty; accepted: {accepted}"
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        return f"the name has {len(name)} characters; accepted: {accepted}"
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return f"the name holds a control character; accepted: {accepted}"
    return None


def password_problem(password: str) -> str | None:
    """Why `password` is refused, in one line, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"the password is too short: it needs at least {MIN_PASSWORD_LENGTH} characters "
            "(a few words together are easy to remember)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password is too long: at most {MAX_PASSWORD_LENGTH} characters"
    if not password.strip():
        return "the password is only spaces"
    return None


def borough_problem(role: StaffRole, borough: str | None) -> str | None:
    """Why this role cannot have this borough (or lack one), or None."""
    if role == StaffRole.VFU and borough is None:
        return "a vfu user works in one borough: give --borough"
    if role == StaffRole.ADMIN and borough is not None:
        return "an admin has no borough (admins see no cases): leave out --borough"
    return None


class SessionEnd(StrEnum):
    """Why a staff session ended."""

    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    LIFETIME = "lifetime"
    DISABLED = "disabled"
    REPLACED = "replaced"


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    lifetime: timedelta


def session_expiry(
    created_at: datetime, last_seen_at: datetime, now: datetime, limits: SessionLimits
) -> SessionEnd | None:
    """Why a session is over at `now` (idle too long, or past its lifetime), or None.

    A session is usable while it has been idle less than `idle` and has lived less than
    `lifetime`; at exactly either bound it has ended.
    """
    if now - created_at >= limits.lifetime:
        return SessionEnd.LIFETIME
    if now - last_seen_at >= limits.idle:
        return SessionEnd.IDLE
    return None


@dataclass(frozen=True)
class ThrottleRule:
    """At most `failures` failed sign-ins in any `window`; what was refused is not counted,
    so attempts are allowed again once the oldest counted failure leaves the window."""

    failures: int
    window: timedelta


def retry_after(
    failures_in_window: list[datetime], now: datetime, rule: ThrottleRule
) -> timedelta | None:
    """How long until another attempt is allowed, or None if one is allowed now.

    `failures_in_window` are the times of the failures counted against a key (an
    account or an address); those older than the window are ignored.
    """
    recent = sorted(at for at in failures_in_window if now - at < rule.window)
    if len(recent) < rule.failures:
        return None
    # The attempt becomes possible when enough old failures have slid out.
    freed_at = recent[len(recent) - rule.failures] + rule.window
    return max(freed_at - now, timedelta(seconds=1))


def safe_next_path(candidate: str | None) -> str | None:
    """`candidate` if it is a path on this site (never another host), else None."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return None
    if "\\" in candidate or any(ord(ch) < 0x20 for ch in candidate):
        return None
    return candidate
