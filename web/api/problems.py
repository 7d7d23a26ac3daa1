"""RFC 9457 problem details: every error the app gives is one of these documents."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("pledge.web")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Problem types are named by a relative URI under this prefix (RFC 9457 allows relative).
PROBLEM_TYPE_PREFIX = "/problems/"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class FieldProblem(BaseModel):
    # A JSON Pointer (RFC 6901) into the request body or query.
    pointer: str
    detail: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    # The opaque id of an unexpected failure, also written to the log.
    id: str | None = None


class ProblemError(Exception):
    """Raised by a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        kind: str | None = None,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str,
    kind: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    problem_id: str | None = None,
) -> JSONResponse:
    problem = Problem(
        type=PROBLEM_TYPE_PREFIX + (kind or TITLES.get(status, "error").lower().replace(" ", "-")),
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
        id=problem_id,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def json_pointer(location: tuple[int | str, ...]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in location)


def field_problems(
    error: ValidationError, prefix: tuple[str, ...] = (), friendly: dict[str, str] | None = None
) -> list[FieldProblem]:
    """Each problem of a pydantic validation, as a pointer and what was wrong."""
    problems = []
    for item in error.errors():
        location = tuple(part for part in item["loc"] if not _is_union_tag(part))
        message = (friendly or {}).get(item["type"], item["msg"]).removeprefix("Value error, ")
        problems.append(FieldProblem(pointer=json_pointer(prefix + location), detail=message))
    return problems


def _is_union_tag(part: int | str) -> bool:
    # pydantic names the branch of a union or a validator ("function-after[...]").
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def summary(problems: list[FieldProblem]) -> str:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first.pointer}: {first.detail}{more}"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, error: ProblemError) -> JSONResponse:
        return problem_response(
            error.status, error.detail, error.kind, error.errors, error.headers, request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code)
        if error.status_code == 404:
            detail = f"nothing at {request.url.path}"
        elif error.status_code == 405:
            detail = f"{request.method} is not accepted at {request.url.path}"
        return problem_response(
            error.status_code,
            str(detail),
            headers=dict(error.headers or {}),
            instance=request.url.path,
        )

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            FieldProblem(
                pointer=json_pointer(tuple(item["loc"])),
                detail=str(item.get("msg", "invalid")),
            )
            for item in error.errors()
        ]
        return problem_response(422, summary(problems), "invalid-request", problems)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        problem_id = uuid.uuid4().hex
        log.exception("unexpected failure %s on %s %s", problem_id, request.method, request.url)
        return problem_response(
            500,
            f"an unexpected failure; quote id {problem_id} to the operators",
            "internal-error",
            problem_id=problem_id,
            instance=request.url.path,
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entries for these error statuses, each a problem document."""
    return {
        status: {
            "description": TITLES.get(status, "Error"),
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldProblem",
    "Problem",
    "ProblemError",
    "field_problems",
    "install_problem_handlers",
    "problem_response",
    "problem_responses",
    "summary",
]
