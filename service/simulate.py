"""Rehearsals: a scenario run through the real workflows and activities on the
time-skipping test server, reported as JSON.

The test server's clock starts at the wall clock, so the case workflows are
given a fixed offset that puts them in scenario time.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from service.cases import (
    CaseError,
    CaseIn,
    EventIn,
    check_category,
    describe_validation_error,
    open_case,
    post_event,
)
from service.settings import Settings
from service.temporal import register_search_attributes, test_server_binary
from standards.clock import to_utc_iso
from standards.policy import Policy, load_policy, policy_path
from storage import models
from storage.database import make_engine, make_session_factory, upgrade_to_head
from workflows.contracts import CaseView


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the field at fault."""


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: str | None = None
    cases: list[CaseIn]
    events: list[EventIn] = []
    until: AwareDatetime


def parse_scenario(text: str, origin: str = "scenario") -> Scenario:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{origin}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ScenarioError(f"{origin}: expected a mapping with cases, events and until")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        problems = describe_validation_error(error)
        raise ScenarioError(f"{origin}: invalid scenario\n" + "\n".join(problems)) from error
    references = [case.reference for case in scenario.cases]
    seen: set[str] = set()
    for index, reference in enumerate(references):
        if reference in seen:
            raise ScenarioError(f"{origin}: cases[{index}].reference: duplicate case {reference}")
        seen.add(reference)
    for index, event in enumerate(scenario.events):
        if event.reference not in seen:
            raise ScenarioError(
                f"{origin}: events[{index}].reference: no case {event.reference} in this scenario"
            )
    return scenario


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
    ) -> None:
        self.env = env
        self.sessions = sessions
        self.policy = policy
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
        )
        self.references.append(case.reference)

    async def post(self, event: EventIn) -> Any:
        await self.advance_to(event.at)
        return await post_event(self.env.client, self.sessions, event)

    async def view(self, reference: str) -> CaseView:
        from service.cases import view_case

        return await view_case(self.env.client, reference)

    def messages(self) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.execute(
                select(models.OutboxMessage, models.Case.reference)
                .join(models.Case, models.Case.id == models.OutboxMessage.case_id)
                .order_by(models.OutboxMessage.created_at, models.OutboxMessage.id)
            ).all()
            return [message_json(row, reference) for row, reference in rows]

    def alerts(self) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(models.Alert).order_by(models.Alert.at, models.Alert.id)
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
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_binary()
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


ProgressCallback = Callable[[int, int], None]


async def run_scenario(
    scenario: Scenario,
    settings: Settings,
    database_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> Outcome:
    """Run a scenario end to end; `database_url` keeps its history, otherwise a temp SQLite."""
    from worker import WorkerParts, build_worker, simulation_backends

    policy = load_policy(
        policy_path(settings.policy_dir, scenario.policy or settings.default_policy)
    )
    for index, case in enumerate(scenario.cases):
        try:
            check_category(policy, case.category)
        except CaseError as error:
            raise ScenarioError(f"cases[{index}].category: {error}") from error
    with tempfile.TemporaryDirectory(prefix="pledge-simulate-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'rehearsal.db'}"
        upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            async with time_skipping_environment() as env:
                task_queue = f"rehearsal-{uuid.uuid4()}"
                parts = WorkerParts(sessions=sessions, backends=simulation_backends())
                async with build_worker(env.client, settings, parts, task_queue=task_queue):
                    return await _rehearse(env, sessions, policy, task_queue, scenario, progress)
        finally:
            engine.dispose()


async def _rehearse(
    env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    policy: Policy,
    task_queue: str,
    scenario: Scenario,
    progress: ProgressCallback | None,
) -> Outcome:
    steps: list[tuple[datetime, int, int, CaseIn | EventIn]] = [
        (case.reported_at, 0, i, case) for i, case in enumerate(scenario.cases)
    ] + [(event.at, 1, i, event) for i, event in enumerate(scenario.events)]
    steps.sort(key=lambda step: step[:3])
    epoch = min([steps[0][0], scenario.until]) if steps else scenario.until
    rehearsal = Rehearsal(env, sessions, policy, task_queue, epoch)
    await rehearsal.begin()
    outcome = Outcome()
    for done, (_at, kind, index, item) in enumerate(steps, start=1):
        if isinstance(item, CaseIn):
            try:
                await rehearsal.open(item)
            except CaseError as error:
                raise ScenarioError(f"cases[{index}]: {error}") from error
        else:
            assert isinstance(item, EventIn)
            try:
                await rehearsal.post(item)
            except CaseError as error:
                outcome.rejected.append(
                    {
                        "index": index,
                        "reference": item.reference,
                        "type": item.type.value,
                        "at": to_utc_iso(item.at),
                        "error": str(error),
                    }
                )
        if progress is not None:
            progress(done, len(steps))
        del kind
    await rehearsal.advance_to(scenario.until)
    for reference in rehearsal.references:
        outcome.cases.append(obligation_json(await rehearsal.view(reference)))
    outcome.messages = rehearsal.messages()
    outcome.alerts = rehearsal.alerts()
    return outcome
