"""Victims' contact details go once retention runs out; the reports do not change."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest_asyncio
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from activities.retention import ERASED
from bootstrap import WorkerParts, build_worker
from config import Settings
from reporting.compliance import compliance_report
from reporting.demo import generate
from service.backends import default_backends
from service.retention import RETENTION_TIME_ZONE, ensure_retention_schedule
from standards.case_state import CaseStatus
from standards.contracts import (
    RETENTION_SCHEDULE_ID,
    RETENTION_WORKFLOW,
    RetentionOutcome,
    RetentionRun,
)
from storage import models, victim_models
from tests.support.api import temporal_dev_server
from tests.support.reports import demo_config

T = TypeVar("T")
NOW = datetime.now(UTC)
RETENTION_DAYS = 365
REPORT_START = NOW - timedelta(days=900)


@pytest_asyncio.fixture(scope="module")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


def _two_years_of_history(engine: Engine, sessions: sessionmaker[Session]) -> None:
    # The demo's cases send their messages (the acknowledgement and the rest) as live.
    generate(engine, demo_config(), cases=400, start=REPORT_START, days=880, seed=3, now=NOW)


def _messages(sessions: sessionmaker[Session]) -> dict[int, tuple[int, str, str]]:
    """Each message's (case, recipient, text), by id."""
    with sessions() as session:
        return {
            m.id: (m.case_id, m.recipient, m.body)
            for m in session.scalars(select(models.OutboxMessage))
        }


def _due_for_erasure(sessions: sessionmaker[Session]) -> set[int]:
    cutoff = NOW - timedelta(days=RETENTION_DAYS)
    with sessions() as session:
        return set(
            session.scalars(
                select(models.Case.id).where(
                    models.Case.status == CaseStatus.CLOSED, models.Case.closed_at < cutoff
                )
            )
        )


def _report(sessions: sessionmaker[Session]) -> dict[str, object]:
    with sessions() as session:
        report = compliance_report(
            session, REPORT_START, NOW, ("standard", "borough"), as_of=NOW, percentiles=True
        )
    return asdict(report)


async def _run_worker_until(
    client: Client,
    settings: Settings,
    sessions: sessionmaker[Session],
    work: Coroutine[Any, Any, T],
) -> T:
    parts = WorkerParts(sessions=sessions, backends=default_backends(settings))
    async with build_worker(client, settings, parts):
        return await asyncio.wait_for(work, timeout=120)


async def test_closed_cases_past_retention_lose_their_contact_profile_and_reports_stay_the_same(
    temporal: WorkflowEnvironment,
    db_engine: Engine,
    db_session_factory: sessionmaker[Session],
    database_url: str,
) -> None:
    sessions = db_session_factory
    _two_years_of_history(db_engine, sessions)
    due = _due_for_erasure(sessions)
    with sessions() as session:
        every_case = set(session.scalars(select(models.Case.id)))
    assert due and due != every_case, "the history must hold cases on both sides of the cutoff"
    before = _report(sessions)
    messages_before = _messages(sessions)
    assert {case for case, _, _ in messages_before.values()} & due
    settings = Settings(database_url=database_url, task_queue=f"retention-{uuid.uuid4()}")

    # Small batches, so the run takes several.
    run = temporal.client.execute_workflow(
        RETENTION_WORKFLOW,
        RetentionRun(retention_days=RETENTION_DAYS, batch_size=7),
        id=f"retention-{uuid.uuid4()}",
        task_queue=settings.task_queue,
        result_type=RetentionOutcome,
    )
    outcome = await _run_worker_until(temporal.client, settings, sessions, run)

    assert outcome.erased == len(due) and not outcome.backlog_left
    with sessions() as session:
        kept = set(session.scalars(select(models.Victim.case_id)))
        erasures = {e.case_id: e for e in session.scalars(select(models.ContactErasure))}
        messages = session.scalars(select(models.OutboxMessage)).all()
    assert kept == every_case - due
    assert set(erasures) == due
    sent = Counter(case for case, _, _ in messages_before.values())
    assert all(
        e.retention_days == RETENTION_DAYS and e.messages_scrubbed == sent[e.case_id]
        for e in erasures.values()
    )
    for message in messages:
        if message.case_id in due:
            assert (message.recipient, message.body, message.subject) == (ERASED, ERASED, None)
        else:
            assert (message.case_id, message.recipient, message.body) == (
                messages_before[message.id]
            )
    assert _report(sessions) == before


async def test_an_erased_victim_can_no_longer_sign_in_to_track_their_report(
    temporal: WorkflowEnvironment,
    db_engine: Engine,
    db_session_factory: sessionmaker[Session],
    database_url: str,
) -> None:
    sessions = db_session_factory
    _two_years_of_history(db_engine, sessions)
    erased_case = min(_due_for_erasure(sessions))
    with sessions.begin() as session:
        session.add(
            victim_models.VictimSession(
                case_id=erased_case,
                token_hash="0" * 64,
                created_at=NOW,
                last_seen_at=NOW,
            )
        )
    settings = Settings(database_url=database_url, task_queue=f"retention-{uuid.uuid4()}")
    run = temporal.client.execute_workflow(
        RETENTION_WORKFLOW,
        RetentionRun(retention_days=RETENTION_DAYS),
        id=f"retention-{uuid.uuid4()}",
        task_queue=settings.task_queue,
        result_type=RetentionOutcome,
    )
    await _run_worker_until(temporal.client, settings, sessions, run)
    with sessions() as session:
        left = session.scalars(
            select(victim_models.VictimSession).where(
                victim_models.VictimSession.case_id == erased_case
            )
        ).all()
    assert left == []


async def test_a_second_run_erases_nothing_more(
    temporal: WorkflowEnvironment,
    db_engine: Engine,
    db_session_factory: sessionmaker[Session],
    database_url: str,
) -> None:
    sessions = db_session_factory
    _two_years_of_history(db_engine, sessions)
    settings = Settings(database_url=database_url, task_queue=f"retention-{uuid.uuid4()}")

    async def twice() -> tuple[RetentionOutcome, RetentionOutcome]:
        outcomes = []
        for _ in range(2):
            outcomes.append(
                await temporal.client.execute_workflow(
                    RETENTION_WORKFLOW,
                    RetentionRun(retention_days=RETENTION_DAYS),
                    id=f"retention-{uuid.uuid4()}",
                    task_queue=settings.task_queue,
                    result_type=RetentionOutcome,
                )
            )
        return outcomes[0], outcomes[1]

    first, second = await _run_worker_until(temporal.client, settings, sessions, twice())
    assert first.erased == len(_due_for_erasure(sessions)) > 0
    assert second.erased == 0


async def test_the_daily_schedule_runs_the_erasure_at_the_configured_london_hour(
    temporal: WorkflowEnvironment,
    db_engine: Engine,
    db_session_factory: sessionmaker[Session],
    database_url: str,
) -> None:
    sessions = db_session_factory
    _two_years_of_history(db_engine, sessions)
    settings = Settings(
        database_url=database_url, task_queue=f"retention-{uuid.uuid4()}", retention_hour=4
    )
    await ensure_retention_schedule(temporal.client, settings)
    # Starting again brings the existing schedule up to date instead of failing.
    await ensure_retention_schedule(temporal.client, settings)
    handle = temporal.client.get_schedule_handle(RETENTION_SCHEDULE_ID)
    description = await handle.describe()
    calendar = description.schedule.spec.calendars[0]
    assert [r.start for r in calendar.hour] == [4]
    assert description.schedule.spec.time_zone_name == RETENTION_TIME_ZONE
    try:

        async def triggered() -> int:
            await handle.trigger()
            while True:
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    started = actions[-1].action
                    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
                    outcome = await temporal.client.get_workflow_handle(
                        started.workflow_id,
                        run_id=started.first_execution_run_id,
                        result_type=RetentionOutcome,
                    ).result()
                    erased: int = outcome.erased
                    return erased
                await asyncio.sleep(0.2)

        erased = await _run_worker_until(temporal.client, settings, sessions, triggered())
        assert erased == len(_due_for_erasure(sessions)) > 0
    finally:
        await handle.delete()
