"""The staff case page (`/cases/{reference}`, the reference's slashes kept in the path).

It opens with what needs doing next (the obligations still to meet, most urgent first,
each with its action) and the actions (the forms); then the facts, the victim's contact
profile for those who may see it, each obligation's timeline, the messages and their
delivery, the alerts, and the case's history with who did what, by name."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from service.case_actions import CASE_ACTIONS, EVENT_OF, CaseAction, page_situation, refusal
from service.case_page import ObligationEntry, case_borough, needing_action, read_case_page
from service.queue import met_by_contact, standard_rule, what_meets
from standards.case_reading import meets_once_delivered
from standards.contact import plan_channels, profile_of
from standards.policy import Policy, StandardRule
from standards.read_rules import is_due_soon, is_overdue
from standards.staff import StaffRole, StaffUser
from standards.vocabulary import language_name
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
    now = context.clock()
    situation = page_situation(page, with_victim, context.policy)
    refused = {action: refusal(action, situation, context.policy) for action in CASE_ACTIONS}
    items = {
        entry.obligation_id: _item(context.policy, page.case.category, entry, now, refused)
        for entry in page.obligations
    }
    obligations = [items[entry.obligation_id] for entry in page.obligations]
    next_up = [items[entry.obligation_id] for entry in needing_action(page.obligations, now)]
    # A case-wide form opens by itself when an obligation presses for it (overdue or due
    # soon), or when nothing but it meets one (the supervisor review).
    wanted = {
        action
        for item in next_up
        for action in item["actions"]
        if item["pressing"] or item["actions"] == [action]
    }
    # The victim asked for an update: the update now is what they are owed.
    if situation.update_asked:
        wanted.add(CaseAction.SEND_UPDATE)
    case_actions = []
    unavailable = []
    for action in CASE_ACTIONS:
        why = refused[action]
        if why is None:
            case_actions.append(
                {
                    "action": action,
                    "wanted": action in wanted,
                    "event_id": f"page-{uuid.uuid4().hex}",
                }
            )
        elif action != CaseAction.REOPEN:
            unavailable.append({"action": action, "why": why})
    return render(
        request,
        "case.html",
        {
            "nav_current": "queue",
            "force": context.force,
            "page": page,
            "obligations": obligations,
            "next_up": next_up,
            "case_actions": case_actions,
            "unavailable": unavailable,
            "history": page.history,
            "victim_hidden": not with_victim,
            "back": "case",
            "submitted": submitted or {},
            "notice": notice,
            "now": now,
            "standard_titles": {rule.id: rule.title for rule in context.policy.standards},
            "send_plan": None
            if page.victim is None
            else plan_channels(profile_of(page.victim), now, []),
            # The languages the victim may have (the preferences form), by name.
            "languages": {code.value: language_name(code) for code in context.policy.languages},
        },
        status_code=status_code,
        errors=errors,
        # A victim's contact details must not stay in a shared computer's cache.
        no_store=True,
    )


def obligation_actions(
    policy: Policy, category: str, rule: StandardRule | None, entry: ObligationEntry
) -> list[CaseAction]:
    """What the page offers to meet, or explain, one obligation: sending the victim an
    update now where the message it sends, delivered, meets it (the periodic update, a
    victim's request for one)."""
    actions = []
    if entry.is_open and rule is not None:
        if met_by_contact(rule):
            actions.append(CaseAction.CONTACT)
        if rule.met_by_token("review"):
            actions.append(CaseAction.REVIEW)
        if meets_once_delivered(policy, EVENT_OF[CaseAction.SEND_UPDATE], category, rule):
            actions.append(CaseAction.SEND_UPDATE)
        if rule.met_by_token("update_delivered"):
            actions.append(CaseAction.UPDATE)
    if entry.explainable:
        actions.append(CaseAction.EXPLANATION)
    return actions


def _item(
    policy: Policy,
    category: str,
    entry: ObligationEntry,
    now: datetime,
    refused: Mapping[CaseAction, str | None],
) -> dict[str, Any]:
    rule = standard_rule(policy, entry.standard)
    # A case-wide action the case or the reader cannot take is not linked (the page says
    # why under the actions).
    actions = [a for a in obligation_actions(policy, category, rule, entry) if not refused.get(a)]
    return {
        "entry": entry,
        "title": rule.title if rule is not None else entry.standard,
        "meets": what_meets(rule) if rule is not None else [],
        "actions": actions,
        "overdue": is_overdue(entry, now),
        "pressing": is_overdue(entry, now) or is_due_soon(entry, now),
        "event_id": f"page-{uuid.uuid4().hex}",
    }


@router.get(CASES_PATH + "/{reference:path}", response_class=HTMLResponse)
async def case_page(reference: str, request: Request, user: CaseReader) -> HTMLResponse:
    notice = notice_for(request.query_params.get("done"), request.query_params.get("case"))
    return await case_response(request, user, reference, notice=notice)
