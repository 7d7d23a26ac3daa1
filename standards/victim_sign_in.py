"""Victims' sign-in by one-time code: the pure rules.

A code is six digits, single-use and short-lived; only a salted Argon2id digest of it is
kept, and a typed code is compared with that digest in constant time.

Nobody who knows a victim's reference can keep the victim out. A code is bound to the
browser that asked for it (a random device token in a cookie, kept as a digest), so it
works only there, and wrong codes are counted per reference *and device* (whether or not
a case has the reference, so the count says nothing about which references exist):
enough of them lock that device out of that reference for a while, never the victim's
own browser. Codes sent to one victim are limited per device, and past a few in a window
from all devices together they are spaced out (a back-off), not refused: an abuser asking
from many browsers can neither flood the victim's phone nor stop a fresh code reaching
the victim's safe channel for longer than the back-off's cap. Every function takes the
instant it decides at, so the rules are tested with a clock of the test's own.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from argon2.low_level import Type, hash_secret_raw

from standards.clock import LONDON, require_aware

CODE_DIGITS = 6
_CODE = re.compile(rf"\d{{{CODE_DIGITS}}}")
# Spaces and dashes a victim may type between the digits (or a phone may insert).
_CODE_SEPARATORS = re.compile(r"[\s\-]+")

# Argon2id, light enough for a web request (a few tens of milliseconds) because wrong
# guesses are limited anyway; the digest still costs a thief real work per guess.
_ARGON2_TIME_COST = 2
_ARGON2_MEMORY_KIB = 19 * 1024
_ARGON2_PARALLELISM = 1
_DIGEST_BYTES = 32
_SALT_BYTES = 16
# What a stored digest looks like: "salt-hex$digest-hex".
CODE_HASH_LENGTH = 2 * _SALT_BYTES + 1 + 2 * _DIGEST_BYTES


class CodeRequestOutcome(StrEnum):
    """What became of one request for a code (kept for staff; never shown to the asker)."""

    SENT = "sent"
    NO_SUCH_CASE = "no_such_case"
    DO_NOT_CONTACT = "do_not_contact"
    NO_SAFE_CHANNEL = "no_safe_channel"
    # Not sent, and not queued: by the time the safe hours open the code has expired.
    OUTSIDE_SAFE_HOURS = "outside_safe_hours"
    # This device has had its share of codes for the reference in the window.
    REFERENCE_LIMIT = "reference_limit"
    # Codes to the victim from all devices are being spaced out: not sent now.
    REFERENCE_BACKOFF = "reference_backoff"
    FAILED = "failed"


@dataclass(frozen=True)
class SignInRules:
    code_lifetime: timedelta = timedelta(minutes=10)
    max_wrong_codes: int = 5
    lock_duration: timedelta = timedelta(minutes=15)
    requests_per_address: int = 10
    request_window: timedelta = timedelta(minutes=60)
    codes_per_reference: int = 3
    session_idle: timedelta = timedelta(minutes=30)


def new_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """Six digits from a cryptographic source (leading zeros kept)."""
    return f"{randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(raw: str) -> str | None:
    """The six digits typed, without spaces or dashes; None if that is not what was typed."""
    code = _CODE_SEPARATORS.sub("", raw)
    return code if _CODE.fullmatch(code) else None


def _digest(code: str, salt: bytes) -> bytes:
    return hash_secret_raw(
        code.encode(),
        salt,
        time_cost=_ARGON2_TIME_COST,
        memory_cost=_ARGON2_MEMORY_KIB,
        parallelism=_ARGON2_PARALLELISM,
        hash_len=_DIGEST_BYTES,
        type=Type.ID,
    )


def hash_code(code: str, salt: bytes | None = None) -> str:
    """The digest kept instead of the code."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    return f"{salt.hex()}${_digest(code, salt).hex()}"


def code_matches(code: str, stored: str) -> bool:
    """Whether `code` is the one `stored` was made from; the comparison takes the same time
    wherever the digests differ."""
    salt_hex, _, digest_hex = stored.partition("$")
    try:
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    return hmac.compare_digest(_digest(code, salt), expected)


def code_expires_at(issued_at: datetime, rules: SignInRules) -> datetime:
    return require_aware(issued_at, "issued_at") + rules.code_lifetime


def code_usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    """Unused and not yet expired (a code is dead at its expiry instant)."""
    return used_at is None and require_aware(now, "now") < require_aware(expires_at, "expires_at")


@dataclass(frozen=True)
class WrongCodes:
    """The wrong codes typed for one reference from one device since that device last
    signed in or was unlocked."""

    count: int = 0
    last_at: datetime | None = None
    locked_until: datetime | None = None


def locked(state: WrongCodes, now: datetime) -> bool:
    return state.locked_until is not None and require_aware(now, "now") < state.locked_until


def after_wrong_code(state: WrongCodes, now: datetime, rules: SignInRules) -> WrongCodes:
    """The count after one more wrong code; the last allowed one locks the device out of
    the reference.

    A lock that has ended, or wrong codes older than a lock would last, start the count
    afresh: a victim who mistyped once last week is not one guess from a lock today.
    """
    now = require_aware(now, "now")
    stale = state.last_at is None or now - state.last_at >= rules.lock_duration
    ended = state.locked_until is not None and now >= state.locked_until
    count = 1 if stale or ended else state.count + 1
    if count >= rules.max_wrong_codes:
        return WrongCodes(count=0, last_at=now, locked_until=now + rules.lock_duration)
    return replace(state, count=count, last_at=now, locked_until=None)


def after_sign_in() -> WrongCodes:
    return WrongCodes()


def within_window(instants: Sequence[datetime], now: datetime, window: timedelta) -> list[datetime]:
    now = require_aware(now, "now")
    return sorted(at for at in instants if now - window < at <= now)


def address_may_request(
    earlier_requests: Sequence[datetime], now: datetime, rules: SignInRules
) -> bool:
    """One address may ask for `requests_per_address` codes in any `request_window`."""
    recent = within_window(earlier_requests, now, rules.request_window)
    return len(recent) < rules.requests_per_address


def address_may_request_again_at(
    earlier_requests: Sequence[datetime], now: datetime, rules: SignInRules
) -> datetime:
    """When a limited address may ask again: as the oldest request in the window ages out."""
    recent = within_window(earlier_requests, now, rules.request_window)
    if len(recent) < rules.requests_per_address:
        return now
    return recent[len(recent) - rules.requests_per_address] + rules.request_window


def device_may_be_sent(
    earlier_codes_to_device: Sequence[datetime], now: datetime, rules: SignInRules
) -> bool:
    """At most `codes_per_reference` codes for one reference go to one device's requests
    in a request window; other devices' requests never use up this device's share."""
    recent = within_window(earlier_codes_to_device, now, rules.request_window)
    return len(recent) < rules.codes_per_reference


# The first spaced-out code waits this long after the one before; each later one twice
# as long as the last, up to the rules' lock duration.
FIRST_BACKOFF = timedelta(minutes=1)


def reference_may_be_sent_at(
    earlier_codes: Sequence[datetime], now: datetime, rules: SignInRules
) -> datetime:
    """When the next code may go to the victim, counting every device's codes.

    Up to `codes_per_reference` in a window go at once; each one past that waits after
    the newest: `FIRST_BACKOFF`, then twice as long each time, never longer than
    `lock_duration`. A back-off, not a lock: the victim's own request is delayed by at
    most `lock_duration`, whoever else is asking.
    """
    now = require_aware(now, "now")
    recent = within_window(earlier_codes, now, rules.request_window)
    extra = len(recent) - rules.codes_per_reference
    if extra < 0:
        return now
    wait = min(FIRST_BACKOFF * (2 ** min(extra, 30)), rules.lock_duration)
    next_at: datetime = recent[-1] + wait
    return max(next_at, now)


def session_active(
    last_seen_at: datetime, ended_at: datetime | None, now: datetime, rules: SignInRules
) -> bool:
    """A victim's session lasts while pages are viewed at least every `session_idle`."""
    if ended_at is not None:
        return False
    return require_aware(now, "now") - require_aware(last_seen_at, "last_seen_at") < (
        rules.session_idle
    )


def update_request_key(now: datetime) -> str:
    """The alert key of a victim's request for an update: one a Europe/London day."""
    return f"update_request:{require_aware(now, 'now').astimezone(LONDON).date().isoformat()}"
