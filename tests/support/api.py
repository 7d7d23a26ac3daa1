"""The web app on a real socket, with a real database, the Temporal dev server and a worker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from bootstrap import WorkerParts, build_worker
from config import Settings
from service.backends import default_backends
from service.runtime.temporal import DATA_CONVERTER, dev_server_binary, register_search_attributes
from service.tokens import Scope, create_token
from standards import visibility
from standards.contracts import case_workflow_id
from storage import models
from storage.database import make_engine, make_session_factory
from tests.support.dev import free_port
from web.app import create_app

PROBLEM_MEDIA_TYPE = "application/problem+json"
CASES_URL = "/api/v1/cases"

COUNTED_TABLES = {
    "cases": models.Case,
    "victims": models.Victim,
    "obligations": models.Obligation,
    "outbox_messages": models.OutboxMessage,
    "alerts": models.Alert,
    "api_audit": models.ApiAuditRecord,
}

# The tokens every API test has: name -> (scopes, borough).
TOKENS: dict[str, tuple[list[Scope], str | None]] = {
    "all": ([Scope.CASES_WRITE, Scope.CASES_READ, Scope.VICTIMS_READ], None),
    "writer": ([Scope.CASES_WRITE, Scope.CASES_READ], None),
    "write-only": ([Scope.CASES_WRITE], None),
    "reader": ([Scope.CASES_READ], None),
    "victims": ([Scope.CASES_READ, Scope.VICTIMS_READ], None),
    "camden": ([Scope.CASES_WRITE, Scope.CASES_READ, Scope.VICTIMS_READ], "Camden"),
}


@contextlib.asynccontextmanager
async def temporal_dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_binary(),
        search_attributes=visibility.ALL,
        data_converter=DATA_CONVERTER,
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve the app under uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("uvicorn stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Api:
    http: httpx.AsyncClient
    sessions: sessionmaker[Session]
    temporal: Client
    task_queue: str
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[token]}"}

    async def post(self, path: str, token: str | None, body: Any, **kwargs: Any) -> httpx.Response:
        headers = self.auth(token) if token else {}
        return await self.http.post(path, json=body, headers=headers, **kwargs)

    async def get(self, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = self.auth(token) if token else {}
        return await self.http.get(path, headers=headers, **kwargs)


@contextlib.asynccontextmanager
async def running_api(
    temporal: Client,
    database_url: str,
    with_worker: bool = True,
    task_queue: str | None = None,
    clock: Callable[[], datetime] | None = None,
    **settings: Any,
) -> AsyncIterator[Api]:
    """The app over HTTP with its tokens issued, and (unless told not to) a worker.

    Tokens are issued once per database, so a second app on the same one reuses them.
    """
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    queue = task_queue or f"api-{uuid.uuid4()}"
    config = Settings(database_url=database_url, task_queue=queue, **settings)
    tokens = _tokens_of(sessions, database_url)
    app = (
        create_app(config, sessions, temporal, clock=clock)
        if clock
        else create_app(config, sessions, temporal)
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            if with_worker:
                parts = WorkerParts(sessions=sessions, backends=default_backends(config))
                await stack.enter_async_context(build_worker(temporal, config, parts))
            base_url = await stack.enter_async_context(serving(app))
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=60))
            yield Api(http, sessions, temporal, queue, tokens)
    finally:
        engine.dispose()


_issued: dict[str, dict[str, str]] = {}


def _tokens_of(sessions: sessionmaker[Session], database_url: str) -> dict[str, str]:
    if database_url not in _issued:
        _issued[database_url] = {
            name: create_token(sessions, name, scopes, borough)
            for name, (scopes, borough) in TOKENS.items()
        }
    return _issued[database_url]


def row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in COUNTED_TABLES.items()
        }


async def workflow_exists(client: Client, reference: str) -> bool:
    try:
        await client.get_workflow_handle(case_workflow_id(reference)).describe()
    except RPCError:
        return False
    return True


def new_reference() -> str:
    digits = uuid.uuid4().int % 1_000_000
    return f"01/{digits:06d}/26"


def case_body(
    reference: str | None = None,
    borough: str = "Camden",
    category: str = "domestic_abuse",
    reported_at: datetime | None = None,
    **victim: Any,
) -> dict[str, Any]:
    return {
        "reference": reference or new_reference(),
        "category": category,
        "reported_at": (reported_at or datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "borough": borough,
        "vulnerable": False,
        "victim": {
            "name": "Alex Smith",
            "phone": "+447700900123",
            "preferred_channel": "sms",
            **victim,
        },
    }


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem document with this status, and no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] and problem["title"] and problem["detail"]
    assert "Traceback" not in response.text
    return problem


async def open_case_over_http(api: Api, token: str = "writer", **body: Any) -> dict[str, Any]:
    response = await api.post(CASES_URL, token, case_body(**body))
    assert response.status_code == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened
