"""Recording a contact and explaining a breach from the queue or the case page.

These post the same events as the API (service.bounded_writes.post_event_within, so
the case's clocks react before the answer and a slow Temporal is a 503, never a hang),
with the signed-in user as the actor. A form carries its own event id, so sending it
twice records it once. Another borough's case is 404; a wrong field is the page again
with the error summary (422), an event the case refuses is 409; nothing changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from service.bounded_writes import TemporalUnavailable, post_event_within
from service.case_page import ActionTarget, action_target, recorded_event_at
from service.cases import CaseError, EventIn
from standards.contracts import EventReceipt
from standards.events import EventType
from standards.obligations import BreachReason
from standards.staff import StaffRole, StaffUser
from web.api.context import api_context
from web.pages.case_page import case_response, visible_case_borough
from web.pages.case_views import (
    CASES_PATH,
    CONTACT_METHODS,
    EXPLANATION_MAX_LENGTH,
    STATE_LABELS,
    Done,
    case_url,
)
from web.pages.queue import BACK_TO_CASE, back_to_queue, queue_error_redirect
from web.pages.rendering import FieldError
from web.pages.staff_auth import PageNotFound, StaffForm, require_staff

router = APIRouter(tags=["pages"], include_in_schema=False)
CaseActor = Annotated[StaffUser, Depends(require_staff(StaffRole.VFU, StaffRole.MANAGER))]


def actor_of(user: StaffUser) -> str:
    """Who recorded an event, as case_events keeps it: the staff account's id."""
    return f"staff:{user.id}"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def contact_problems(
    form: FormData, target: ActionTarget
) -> tuple[dict[str, Any], list[FieldError]]:
    field = f"method-{target.obligation_id}"
    method = _text(form, field)
    if method not in CONTACT_METHODS:
        return {}, [FieldError(field, "Select how the victim was contacted")]
    return {"method": method}, []


def explanation_problems(
    form: FormData, target: ActionTarget
) -> tuple[dict[str, Any], list[FieldError]]:
    reason_field = f"reason-{target.obligation_id}"
    text_field = f"text-{target.obligation_id}"
    reason = _text(form, reason_field)
    text = _text(form, text_field)
    errors = []
    if reason not in {r.value for r in BreachReason}:
        errors.append(FieldError(reason_field, "Select why the deadline was missed"))
    if len(text) > EXPLANATION_MAX_LENGTH:
        errors.append(
            FieldError(
                text_field, f"What happened must be {EXPLANATION_MAX_LENGTH} characters or fewer"
            )
        )
    elif "\x00" in text:
        errors.append(FieldError(text_field, "What happened has a character that is not text"))
    elif reason == BreachReason.OTHER and not text:
        errors.append(
            FieldError(text_field, "Say what happened: it is needed when the reason is another")
        )
    details: dict[str, Any] = {"reason": reason}
    if text:
        details["text"] = text
    return details, errors


def state_problem(kind: Done, target: ActionTarget) -> FieldError | None:
    """Why the obligation no longer takes this action (someone else got there first)."""
    field = _first_field(kind, target)
    if kind == Done.CONTACT and not target.is_open:
        state = STATE_LABELS[target.state].lower()
        return FieldError(field, f"Nothing recorded: this obligation is already {state}")
    if kind == Done.EXPLANATION and not target.explainable:
        return FieldError(field, "Nothing recorded: this obligation has no unexplained breach")
    return None


def _first_field(kind: Done, target: ActionTarget) -> str:
    prefix = "method" if kind == Done.CONTACT else "reason"
    return f"{prefix}-{target.obligation_id}"


async def _page_again(
    request: Request,
    user: StaffUser,
    reference: str,
    back: str,
    errors: list[FieldError],
    status_code: int,
    form: FormData,
) -> Response:
    """The page the form was posted from, with what was wrong, as it now stands."""
    submitted: Mapping[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    if back == BACK_TO_CASE:
        return await case_response(
            request, user, reference, errors=errors, status_code=status_code, submitted=submitted
        )
    # Back to the list by a 303 with the errors in a flash: reloading it posts nothing.
    return queue_error_redirect(request, user, back, errors, submitted)


async def _act(
    request: Request, user: StaffUser, reference: str, form: FormData, kind: Done
) -> Response:
    context = api_context(request)
    await visible_case_borough(context, user, reference)
    try:
        obligation_id = int(_text(form, "obligation"))
    except ValueError as error:
        raise PageNotFound() from error
    target = await asyncio.to_thread(action_target, context.sessions, reference, obligation_id)
    if target is None:
        raise PageNotFound()
    back = _text(form, "back")

    async def again(errors: list[FieldError], status_code: int) -> Response:
        return await _page_again(request, user, reference, back, errors, status_code, form)

    if kind == Done.CONTACT:
        details, errors = contact_problems(form, target)
        event_type = EventType.CONTACT_RECORDED
    else:
        details, errors = explanation_problems(form, target)
        event_type = EventType.BREACH_EXPLAINED
    if errors:
        return await again(errors, 422)
    field = _first_field(kind, target)
    try:
        event = EventIn(
            reference=reference,
            type=event_type,
            at=context.clock(),
            standard=target.standard,
            details=details,
            actor=actor_of(user),
            event_id=_text(form, "event_id") or None,
        )
    except ValidationError:
        return await again([FieldError(field, "The form was out of date: try again")], 422)
    # A form sent twice goes through again, to give the first outcome, not a refusal.
    first_at = (
        None
        if event.event_id is None
        else await asyncio.to_thread(recorded_event_at, context.sessions, reference, event.event_id)
    )
    if first_at is not None:
        # The same event as the first time, so the case gives the first receipt.
        event = event.model_copy(update={"at": first_at})
    refused = None if first_at is not None else state_problem(kind, target)
    if refused is not None:
        return await again([refused], 409)

    async def nothing_more(_receipt: EventReceipt) -> None:
        # case_events keeps the event with its actor; there is no API audit to write.
        return None

    try:
        await post_event_within(
            context.temporal,
            context.sessions,
            event,
            context.settings.api_write_timeout_seconds,
            nothing_more,
        )
    except TemporalUnavailable:
        message = (
            "The case's clocks did not answer in time, so this may not be recorded yet: "
            "send it again (it is recorded only once)"
        )
        return await again([FieldError(field, message)], 503)
    except CaseError as error:
        return await again([FieldError(field, f"Nothing recorded: {error}")], 409)
    done = urlencode({"done": kind.value, "case": reference})
    if back == BACK_TO_CASE:
        return RedirectResponse(f"{case_url(reference)}?{done}", status_code=303)
    standards = [rule.id for rule in context.policy.standards]
    target_url = back_to_queue(back, user, context.force, standards)
    joiner = "&" if "?" in target_url else "?"
    return RedirectResponse(f"{target_url}{joiner}{done}", status_code=303)


@router.post(CASES_PATH + "/{reference:path}/contact")
async def record_contact(
    reference: str, request: Request, user: CaseActor, form: StaffForm
) -> Response:
    """Record a contact meeting the obligation named by the form."""
    return await _act(request, user, reference, form, Done.CONTACT)


@router.post(CASES_PATH + "/{reference:path}/explanation")
async def explain_breach(
    reference: str, request: Request, user: CaseActor, form: StaffForm
) -> Response:
    """Explain the breach of the obligation named by the form."""
    return await _act(request, user, reference, form, Done.EXPLANATION)
