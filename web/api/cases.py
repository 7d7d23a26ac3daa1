"""The case routes: open a case, post an event to it, read it."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from sqlalchemy import String

from service.audit import AuditEntry, first_outcome, record_write
from service.bounded_writes import (
    OpenOutcome,
    TemporalUnavailable,
    open_case_within,
    post_event_within,
)
from service.case_reads import CaseOut, case_borough, read_case
from service.cases import (
    FRIENDLY_ERRORS,
    CaseError,
    CaseIn,
    EventIn,
    Reference,
    check_category,
    check_language,
    check_unit,
)
from service.tokens import Scope, TokenHolder
from standards.contracts import EventReceipt
from standards.events import STORED_DETAILS, EventType, in_the_future
from storage import models
from storage.models import CODE_LENGTH
from web.api.auth import require
from web.api.bodies import read_json_object
from web.api.context import ApiContext, api_context
from web.api.problems import FieldProblem, ProblemError, field_problems, problem_responses, summary

API_PREFIX = "/api/v1"
CASES_PATH = "/cases"
OPEN_ROUTE = f"POST {API_PREFIX}/cases"
EVENT_ROUTE = f"POST {API_PREFIX}/cases/{{reference}}/events"
# How long a client should wait before trying again when Temporal did not answer.
RETRY_AFTER_SECONDS = 5

router = APIRouter(prefix=API_PREFIX, tags=["cases"])
REFERENCE: TypeAdapter[str] = TypeAdapter(Reference)


class EventBody(BaseModel):
    """An event as the API receives it; the case is named by the path."""

    model_config = ConfigDict(extra="forbid")

    type: EventType
    at: AwareDatetime
    standard: Annotated[str, Field(max_length=CODE_LENGTH)] | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    # The client's own id for the event: a retry with the same id gets the first receipt.
    event_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None

    @field_validator("details")
    @classmethod
    def _officer_details_fit(cls, details: dict[str, Any]) -> dict[str, Any]:
        # They are stored on the case (never sent to Temporal): they must fit its columns.
        for name in STORED_DETAILS[EventType.OFFICER_ASSIGNED]:
            if name not in models.Case.__table__.c:
                continue  # the note is kept with the event (service.cases checks it)
            column = models.Case.__table__.c[name].type
            limit = column.length if isinstance(column, String) else None
            if name in details and limit is not None and len(str(details[name])) > limit:
                raise ValueError(f"{name} is longer than {limit} characters")
        return details


# The earliest report the API takes, well inside what date arithmetic can reach.
EARLIEST_REPORT = datetime(1900, 1, 1, tzinfo=UTC)


def report_time_problem(reported_at: datetime, now: datetime) -> FieldProblem | None:
    if reported_at < EARLIEST_REPORT:
        detail = f"is before {EARLIEST_REPORT.date().isoformat()}; give the time it was reported"
    else:
        # The same rule and wording as the CLI and events (standards.case).
        future = in_the_future("reported_at", reported_at, now)
        if future is None:
            return None
        detail = future
    return FieldProblem(pointer="/reported_at", detail=detail)


class EventReceiptOut(BaseModel):
    reference: str
    event: str
    # What the event changed (obligations met, started, cancelled, ...).
    changed: list[str]


def case_url(reference: str) -> str:
    # As issued: references hold only letters, digits and / _ . - (see service.cases).
    return f"{API_PREFIX}{CASES_PATH}/{reference}"


CASE_EXAMPLE = {
    "reference": "01/123456/26",
    "category": "domestic_abuse",
    "reported_at": "2026-03-27T17:30:00+00:00",
    "borough": "Camden",
    "vulnerable": False,
    "victim": {"name": "Alex Smith", "phone": "+447700900123", "preferred_channel": "sms"},
}
EVENT_EXAMPLE = {
    "type": "contact_recorded",
    "at": "2026-03-28T09:00:00+00:00",
    "standard": "dv_contact",
    "event_id": "crs-000123",
}


def request_body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body for a route that reads its body itself (see bodies.py)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema, "example": example}},
        }
    }


def invalid(problems: list[FieldProblem]) -> ProblemError:
    return ProblemError(422, summary(problems), "invalid-request", problems)


def unavailable(error: TemporalUnavailable) -> ProblemError:
    return ProblemError(
        503, str(error), "temporal-unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


async def visible_case_borough(context: ApiContext, holder: TokenHolder, reference: str) -> str:
    """The case's borough; 404 for a case that does not exist or that the token may not see."""
    try:
        REFERENCE.validate_python(reference)
    except ValidationError as error:
        # No case can have it, so there is nothing to look up.
        raise ProblemError(404, f"no case {reference!r}", "unknown-case") from error
    borough = await asyncio.to_thread(case_borough, context.sessions, reference)
    if borough is None or not holder.may_see(borough):
        raise ProblemError(404, f"no case {reference}", "unknown-case")
    return borough


async def case_response(
    context: ApiContext, holder: TokenHolder, reference: str, status: int
) -> JSONResponse:
    view = await asyncio.to_thread(
        read_case, context.sessions, reference, Scope.VICTIMS_READ in holder.scopes
    )
    if view is None:
        raise ProblemError(404, f"no case {reference}", "unknown-case")
    return JSONResponse(
        view.model_dump(mode="json"), status_code=status, headers={"Location": case_url(reference)}
    )


@router.post(
    CASES_PATH,
    status_code=201,
    response_model=CaseOut,
    summary="Open a case",
    responses={
        201: {"description": "Opened: recorded, and its first obligations are running."},
        202: {
            "description": "Accepted: recorded and started; its intake runs when the worker "
            "is back. `Location` is the case.",
            "model": CaseOut,
        },
        **problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503),
    },
    openapi_extra=request_body(CaseIn, CASE_EXAMPLE),
)
async def open_case_route(
    request: Request, holder: Annotated[TokenHolder, Depends(require(Scope.CASES_WRITE))]
) -> JSONResponse:
    """Record the case and its victim and start its clocks. A retry with the same body gets
    the first outcome; another body with the same reference is a conflict."""
    context = api_context(request)
    raw = await read_json_object(request)
    try:
        case = CaseIn.model_validate(raw)
    except ValidationError as error:
        raise invalid(field_problems(error, friendly=FRIENDLY_ERRORS)) from error
    report_problem = report_time_problem(case.reported_at, context.clock())
    if report_problem is not None:
        raise invalid([report_problem])
    try:
        unit = check_unit(context.force, case.borough)
    except CaseError as error:
        raise invalid([FieldProblem(pointer="/borough", detail=str(error))]) from error
    case = case.model_copy(update={"borough": unit.id})
    if not holder.may_see(case.borough):
        raise ProblemError(
            403,
            f"token {holder.name!r} may open cases in {holder.borough} only",
            "other-borough",
        )
    try:
        check_category(context.policy, case.category)
    except CaseError as error:
        raise invalid([FieldProblem(pointer="/category", detail=str(error))]) from error
    try:
        check_language(context.policy, case.victim.language)
    except CaseError as error:
        raise invalid([FieldProblem(pointer="/victim/language", detail=str(error))]) from error
    # A digest of the validated body: the same case sent again, however it is spelt.
    request_key = "sha256:" + hashlib.sha256(case.model_dump_json().encode()).hexdigest()

    async def open_and_record() -> int:
        first = await asyncio.to_thread(
            first_outcome, context.sessions, OPEN_ROUTE, case.reference, request_key
        )
        if first is not None:
            view = await asyncio.to_thread(read_case, context.sessions, case.reference, False)
            return 201 if view is not None and view.obligations else 202
        try:
            outcome = await open_case_within(
                context.temporal,
                context.sessions,
                context.policy,
                case,
                context.settings.task_queue,
                context.settings.api_write_timeout_seconds,
                force=context.force,
                publish_category=context.settings.publish_category_search_attribute,
            )
        except TemporalUnavailable as error:
            raise unavailable(error) from error
        except CaseError as error:
            raise ProblemError(409, str(error), "duplicate-case") from error
        status = 201 if outcome == OpenOutcome.OPENED else 202
        entry = AuditEntry(
            holder.name, OPEN_ROUTE, case.reference, outcome.value, status, request_key
        )
        await asyncio.to_thread(record_write, context.sessions, entry)
        return status

    status = await context.opening.run((case.reference, request_key), open_and_record)
    return await case_response(context, holder, case.reference, status)


@router.post(
    CASES_PATH + "/{reference:path}/events",
    response_model=EventReceiptOut,
    summary="Post an event to a case",
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
    openapi_extra=request_body(EventBody, EVENT_EXAMPLE),
)
async def post_event_route(
    reference: str,
    request: Request,
    holder: Annotated[TokenHolder, Depends(require(Scope.CASES_WRITE))],
) -> EventReceiptOut:
    """Record a contact, an arrest, a closure...; 409 with the reason if it does not fit
    the case. A retry with the same `event_id` gets the first receipt."""
    context = api_context(request)
    await visible_case_borough(context, holder, reference)
    raw = await read_json_object(request)
    try:
        body = EventBody.model_validate(raw)
        event = EventIn.model_validate(
            {**body.model_dump(), "reference": reference, "actor": f"api:{holder.name}"}
        )
    except ValidationError as error:
        raise invalid(field_problems(error, friendly=FRIENDLY_ERRORS)) from error
    request_key = (
        f"event:{body.event_id}" if body.event_id is not None else f"once:{uuid.uuid4().hex}"
    )

    async def record(receipt: EventReceipt) -> None:
        entry = AuditEntry(
            holder.name, EVENT_ROUTE, reference, "recorded", 200, request_key, asdict(receipt)
        )
        await asyncio.to_thread(record_write, context.sessions, entry)

    async def post_once() -> EventReceipt:
        if body.event_id is not None:
            first = await asyncio.to_thread(
                first_outcome, context.sessions, EVENT_ROUTE, reference, request_key
            )
            if first is not None and first.receipt is not None:
                return EventReceipt(**first.receipt)
        try:
            return await post_event_within(
                context.temporal,
                context.sessions,
                event,
                context.settings.api_write_timeout_seconds,
                record,
            )
        except TemporalUnavailable as error:
            raise unavailable(error) from error
        except CaseError as error:
            raise ProblemError(409, str(error), "event-refused") from error

    receipt = await context.posting.run((reference, request_key), post_once)
    return EventReceiptOut.model_validate(asdict(receipt))


@router.get(
    CASES_PATH + "/{reference:path}",
    response_model=CaseOut,
    response_model_exclude_none=False,
    summary="Read a case",
    responses=problem_responses(401, 403, 404, 429),
)
async def read_case_route(
    reference: str,
    request: Request,
    holder: Annotated[TokenHolder, Depends(require(Scope.CASES_READ))],
) -> JSONResponse:
    """Every obligation, the policy, the messages and their delivery state; the victim's
    contact details only for a token with `victims:read`."""
    context = api_context(request)
    await visible_case_borough(context, holder, reference)
    return await case_response(context, holder, reference, 200)
