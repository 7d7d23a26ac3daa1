"""Bearer tokens of the HTTP API: created once, stored as a digest, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage import models

# Marks a string as one of ours (and makes a leaked one easy to search for).
TOKEN_PREFIX = "pledge_"
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Scope(StrEnum):
    CASES_WRITE = "cases:write"
    CASES_READ = "cases:read"
    VICTIMS_READ = "victims:read"


class TokenError(ValueError):
    """A token command that was refused; nothing was changed."""


@dataclass(frozen=True)
class TokenHolder:
    """Who a request comes from: what it may do and where."""

    name: str
    scopes: frozenset[Scope]
    borough: str | None

    def may_see(self, borough: str) -> bool:
        return self.borough is None or self.borough.casefold() == borough.casefold()


@dataclass(frozen=True)
class TokenSummary:
    name: str
    scopes: list[str]
    borough: str | None
    created_at: datetime
    revoked_at: datetime | None


def token_digest(secret: str) -> str:
    """SHA-256 of the token.

    A slow password hash (argon2, bcrypt) protects guessable secrets; these are
    256 random bits, which no amount of hashing speed makes guessable, and a fast
    digest lets every request be checked without a noticeable cost.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scopes(raw: list[str]) -> list[Scope]:
    accepted = ", ".join(scope.value for scope in Scope)
    scopes: list[Scope] = []
    for value in raw:
        try:
            scope = Scope(value)
        except ValueError as error:
            raise TokenError(f"unknown scope {value!r}; accepted: {accepted}") from error
        if scope not in scopes:
            scopes.append(scope)
    if not scopes:
        raise TokenError(f"give at least one --scope; accepted: {accepted}")
    return scopes


def create_token(
    sessions: sessionmaker[Session], name: str, scopes: list[Scope], borough: str | None
) -> str:
    """Store a new token's digest and return the token itself (shown once, never kept)."""
    if not re.fullmatch(TOKEN_NAME_PATTERN, name):
        raise TokenError(
            f"token name {name!r} is not accepted: letters, digits, '_', '.', '-', "
            "up to 64 characters, starting with a letter or digit"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with sessions.begin() as session:
        if session.scalar(select(models.ApiToken.id).where(models.ApiToken.name == name)):
            raise TokenError(
                f"a token named {name!r} already exists (revoked ones keep their name)"
            )
        session.add(
            models.ApiToken(
                name=name,
                token_hash=token_digest(secret),
                scopes=[scope.value for scope in scopes],
                borough=borough,
            )
        )
    return secret


def list_tokens(sessions: sessionmaker[Session]) -> list[TokenSummary]:
    with sessions() as session:
        rows = session.scalars(select(models.ApiToken).order_by(models.ApiToken.name))
        return [
            TokenSummary(
                name=row.name,
                scopes=list(row.scopes),
                borough=row.borough,
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )
            for row in rows
        ]


def revoke_token(sessions: sessionmaker[Session], name: str) -> None:
    with sessions.begin() as session:
        row = session.scalar(select(models.ApiToken).where(models.ApiToken.name == name))
        if row is None:
            raise TokenError(f"no token named {name!r}; `pledge token list` shows them")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)


def authenticate(sessions: sessionmaker[Session], presented: str) -> TokenHolder | None:
    """The holder of a live token, or None for an unknown or revoked one."""
    digest = token_digest(presented)
    with sessions() as session:
        row = session.scalar(select(models.ApiToken).where(models.ApiToken.token_hash == digest))
        # The lookup found the row by its digest; comparing the digests again in
        # constant time keeps the decision itself free of a timing signal.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        if row.revoked_at is not None:
            return None
        return TokenHolder(
            name=row.name,
            scopes=frozenset(Scope(value) for value in row.scopes if value in set(Scope)),
            borough=row.borough,
        )
