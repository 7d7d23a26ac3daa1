"""Helpers for tests of the staff pages: accounts in a database, signing in over HTTP.

    user = create_staff_user(database_url, "vfu@camden.example", StaffRole.VFU, "camden")
    async with running_pages(database_url) as pages:          # no Temporal needed
        http = await sign_in(pages.http, user.email)           # follows the form-token flow
        page = await http.get("/queue")

With Temporal (the API tests' `running_api`), pass its `api.http` to `sign_in` instead.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from config import Settings
from service.accounts import add_user
from standards.staff import StaffRole, StaffUser
from storage import models
from storage.database import make_engine, make_session_factory
from tests.support.api import serving
from tests.support.dev import free_port
from web.app import create_app

# Meets the password policy; every test account has it unless told otherwise.
STAFF_PASSWORD = "correct horse battery staple"

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')


def create_staff_user(
    database_url: str,
    email: str,
    role: StaffRole,
    borough: str | None = None,
    password: str = STAFF_PASSWORD,
    name: str | None = None,
) -> StaffUser:
    """An account in the database at `database_url` (`borough` a unit id, e.g. "camden";
    `name` its display name, None for none)."""
    engine = make_engine(database_url)
    try:
        return add_user(
            make_session_factory(engine),
            email,
            role,
            borough,
            password,
            actor="test",
            display_name=name,
        )
    finally:
        engine.dispose()


def csrf_token_of(html: str) -> str:
    """The form token in a page (every staff page has one, in the sign-out form)."""
    found = _CSRF_INPUT.search(html)
    assert found is not None, "no csrf_token field on the page"
    return unescape(found.group(1))


def form_event_id(html: str, obligation_id: int, action: str) -> str:
    """The event id of the `action` form (contact, explanation) on `obligation_id`'s row."""
    form = re.search(
        rf'action="[^"]*/{action}"[^>]*>(?:(?!</form>).)*?name="obligation" value="{obligation_id}"'
        r'(?:(?!</form>).)*?name="event_id" value="([^"]+)"',
        html,
        re.DOTALL,
    )
    assert form is not None, f"no {action} form for obligation {obligation_id}"
    return form.group(1)


async def sign_in_response(
    http: httpx.AsyncClient, email: str, password: str = STAFF_PASSWORD, next_path: str = ""
) -> httpx.Response:
    """GET the sign-in form (for its cookie and token) and POST it; the POST's response."""
    page = await http.get("/sign-in")
    assert page.status_code == 200, page.text
    action = "/sign-in" + (f"?next={quote(next_path, safe='/')}" if next_path else "")
    return await http.post(
        action,
        data={"csrf_token": csrf_token_of(page.text), "email": email, "password": password},
    )


async def sign_in(
    http: httpx.AsyncClient, email: str, password: str = STAFF_PASSWORD
) -> httpx.AsyncClient:
    """Sign `http` in (it keeps the session cookie); fails the test if sign-in is refused."""
    response = await sign_in_response(http, email, password)
    assert response.status_code == 303, f"sign-in refused: {response.status_code} {response.text}"
    return http


async def form_token(http: httpx.AsyncClient, path: str) -> str:
    """The form token on the page at `path`, for a POST made by hand."""
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return csrf_token_of(page.text)


class MovableClock:
    """The app's clock, moved on by the test (`clock.advance(minutes=31)`)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Pages:
    http: httpx.AsyncClient
    base_url: str
    sessions: sessionmaker[Session]
    settings: Settings

    def client(self) -> httpx.AsyncClient:
        """Another browser (its own cookies) on the same app; close it after use."""
        return httpx.AsyncClient(base_url=self.base_url, timeout=30)


@contextlib.asynccontextmanager
async def running_pages(
    database_url: str, clock: Callable[[], datetime] | None = None, **settings: Any
) -> AsyncIterator[Pages]:
    """The web app on a real socket without Temporal (its client is lazy and unused: the
    staff sign-in and admin pages never reach it)."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    config = Settings(database_url=database_url, **settings)
    temporal = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    app = (
        create_app(config, sessions, temporal, clock=clock)
        if clock
        else create_app(config, sessions, temporal)
    )
    try:
        async with (
            serving(app) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        ):
            yield Pages(http, base_url, sessions, config)
    finally:
        engine.dispose()


def staff_state(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """What a state change would change: accounts, sessions (whether each has ended, not
    when it was last used), tokens and the sign-in log's length."""
    with sessions() as session:
        return {
            "users": sorted(
                (row.email, row.display_name, row.role, row.borough, row.disabled_at)
                for row in session.scalars(select(models.StaffUserRecord))
            ),
            "sessions": sorted(
                (row.id, row.ended_at, row.ended_reason)
                for row in session.scalars(select(models.StaffSession))
            ),
            "tokens": sorted(
                (row.name, row.revoked_at) for row in session.scalars(select(models.ApiToken))
            ),
            "events": session.scalar(select(func.count()).select_from(models.StaffAuthEvent)),
        }


def auth_events(sessions: sessionmaker[Session]) -> list[models.StaffAuthEvent]:
    with sessions() as session:
        query = select(models.StaffAuthEvent).order_by(models.StaffAuthEvent.id)
        return list(session.scalars(query))


def cookie_attributes(response: httpx.Response, name: str) -> dict[str, str]:
    """The attributes of the Set-Cookie header for `name` (lowercased keys; "value" too)."""
    for header in response.headers.get_list("set-cookie"):
        first, *rest = [part.strip() for part in header.split(";")]
        key, _, value = first.partition("=")
        if key == name:
            attributes = {"value": value}
            for part in rest:
                attribute, _, setting = part.partition("=")
                attributes[attribute.lower()] = setting
            return attributes
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


def listed_references(html: str) -> list[str]:
    """The case references the VFU queue lists, in its order."""
    return re.findall(r'<td data-label="Reference"[^>]*>\s*<a href="/cases/([^"#]+)"', html)
