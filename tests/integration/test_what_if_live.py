"""A what-if under the cases' own policy reproduces `pledge report` for history the real
workflow made: cases opened and events posted on the Temporal dev server, recorded in
SQLite or PostgreSQL, then replayed by the pure engine."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from bootstrap import WorkerParts, build_worker
from config import Settings
from reporting.compliance import compliance_report, local_midnight
from reporting.what_if import what_if
from reporting.what_if_history import read_history
from service.backends import default_backends
from service.cases import CaseIn, EventIn, open_case, post_event
from service.simulate_in_process import engine_config
from standards.clock import LONDON
from standards.force import load_force
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory
from tests.support.api import temporal_dev_server
from tests.support.dev import ROOT
from tests.support.what_if import figures

POLICY = load_policy(ROOT / "policies" / "met-pledge.toml")
FORCE = load_force(ROOT / "policies" / "met.force.toml")


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


def new_case(category: str, reported_at: datetime) -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": f"W-{uuid.uuid4().hex[:10]}",
            "category": category,
            "reported_at": reported_at,
            "borough": "Camden",
            "victim": {"name": "Sam Jones", "email": "sam@example.org"},
        }
    )


async def test_replaying_recorded_history_under_its_own_policy_gives_the_recorded_report(
    dev_server: WorkflowEnvironment, database_url: str
) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    settings = Settings()
    queue = f"what-if-{uuid.uuid4()}"
    parts = WorkerParts(sessions=sessions, backends=default_backends(settings))
    client = dev_server.client
    reported = datetime.now(UTC) - timedelta(minutes=5)
    cases = [new_case(category, reported) for category in ("domestic_abuse", "burglary", "general")]
    events: list[dict[str, Any]] = [
        {"reference": cases[0].reference, "type": "contact_recorded", "standard": "dv_contact"},
        {
            "reference": cases[1].reference,
            "type": "officer_assigned",
            "details": {"officer_name": "PC Lee", "officer_contact": "020 7946 0000"},
        },
        {"reference": cases[1].reference, "type": "update_delivered"},
        {"reference": cases[2].reference, "type": "arrest"},
        {
            "reference": cases[2].reference,
            "type": "closed",
            "details": {"reason": "no further lines of enquiry"},
        },
    ]
    today = datetime.now(LONDON).date()
    start, end = (
        local_midnight(today - timedelta(days=1)),
        local_midnight(today + timedelta(days=60)),
    )
    # Counted well ahead, so the deadlines still to come are counted as awaiting breach.
    as_of = end
    try:
        async with build_worker(client, settings, parts, task_queue=queue):
            for case in cases:
                await open_case(client, sessions, POLICY, case, queue, force=FORCE)
            for event in events:
                posted = EventIn.model_validate({**event, "at": datetime.now(UTC)})
                await post_event(client, sessions, posted)
            recorded: dict[tuple[str, ...], tuple[int, ...]] = {}
            for _ in range(50):  # the workflow's records are written by its activities
                with engine.connect() as connection:
                    now = figures(compliance_report(connection, start, end, ["standard"], as_of))
                if now == recorded and now[()][0] > 0:
                    break
                recorded = now
                await asyncio.sleep(0.3)
            with engine.connect() as connection:
                history = read_history(connection, FORCE, start, end)
            config = engine_config(settings, POLICY, FORCE)
            result = what_if(history, {POLICY.id: config}, config, start, end, ["standard"], as_of)
            for case in cases:
                await client.get_workflow_handle(f"case:{case.reference}").terminate("done")
    finally:
        engine.dispose()

    assert result.cases == 3
    assert [len(c.case.events) for c in history.cases] == [1, 2, 2]
    assert recorded[()][0] > 0 and recorded[()][1] > 0
    assert figures(result.current) == recorded
    assert figures(result.proposed) == recorded
