"""Bearer-token authentication, scopes and rate limits, as route dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.tokens import Scope, TokenHolder, authenticate
from web.api.context import api_context
from web.api.problems import ProblemError

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `pledge token create`, as `Authorization: Bearer TOKEN`.",
)


def require(scope: Scope) -> Callable[..., Awaitable[TokenHolder]]:
    """A dependency admitting a live token that has `scope` and is within its rate limit."""

    async def holder_with_scope(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> TokenHolder:
        context = api_context(request)
        if credentials is None:
            raise ProblemError(
                401,
                "no bearer token: send `Authorization: Bearer TOKEN` "
                "(tokens come from `pledge token create`)",
                "unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
        holder = await asyncio.to_thread(authenticate, context.sessions, credentials.credentials)
        if holder is None:
            raise ProblemError(
                401,
                "the bearer token is unknown or revoked",
                "unauthorized",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if scope not in holder.scopes:
            raise ProblemError(
                403,
                f"token {holder.name!r} lacks the {scope.value} scope; it has "
                f"{', '.join(sorted(holder.scopes)) or 'none'}",
                "missing-scope",
            )
        wait = context.limiter.retry_after(holder.name)
        if wait is not None:
            raise ProblemError(
                429,
                f"token {holder.name!r} is over its rate limit; retry in {wait} s",
                "rate-limited",
                headers={"Retry-After": str(wait)},
            )
        return holder

    return holder_with_scope
