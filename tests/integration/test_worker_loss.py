"""Losing a process mid-run loses and doubles nothing, and no log line names the victim.

Real timers on the dev server, a policy whose clocks run in minutes, worker processes
started as an operator would (`python worker.py`), cases opened over the HTTP API. One
test SIGKILLs one of two workers; the other SIGKILLs the Temporal dev server and
restarts it on its state file. Either way every obligation fires exactly once and no
message is sent twice.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.orm import Session, sessionmaker

from service.runtime.servers import ServerProcess, start_dev_server
from service.runtime.temporal import register_search_attributes
from storage.database import make_engine, make_session_factory
from tests.support.api import Api, case_body, new_reference, running_api
from tests.support.dev import free_port
from tests.support.drill import (
    DRILL_ALERT_KINDS,
    DRILL_DEADLINE_SECONDS,
    DRILL_POLICY_ID,
    acknowledgements_per_case,
    drill_outcome,
    drill_policy_dir,
    personal_data_in_logs,
    start_worker,
    stop_worker,
    transitions_per_obligation,
    wait_until_polling,
    worker_environment,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(420)]

CASES = 12
# The victim every drill case has; none of it may reach a log line.
VICTIM = {"name": "Alex Smith", "phone": "+447700900123", "email": "alex.smith@example.org"}
PERSONAL = (*VICTIM.values(), "7700900123", "Smith")
# Cases open over this long, so that when a process dies some are mid-way through
# their clocks and some have timers due within seconds.
OPENING_SPREAD_SECONDS = 12.0


@pytest_asyncio.fixture
async def dev_server(tmp_path: Path) -> AsyncIterator[tuple[ServerProcess, int]]:
    port = free_port()
    server = await start_dev_server(port, free_port(), str(tmp_path / "temporal.db"))
    await register_search_attributes(server.client)
    try:
        yield server, port
    finally:
        await server.shutdown()


async def _open_drill_cases(api: Api) -> list[str]:
    references = []
    for _ in range(CASES):
        reference = new_reference()
        # Reported just now, so each clock runs its whole minute in front of the test.
        reported_at = datetime.now(UTC) - timedelta(seconds=1)
        body = case_body(reference=reference, reported_at=reported_at, **VICTIM)
        response = await api.post("/api/v1/cases", "writer", body)
        assert response.status_code in (201, 202), response.text
        references.append(reference)
        await asyncio.sleep(OPENING_SPREAD_SECONDS / CASES)
    return references


async def _wait_for_every_escalation(
    sessions: sessionmaker[Session], references: list[str]
) -> None:
    deadline = time.monotonic() + DRILL_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        _, alerts = drill_outcome(sessions)
        if all((reference, "escalation") in alerts for reference in references):
            return
        await asyncio.sleep(1)
    _, alerts = drill_outcome(sessions)
    missing = [r for r in references if (r, "escalation") not in alerts]
    raise AssertionError(
        f"{len(missing)} of {len(references)} cases had no escalation after "
        f"{DRILL_DEADLINE_SECONDS} s: {missing}"
    )


def _assert_everything_exactly_once(sessions: sessionmaker[Session], references: list[str]) -> None:
    keys, alerts = drill_outcome(sessions)
    assert keys and set(keys.values()) == {1}, f"a message key was used twice: {keys}"
    assert acknowledgements_per_case(sessions) == dict.fromkeys(references, 1)
    assert alerts == {(r, kind): 1 for r in references for kind in DRILL_ALERT_KINDS}
    transitions = transitions_per_obligation(sessions)
    assert set(transitions.values()) == {1}, f"a transition was recorded twice: {transitions}"
    breached = [obligation for obligation, event in transitions if event == "breached"]
    assert len(breached) == len(references)


async def test_losing_one_of_two_workers_mid_run_fires_every_obligation_exactly_once(
    tmp_path: Path, dev_server: tuple[ServerProcess, int], postgresql_url: str
) -> None:
    server, port = dev_server
    queue = f"drill-{uuid.uuid4()}"
    policy_dir = drill_policy_dir(tmp_path / "policies")
    environment = worker_environment(f"127.0.0.1:{port}", postgresql_url, queue, policy_dir)
    doomed = start_worker(environment, tmp_path / "doomed.log")
    survivor = start_worker(environment, tmp_path / "survivor.log")
    engine = make_engine(postgresql_url)
    try:
        wait_until_polling(tmp_path / "doomed.log", doomed)
        wait_until_polling(tmp_path / "survivor.log", survivor)
        async with running_api(
            server.client,
            postgresql_url,
            with_worker=False,
            task_queue=queue,
            policy_dir=policy_dir,
            default_policy=DRILL_POLICY_ID,
        ) as api:
            references = await _open_drill_cases(api)
            # Mid-run: every acknowledgement is due, the first warnings are seconds away.
            await asyncio.sleep(30)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
            sessions = make_session_factory(engine)
            await _wait_for_every_escalation(sessions, references)
            # Anything a doubled task would add lands after its original: wait a little.
            await asyncio.sleep(3)
            _assert_everything_exactly_once(sessions, references)
            assert survivor.poll() is None, "the surviving worker died too"
        logs = [tmp_path / "doomed.log", tmp_path / "survivor.log"]
        assert personal_data_in_logs(logs, PERSONAL) == []
    finally:
        stop_worker(doomed)
        stop_worker(survivor)
        engine.dispose()


async def test_the_dev_server_killed_and_restarted_on_its_state_loses_and_doubles_nothing(
    tmp_path: Path, postgresql_url: str
) -> None:
    port, ui_port = free_port(), free_port()
    state_file = str(tmp_path / "temporal.db")
    server = await start_dev_server(port, ui_port, state_file)
    await register_search_attributes(server.client)
    queue = f"drill-{uuid.uuid4()}"
    policy_dir = drill_policy_dir(tmp_path / "policies")
    environment = worker_environment(f"127.0.0.1:{port}", postgresql_url, queue, policy_dir)
    worker = start_worker(environment, tmp_path / "worker.log")
    engine = make_engine(postgresql_url)
    restarted: ServerProcess | None = None
    try:
        wait_until_polling(tmp_path / "worker.log", worker)
        async with running_api(
            server.client,
            postgresql_url,
            with_worker=False,
            task_queue=queue,
            policy_dir=policy_dir,
            default_policy=DRILL_POLICY_ID,
        ) as api:
            references = await _open_drill_cases(api)
        await asyncio.sleep(25)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        await asyncio.sleep(3)
        restarted = await start_dev_server(port, ui_port, state_file)
        sessions = make_session_factory(engine)
        await _wait_for_every_escalation(sessions, references)
        await asyncio.sleep(3)
        _assert_everything_exactly_once(sessions, references)
        assert worker.poll() is None, "the worker did not survive the server's restart"
        assert personal_data_in_logs([tmp_path / "worker.log"], PERSONAL) == []
    finally:
        stop_worker(worker)
        await server.shutdown()
        if restarted is not None:
            await restarted.shutdown()
        engine.dispose()
