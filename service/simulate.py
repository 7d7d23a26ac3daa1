"""Rehearsals: a scenario run through the case book, reported as JSON.

Two engines give the same JSON. The in-process engine (engine/, the default) drives
every case's book on a discrete-event clock with the real renderer and the simulated
delivery. The Temporal engine runs the real workflows and activities on the
time-skipping test server; its clock starts at the wall clock, so the case
workflows are given a fixed offset that puts them in scenario time.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from config import Settings
from delivery.outbox import language_fields
from service.cases import (
    CaseError,
    CaseIn,
    EventIn,
    check_category,
    check_language,
    check_unit,
    open_case,
    post_event,
    view_case,
)
from service.configuration import configured_force, configured_policy
from service.runtime.servers import time_skipping_server
from service.runtime.temporal import register_search_attributes

# Reading and checking a scenario lives in service.scenario; the names stay importable here.
from service.scenario import YAML_LOADER as YAML_LOADER
from service.scenario import Scenario as Scenario
from service.scenario import ScenarioError as ScenarioError
from service.scenario import checked_scenario as checked_scenario
from service.scenario import is_json as is_json
from service.scenario import load_scenario as load_scenario
from service.scenario import parse_scenario as parse_scenario
from standards.clock import to_utc_iso
from standards.contracts import CaseView
from standards.force import Force
from standards.policy import Policy
from storage import models
from storage.database import make_engine, make_session_factory, upgrade_to_head


@dataclass
class Outcome:
    cases: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "cases": self.cases,
            "messages": self.messages,
            "alerts": self.alerts,
        }
        if self.rejected:
            result["rejected_events"] = self.rejected
        return result


class Rehearsal:
    """Drives cases on a time-skipping server in scenario time."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        sessions: sessionmaker[Session],
        policy: Policy,
        task_queue: str,
        epoch: datetime,
        history_event_limit: int | None = None,
        *,
        force: Force,
    ) -> None:
        self.env = env
        self.sessions = sessions
        self.policy = policy
        self.force = force
        self.task_queue = task_queue
        self.epoch = epoch
        self.history_event_limit = history_event_limit
        self.offset = timedelta(0)
        self.references: list[str] = []

    async def begin(self) -> None:
        self.offset = self.epoch - await self.env.get_current_time()

    async def now(self) -> datetime:
        return await self.env.get_current_time() + self.offset

    async def advance_to(self, instant: datetime) -> None:
        delta = instant - await self.now()
        if delta > timedelta(0):
            await self.env.sleep(delta)

    async def open(self, case: CaseIn) -> None:
        await self.advance_to(case.reported_at)
        await open_case(
            self.env.client,
            self.sessions,
            self.policy,
            case,
            self.task_queue,
            clock_offset_seconds=self.offset.total_seconds(),
            history_event_limit=self.history_event_limit,
            now=await self.now(),
            force=self.force,
        )
        self.references.append(case.reference)

    async def post(self, event: EventIn) -> Any:
        await self.advance_to(event.at)
        return await post_event(self.env.client, self.sessions, event, now=await self.now())

    async def view(self, reference: str) -> CaseView:
        return await view_case(self.env.client, reference)

    def messages(self) -> list[dict[str, Any]]:
        return sent_messages(self.sessions)

    def alerts(self) -> list[dict[str, Any]]:
        return raised_alerts(self.sessions)


def sent_messages(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Every outbox message in time order (ties by case, then as written)."""
    with sessions() as session:
        rows = session.execute(
            select(models.OutboxMessage, models.Case.reference)
            .join(models.Case, models.Case.id == models.OutboxMessage.case_id)
            .order_by(
                models.OutboxMessage.created_at, models.Case.reference, models.OutboxMessage.id
            )
        ).all()
        return [message_json(row, reference) for row, reference in rows]


def raised_alerts(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(
            select(models.Alert).order_by(models.Alert.at, models.Alert.reference, models.Alert.id)
        ).all()
        return [
            {
                "at": to_utc_iso(a.at),
                "reference": a.reference,
                "standard": a.standard,
                "kind": a.kind,
            }
            for a in rows
        ]


def message_json(row: models.OutboxMessage, reference: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "at": to_utc_iso(row.created_at),
        "reference": reference,
        "channel": row.channel,
        "to": row.recipient,
        "template": row.template,
        "body": row.body,
        "status": "delivered"
        if row.status == "delivered"
        else ("failed" if row.status in ("failed", "undelivered") else row.status),
    }
    if row.error:
        message["error"] = row.error
    message.update(language_fields(row))
    return message


def obligation_json(view: CaseView) -> dict[str, Any]:
    return {
        "reference": view.reference,
        "obligations": [
            {
                "standard": o.standard,
                "started_at": to_utc_iso(o.started_at),
                "due_at": to_utc_iso(o.due_at),
                "state": o.state.value,
                "met_at": to_utc_iso(o.met_at) if o.met_at else None,
            }
            for o in view.obligations
        ],
    }


@contextlib.asynccontextmanager
async def time_skipping_environment() -> AsyncIterator[WorkflowEnvironment]:
    # Started by this process so that the server dies with it (a rehearsal ended by a
    # timeout or a signal used to leave its servers running).
    async with time_skipping_server() as env:
        await register_search_attributes(env.client)
        yield env


ProgressCallback = Callable[[int, int], None]


# Cases never interact, so a rehearsal can spread them over several
# time-skipping servers: each server serialises its own clock, and most of a
# step's time is spent waiting on that server, not on this process.
DEFAULT_SHARDS = 4

Step = tuple[datetime, int, int, "CaseIn | EventIn"]


def plan_steps(scenario: Scenario, shards: int) -> list[list[Step]]:
    """Each shard's steps in time order (a case before its own events at one instant).

    An event dated before its case's report is posted once the case is open, so the
    case refuses it as it would refuse it live, instead of it finding no case at all.
    """
    shard_of = {case.reference: i % shards for i, case in enumerate(scenario.cases)}
    reported = {case.reference: case.reported_at for case in scenario.cases}
    plans: list[list[Step]] = [[] for _ in range(shards)]
    for i, case in enumerate(scenario.cases):
        plans[shard_of[case.reference]].append((case.reported_at, 0, i, case))
    for i, event in enumerate(scenario.events):
        if event.at <= scenario.until:
            posted = max(event.at, reported[event.reference])
            plans[shard_of[event.reference]].append((posted, 1, i, event))
    for plan in plans:
        plan.sort(key=lambda step: step[:3])
    return [plan for plan in plans if plan]


# A worker for the case workflows on a rehearsal's server, on its own task queue: built
# by the composition root (worker.py), which the service layer may not import.
RehearsalWorker = Callable[
    [Client, Settings, sessionmaker[Session], str], AbstractAsyncContextManager[object]
]


async def run_scenario(
    scenario: Scenario,
    settings: Settings,
    rehearsal_worker: RehearsalWorker,
    database_url: str | None = None,
    progress: ProgressCallback | None = None,
    shards: int = DEFAULT_SHARDS,
) -> Outcome:
    """Run a scenario end to end on the Temporal engine; `database_url` keeps its history,
    otherwise a temp SQLite."""
    policy = configured_policy(settings, scenario.policy)
    force = configured_force(settings)
    for index, case in enumerate(scenario.cases):
        try:
            check_category(policy, case.category)
        except CaseError as error:
            raise ScenarioError(f"cases[{index}].category: {error}") from error
        try:
            check_language(policy, case.victim.language)
        except CaseError as error:
            raise ScenarioError(f"cases[{index}].victim.language: {error}") from error
        try:
            check_unit(force, case.borough)
        except CaseError as error:
            raise ScenarioError(f"cases[{index}].borough: {error}") from error
    plans = plan_steps(scenario, max(1, min(shards, len(scenario.cases))))
    instants = [case.reported_at for case in scenario.cases] + [scenario.until]
    epoch = min(instants)
    total = sum(len(plan) for plan in plans)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    with tempfile.TemporaryDirectory(prefix="pledge-simulate-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'rehearsal.db'}"
        upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            results = await asyncio.gather(
                *(
                    _rehearse_shard(
                        settings,
                        rehearsal_worker,
                        sessions,
                        policy,
                        force,
                        plan,
                        epoch,
                        scenario.until,
                        tick,
                    )
                    for plan in plans
                )
            )
            views = {view["reference"]: view for cases, _ in results for view in cases}
            late = [
                {
                    "index": i,
                    "reference": e.reference,
                    "type": e.type.value,
                    "at": to_utc_iso(e.at),
                    "error": "after until: the simulation clock stops first",
                }
                for i, e in enumerate(scenario.events)
                if e.at > scenario.until
            ]
            outcome = Outcome(
                cases=[views[case.reference] for case in scenario.cases],
                messages=sent_messages(sessions),
                alerts=raised_alerts(sessions),
                rejected=sorted(
                    [r for _, rejected in results for r in rejected] + late,
                    key=lambda r: int(r["index"]),
                ),
            )
            return outcome
        finally:
            engine.dispose()


async def _rehearse_shard(
    settings: Settings,
    rehearsal_worker: RehearsalWorker,
    sessions: sessionmaker[Session],
    policy: Policy,
    force: Force,
    steps: list[Step],
    epoch: datetime,
    until: datetime,
    tick: Callable[[], None],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async with time_skipping_environment() as env:
        task_queue = f"rehearsal-{uuid.uuid4()}"
        async with rehearsal_worker(env.client, settings, sessions, task_queue):
            rehearsal = Rehearsal(env, sessions, policy, task_queue, epoch, force=force)
            await rehearsal.begin()
            rejected: list[dict[str, Any]] = []
            for _at, _kind, index, item in steps:
                if isinstance(item, CaseIn):
                    try:
                        await rehearsal.open(item)
                    except CaseError as error:
                        raise ScenarioError(f"cases[{index}]: {error}") from error
                else:
                    try:
                        await rehearsal.post(item)
                    except CaseError as error:
                        rejected.append(
                            {
                                "index": index,
                                "reference": item.reference,
                                "type": item.type.value,
                                "at": to_utc_iso(item.at),
                                "error": str(error),
                            }
                        )
                tick()
            await rehearsal.advance_to(until)
            cases = [obligation_json(await rehearsal.view(ref)) for ref in rehearsal.references]
            return cases, rejected
