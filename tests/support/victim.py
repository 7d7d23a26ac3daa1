"""Helpers for the victims' pages: cases with a victim, the codes the local outbox holds,
signing in over HTTP, and a clock a test can move."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from messaging.rendering import SIGN_IN_CODE_TEMPLATE
from storage import models
from storage.victim_models import VictimCodeRequest
from tests.support.api import Api, open_case_over_http

TRACK = "/track"
CODE = "/track/code"
CASE = "/track/case"
CODE_IN_MESSAGE = re.compile(r"code is (\d{6})")
# How long a test waits for the worker or a background send before saying which is silent.
WAIT_SECONDS = 30.0


@dataclass
class MovableClock:
    """The app's clock: real time plus however far the test has moved it."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


async def open_victim_case(api: Api, **victim: Any) -> tuple[str, int]:
    """A case opened through the API, its victim as given (email by default); (reference, id)."""
    details = {"email": "alex@example.org", "preferred_channel": "email", **victim}
    opened = await open_case_over_http(api, **details)
    reference: str = opened["reference"]
    with api.sessions() as session:
        case_id = session.scalar(select(models.Case.id).where(models.Case.reference == reference))
    assert case_id is not None
    return reference, case_id


async def wait_for_obligation(sessions: sessionmaker[Session], case_id: int, standard: str) -> None:
    async def recorded() -> bool:
        with sessions() as session:
            return (
                session.scalar(
                    select(models.Obligation.id).where(
                        models.Obligation.case_id == case_id, models.Obligation.standard == standard
                    )
                )
                is not None
            )

    await _until(recorded, f"the worker never recorded the {standard} obligation")


def set_officer(sessions: sessionmaker[Session], case_id: int, name: str, contact: str) -> None:
    with sessions.begin() as session:
        session.execute(
            update(models.Case)
            .where(models.Case.id == case_id)
            .values(officer_name=name, officer_contact=contact)
        )


async def _until(check: Any, silent: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{silent} within {WAIT_SECONDS:.0f}s")
        await asyncio.sleep(0.05)


async def requests_dealt_with(sessions: sessionmaker[Session]) -> list[str]:
    """Wait until every code request has an outcome; the outcomes, oldest first."""

    async def done() -> bool:
        with sessions() as session:
            pending = session.scalar(
                select(VictimCodeRequest.id).where(VictimCodeRequest.outcome.is_(None))
            )
            return pending is None

    await _until(done, "a code request was never dealt with (the background send)")
    with sessions() as session:
        return [
            str(outcome)
            for outcome in session.scalars(
                select(VictimCodeRequest.outcome).order_by(VictimCodeRequest.id)
            )
        ]


def codes_sent(sessions: sessionmaker[Session], case_id: int) -> list[str]:
    """The codes in the local outbox for a case, newest first."""
    with sessions() as session:
        bodies = session.scalars(
            select(models.OutboxMessage.body)
            .where(
                models.OutboxMessage.case_id == case_id,
                models.OutboxMessage.template == SIGN_IN_CODE_TEMPLATE,
            )
            .order_by(models.OutboxMessage.id.desc())
        )
        return [match.group(1) for body in bodies if (match := CODE_IN_MESSAGE.search(body))]


async def ask_for_code(http: httpx.AsyncClient, reference: str) -> httpx.Response:
    return await http.post(TRACK, data={"reference": reference})


async def new_code(
    http: httpx.AsyncClient, sessions: sessionmaker[Session], reference: str, case_id: int
) -> str:
    before = codes_sent(sessions, case_id)
    response = await ask_for_code(http, reference)
    assert response.status_code == 303, response.text
    await requests_dealt_with(sessions)
    codes = codes_sent(sessions, case_id)
    assert len(codes) == len(before) + 1, "no code was sent"
    return codes[0]


async def enter_code(http: httpx.AsyncClient, code: str) -> httpx.Response:
    return await http.post(CODE, data={"code": code})


async def sign_in(
    http: httpx.AsyncClient, sessions: sessionmaker[Session], reference: str, case_id: int
) -> None:
    code = await new_code(http, sessions, reference, case_id)
    response = await enter_code(http, code)
    assert response.status_code == 303 and response.headers["location"] == CASE, response.text
