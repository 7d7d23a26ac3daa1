"""A time-skipping Temporal server for the whole session, and a rehearsal per test."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from bootstrap import WorkerParts, build_worker, simulation_backends
from config import Settings
from service.simulate import Rehearsal, time_skipping_environment
from standards.contracts import case_workflow_id
from standards.force import Force, load_force
from standards.policy import Policy, load_policy
from storage.database import make_engine, make_session_factory

POLICIES = Path(__file__).resolve().parents[2] / "policies"
POLICY = load_policy(POLICIES / "met-pledge.toml")
FORCE = load_force(POLICIES / "met.force.toml")


@pytest_asyncio.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own per test: time skipping on a shared server is held back by
    every other test's leftovers, and a fresh one starts in about a second."""
    async with time_skipping_environment() as environment:
        yield environment


@pytest.fixture
def policy() -> Policy:
    return POLICY


class RehearsalFactory:
    def __init__(self, env: WorkflowEnvironment, url: str) -> None:
        self.env = env
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        self.task_queue = f"test-{uuid.uuid4()}"
        self.rehearsals: list[Rehearsal] = []

    def rehearsal(
        self,
        epoch: datetime,
        policy: Policy = POLICY,
        history_event_limit: int | None = None,
        force: Force = FORCE,
    ) -> Rehearsal:
        rehearsal = Rehearsal(
            self.env,
            self.sessions,
            policy,
            self.task_queue,
            epoch,
            history_event_limit=history_event_limit,
            force=force,
        )
        self.rehearsals.append(rehearsal)
        return rehearsal

    async def terminate_all(self) -> None:
        """The server is shared: a case left running with no worker would hold its clock."""
        for rehearsal in self.rehearsals:
            for reference in rehearsal.references:
                handle = self.env.client.get_workflow_handle(case_workflow_id(reference))
                with contextlib.suppress(RPCError):
                    await handle.terminate("test finished")


@pytest_asyncio.fixture
async def cases(env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[RehearsalFactory]:
    """Real workflows and activities on a unique task queue, over a fresh SQLite database."""
    factory = RehearsalFactory(env, sqlite_url)
    parts = WorkerParts(sessions=factory.sessions, backends=simulation_backends())
    async with build_worker(env.client, Settings(), parts, task_queue=factory.task_queue):
        try:
            yield factory
        finally:
            await factory.terminate_all()
    factory.engine.dispose()
