"""The victims' pages, "track my report": sign in by one-time code, sign out, and leave
quickly; and what every victim page shares (headers, cookies, the session, the form token).
The case page itself, with "Request an update" and "Your preferences", is
web.pages.victim_case.

Separate from staff sign-in: their own cookie (`updates_session`, a neutral name, sent
only under /track), their own sessions table, a short idle lifetime. Every answer,
redirects included, is `Cache-Control: no-store` with no referrer, and every page carries
"Exit this page", which also asks the browser to clear what the site left behind
(`Clear-Site-Data`). A code works only in the browser that asked for it (the device
cookie), so nobody who knows the reference can use or lock the victim's sign-in.
The sign-in pages read the same whatever the reference: the code is sent after the
answer has gone (a background task), so neither the words nor the timing say whether a
case has the reference.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.delivery import DeliveryBackend
from service.victim_case import VictimCaseView, london_time, read_victim_case
from service.victim_requests import CaseLine
from service.victim_sign_in import (
    CodeSender,
    accept_code_request,
    check_code,
    end_session,
    rules_from,
    send_code,
    signed_in_case,
)
from standards.victim_sign_in import SignInRules, normalise_code
from standards.vocabulary import DEFAULT_LANGUAGE, LANGUAGE_OWN_NAMES, Channel, Language
from web.api.context import ApiContext, api_context
from web.pages.rendering import NO_STORE, FieldError, render
from web.pages.victim_text import HTML_LANG, text, text_for

TRACK_PATH = "/track"
CODE_PATH = f"{TRACK_PATH}/code"
CASE_PATH = f"{TRACK_PATH}/case"
UPDATE_PATH = f"{CASE_PATH}/update"
PREFERENCES_PATH = f"{CASE_PATH}/preferences"
SIGN_OUT_PATH = f"{TRACK_PATH}/sign-out"
EXIT_PATH = f"{TRACK_PATH}/exit"

SESSION_COOKIE = "updates_session"
# The reference a code was asked for, until the code is typed (not a secret: it was typed).
PENDING_COOKIE = "updates_reference"
# A random token for this browser, set when it asks for a code: the code is bound to it.
DEVICE_COOKIE = "updates_device"
# What the case page says once after a request for an update (kept out of the address,
# so the browser's history shows only the case page).
NOTICE_COOKIE = "updates_notice"
UPDATE_NOTICES = ("asked", "already", "preferences", "unchanged")
_DEVICE_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# On "Exit this page": the browser drops this site's cookies, storage and cached pages.
CLEAR_SITE_DATA = {"Clear-Site-Data": '"cache", "cookies", "storage"'}

# The same pattern as an API reference (service.cases.Reference), checked here as a form.
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{2,31}")
# The English of each (web.pages.victim_text has every language's).
REFERENCE_ERROR = str(text(DEFAULT_LANGUAGE, "error.reference"))
CODE_FORMAT_ERROR = str(text(DEFAULT_LANGUAGE, "error.code_format"))
WRONG_CODE_ERROR = str(text(DEFAULT_LANGUAGE, "error.wrong_code"))
# The language a victim chose with the pages' switch ("Cymraeg" / "English"), set by
# `?lang=` on any page; after sign-in the case's language is the default until they
# switch again.
LANGUAGE_COOKIE = "updates_language"
LANGUAGE_PARAMETER = "lang"

VICTIM_HEADERS = {
    **NO_STORE,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Nothing from another host: styles, scripts and forms are all the app's own.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class VictimPages:
    """What the victim pages need, built once per app from its settings."""

    api: ApiContext
    rules: SignInRules
    sender: CodeSender
    backends: Mapping[Channel, DeliveryBackend]

    @property
    def contact_number(self) -> str:
        return self.api.policy.contact_number

    def now(self) -> datetime:
        return self.api.clock()

    @property
    def line(self) -> CaseLine:
        api = self.api
        return CaseLine(api.temporal, api.sessions, api.settings.api_write_timeout_seconds)

    def read_case(self, case_id: int, language: str | None = None) -> VictimCaseView | None:
        settings = self.api.settings
        return read_victim_case(
            self.api.sessions,
            case_id,
            self.now(),
            self.api.force,
            settings.force_name,
            settings.unit_name_pattern,
            self.api.policy,
            language,
        )


def victim_pages(request: Request) -> VictimPages:
    state = request.app.state
    pages: VictimPages | None = getattr(state, "victim_pages", None)
    if pages is None:
        api = api_context(request)
        rules = rules_from(api.settings)
        # Handed to the app by its composition root (web.app.create_app, bootstrap).
        backends = state.message_backends
        sender = CodeSender(
            sessions=api.sessions,
            renderer=state.message_renderer,
            backends=backends,
            rules=rules,
            force_name=api.settings.force_name,
            contact_number=api.policy.contact_number,
        )
        pages = VictimPages(api=api, rules=rules, sender=sender, backends=backends)
        state.victim_pages = pages
    return pages


def _offered(pages: VictimPages, language: str | None) -> str | None:
    return language if language is not None and pages.api.policy.offers_language(language) else None


def switched_language(request: Request, pages: VictimPages) -> str | None:
    """The language asked for with the switch: this request's `?lang=`, else the cookie it
    set; None if none (or one the policy does not offer)."""
    asked = _offered(pages, request.query_params.get(LANGUAGE_PARAMETER))
    return asked or _offered(pages, request.cookies.get(LANGUAGE_COOKIE))


def page_language(request: Request, pages: VictimPages, default: str = DEFAULT_LANGUAGE) -> str:
    """The language a victim page is drawn in: the one asked for with the switch, else
    `default` (English before sign-in, the case's language after), among those the
    policy offers."""
    return switched_language(request, pages) or _offered(pages, default) or DEFAULT_LANGUAGE


def _switch(request: Request, pages: VictimPages, language: str) -> list[dict[str, str]]:
    """The other languages' links (GOV.UK's language switch): each the same page in it."""
    return [
        {
            "code": code.value,
            "name": LANGUAGE_OWN_NAMES[Language(code)],
            "href": f"{request.url.path}?{LANGUAGE_PARAMETER}={code.value}",
        }
        for code in pages.api.policy.languages
        if code != language
    ]


def victim_page(
    request: Request,
    template: str,
    pages: VictimPages,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    errors: list[FieldError] | None = None,
    language: str | None = None,
) -> HTMLResponse:
    """A victim page in `language` (else `page_language`'s); a language asked for with the
    switch is kept in its cookie."""
    language = language or page_language(request, pages)
    values = {
        "contact_number": pages.contact_number,
        "exit_path": EXIT_PATH,
        "exit_url": pages.api.settings.victim_exit_url,
        "sign_in_path": TRACK_PATH,
        "code_path": CODE_PATH,
        "update_path": UPDATE_PATH,
        "preferences_path": PREFERENCES_PATH,
        "sign_out_path": SIGN_OUT_PATH,
        "t": text_for(language),
        "problem_title": text(language, "error.summary"),
        "error_prefix": text(language, "error.prefix"),
        "html_lang": HTML_LANG.get(language, language),
        "language_switch": _switch(request, pages, language),
        **(context or {}),
    }
    response = render(
        request, template, values, status_code=status_code, no_store=True, errors=errors
    )
    response.headers.update(VICTIM_HEADERS)
    asked = _offered(pages, request.query_params.get(LANGUAGE_PARAMETER))
    if asked is not None:
        set_cookie(request, response, LANGUAGE_COOKIE, asked)
    return response


def redirect_to(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=VICTIM_HEADERS)


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        path=TRACK_PATH,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _device(request: Request) -> str | None:
    token = request.cookies.get(DEVICE_COOKIE, "")
    return token if _DEVICE_TOKEN.fullmatch(token) else None


def forget_all(response: Response) -> None:
    for name in (SESSION_COOKIE, PENDING_COOKIE, DEVICE_COOKIE, NOTICE_COOKIE, LANGUAGE_COOKIE):
        response.delete_cookie(name, path=TRACK_PATH, httponly=True, samesite="strict")


def csrf_token(session_token: str) -> str:
    """The form token for a session: derived from its secret, so nothing more is stored."""
    return hmac.new(session_token.encode(), b"victim-form", hashlib.sha256).hexdigest()


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get(TRACK_PATH, response_class=HTMLResponse)
def sign_in_page(request: Request, signed_out: bool = False) -> HTMLResponse:
    pages = victim_pages(request)
    return victim_page(request, "victim/sign_in.html", pages, {"signed_out": signed_out})


@router.post(TRACK_PATH, response_class=HTMLResponse)
def ask_for_code(
    request: Request,
    background: BackgroundTasks,
    reference: Annotated[str, Form()] = "",
) -> Response:
    pages = victim_pages(request)
    language = page_language(request, pages)
    # Spaces a victim may copy around it are dropped; the letters stay as issued.
    typed = "".join(reference.split())
    if not _REFERENCE.fullmatch(typed):
        return victim_page(
            request,
            "victim/sign_in.html",
            pages,
            {"reference": reference},
            status_code=400,
            errors=[FieldError("reference", text(language, "error.reference"))],
        )
    now = pages.now()
    device = _device(request) or secrets.token_urlsafe(32)
    answer = accept_code_request(
        pages.api.sessions, typed, _client_address(request), device, now, pages.rules
    )
    if answer.request_id is None:
        assert answer.retry_at is not None
        return victim_page(
            request,
            "victim/sign_in.html",
            pages,
            {"reference": typed},
            status_code=429,
            errors=[
                FieldError(
                    "reference",
                    text(
                        language,
                        "error.too_many_codes",
                        time=london_time(answer.retry_at, language),
                        number=pages.contact_number,
                    ),
                )
            ],
        )
    # After the answer has gone: the asker learns nothing from how long it took.
    background.add_task(send_code, pages.sender, answer.request_id, now)
    response = redirect_to(CODE_PATH)
    set_cookie(request, response, PENDING_COOKIE, typed)
    set_cookie(request, response, DEVICE_COOKIE, device)
    return response


def _code_page(
    request: Request, pages: VictimPages, reference: str, errors: list[FieldError] | None = None
) -> HTMLResponse:
    minutes = int(pages.rules.code_lifetime.total_seconds() // 60)
    return victim_page(
        request,
        "victim/code.html",
        pages,
        {"reference": reference, "code_minutes": minutes},
        status_code=400 if errors else 200,
        errors=errors,
    )


@router.get(CODE_PATH, response_class=HTMLResponse)
def code_page(request: Request) -> Response:
    pages = victim_pages(request)
    reference = request.cookies.get(PENDING_COOKIE, "")
    if not _REFERENCE.fullmatch(reference):
        return redirect_to(TRACK_PATH)
    return _code_page(request, pages, reference)


@router.post(CODE_PATH, response_class=HTMLResponse)
def enter_code(request: Request, code: Annotated[str, Form()] = "") -> Response:
    pages = victim_pages(request)
    reference = request.cookies.get(PENDING_COOKIE, "")
    device = _device(request)
    if not _REFERENCE.fullmatch(reference) or device is None:
        return redirect_to(TRACK_PATH)
    language = page_language(request, pages)
    typed = normalise_code(code)
    if typed is None:
        wrong = text(language, "error.code_format")
        return _code_page(request, pages, reference, [FieldError("code", wrong)])
    check = check_code(pages.api.sessions, reference, device, typed, pages.now(), pages.rules)
    if check.token is not None:
        response = redirect_to(CASE_PATH)
        response.delete_cookie(PENDING_COOKIE, path=TRACK_PATH, httponly=True, samesite="strict")
        # Signed in, the case's language is the pages' default (the switch still works).
        response.delete_cookie(LANGUAGE_COOKIE, path=TRACK_PATH, httponly=True, samesite="strict")
        set_cookie(request, response, SESSION_COOKIE, check.token)
        return response
    if check.locked_until is not None:
        message = text(
            language,
            "error.locked",
            time=london_time(check.locked_until, language),
            number=pages.contact_number,
        )
        return _code_page(request, pages, reference, [FieldError("code", message)])
    wrong = text(language, "error.wrong_code")
    return _code_page(request, pages, reference, [FieldError("code", wrong)])


def signed_in_as(request: Request, pages: VictimPages) -> tuple[str, int] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    case_id = signed_in_case(pages.api.sessions, token, pages.now(), pages.rules)
    return (token, case_id) if case_id is not None else None


def form_token_ok(token: str, submitted: str) -> bool:
    return hmac.compare_digest(csrf_token(token), submitted)


@router.post(SIGN_OUT_PATH)
def sign_out(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    pages = victim_pages(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token and form_token_ok(token, csrf_token):
        end_session(pages.api.sessions, token, pages.now())
    response = redirect_to(f"{TRACK_PATH}?signed_out=true")
    forget_all(response)
    return response


@router.get(EXIT_PATH)
def exit_this_page(request: Request) -> Response:
    """End the session first, then go to the neutral site (a GET, so a plain link works
    without JavaScript; signing someone out is all a forged one could do)."""
    pages = victim_pages(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(pages.api.sessions, token, pages.now())
    response = redirect_to(pages.api.settings.victim_exit_url)
    forget_all(response)
    response.headers.update(CLEAR_SITE_DATA)
    return response
