"""The victim's own case page: what they see, "Request an update" and "Your preferences".

The sign-in, the cookies, the headers and "Exit this page" are in web.pages.victim; every
answer here is `Cache-Control: no-store` like theirs, and every POST is answered with a
303 back to the case page (the notice for it in a short-lived cookie, never the address)
or, for a form with a wrong field, the page again with its error summary.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict

from service.victim_requests import change_preferences, request_update
from standards.contact import contact_choice
from standards.vocabulary import LANGUAGE_OWN_NAMES, Language
from web.pages.rendering import FieldError
from web.pages.victim import (
    CASE_PATH,
    NOTICE_COOKIE,
    PREFERENCES_PATH,
    TRACK_PATH,
    UPDATE_NOTICES,
    UPDATE_PATH,
    VictimPages,
    csrf_token,
    forget_all,
    form_token_ok,
    page_language,
    redirect_to,
    set_cookie,
    signed_in_as,
    switched_language,
    victim_page,
    victim_pages,
)
from web.pages.victim_text import text_for

router = APIRouter(include_in_schema=False)


class PreferencesForm(BaseModel):
    """The "Your preferences" form as posted; checked by standards.contact.contact_choice."""

    model_config = ConfigDict(extra="ignore")

    csrf_token: str = ""
    channel: str = ""
    # "yes" when "Do not send me text messages" is ticked.
    no_texts: str = ""
    safe_from: str = ""
    safe_until: str = ""
    # The language of their messages (a code the policy offers); empty: unchanged.
    language: str = ""


def _case_page(
    request: Request,
    pages: VictimPages,
    token: str,
    case_id: int,
    *,
    notice: str | None = None,
    errors: list[FieldError] | None = None,
    submitted: dict[str, Any] | None = None,
) -> Response:
    view = pages.read_case(case_id, switched_language(request, pages))
    if view is None:
        return redirect_to(TRACK_PATH)
    return victim_page(
        request,
        "victim/case.html",
        pages,
        {
            "case": view,
            "csrf_token": csrf_token(token),
            "update_notice": notice if notice in UPDATE_NOTICES else None,
            "submitted": submitted,
            # Each language the policy offers, in its own name (the victim reads it so).
            "language_choices": [
                (code.value, LANGUAGE_OWN_NAMES[Language(code)])
                for code in pages.api.policy.languages
            ],
        },
        status_code=400 if errors else 200,
        errors=errors,
        # The case's language unless the victim switched (web.pages.victim.page_language).
        language=page_language(request, pages, view.language),
    )


@router.get(CASE_PATH, response_class=HTMLResponse)
def case_page(request: Request) -> Response:
    pages = victim_pages(request)
    signed_in = signed_in_as(request, pages)
    if signed_in is None:
        response = redirect_to(TRACK_PATH)
        forget_all(response)
        return response
    token, case_id = signed_in
    notice = request.cookies.get(NOTICE_COOKIE)
    page = _case_page(request, pages, token, case_id, notice=notice)
    if notice is not None:
        page.delete_cookie(NOTICE_COOKIE, path=TRACK_PATH, httponly=True, samesite="strict")
    return page


def _with_notice(request: Request, notice: str) -> Response:
    response = redirect_to(CASE_PATH)
    set_cookie(request, response, NOTICE_COOKIE, notice, max_age=60)
    return response


@router.post(UPDATE_PATH)
async def ask_for_update(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    pages = victim_pages(request)
    signed_in = await asyncio.to_thread(signed_in_as, request, pages)
    if signed_in is None or not form_token_ok(signed_in[0], csrf_token):
        return redirect_to(TRACK_PATH)
    raised = await request_update(pages.line, signed_in[1], pages.now())
    return _with_notice(request, "asked" if raised else "already")


@router.post(PREFERENCES_PATH)
async def change_contact_preferences(
    request: Request, form: Annotated[PreferencesForm, Form()]
) -> Response:
    pages = victim_pages(request)
    signed_in = await asyncio.to_thread(signed_in_as, request, pages)
    if signed_in is None or not form_token_ok(signed_in[0], form.csrf_token):
        return redirect_to(TRACK_PATH)
    token, case_id = signed_in
    view = await asyncio.to_thread(pages.read_case, case_id)
    if view is None:
        return redirect_to(TRACK_PATH)
    choice = contact_choice(
        form.channel,
        form.no_texts == "yes",
        form.safe_from,
        form.safe_until,
        view.preferences.has_email,
        view.preferences.has_phone,
        pages.contact_number,
    )
    # The problems in the language the page is drawn in.
    t = text_for(page_language(request, pages, view.language))
    errors = (
        [
            FieldError(problem.field, t(f"prefs.error.{problem.code}", number=pages.contact_number))
            for problem in choice
        ]
        if isinstance(choice, list)
        else []
    )
    if form.language and not pages.api.policy.offers_language(form.language):
        errors.append(FieldError("language", t("prefs.language_error")))
    if errors or isinstance(choice, list):
        submitted = {**form.model_dump(exclude={"csrf_token"}), "no_texts": form.no_texts == "yes"}
        return await asyncio.to_thread(
            _case_page, request, pages, token, case_id, errors=errors, submitted=submitted
        )
    changed = await change_preferences(
        pages.line, case_id, choice, pages.now(), form.language or None
    )
    return _with_notice(request, "preferences" if changed else "unchanged")
