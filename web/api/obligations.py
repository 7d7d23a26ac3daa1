"""Obligations across cases, most urgent first: what a VFU's tools read to know what is due."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, ValidationError

from service.case_reads import (
    BadCursor,
    ObligationFilter,
    ObligationPage,
    ObligationQuery,
    list_obligations,
)
from service.tokens import Scope, TokenHolder
from standards.force import UnknownUnit
from web.api.auth import require
from web.api.cases import API_PREFIX, invalid
from web.api.context import api_context
from web.api.problems import FieldProblem, field_problems, problem_responses

router = APIRouter(prefix=API_PREFIX, tags=["obligations"])
# Text without the NUL character, which PostgreSQL's text cannot hold.
NO_NUL = r"^[^\x00]*$"


@router.get(
    "/obligations",
    response_model=ObligationPage,
    summary="List obligations, most urgent first",
    responses=problem_responses(401, 403, 422, 429),
)
async def list_obligations_route(
    request: Request,
    holder: Annotated[TokenHolder, Depends(require(Scope.CASES_READ))],
    state: Annotated[
        ObligationFilter | None,
        Query(
            description="overdue: open (pending or breached) and due at or before now; "
            "due_soon: pending, at or past its warning point and not yet overdue"
        ),
    ] = None,
    borough: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    standard: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    due_before: Annotated[AwareDatetime | None, Query()] = None,
    due_after: Annotated[AwareDatetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the page before")
    ] = None,
) -> ObligationPage:
    """Keyset-paginated: pass `next_cursor` as `cursor` for the next page. A token limited to
    a borough sees that borough's obligations only."""
    context = api_context(request)
    if borough is not None:
        # By id or name, in any case, as intake takes it; cases keep the unit's id.
        try:
            borough = context.force.resolve_unit(borough).id
        except UnknownUnit as error:
            raise invalid([FieldProblem(pointer="/borough", detail=str(error))]) from error
    try:
        query = ObligationQuery(
            state=state,
            borough=borough,
            standard=standard,
            due_before=due_before,
            due_after=due_after,
            limit=limit,
            cursor=cursor,
        )
    except ValidationError as error:
        raise invalid(field_problems(error)) from error
    try:
        return await asyncio.to_thread(
            list_obligations, context.sessions, query, context.clock(), holder.borough
        )
    except BadCursor as error:
        raise invalid([FieldProblem(pointer="/cursor", detail=str(error))]) from error
