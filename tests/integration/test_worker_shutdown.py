"""SIGTERM stops a worker gracefully: it stops polling, lets the send in flight finish,
and exits 0.

A real `pledge worker` process polls a dev server and sends email to an SMTP server on
loopback that takes a few seconds over each message; SIGTERM arrives while the
case's acknowledgement is in the middle of being sent. Sends run as local activities,
inside a workflow task, which the worker completes before it stops whatever the grace
period (checked by hand: the test passes with a grace period of 0 too); the grace
period bounds the regular activities (recording changes), which this test does not
hold in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from sqlalchemy import select, text
from temporalio.testing import WorkflowEnvironment

from service.cases import CaseIn, EventIn, open_case, post_event
from standards.events import EventType
from standards.force import load_force
from standards.policy import load_policy
from storage import models
from storage.database import make_engine, make_session_factory
from tests.support.api import temporal_dev_server
from tests.support.dev import ROOT, free_port

POLICIES = ROOT / "policies"
SEND_SECONDS = 4.0
WAIT_SECONDS = 90.0


class SlowMailServer:
    """Accepts every message, but only SEND_SECONDS after its data began to arrive."""

    def __init__(self) -> None:
        self.receiving = threading.Event()
        self.delivered: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving.set()
        await asyncio.sleep(SEND_SECONDS)
        self.delivered.append(envelope.content)
        return "250 OK"


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


@pytest.fixture
def slow_mail() -> Iterator[tuple[SlowMailServer, int]]:
    handler = SlowMailServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def start_worker(environment: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def test_sigterm_lets_the_send_in_flight_finish_and_the_worker_exits_0(
    dev_server: WorkflowEnvironment,
    sqlite_url: str,
    slow_mail: tuple[SlowMailServer, int],
    tmp_path: Path,
) -> None:
    mail, mail_port = slow_mail
    queue = f"shutdown-{uuid.uuid4()}"
    environment = {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": sqlite_url,
        "PLEDGE_DATA_DIR": str(tmp_path),
        "PLEDGE_TEMPORAL_ADDRESS": dev_server.client.service_client.config.target_host,
        "PLEDGE_TASK_QUEUE": queue,
        "PLEDGE_SMTP_HOST": "127.0.0.1",
        "PLEDGE_SMTP_PORT": str(mail_port),
        "PLEDGE_SMTP_STARTTLS": "false",
        "PLEDGE_WORKER_GRACEFUL_SHUTDOWN_SECONDS": "30",
        "PLEDGE_LOG_FORMAT": "json",
    }
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    worker = start_worker(environment)
    case = CaseIn.model_validate(
        {
            "reference": f"01/{uuid.uuid4().int % 1_000_000:06d}/26",
            "category": "burglary",
            "reported_at": "2026-03-02T09:00:00+00:00",
            "borough": "Camden",
            "victim": {
                "name": "Alex Smith",
                "email": "alex@example.org",
                "preferred_channel": "email",
            },
        }
    )
    opening = asyncio.create_task(
        open_case(
            dev_server.client,
            sessions,
            load_policy(POLICIES / "met-pledge.toml"),
            case,
            queue,
            force=load_force(POLICIES / "met.force.toml"),
        )
    )
    try:
        assert await asyncio.to_thread(mail.receiving.wait, WAIT_SECONDS), (
            "the worker never began sending the acknowledgement"
        )
        assert mail.delivered == [], "the send finished before SIGTERM: nothing was in flight"
        signalled = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(worker.communicate, timeout=WAIT_SECONDS)
        stopped_after = time.monotonic() - signalled
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate(timeout=WAIT_SECONDS)
        opening.cancel()
        with contextlib.suppress(BaseException):
            await opening
        engine.dispose()

    assert worker.returncode == 0, output
    assert len(mail.delivered) == 1, "the send in flight was cut off instead of finishing"
    assert stopped_after < SEND_SECONDS + 25, f"took {stopped_after:.1f} s to stop"
    assert "stopping: no new tasks" in output and "worker stopped" in output, output


@pytest.mark.postgres
async def test_sigterm_waits_for_a_database_write_in_flight_and_the_worker_exits_0(
    dev_server: WorkflowEnvironment, postgresql_url: str, tmp_path: Path
) -> None:
    """A regular activity (recording the case's changes) is held in flight by a lock the
    test takes on the obligations table; SIGTERM arrives while it waits. The worker stops
    polling, waits for the write (inside the grace period), and exits 0 with it written."""
    queue = f"shutdown-{uuid.uuid4()}"
    environment = {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": postgresql_url,
        "PLEDGE_DATA_DIR": str(tmp_path),
        "PLEDGE_TEMPORAL_ADDRESS": dev_server.client.service_client.config.target_host,
        "PLEDGE_TASK_QUEUE": queue,
        "PLEDGE_WORKER_GRACEFUL_SHUTDOWN_SECONDS": "30",
        "PLEDGE_LOG_FORMAT": "json",
    }
    engine = make_engine(postgresql_url)
    sessions = make_session_factory(engine)
    reference = f"01/{uuid.uuid4().int % 1_000_000:06d}/26"
    worker = start_worker(environment)
    try:
        await asyncio.wait_for(
            open_case(
                dev_server.client,
                sessions,
                load_policy(POLICIES / "met-pledge.toml"),
                CaseIn.model_validate(
                    {
                        "reference": reference,
                        "category": "burglary",
                        "reported_at": datetime.now(UTC).isoformat(),
                        "borough": "Camden",
                        "victim": {"name": "Alex Smith", "email": "alex@example.org"},
                    }
                ),
                queue,
                force=load_force(POLICIES / "met.force.toml"),
            ),
            WAIT_SECONDS,
        )
        with engine.connect() as locker, engine.connect() as watcher:
            held = locker.begin()
            locker.execute(text("LOCK TABLE obligations IN EXCLUSIVE MODE"))
            event = EventIn(reference=reference, type=EventType.ARREST, at=datetime.now(UTC))
            posting = asyncio.create_task(post_event(dev_server.client, sessions, event))
            await wait_for_a_lock_wait(watcher)
            signalled = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            await asyncio.sleep(LOCK_HELD_AFTER_SIGTERM_SECONDS)
            assert worker.poll() is None, "the worker exited with its activity in flight"
            held.commit()
        output, _ = await asyncio.to_thread(worker.communicate, timeout=WAIT_SECONDS)
        stopped_after = time.monotonic() - signalled
        receipt = await asyncio.wait_for(posting, WAIT_SECONDS)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate(timeout=WAIT_SECONDS)
        engine.dispose()

    assert worker.returncode == 0, output
    assert LOCK_HELD_AFTER_SIGTERM_SECONDS <= stopped_after < 30, stopped_after
    # The write the worker waited for is in the database: the event's obligations.
    assert receipt.changed
    with sessions() as session:
        recorded = set(
            session.scalars(
                select(models.Obligation.key)
                .join(models.Case)
                .where(models.Case.reference == reference)
            ).all()
        )
    assert set(receipt.changed) <= recorded, (receipt.changed, recorded)
    assert "stopping: no new tasks" in output and "worker stopped" in output, output


LOCK_HELD_AFTER_SIGTERM_SECONDS = 3.0


async def wait_for_a_lock_wait(connection: Any) -> None:
    """Until some session of this database waits on a lock: the activity is in flight."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
        connection.commit()
        if waiting:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no activity began writing the case's changes")
