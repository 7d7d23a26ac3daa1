"""The admin pages: staff accounts and HTTP API tokens, created, listed and revoked.

Only admins open them (anyone else gets the not-found page). Every change is a form post
with the session's token, and goes through the same services as `pledge user` and
`pledge token`. A new token's secret is shown once, on the page that created it, and is
never stored (only its digest is).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from service.accounts import (
    add_user,
    checked_display_name,
    disable_user,
    enable_user,
    list_users,
    normalise_email,
    parse_role,
    record_event,
    rename_user,
)
from service.tokens import Scope, TokenError, create_token, list_tokens, revoke_token
from standards.staff import (
    AccountRuleError,
    StaffRole,
    StaffUser,
    borough_problem,
    password_problem,
)
from standards.vocabulary import AuthEvent
from web.api.context import ApiContext, api_context
from web.pages.rendering import FieldError, render
from web.pages.staff_auth import StaffForm, require_staff

router = APIRouter(prefix="/admin", include_in_schema=False)

Admin = Annotated[StaffUser, Depends(require_staff(StaffRole.ADMIN))]

USERS_PATH = "/admin/users"
NOTICES = {"added": "Account added for", "disabled": "Disabled", "enabled": "Enabled"}
TOKENS_PATH = "/admin/tokens"
SCOPE_HINTS = {
    Scope.CASES_WRITE: "open cases and record events",
    Scope.CASES_READ: "read cases and what is due",
    Scope.VICTIMS_READ: "read victims' contact details",
}


def _borough_options(context: ApiContext, empty: str) -> list[tuple[str, str]]:
    return [("", empty), *((unit.id, unit.name) for unit in context.force.units)]


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _users_page(
    request: Request,
    user: StaffUser,
    values: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context = api_context(request)
    users = list_users(context.sessions)
    return render(
        request,
        "admin_users.html",
        {
            "nav_current": "admin_users",
            "users": users,
            "account_options": [("", "Choose an account"), *((str(u.id), u.email) for u in users)],
            "force": context.force,
            "me": user,
            "values": values or {},
            "roles": [(role.value, role.value) for role in StaffRole],
            "boroughs": _borough_options(context, "None (admin, or a manager of the force)"),
            "notice": notice,
        },
        errors=errors,
        status_code=status_code,
        no_store=True,
    )


@router.get("/users")
def users_page(request: Request, user: Admin) -> Response:
    # The notice names an account by its id, so a crafted link cannot put words on the page.
    notice = None
    accounts = {str(row.id): row for row in list_users(api_context(request).sessions)}
    for key, wording in (
        ("added", "Account added for"),
        ("disabled", "Disabled"),
        ("enabled", "Enabled"),
    ):
        account = accounts.get(request.query_params.get(key, ""))
        if account is not None:
            notice = f"{wording} {account.email}"
    renamed = accounts.get(request.query_params.get("renamed", ""))
    if renamed is not None:
        notice = f"{renamed.email} is now shown as {renamed.display_name or renamed.email}"
    return _users_page(request, user, notice=notice)


def _name_error(field: str, name: str) -> FieldError | None:
    try:
        checked_display_name(name)
    except AccountRuleError as error:
        return FieldError(field, str(error).capitalize())
    return None


def _new_account_errors(
    context: ApiContext, email: str, name: str, role_text: str, borough: str, password: str
) -> tuple[list[FieldError], StaffRole | None, str | None]:
    errors: list[FieldError] = []
    role: StaffRole | None = None
    try:
        normalise_email(email)
    except AccountRuleError:
        errors.append(FieldError("email", "Enter an email address, like name@example.org"))
    name_error = _name_error("display_name", name) if name else None
    if name_error is not None:
        errors.append(name_error)
    try:
        role = parse_role(role_text)
    except AccountRuleError as error:
        errors.append(FieldError("role", str(error).capitalize()))
    unit = context.force.unit(borough)
    unit_id = unit.id if unit is not None else None
    if borough and unit_id is None:
        errors.append(FieldError("borough", "Choose a borough from the list"))
    if role is not None:
        problem = borough_problem(role, unit_id)
        if problem is not None:
            message = (
                "Choose the borough a vfu user works in"
                if role == StaffRole.VFU
                else "An admin has no borough: choose None"
            )
            errors.append(FieldError("borough", message))
    problem = password_problem(password)
    if problem is not None:
        errors.append(FieldError("password", problem[0].upper() + problem[1:]))
    return errors, role, unit_id


@router.post("/users")
async def add_user_submit(request: Request, user: Admin, form: StaffForm) -> Response:
    context = api_context(request)
    email, borough = _text(form, "email"), _text(form, "borough")
    name, role_text = _text(form, "display_name"), _text(form, "role")
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    values = {"email": email, "display_name": name, "role": role_text, "borough": borough}
    errors, role, unit_id = _new_account_errors(context, email, name, role_text, borough, password)
    if not errors and role is not None:
        try:
            added = await asyncio.to_thread(
                add_user,
                context.sessions,
                email,
                role,
                unit_id,
                password,
                user.email,
                display_name=name or None,
            )
        except AccountRuleError as error:
            errors.append(FieldError("email", str(error).capitalize()))
        else:
            return RedirectResponse(f"{USERS_PATH}?added={added.id}", status_code=303)
    return _users_page(request, user, values, errors, status_code=400)


@router.post("/users/name")
async def rename_user_submit(request: Request, user: Admin, form: StaffForm) -> Response:
    """Change the name the pages show for an account (who did what on a case, an alert)."""
    context = api_context(request)
    account_id, name = _text(form, "account"), _text(form, "new_name")
    values = {"account": account_id, "new_name": name}
    target = next((row for row in list_users(context.sessions) if str(row.id) == account_id), None)
    errors: list[FieldError] = []
    if target is None:
        errors.append(FieldError("account", "Choose an account from the list"))
    name_error = _name_error("new_name", name)
    if name_error is not None:
        errors.append(name_error)
    if errors or target is None:
        return _users_page(request, user, values, errors, status_code=400)
    await asyncio.to_thread(rename_user, context.sessions, target.email, name, user.email)
    return RedirectResponse(f"{USERS_PATH}?renamed={target.id}", status_code=303)


@router.post("/users/{user_id}/disable")
async def disable_user_submit(
    request: Request, user_id: int, user: Admin, form: StaffForm
) -> Response:
    return await _set_active(request, user, user_id, active=False)


@router.post("/users/{user_id}/enable")
async def enable_user_submit(
    request: Request, user_id: int, user: Admin, form: StaffForm
) -> Response:
    return await _set_active(request, user, user_id, active=True)


async def _set_active(request: Request, admin: StaffUser, user_id: int, active: bool) -> Response:
    context = api_context(request)
    target = next((row for row in list_users(context.sessions) if row.id == user_id), None)
    if target is None:
        return render(request, "not_found.html", status_code=404, no_store=True)
    if target.id == admin.id and not active:
        # The last admin disabling themselves would leave only the command line.
        error = FieldError("users", "You cannot disable your own account")
        return _users_page(request, admin, errors=[error], status_code=400)
    change = enable_user if active else disable_user
    await asyncio.to_thread(change, context.sessions, target.email, admin.email, context.clock())
    done = "enabled" if active else "disabled"
    return RedirectResponse(f"{USERS_PATH}?{done}={target.id}", status_code=303)


def _tokens_page(
    request: Request,
    values: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    created: tuple[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context = api_context(request)
    return render(
        request,
        "admin_tokens.html",
        {
            "nav_current": "admin_tokens",
            "tokens": list_tokens(context.sessions),
            "force": context.force,
            "values": values or {"scopes": []},
            "scopes": [(scope.value, SCOPE_HINTS[scope]) for scope in Scope],
            "boroughs": _borough_options(context, "All boroughs"),
            "created": created,
            "notice": notice,
        },
        errors=errors,
        status_code=status_code,
        no_store=True,
    )


@router.get("/tokens")
def tokens_page(request: Request, user: Admin) -> Response:
    revoked = request.query_params.get("revoked", "")
    known = {token.name for token in list_tokens(api_context(request).sessions) if token.revoked_at}
    return _tokens_page(request, notice=f"Token {revoked} revoked" if revoked in known else None)


@router.post("/tokens")
async def create_token_submit(request: Request, user: Admin, form: StaffForm) -> Response:
    context = api_context(request)
    name, borough = _text(form, "name"), _text(form, "borough")
    chosen = [value for value in form.getlist("scopes") if isinstance(value, str)]
    values: dict[str, Any] = {"name": name, "borough": borough, "scopes": chosen}
    errors: list[FieldError] = []
    scopes = [Scope(value) for value in chosen if value in set(Scope)]
    if not name:
        errors.append(FieldError("name", "Enter a name for who holds the token"))
    if not scopes:
        errors.append(FieldError("scopes", "Choose at least one thing the token may do"))
    unit = context.force.unit(borough) if borough else None
    if borough and unit is None:
        errors.append(FieldError("borough", "Choose a borough from the list"))
    if not errors:
        try:
            secret = await asyncio.to_thread(
                create_token, context.sessions, name, scopes, unit.id if unit else None
            )
        except TokenError as error:
            errors.append(FieldError("name", str(error).capitalize()))
        else:
            _log(context, AuthEvent.TOKEN_CREATED, user, name)
            return _tokens_page(request, created=(name, secret), status_code=201)
    return _tokens_page(request, values, errors, status_code=400)


@router.post("/tokens/{name}/revoke")
async def revoke_token_submit(
    request: Request, name: str, user: Admin, form: StaffForm
) -> Response:
    context = api_context(request)
    try:
        await asyncio.to_thread(revoke_token, context.sessions, name)
    except TokenError:
        return render(request, "not_found.html", status_code=404, no_store=True)
    _log(context, AuthEvent.TOKEN_REVOKED, user, name)
    return RedirectResponse(f"{TOKENS_PATH}?{urlencode({'revoked': name})}", status_code=303)


def _log(context: ApiContext, event: AuthEvent, user: StaffUser, token_name: str) -> None:
    with context.sessions.begin() as session:
        record_event(
            session, event, context.clock(), actor=user.email, detail=f"token {token_name}"
        )
