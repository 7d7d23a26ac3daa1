"""`/sign-in`, `/sign-out` and `/`: staff sign in with an email address and a password.

The sign-in form has a token of its own before there is a session: a random pre-session
cookie the token is derived from, so another site cannot sign a browser in to an account
of its choosing (login CSRF). Signing in always starts a new session id.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from service.staff_sessions import (
    Refused,
    SignedIn,
    SignInRules,
    Throttled,
    csrf_matches,
    csrf_token_for,
    sign_in,
    sign_out,
)
from standards.staff import StaffUser, safe_next_path
from web.api.context import api_context
from web.pages.rendering import FieldError, render
from web.pages.staff_auth import (
    CSRF_FIELD,
    IDLE_PARAM,
    SIGN_IN_PATH,
    CsrfRefused,
    StaffForm,
    clear_cookie,
    client_address,
    home_path,
    require_staff,
    set_session_cookie,
    signed_in,
)

router = APIRouter(include_in_schema=False)

WRONG_DETAILS = "Enter the email address and password of an active account"
SIGNED_OUT_NOTICE = "You have signed out"
IDLE_NOTICE = "You were signed out for inactivity: sign in again to carry on"


def _pre_cookie_name(request: Request) -> str:
    return api_context(request).settings.staff_cookie_name + "_signin"


def _form_page(
    request: Request,
    pre_session: str,
    email: str = "",
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    settings = api_context(request).settings
    return render(
        request,
        "sign_in.html",
        {
            "csrf_token": csrf_token_for(pre_session),
            "email": email,
            "next_path": safe_next_path(request.query_params.get("next")),
            "notice": notice,
            "idle_minutes": f"{settings.staff_idle_timeout_minutes:g}",
        },
        status_code=status_code,
        errors=errors,
        no_store=True,
    )


@router.get(SIGN_IN_PATH)
def sign_in_page(request: Request) -> Response:
    active = signed_in(request)
    if active is not None:
        target = safe_next_path(request.query_params.get("next")) or home_path(active.user)
        return RedirectResponse(target, status_code=303)
    name = _pre_cookie_name(request)
    pre_session = request.cookies.get(name) or secrets.token_urlsafe(32)
    notice = SIGNED_OUT_NOTICE if request.query_params.get("signed_out") else None
    if request.query_params.get(IDLE_PARAM):
        notice = IDLE_NOTICE
    response = _form_page(request, pre_session, notice=notice)
    set_session_cookie(response, api_context(request).settings, name, pre_session)
    return response


@router.post(SIGN_IN_PATH)
async def sign_in_submit(request: Request) -> Response:
    context = api_context(request)
    form = await request.form()
    pre_session = request.cookies.get(_pre_cookie_name(request))
    presented = form.get(CSRF_FIELD)
    if (
        not pre_session
        or not isinstance(presented, str)
        or not csrf_matches(pre_session, presented)
    ):
        raise CsrfRefused()
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    errors: list[FieldError] = []
    if not email:
        errors.append(FieldError("email", "Enter your email address"))
    if not password:
        errors.append(FieldError("password", "Enter your password"))
    if errors:
        return _form_page(request, pre_session, email, errors, status_code=400)
    outcome = await asyncio.to_thread(
        sign_in,
        context.sessions,
        email,
        password,
        client_address(request),
        context.clock(),
        SignInRules.from_settings(context.settings),
        request.cookies.get(context.settings.staff_cookie_name),
    )
    if isinstance(outcome, Refused):
        return _form_page(
            request, pre_session, email, [FieldError("email", WRONG_DETAILS)], status_code=400
        )
    if isinstance(outcome, Throttled):
        minutes = max(1, -(-int(outcome.retry_after.total_seconds()) // 60))
        message = (
            f"Too many failed attempts to sign in: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}"
        )
        response = _form_page(
            request, pre_session, email, [FieldError("email", message)], status_code=429
        )
        response.headers["Retry-After"] = str(int(outcome.retry_after.total_seconds()))
        return response
    assert isinstance(outcome, SignedIn)
    target = safe_next_path(request.query_params.get("next")) or home_path(outcome.user)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(
        response, context.settings, context.settings.staff_cookie_name, outcome.session_id
    )
    clear_cookie(response, context.settings, _pre_cookie_name(request))
    return response


@router.post("/sign-out")
async def sign_out_submit(
    request: Request,
    user: Annotated[StaffUser, Depends(require_staff())],
    form: StaffForm,
) -> Response:
    context = api_context(request)
    session_id = request.cookies.get(context.settings.staff_cookie_name, "")
    await asyncio.to_thread(
        sign_out, context.sessions, session_id, user, client_address(request), context.clock()
    )
    response = RedirectResponse(f"{SIGN_IN_PATH}?signed_out=1", status_code=303)
    clear_cookie(response, context.settings, context.settings.staff_cookie_name)
    return response


@router.get("/")
def start_page(request: Request) -> Response:
    active = signed_in(request)
    target = home_path(active.user) if active is not None else SIGN_IN_PATH
    return RedirectResponse(target, status_code=303)
