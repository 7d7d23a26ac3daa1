"""How a page is rendered: one Jinja2 environment, the shared layout, the error summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

PAGES_DIR = Path(__file__).resolve().parent
STATIC_PATH = "/static"
# Pages that show a victim's details must not stay in a shared computer's cache or history.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Every page: never framed by another site (clickjacking a form), and a link followed off
# the site does not carry the page's address (which may hold a crime reference).
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

templates = Jinja2Templates(directory=PAGES_DIR / "templates")


@dataclass(frozen=True)
class FieldError:
    """One wrong field: the error summary links to `field` (the input's id) and the field
    shows `message` beside it, as the GOV.UK Design System's error pattern does."""

    field: str
    message: str


def errors_by_field(errors: list[FieldError]) -> dict[str, str]:
    return {error.field: error.message for error in errors}


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    no_store: bool = False,
    errors: list[FieldError] | None = None,
) -> HTMLResponse:
    """The page `template` with `context`; `errors` fill the error summary and each field's
    message, and the title gains "Error: " as screen readers announce it first."""
    values: dict[str, Any] = dict(context or {})
    values["errors"] = errors or []
    values["field_errors"] = errors_by_field(errors or [])
    values["static_path"] = STATIC_PATH
    # Set by the staff pages' sign-in check (web/pages/staff_auth.py): the layout shows who
    # is signed in, and every form carries the session's token.
    values.setdefault("staff_user", getattr(request.state, "staff_user", None))
    values.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    headers = {**PAGE_HEADERS, **(NO_STORE if no_store else {})}
    response = templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=headers
    )
    return response
