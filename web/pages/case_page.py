"""The staff case page (`/cases/{reference}`, the reference's slashes kept in the path):
the facts, the victim's contact profile for those who may see it, each obligation's
timeline, the messages and their delivery, the alerts, and the actions that fit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from service.case_page import case_borough, read_case_page
from service.queue import met_by_contact, standard_rule, what_meets
from standards.staff import StaffRole, StaffUser
from web.api.context import ApiContext, api_context
from web.pages.case_views import (
    CASES_PATH,
    is_reference,
    may_see_case,
    may_see_victim,
    notice_for,
)
from web.pages.rendering import FieldError, render
from web.pages.staff_auth import PageNotFound, require_staff

router = APIRouter(tags=["pages"], include_in_schema=False)
CaseReader = Annotated[StaffUser, Depends(require_staff(StaffRole.VFU, StaffRole.MANAGER))]


async def visible_case_borough(context: ApiContext, user: StaffUser, reference: str) -> str:
    """The case's stored borough; PageNotFound (404) for a reference no case can have, a
    case that does not exist, and a case outside the user's borough alike."""
    if not is_reference(reference):
        raise PageNotFound()
    borough = await asyncio.to_thread(case_borough, context.sessions, reference)
    if borough is None or not may_see_case(user, context.force, borough):
        raise PageNotFound()
    return borough


async def case_response(
    request: Request,
    user: StaffUser,
    reference: str,
    *,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    submitted: Mapping[str, Any] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    context = api_context(request)
    borough = await visible_case_borough(context, user, reference)
    with_victim = may_see_victim(user, context.force, borough)
    page = await asyncio.to_thread(read_case_page, context.sessions, reference, with_victim)
    if page is None:
        raise PageNotFound()
    obligations = []
    for entry in page.obligations:
        rule = standard_rule(context.policy, entry.standard)
        obligations.append(
            {
                "entry": entry,
                "title": rule.title if rule is not None else entry.standard,
                "meets": what_meets(rule) if rule is not None else [],
                "contact": entry.is_open and rule is not None and met_by_contact(rule),
                "event_id": f"page-{uuid.uuid4().hex}",
            }
        )
    return render(
        request,
        "case.html",
        {
            "nav_current": "queue",
            "force": context.force,
            "page": page,
            "obligations": obligations,
            "victim_hidden": not with_victim,
            "back": "case",
            "submitted": submitted or {},
            "notice": notice,
            "now": context.clock(),
            "standard_titles": {rule.id: rule.title for rule in context.policy.standards},
        },
        status_code=status_code,
        errors=errors,
        # A victim's contact details must not stay in a shared computer's cache.
        no_store=True,
    )


@router.get(CASES_PATH + "/{reference:path}", response_class=HTMLResponse)
async def case_page(reference: str, request: Request, user: CaseReader) -> HTMLResponse:
    notice = notice_for(request.query_params.get("done"), request.query_params.get("case"))
    return await case_response(request, user, reference, notice=notice)
