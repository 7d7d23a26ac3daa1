"""The managers' dashboard timed as a whole page, for bench/report.py.

The web app is built as `pledge web` builds it (web.app.create_app on the database, the
policy and the force file; a Temporal client that is lazy and never used) and asked for
its pages in-process over ASGI by a signed-in manager, so a time is everything the page
costs on the server: the sign-in check, every query, the charts, the template. What the
network and the browser add is not in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Final
from urllib.parse import urlencode

import httpx

from bootstrap import force, policy, temporal_client
from config import Settings
from service.accounts import add_user
from standards.staff import AccountRuleError, StaffRole
from storage.database import make_engine, make_session_factory

MANAGER: Final = "bench-manager@met.example"
PASSWORD: Final = "bench manager passphrase"
_CSRF: Final = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass(frozen=True)
class PageTime:
    label: str
    seconds: float
    status: int
    size: int


def _pages(first: str, after_last: str, as_of: datetime) -> list[tuple[str, str]]:
    period = {"from": first, "to": after_last, "as_of": as_of.isoformat()}
    return [
        ("dashboard, force-wide", f"/dashboard?{urlencode(period)}"),
        ("dashboard, one borough", f"/dashboard?{urlencode(period | {'borough': 'camden'})}"),
        ("cases: all due, force-wide", f"/dashboard/cases?{urlencode(period)}"),
        (
            "cases: breached, borough x standard",
            "/dashboard/cases?"
            + urlencode(
                period | {"borough": "camden", "standard": "victim_update", "state": "breached"}
            ),
        ),
    ]


def _register_next(html: str) -> str | None:
    found = re.search(r'<a href="([^"]*)" id="register-next"', html)
    return unescape(found.group(1)) if found else None


async def _time_pages(
    database_url: str, period: tuple[str, str], as_of: datetime, runs: int
) -> list[PageTime]:
    settings = Settings(_env_file=None, database_url=database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with contextlib.suppress(AccountRuleError):  # made by an earlier run
        add_user(sessions, MANAGER, StaffRole.MANAGER, None, PASSWORD, actor="bench")
    from web.app import create_app

    app = create_app(
        settings,
        sessions,
        await temporal_client(settings, lazy=True),
        clock=lambda: as_of,
        policy=policy(settings),
        force=force(settings),
    )
    found: list[PageTime] = []
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench.invalid", timeout=600
        ) as http:
            form = await http.get("/sign-in")
            token = _CSRF.search(form.text)
            signed = await http.post(
                "/sign-in",
                data={
                    "csrf_token": unescape(token.group(1)) if token else "",
                    "email": MANAGER,
                    "password": PASSWORD,
                },
            )
            if signed.status_code != 303:
                raise SystemExit(f"the bench manager could not sign in: {signed.status_code}")
            pages = _pages(*period, as_of)
            first = await http.get(pages[0][1])  # warms the cache; not counted
            following = _register_next(first.text)
            if following:
                pages.insert(1, ("dashboard, register page 2", following))
            for label, path in pages:
                best: PageTime | None = None
                for _ in range(max(runs, 1)):
                    began = time.perf_counter()
                    response = await http.get(path)
                    seconds = time.perf_counter() - began
                    if best is None or seconds < best.seconds:
                        best = PageTime(label, seconds, response.status_code, len(response.content))
                assert best is not None
                found.append(best)
                print(
                    f"  page {label:38} {best.seconds:7.2f} s  HTTP {best.status}"
                    f"  {best.size / 1024:,.0f} KiB",
                    flush=True,
                )
    finally:
        engine.dispose()
    return found


def time_dashboard_pages(
    database_url: str, period: tuple[str, str], as_of: datetime, runs: int = 2
) -> list[PageTime]:
    """The best of ``runs`` for each page (and the register's second page), after one
    untimed dashboard that warms the database's cache."""
    return asyncio.run(_time_pages(database_url, period, as_of.astimezone(UTC), runs))
