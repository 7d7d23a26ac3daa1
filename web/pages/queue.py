"""The VFU worklist (`/queue`): the borough's overdue and due-soon obligations, what can
still be saved first, a page at a time, sortable and filtered, each row with its actions
in place (record a contact, explain the breach).

A form posted from the list that is wrong, refused or not answered in time comes back
here by a 303 with its error summary carried in a short-lived signed cookie (web/pages/
queue_flash.py), so reloading the page never posts the form again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.queue import (
    INDEXED_SORTS,
    PER_PAGE,
    QUEUE_STATE_LABELS,
    QueueFilters,
    QueuePage,
    QueueQuery,
    QueueSort,
    QueueState,
    met_by_contact,
    read_queue,
    standard_rule,
    what_meets,
)
from standards.case_reading import meets_once_delivered
from standards.events import EventType
from standards.force import Force, UnknownUnit
from standards.staff import StaffRole, StaffUser, visible_boroughs
from web.api.context import api_context
from web.pages.case_views import notice_for
from web.pages.queue_flash import clear_flash, flash_cookie, read_flash
from web.pages.rendering import FieldError, render
from web.pages.staff_auth import AUTO_REFRESH_PARAM, require_staff

QUEUE_PATH: Final = "/queue"
# How often the page reloads itself (the script; a meta refresh without JavaScript).
REFRESH_SECONDS: Final = 60
# The longest officer name a filter may hold (the column's width).
OFFICER_MAX_LENGTH: Final = 200
# The highest page number accepted (a bound on the offset a URL can ask for).
MAX_PAGE: Final = 10_000
# What a form posted from the queue says to come back to.
BACK_TO_CASE: Final = "case"
# The query string's names, in the order they are written back.
FILTER_NAMES: Final = ("borough", "standard", "state", "officer")
VIEW_NAMES: Final = ("sort", "dir")
PAGE_NAME: Final = "page"
# The columns that sort, with their headings (the reference first).
SORT_HEADINGS: Final = {
    QueueSort.REFERENCE: "Reference",
    QueueSort.STANDARD: "Standard",
    QueueSort.TIME_LEFT: "How late / time left",
    QueueSort.CATEGORY: "Category",
    QueueSort.VULNERABLE: "Vulnerability",
    QueueSort.OFFICER: "Officer",
    QueueSort.CHANNEL: "Channel",
}

router = APIRouter(tags=["pages"], include_in_schema=False)
QueueReader = Annotated[StaffUser, Depends(require_staff(StaffRole.VFU, StaffRole.MANAGER))]


@dataclass(frozen=True)
class ListInput:
    """The query string as typed (to show it back) and as understood (None when wrong)."""

    raw: dict[str, str]
    query: QueueQuery | None
    errors: list[FieldError]

    def query_string(self, *, page: int | None = None, **changes: str) -> str:
        """The list's URL query with `changes` (a sort), without the empty values; the
        page only when asked for (a new sort or filter starts at page 1)."""
        values = {**self.raw, **changes}
        values.pop(PAGE_NAME, None)
        if page is not None and page > 1:
            values[PAGE_NAME] = str(page)
        return urlencode({name: value for name, value in values.items() if value})


def _one_of(values: Mapping[str, str], name: str) -> str:
    return (values.get(name) or "").strip()


def parse_list(
    values: Mapping[str, str], user: StaffUser, force: Force, standards: list[str]
) -> ListInput:
    """The list's filters, sort and page from a query string; each wrong one is a
    FieldError naming it, and nothing is read."""
    names = (*FILTER_NAMES, *VIEW_NAMES, PAGE_NAME)
    raw = {name: _one_of(values, name) for name in names}
    errors: list[FieldError] = []
    boroughs = visible_boroughs(user, force)
    if raw["borough"] and user.borough is None and boroughs is None:
        try:
            boroughs = force.resolve_unit(raw["borough"]).stored_spellings()
        except UnknownUnit:
            errors.append(FieldError("borough", "Select a borough from the list"))
    standard = raw["standard"] or None
    if standard is not None and standard not in standards:
        errors.append(FieldError("standard", "Select a standard from the list"))
    state: QueueState | None = None
    if raw["state"]:
        try:
            state = QueueState(raw["state"])
        except ValueError:
            errors.append(FieldError("state", "Select overdue, due soon or due today"))
    officer = raw["officer"] or None
    if officer is not None and (len(officer) > OFFICER_MAX_LENGTH or "\x00" in officer):
        errors.append(
            FieldError("officer", f"Select an officer (at most {OFFICER_MAX_LENGTH} characters)")
        )
    sort = QueueSort.PRIORITY
    if raw["sort"]:
        try:
            sort = QueueSort(raw["sort"])
        except ValueError:
            errors.append(FieldError("sort", "Sort by one of the columns"))
    if raw["dir"] not in ("", "asc", "desc"):
        errors.append(FieldError("sort", "Sort ascending (asc) or descending (desc)"))
    page = 1
    if raw[PAGE_NAME]:
        if raw[PAGE_NAME].isdigit() and 1 <= int(raw[PAGE_NAME]) <= MAX_PAGE:
            page = int(raw[PAGE_NAME])
        else:
            errors.append(FieldError("page", f"Choose a page from 1 to {MAX_PAGE:,}"))
    if errors:
        return ListInput(raw, None, errors)
    query = QueueQuery(
        boroughs=boroughs,
        filters=QueueFilters(standard=standard, state=state, officer=officer),
        sort=sort,
        descending=raw["dir"] == "desc",
        page=page,
        per_page=PER_PAGE,
    )
    return ListInput(raw, query, [])


def back_to_queue(back: str, user: StaffUser, force: Force, standards: list[str]) -> str:
    """The list's URL a posted form came from, its query checked again (never elsewhere)."""
    parsed = parse_list(dict(parse_qsl(back)), user, force, standards)
    query = parsed.query_string(page=parsed.query.page) if parsed.query is not None else ""
    return QUEUE_PATH + (f"?{query}" if query else "")


def queue_error_redirect(
    request: Request,
    user: StaffUser,
    back: str,
    errors: list[FieldError],
    submitted: Mapping[str, Any],
) -> Response:
    """After a form posted from the list went wrong: back to the list's page (303), with
    the error summary and what was typed in a short-lived flash."""
    context = api_context(request)
    standards = [rule.id for rule in context.policy.standards]
    response = RedirectResponse(
        back_to_queue(back, user, context.force, standards), status_code=303
    )
    flash_cookie(request, response, errors, submitted)
    return response


def _sort_links(parsed: ListInput, page: QueuePage | None) -> dict[str, dict[str, str | None]]:
    """Each sortable column's link (ascending, or descending when already ascending) and
    its aria-sort value; no link for a column this list is too long to sort by."""
    current = page.sorted_by.value if page is not None else QueueSort.PRIORITY.value
    descending = parsed.raw["dir"] == "desc" and current == (parsed.raw["sort"] or current)
    links: dict[str, dict[str, str | None]] = {}
    for sort in SORT_HEADINGS:
        active = current == sort.value
        direction = "desc" if active and not descending else "asc"
        query = parsed.query_string(sort=sort.value, dir=direction)
        state = ("descending" if descending else "ascending") if active else "none"
        sortable = page is None or page.column_sorts_offered or sort in INDEXED_SORTS
        links[sort.value] = {
            "href": f"{QUEUE_PATH}?{query}" if sortable else None,
            "aria_sort": state,
        }
    return links


def _page_links(parsed: ListInput, page: QueuePage) -> dict[str, str | None]:
    def link(number: int) -> str:
        query = parsed.query_string(page=number)
        return QUEUE_PATH + (f"?{query}" if query else "")

    return {
        "previous": link(page.page - 1) if page.page > 1 else None,
        "next": link(page.page + 1) if page.page < page.pages else None,
    }


async def queue_response(
    request: Request,
    user: StaffUser,
    values: Mapping[str, str],
    *,
    errors: list[FieldError] | None = None,
    submitted: Mapping[str, Any] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    """The list's page; `errors` from a posted form are shown with the filters' own."""
    context = api_context(request)
    policy = context.policy
    force = context.force
    standards = [rule.id for rule in policy.standards]
    parsed = parse_list(values, user, force, standards)
    now = context.clock()
    page = None
    if parsed.query is not None:
        query = replace(parsed.query, enhanced_categories=tuple(policy.enhanced_rights))
        page = await asyncio.to_thread(
            read_queue,
            context.sessions,
            query,
            now,
            context.settings.queue_column_sort_limit,
        )
    rules = {rule.id: rule for rule in policy.standards}
    rows = []
    for row in page.rows if page is not None else []:
        rule = standard_rule(policy, row.standard)
        rows.append(
            {
                "row": row,
                "title": rule.title if rule is not None else row.standard,
                "contact": rule is not None and met_by_contact(rule),
                # To the case page's confirmation: what goes where, before it is sent.
                "send_update": rule is not None
                and not row.do_not_contact
                and meets_once_delivered(
                    policy, EventType.UPDATE_SENT_ON_REQUEST, row.category, rule
                ),
                "event_id": f"page-{uuid.uuid4().hex}",
            }
        )
    shown = {row.standard for row in page.rows} if page is not None else set()
    meets = [
        {"title": rule.title, "meets": what_meets(rule)}
        for rule_id, rule in rules.items()
        if rule_id in shown
    ]
    filters_query = urlencode({name: parsed.raw[name] for name in FILTER_NAMES if parsed.raw[name]})
    current_query = parsed.query_string(page=page.page if page is not None else None)
    here_url = QUEUE_PATH + (f"?{current_query}" if current_query else "")
    refresh_url = (
        QUEUE_PATH
        + "?"
        + "&".join(part for part in (current_query, f"{AUTO_REFRESH_PARAM}=1") if part)
    )
    borough = {"borough": parsed.raw["borough"]} if parsed.raw["borough"] else {}
    count_links = {
        state.value: f"{QUEUE_PATH}?{urlencode({**borough, 'state': state.value})}"
        for state in QueueState
    }
    scope = force.display_name(user.borough) if user.borough else force.name
    all_errors = [*(errors or []), *parsed.errors]
    officers = page.officers if page is not None else []
    force_wide = user.borough is None
    # Force-wide, the officer is typed; a borough's officers are offered in a list.
    officer_typed = parsed.query is not None and parsed.query.boroughs is None
    return render(
        request,
        "queue.html",
        {
            "nav_current": "queue",
            "force": force,
            "scope_name": scope,
            "filters": parsed.raw,
            "force_wide": force_wide,
            "officer_typed": officer_typed,
            "borough_options": [("", "All boroughs")]
            + [(unit.id, unit.name) for unit in force.units],
            "standard_options": [("", "All standards")]
            + [(rule.id, rule.title) for rule in policy.standards],
            "state_options": [("", "Overdue and due soon")]
            + [(state.value, label) for state, label in QUEUE_STATE_LABELS.items()],
            "officer_options": [("", "All officers")]
            + [(name, name) for name in _with_current(officers, parsed.raw["officer"])],
            "rows": rows,
            "meets": meets,
            "page": page,
            "sort_headings": {sort.value: heading for sort, heading in SORT_HEADINGS.items()},
            "sort_links": _sort_links(parsed, page),
            "sort_set_aside": page is not None
            and parsed.query is not None
            and page.sort_set_aside(parsed.query.sort),
            "page_links": _page_links(parsed, page) if page is not None else {},
            "filters_query": filters_query,
            "sort_query": urlencode(
                {name: parsed.raw[name] for name in VIEW_NAMES if parsed.raw[name]}
            ),
            "priority_url": QUEUE_PATH + (f"?{filters_query}" if filters_query else ""),
            "now": now,
            "refresh_url": refresh_url,
            "here_url": here_url,
            "count_links": count_links,
            "refresh_seconds": REFRESH_SECONDS,
            "idle_seconds": int(context.settings.staff_idle_timeout_minutes * 60),
            "back": current_query,
            "submitted": submitted or {},
            "notice": notice,
        },
        status_code=400 if parsed.errors else 200,
        errors=all_errors,
        no_store=True,
    )


def _with_current(officers: list[str], current: str) -> list[str]:
    """The officer options, keeping the chosen one even once their cases have left."""
    return officers if not current or current in officers else [*officers, current]


@router.get(QUEUE_PATH, response_class=HTMLResponse)
async def queue_page(request: Request, user: QueueReader) -> Response:
    notice = notice_for(request.query_params.get("done"), request.query_params.get("case"))
    flashed = read_flash(request)
    response = await queue_response(
        request,
        user,
        request.query_params,
        notice=notice,
        errors=flashed.errors if flashed is not None else None,
        submitted=flashed.submitted if flashed is not None else None,
    )
    if flashed is not None:
        clear_flash(request, response)
    return response
