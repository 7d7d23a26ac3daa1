"""Recording what was done on a case from the queue or the case page: a contact (with a
note of what was said), a breach's explanation, and the case-wide actions (the supervisor
review, an officer assigned, an arrest, a charge, a court outcome, closing and reopening,
the victim's update preferences, an update given).

These post the same events as the API (service.bounded_writes.post_event_within, so
the case's clocks react before the answer and a slow Temporal is a 503, never a hang),
with the signed-in user as the actor. A form carries its own event id, so sending it
twice records it once. Another borough's case is 404; a wrong field is the page again
with the error summary (422); an action the reader's role may not record is 403 and an
event the case refuses is 409, each saying why in one line; nothing changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from service.bounded_writes import TemporalUnavailable, post_event_within
from service.case_actions import (
    EVENT_OF,
    CaseAction,
    page_situation,
    refusal,
    role_refusal,
)
from service.case_page import ActionTarget, action_target, read_case_page, recorded_event_at
from service.cases import CaseError, EventIn
from standards.contracts import EventReceipt
from standards.obligations import BreachReason
from standards.staff import StaffRole, StaffUser
from web.api.context import ApiContext, api_context
from web.pages.case_action_forms import (
    CASE_WIDE,
    case_action_details,
    first_field,
    read_note,
    text_of,
    text_problem,
)
from web.pages.case_page import case_response, visible_case_borough
from web.pages.case_views import (
    CASES_PATH,
    CONTACT_METHODS,
    EXPLANATION_MAX_LENGTH,
    STATE_LABELS,
    case_url,
    may_see_victim,
)
from web.pages.queue import BACK_TO_CASE, back_to_queue, queue_error_redirect
from web.pages.rendering import FieldError
from web.pages.staff_auth import PageNotFound, StaffForm, require_staff

router = APIRouter(tags=["pages"], include_in_schema=False)
CaseActor = Annotated[StaffUser, Depends(require_staff(StaffRole.VFU, StaffRole.MANAGER))]


def actor_of(user: StaffUser) -> str:
    """Who recorded an event, as case_events keeps it: the staff account's id."""
    return f"staff:{user.id}"


def contact_problems(
    form: FormData, target: ActionTarget
) -> tuple[dict[str, Any], list[FieldError]]:
    field = f"method-{target.obligation_id}"
    method = text_of(form, field)
    errors: list[FieldError] = []
    details: dict[str, Any] = {"method": method}
    if method not in CONTACT_METHODS:
        errors.append(FieldError(field, "Select how the victim was contacted"))
    # What was said (the queue's form has no note; the case page's has).
    read_note(form, f"note-{target.obligation_id}", details, errors)
    return details, errors


def explanation_problems(
    form: FormData, target: ActionTarget
) -> tuple[dict[str, Any], list[FieldError]]:
    reason_field = f"reason-{target.obligation_id}"
    text_field = f"text-{target.obligation_id}"
    reason = text_of(form, reason_field)
    text = text_of(form, text_field)
    errors = []
    if reason not in {r.value for r in BreachReason}:
        errors.append(FieldError(reason_field, "Select why the deadline was missed"))
    problem = text_problem(text_field, "What happened", text, EXPLANATION_MAX_LENGTH)
    if problem is not None:
        errors.append(problem)
    elif reason == BreachReason.OTHER and not text:
        errors.append(
            FieldError(text_field, "Say what happened: it is needed when the reason is another")
        )
    details: dict[str, Any] = {"reason": reason}
    if text:
        details["text"] = text
    return details, errors


def state_problem(kind: CaseAction, target: ActionTarget) -> FieldError | None:
    """Why the obligation no longer takes this action (someone else got there first)."""
    field = _first_field(kind, target)
    if kind == CaseAction.CONTACT and not target.is_open:
        state = STATE_LABELS[target.state].lower()
        return FieldError(field, f"Nothing recorded: this obligation is already {state}")
    if kind == CaseAction.EXPLANATION and not target.explainable:
        return FieldError(field, "Nothing recorded: this obligation has no unexplained breach")
    return None


def _first_field(kind: CaseAction, target: ActionTarget) -> str:
    prefix = "method" if kind == CaseAction.CONTACT else "reason"
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
    request: Request, user: StaffUser, reference: str, form: FormData, kind: CaseAction
) -> Response:
    """An action on one obligation (a contact, an explanation), named by the form."""
    context = api_context(request)
    await visible_case_borough(context, user, reference)
    try:
        obligation_id = int(text_of(form, "obligation"))
    except ValueError as error:
        raise PageNotFound() from error
    target = await asyncio.to_thread(action_target, context.sessions, reference, obligation_id)
    if target is None:
        raise PageNotFound()
    standard: str | None = target.standard
    if kind == CaseAction.CONTACT:
        details, errors = contact_problems(form, target)
        standard = context.policy.standard_a_contact_names(target.standard)
    else:
        details, errors = explanation_problems(form, target)
    return await _record(
        request,
        user,
        reference,
        form,
        _Recording(kind, details, errors, _first_field(kind, target), standard),
        lambda: state_problem(kind, target),
    )


@dataclass(frozen=True)
class _Recording:
    """What a form asks to record: the action, its event's details (or what was wrong),
    the field a refusal points at, and the standard it names."""

    action: CaseAction
    details: dict[str, Any]
    errors: list[FieldError]
    field: str
    standard: str | None


async def _record(
    request: Request,
    user: StaffUser,
    reference: str,
    form: FormData,
    recording: _Recording,
    stale: Callable[[], FieldError | None],
) -> Response:
    """Post the form's event to the case through the API's use case, and redirect (303)
    to where the form came from; or that page again with why nothing was recorded."""
    context = api_context(request)
    back = text_of(form, "back")
    field = recording.field

    async def again(errors: list[FieldError], status_code: int) -> Response:
        return await _page_again(request, user, reference, back, errors, status_code, form)

    if recording.errors:
        return await again(recording.errors, 422)
    try:
        event = EventIn(
            reference=reference,
            type=EVENT_OF[recording.action],
            at=context.clock(),
            standard=recording.standard,
            details=recording.details,
            actor=actor_of(user),
            event_id=text_of(form, "event_id") or None,
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
    refused = None if first_at is not None else stale()
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
    done = urlencode({"done": recording.action.value, "case": reference})
    if back == BACK_TO_CASE:
        return RedirectResponse(f"{case_url(reference)}?{done}", status_code=303)
    standards = [rule.id for rule in context.policy.standards]
    target_url = back_to_queue(back, user, context.force, standards)
    joiner = "&" if "?" in target_url else "?"
    return RedirectResponse(f"{target_url}{joiner}{done}", status_code=303)


async def action_refusal(
    context: ApiContext, user: StaffUser, reference: str, borough: str, action: CaseAction
) -> str | None:
    """Why this reader may not record `action` on the case as it stands now, or None."""
    with_victim = may_see_victim(user, context.force, borough)
    page = await asyncio.to_thread(read_case_page, context.sessions, reference, with_victim)
    if page is None:
        raise PageNotFound()
    return refusal(action, page_situation(page, with_victim, context.policy), context.policy)


@router.post(CASES_PATH + "/{reference:path}/contact")
async def record_contact(
    reference: str, request: Request, user: CaseActor, form: StaffForm
) -> Response:
    """Record a contact meeting the obligation named by the form."""
    return await _act(request, user, reference, form, CaseAction.CONTACT)


@router.post(CASES_PATH + "/{reference:path}/explanation")
async def explain_breach(
    reference: str, request: Request, user: CaseActor, form: StaffForm
) -> Response:
    """Explain the breach of the obligation named by the form."""
    return await _act(request, user, reference, form, CaseAction.EXPLANATION)


@router.post(CASES_PATH + "/{reference:path}/{action}")
async def record_case_action(
    reference: str, action: str, request: Request, user: CaseActor, form: StaffForm
) -> Response:
    """Record a case-wide action (the review, an officer, an arrest, ...) from the case page."""
    try:
        chosen = CaseAction(action)
    except ValueError as error:
        raise PageNotFound() from error
    if chosen not in CASE_WIDE:
        raise PageNotFound()
    context = api_context(request)
    borough = await visible_case_borough(context, user, reference)
    field = first_field(chosen)
    # A refusal of the role comes first (403): nothing the form says matters then. A
    # refusal for the case's or the victim's state is a 409, like the case's own.
    role = role_refusal(chosen, may_see_victim(user, context.force, borough))
    if role is not None:
        return await _page_again(
            request, user, reference, BACK_TO_CASE, [FieldError(field, role)], 403, form
        )
    why = await action_refusal(context, user, reference, borough, chosen)
    details, errors = case_action_details(chosen, form)
    recording = _Recording(chosen, details, errors, field, None)
    return await _record(
        request,
        user,
        reference,
        form,
        recording,
        lambda: None if why is None else FieldError(field, f"Nothing recorded: {why}"),
    )
