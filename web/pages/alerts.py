"""The alerts page (`/alerts`): a role's alerts, to acknowledge and give to someone.

VFU officers see what was raised for their borough's VFU (a victim's request for an
update first, then manual contact needed, undelivered messages, due soon, breached);
managers see the escalations raised for them. Each action is a form post with the
session's token that records who did it and when, then goes back to the page (303), so a
reload never posts again; a refused action says why in one line and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.alert_desk import (
    KIND_LABELS,
    REFUSAL_TEXT,
    AlertRefused,
    AlertStatus,
    DeskFilters,
    NoSuchAlert,
    Refusal,
    acknowledge,
    assign,
    assignees,
    desk_kinds,
    read_desk,
)
from standards.obligations import AlertKind
from standards.staff import StaffRole, StaffUser
from web.api.context import api_context
from web.pages.case_views import case_url
from web.pages.rendering import FieldError, render
from web.pages.staff_auth import PageNotFound, StaffForm, require_staff

ALERTS_PATH: Final = "/alerts"
STATUS_LABELS: Final = {
    AlertStatus.OPEN: "Not yet acknowledged",
    AlertStatus.ACKNOWLEDGED: "Acknowledged",
    AlertStatus.ALL: "All",
}
# What a done or refused action says, by a fixed key: a crafted link puts no words here.
DONE: Final = {"acknowledged": "Acknowledged", "assigned": "Given to someone"}
NOBODY: Final = "nobody"

router = APIRouter(tags=["pages"], include_in_schema=False)
DeskUser = Annotated[StaffUser, Depends(require_staff(StaffRole.VFU, StaffRole.MANAGER))]


def parse_filters(
    values: Mapping[str, str], user: StaffUser
) -> tuple[DeskFilters, dict[str, str], list[FieldError]]:
    """The filters from a query string; a wrong one is named and left out."""
    raw = {name: (values.get(name) or "").strip() for name in ("kind", "status", "mine", "page")}
    errors: list[FieldError] = []
    kinds = {kind.value: kind for kind in desk_kinds(user)}
    kind = kinds.get(raw["kind"]) if raw["kind"] else None
    if raw["kind"] and kind is None:
        errors.append(FieldError("kind", "Choose a kind of alert from the list"))
    statuses = {status.value: status for status in AlertStatus}
    status = statuses.get(raw["status"] or AlertStatus.OPEN.value)
    if status is None:
        errors.append(FieldError("status", "Choose which alerts to show from the list"))
    page = int(raw["page"]) if raw["page"].isdigit() and int(raw["page"]) > 0 else 1
    if raw["page"] and str(page) != raw["page"]:
        errors.append(FieldError("page", "The page must be a whole number from 1"))
    filters = DeskFilters(
        kind=kind, status=status or AlertStatus.OPEN, mine=raw["mine"] == "yes", page=page
    )
    return filters, raw, errors


def _query(raw: Mapping[str, str], **changes: str) -> str:
    merged = {**raw, **changes}
    return urlencode({name: value for name, value in merged.items() if value})


@router.get(ALERTS_PATH, response_class=HTMLResponse)
async def alerts_page(request: Request, user: DeskUser) -> Response:
    context = api_context(request)
    filters, raw, errors = parse_filters(request.query_params, user)
    desk = await asyncio.to_thread(read_desk, context.sessions, user, context.force, filters)
    people = await asyncio.to_thread(assignees, context.sessions, user, context.force)
    done = DONE.get(request.query_params.get("done", ""))
    refused = request.query_params.get("refused", "")
    refusal = (
        [FieldError("alerts", REFUSAL_TEXT[Refusal(refused)])] if refused in set(Refusal) else []
    )
    raw_page = {**raw, "page": str(desk.page) if desk.page > 1 else ""}
    return render(
        request,
        "alerts.html",
        {
            "nav_current": "alerts",
            "desk": desk,
            "filters": filters,
            "raw": raw,
            "kind_options": [("", "All kinds")]
            + [(kind.value, KIND_LABELS[kind]) for kind in desk_kinds(user)],
            "status_options": [(status.value, label) for status, label in STATUS_LABELS.items()],
            "kind_labels": KIND_LABELS,
            "people": people,
            "nobody": NOBODY,
            "me": user,
            "done": done,
            "case_url": case_url,
            "back": _query(raw_page),
            "previous_page": _query(raw, page=str(desk.page - 1)) if desk.page > 1 else None,
            "next_page": _query(raw, page=str(desk.page + 1)) if desk.page < desk.pages else None,
            "escalations": user.role == StaffRole.MANAGER,
            "alert_kind": AlertKind,
            "force": context.force,
            "standard_titles": {rule.id: rule.title for rule in context.policy.standards},
        },
        errors=errors + refusal,
        status_code=400 if errors else 200,
        no_store=True,
    )


def _back(form: StaffForm, **outcome: str) -> RedirectResponse:
    back = form.get("back")
    query = back if isinstance(back, str) and "\n" not in back else ""
    extra = urlencode(outcome)
    joined = "&".join(part for part in (query, extra) if part)
    return RedirectResponse(f"{ALERTS_PATH}?{joined}", status_code=303)


@router.post(ALERTS_PATH + "/{alert_id}/acknowledge")
async def acknowledge_alert(
    request: Request, alert_id: int, user: DeskUser, form: StaffForm
) -> Response:
    context = api_context(request)
    try:
        await asyncio.to_thread(
            acknowledge, context.sessions, user, context.force, alert_id, context.clock()
        )
    except NoSuchAlert as missing:
        raise PageNotFound() from missing
    except AlertRefused as refused:
        return _back(form, refused=refused.reason.value)
    return _back(form, done="acknowledged")


@router.post(ALERTS_PATH + "/{alert_id}/assign")
async def assign_alert(
    request: Request, alert_id: int, user: DeskUser, form: StaffForm
) -> Response:
    context = api_context(request)
    chosen = form.get("assignee")
    chosen = chosen.strip() if isinstance(chosen, str) else ""
    # Not "nobody" and not an account id: an id no account has, refused as not assignable.
    assignee_id = None if chosen == NOBODY else int(chosen) if chosen.isdigit() else -1
    try:
        await asyncio.to_thread(
            assign,
            context.sessions,
            user,
            context.force,
            alert_id,
            assignee_id,
            context.clock(),
        )
    except NoSuchAlert as missing:
        raise PageNotFound() from missing
    except AlertRefused as refused:
        return _back(form, refused=refused.reason.value)
    return _back(form, done="assigned")
