"""The VFU queue (`/queue`): the borough's overdue and due-soon obligations, most urgent
first, each with a form to record a contact or explain the breach in place."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from service.queue import (
    QUEUE_LIMIT,
    QUEUE_STATE_LABELS,
    QueueFilters,
    QueueState,
    met_by_contact,
    queue_officers,
    read_queue,
    standard_rule,
    what_meets,
)
from standards.staff import StaffRole, StaffUser, visible_boroughs
from web.api.context import api_context
from web.pages.case_views import notice_for
from web.pages.rendering import FieldError, render
from web.pages.staff_auth import require_staff

QUEUE_PATH: Final = "/queue"
# How often the page reloads itself (the script; a meta refresh without JavaScript).
REFRESH_SECONDS: Final = 60
# The longest officer name a filter may hold (the column's width).
OFFICER_MAX_LENGTH: Final = 200
# What a form posted from the queue says to come back to.
BACK_TO_CASE: Final = "case"

router = APIRouter(tags=["pages"], include_in_schema=False)
QueueReader = Annotated[StaffUser, Depends(require_staff(StaffRole.VFU, StaffRole.MANAGER))]


@dataclass(frozen=True)
class FilterInput:
    """The filters as typed (to show them back) and as understood (None when wrong)."""

    raw: dict[str, str]
    filters: QueueFilters | None
    errors: list[FieldError]

    def query(self) -> str:
        """The filters as a query string, without the empty ones."""
        return urlencode({name: value for name, value in self.raw.items() if value})


def parse_filters(values: Mapping[str, str], standards: list[str]) -> FilterInput:
    """The queue's filters from a query string; each wrong one is a FieldError naming it."""
    raw = {name: (values.get(name) or "").strip() for name in ("standard", "state", "officer")}
    errors: list[FieldError] = []
    standard = raw["standard"] or None
    if standard is not None and standard not in standards:
        errors.append(FieldError("standard", "Select a standard from the list"))
    state: QueueState | None = None
    if raw["state"]:
        try:
            state = QueueState(raw["state"])
        except ValueError:
            errors.append(FieldError("state", "Select overdue or due soon"))
    officer = raw["officer"] or None
    if officer is not None and (len(officer) > OFFICER_MAX_LENGTH or "\x00" in officer):
        errors.append(
            FieldError("officer", f"Select an officer (at most {OFFICER_MAX_LENGTH} characters)")
        )
    if errors:
        return FilterInput(raw, None, errors)
    return FilterInput(raw, QueueFilters(standard=standard, state=state, officer=officer), [])


def back_to_queue(back: str, standards: list[str]) -> str:
    """The queue URL a posted form came from, its filters checked again (never elsewhere)."""
    parsed = parse_filters(dict(parse_qsl(back)), standards)
    query = parsed.query() if parsed.filters is not None else ""
    return QUEUE_PATH + (f"?{query}" if query else "")


async def queue_response(
    request: Request,
    user: StaffUser,
    values: Mapping[str, str],
    *,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    submitted: Mapping[str, Any] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    """The queue page; `errors` from a posted form are shown with the filters' own."""
    context = api_context(request)
    policy = context.policy
    standards = [rule.id for rule in policy.standards]
    parsed = parse_filters(values, standards)
    boroughs = visible_boroughs(user, context.force)
    now = context.clock()
    officers = await asyncio.to_thread(queue_officers, context.sessions, boroughs, now)
    page = None
    if parsed.filters is not None:
        page = await asyncio.to_thread(read_queue, context.sessions, boroughs, parsed.filters, now)
    rows = []
    for row in page.rows if page is not None else []:
        rule = standard_rule(policy, row.standard)
        rows.append(
            {
                "row": row,
                "title": rule.title if rule is not None else row.standard,
                "meets": what_meets(rule) if rule is not None else [],
                "contact": rule is not None and met_by_contact(rule),
                "event_id": f"page-{uuid.uuid4().hex}",
            }
        )
    query = parsed.query()
    refresh_url = QUEUE_PATH + (f"?{query}" if query else "")
    scope = context.force.display_name(user.borough) if user.borough else context.force.name
    all_errors = [*(errors or []), *parsed.errors]
    if parsed.errors and status_code == 200:
        status_code = 400
    return render(
        request,
        "queue.html",
        {
            "nav_current": "queue",
            "force": context.force,
            "scope_name": scope,
            "filters": parsed.raw,
            "standard_options": [("", "All standards")]
            + [(rule.id, rule.title) for rule in policy.standards],
            "state_options": [("", "Overdue and due soon")]
            + [(state.value, label) for state, label in QUEUE_STATE_LABELS.items()],
            "officer_options": [("", "All officers")]
            + [(name, name) for name in _with_current(officers, parsed.raw["officer"])],
            "rows": rows,
            "listed": page is not None,
            "truncated": page is not None and page.truncated,
            "limit": QUEUE_LIMIT,
            "now": now,
            "refresh_url": refresh_url,
            "refresh_seconds": REFRESH_SECONDS,
            "back": query,
            "submitted": submitted or {},
            "notice": notice,
        },
        status_code=status_code,
        errors=all_errors,
    )


def _with_current(officers: list[str], current: str) -> list[str]:
    """The officer options, keeping the chosen one even once their cases have left."""
    return officers if not current or current in officers else [*officers, current]


@router.get(QUEUE_PATH, response_class=HTMLResponse)
async def queue_page(request: Request, user: QueueReader) -> HTMLResponse:
    notice = notice_for(request.query_params.get("done"), request.query_params.get("case"))
    return await queue_response(request, user, request.query_params, notice=notice)
