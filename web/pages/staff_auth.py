"""What every staff page uses: who is signed in, which roles may open it, the form token.

    from web.pages.staff_auth import StaffUser, StaffRole, can_see, require_staff, checked_form

    @router.get("/queue")
    def queue(request: Request, user: Annotated[StaffUser, Depends(require_staff(VFU, MANAGER))]):
        ...  # render(request, "queue.html", {...}): the layout shows the user and sign-out

    @router.post("/cases/{reference}/contact")
    def record(
        request: Request,
        user: Annotated[StaffUser, Depends(require_staff(StaffRole.VFU))],
        form: Annotated[FormData, Depends(checked_form)],
    ): ...

`require_staff` sends a browser that is not signed in to `/sign-in?next=...` (303) and
answers 404 (as if the page did not exist) to a role that may not open it. `checked_form`
refuses a POST whose form token is missing or wrong with a 403 page, before the route
runs, so nothing changes. Raise `PageNotFound` for a case outside `can_see(user,
case.borough)`; filter lists with `visible_boroughs(user, force)` (None: all boroughs).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from config import Settings
from service.staff_sessions import (
    ActiveSession,
    SignInRules,
    csrf_matches,
    current_session,
)
from standards.staff import (
    HOME_PATH,
    SessionEnd,
    StaffRole,
    StaffUser,
    can_see,
    sees_cases,
    visible_boroughs,
)
from web.api.context import api_context
from web.pages.rendering import render

__all__ = [
    "AUTO_REFRESH_PARAM",
    "CSRF_FIELD",
    "IDLE_PARAM",
    "CsrfRefused",
    "PageNotFound",
    "SignInRequired",
    "StaffRole",
    "StaffUser",
    "can_see",
    "checked_form",
    "home_path",
    "install_staff_auth",
    "require_staff",
    "sees_cases",
    "visible_boroughs",
]

log = logging.getLogger("pledge.auth")

CSRF_FIELD = "csrf_token"
SIGN_IN_PATH = "/sign-in"
# A page that reloads itself (the queue) adds this to its own URL: such a request does
# not count as use, so an unattended screen is signed out after the idle timeout.
AUTO_REFRESH_PARAM = "auto_refresh"
# Added to the sign-in page's URL when the session ended for want of use.
IDLE_PARAM = "idle"


class SignInRequired(Exception):
    """Not signed in (or the session has ended): the browser goes to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageNotFound(Exception):
    """Answer 404 with the not-found page: an unknown case, one outside the user's
    borough, or a page the user's role may not open (their existence is not revealed)."""


class CsrfRefused(Exception):
    """A form posted without this session's form token: refused, nothing changed."""


def home_path(user: StaffUser) -> str:
    return HOME_PATH[user.role]


def cookie_is_secure(settings: Settings) -> bool:
    """Secure cookies, except in development on plain http at a loopback address (where a
    browser would never send them back)."""
    if settings.staff_cookie_secure != "auto":
        return settings.staff_cookie_secure == "always"
    url = urlsplit(settings.public_base_url)
    if url.scheme != "http":
        return True
    return not is_loopback_host(url.hostname or "")


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1): this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def served_for_development(request: Request, settings: Settings) -> bool:
    """The service runs for development (its public address is this machine's) and the
    request comes from this machine: what a page only for developers needs."""
    public = urlsplit(settings.public_base_url).hostname or ""
    client = request.client.host if request.client else ""
    return is_loopback_host(public) and is_loopback_host(client)


def set_session_cookie(response: Response, settings: Settings, name: str, value: str) -> None:
    # No Max-Age: a browser session cookie; the server ends the session after the idle
    # timeout or lifetime whatever the browser keeps.
    response.set_cookie(
        name,
        value,
        httponly=True,
        secure=cookie_is_secure(settings),
        samesite="lax",
        path="/",
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=cookie_is_secure(settings), httponly=True, samesite="lax"
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _path_with_query(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def signed_in(request: Request) -> ActiveSession | None:
    """The live session of this request (also kept on request.state for the layout)."""
    cached: ActiveSession | None = getattr(request.state, "staff_session", None)
    if cached is not None:
        return cached
    context = api_context(request)
    session_id = request.cookies.get(context.settings.staff_cookie_name)
    if not session_id:
        return None
    found = current_session(
        context.sessions,
        session_id,
        context.clock(),
        SignInRules.from_settings(context.settings).limits,
        touch=AUTO_REFRESH_PARAM not in request.query_params,
    )
    if not isinstance(found, ActiveSession):
        request.state.session_end = found.reason
        if found.reason is not None:
            log.info("session refused (%s) for a request to %s", found.reason, request.url.path)
        return None
    request.state.staff_session = found
    request.state.staff_user = found.user
    request.state.csrf_token = found.csrf_token
    return found


def require_staff(*roles: StaffRole) -> Callable[[Request], StaffUser]:
    """A dependency: the signed-in user, if their role is one of `roles` (any role when
    none are given). Not signed in: 303 to the sign-in page; another role: 404."""
    allowed = frozenset(roles) or frozenset(StaffRole)

    def signed_in_staff(request: Request) -> StaffUser:
        active = signed_in(request)
        if active is None:
            raise SignInRequired(_path_with_query(request))
        if active.user.role not in allowed:
            raise PageNotFound()
        return active.user

    return signed_in_staff


async def checked_form(request: Request) -> FormData:
    """A dependency for every POST: the form, if it carries this session's form token.

    Put it after `require_staff` in the route's parameters (dependencies run in order), so
    a browser that is not signed in is sent to sign in rather than refused.
    """
    form = await request.form()
    presented = form.get(CSRF_FIELD)
    context = api_context(request)
    session_id = request.cookies.get(context.settings.staff_cookie_name)
    if not session_id or not isinstance(presented, str) or not csrf_matches(session_id, presented):
        log.warning("refused a form without its token: POST %s", request.url.path)
        raise CsrfRefused()
    return form


StaffForm = Annotated[FormData, Depends(checked_form)]


def install_staff_auth(app: FastAPI) -> None:
    """The answers to the exceptions above: a redirect, the 404 page and the 403 page."""

    async def to_sign_in(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInRequired)
        query = []
        if error.next_path and error.next_path != "/":
            query.append("next=" + quote(error.next_path, safe="/"))
        if getattr(request.state, "session_end", None) == SessionEnd.IDLE:
            query.append(f"{IDLE_PARAM}=1")
        target = SIGN_IN_PATH + ("?" + "&".join(query) if query else "")
        response = RedirectResponse(target, status_code=303)
        context = api_context(request)
        if context.settings.staff_cookie_name in request.cookies:
            clear_cookie(response, context.settings, context.settings.staff_cookie_name)
        return response

    async def not_found(request: Request, error: Exception) -> Response:
        return render(request, "not_found.html", status_code=404, no_store=True)

    async def refused(request: Request, error: Exception) -> Response:
        return render(request, "csrf_refused.html", status_code=403, no_store=True)

    app.add_exception_handler(SignInRequired, to_sign_in)
    app.add_exception_handler(PageNotFound, not_found)
    app.add_exception_handler(CsrfRefused, refused)
