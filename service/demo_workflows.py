"""Demo cases you can act on: generated cases opened as real cases, each with its workflow.

Each demo case is opened through the same intake use case as the API and the command line
(`service.cases.open_case`), with a report instant in the past, and its past events (from
`engine.year.case_history`, up to now) are posted to it through `service.cases.post_event`
in the order they happened. The case book decides what each event meets and the clock
what is overdue or due soon, as for any case: so every row the VFU queue shows for them
can be cleared with "Record contact" or "Explain the breach". Events reach the case now,
after their instants: a deadline that passed before now is breached first (the book's rule
for an event posted late) and then met at the event's instant, met or met late.

Idempotent: demo cases have references of their own (`DEMO-0001`, ...) drawn from the
seed alone, and a reference already in the database is left as it is, so running it
again (every `make run`) opens none twice. Bounded: every call to Temporal waits at most
the settings' timeout, and a silence ends the run with one line naming the part that did
not answer (`service.runtime.temporal.describe_silence`); never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError

from config import Settings
from engine.demo import ACTOR, demo_categories, to_the_second
from engine.year import BOROUGHS, GeneratedCase, case_history
from service.case_input import CaseError, CaseIn, EventIn, VictimIn
from service.cases import open_case, post_event
from service.runtime.temporal import TemporalUnavailable, describe_silence
from standards.events import EventType
from standards.force import Force, UnknownUnit
from standards.policy import Policy
from standards.vocabulary import Channel
from storage import models

T = TypeVar("T")

# The demo's own references: never a force's, so a demo case is told from a live one.
REFERENCE_PREFIX: Final = "DEMO-"
# How many days back the demo's cases were reported (`make run` opens PLEDGE_DEMO_CASES).
DEFAULT_DAYS: Final = 45
# The share of cases nobody has caught up with since their first hours (their events stop
# within BACKLOG_HOURS of the report): the queue's overdue rows, which a VFU then clears.
BACKLOG_SHARE: Final = 0.5
BACKLOG_HOURS: Final = 36.0
# The categories whose first contact is an officer's (not a message the service sends),
# weighted up from the generated year's mix: their rows are what a VFU's queue is for.
HANDS_ON: Final = {"domestic_abuse": 3, "serious_assault": 3, "road_traffic_collision": 2}
# Cases opened at once: each waits on its own intake and events, one after another.
CONCURRENT_CASES: Final = 4


def demo_reference(number: int, prefix: str = REFERENCE_PREFIX) -> str:
    return f"{prefix}{number:04d}"


@dataclass(frozen=True)
class DemoPlan:
    """What to open: `cases` cases reported over the `days` before `now`, from `seed`."""

    cases: int
    days: int = DEFAULT_DAYS
    seed: int = 1
    now: datetime | None = None
    # The references' prefix: the demo's own, unless two demos share one Temporal server.
    prefix: str = REFERENCE_PREFIX


@dataclass
class DemoStarted:
    """What a run did: cases opened, cases already there, events posted and refused."""

    opened: int = 0
    existing: int = 0
    events: int = 0
    refused: int = 0


class DemoFailed(RuntimeError):
    """The demo could not go on; the message is one line saying why."""


def demo_units(force: Force) -> list[str]:
    """The generated year's few boroughs where the force has them (a VFU then sees a
    queue of several cases), else every unit of the force."""
    units = []
    for name in BOROUGHS:
        with contextlib.suppress(UnknownUnit):
            units.append(force.resolve_unit(name).id)
    return units or [unit.id for unit in force.units]


def planned_cases(policy: Policy, force: Force, plan: DemoPlan) -> list[GeneratedCase]:
    """The demo's cases, the same for the same seed but for their instants, which are
    counted back from `plan.now` (each case's events are those before it)."""
    if plan.cases < 0 or plan.days < 1:
        raise ValueError("demo cases must be >= 0 and days >= 1")
    now = (plan.now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(plan.seed)
    categories = [
        (name, weight * HANDS_ON.get(name, 1)) for name, weight in demo_categories(policy)
    ]
    units = demo_units(force)
    span = plan.days * 86_400
    cases = []
    for number in range(1, plan.cases + 1):
        # More of them recent, as a queue's are: a recent case's contacts are still due.
        reported = to_the_second(now - timedelta(seconds=60 + (span - 60) * rng.random() ** 2))
        generated = case_history(
            rng, number, demo_reference(number, plan.prefix), reported, now, categories, units
        )
        if rng.random() < BACKLOG_SHARE:
            # Nobody has caught up since the first hours: what was due then is overdue.
            caught_up = reported + timedelta(hours=rng.uniform(0, BACKLOG_HOURS))
            generated.events = [event for event in generated.events if event.at <= caught_up]
        for event in generated.events:
            event.at = to_the_second(event.at)
        cases.append(generated)
    return cases


def case_input(generated: GeneratedCase) -> CaseIn:
    channels = [generated.preferred_channel]
    if generated.phone and generated.preferred_channel == Channel.SMS:
        channels.append(Channel.EMAIL.value)
    return CaseIn(
        reference=generated.reference,
        category=generated.category,
        reported_at=generated.reported_at,
        borough=generated.borough,
        vulnerable=generated.vulnerable,
        victim=VictimIn.model_validate(
            {
                "name": generated.name,
                "email": generated.email,
                "phone": generated.phone,
                "preferred_channel": generated.preferred_channel,
                "allowed_channels": channels,
            }
        ),
    )


def event_inputs(generated: GeneratedCase) -> list[EventIn]:
    """The case's events in the order they happened, each with an id of its own."""
    ordered = sorted(enumerate(generated.events), key=lambda pair: (pair[1].at, pair[0]))
    return [
        EventIn(
            reference=generated.reference,
            type=EventType(event.type),
            at=max(event.at, generated.reported_at),
            standard=event.standard,
            details=dict(event.details or {}),
            actor=ACTOR,
            event_id=f"demo:{generated.reference}:{index}",
        )
        for index, (_, event) in enumerate(ordered)
    ]


def existing_references(sessions: sessionmaker[Session], references: list[str]) -> set[str]:
    with sessions() as session:
        return set(
            session.scalars(
                select(models.Case.reference).where(models.Case.reference.in_(references))
            )
        )


async def start_demo_cases(
    client: Client,
    sessions: sessionmaker[Session],
    settings: Settings,
    policy: Policy,
    force: Force,
    plan: DemoPlan,
    progress: Callable[[int, int], None] | None = None,
) -> DemoStarted:
    """Open the plan's cases not yet in the database and post their events; `progress`
    is told (done, total) after each case."""
    cases = planned_cases(policy, force, plan)
    there = await asyncio.to_thread(existing_references, sessions, [c.reference for c in cases])
    todo = [case for case in cases if case.reference not in there]
    started = DemoStarted(existing=len(cases) - len(todo))
    if progress is not None:
        progress(0, len(todo))
    timeout = settings.temporal_timeout_seconds

    async def bounded(call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, timeout)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise DemoFailed(await describe_silence(client, settings)) from None
        except TemporalUnavailable as error:
            raise DemoFailed(str(error)) from None
        except RuntimeError as error:
            # The client could not reach the server at all.
            raise DemoFailed(await describe_silence(client, settings)) from error

    async def one(generated: GeneratedCase) -> None:
        try:
            await bounded(
                open_case(
                    client,
                    sessions,
                    policy,
                    case_input(generated),
                    settings.task_queue,
                    force=force,
                    publish_category=settings.publish_category_search_attribute,
                )
            )
        except CaseError:
            started.existing += 1  # opened meanwhile by another run
            return
        started.opened += 1
        for event in event_inputs(generated):
            try:
                await bounded(post_event(client, sessions, event))
                started.events += 1
            except CaseError:
                started.refused += 1  # the book refused it, as it would live

    limit = asyncio.Semaphore(CONCURRENT_CASES)
    done = 0

    async def limited(generated: GeneratedCase) -> None:
        nonlocal done
        async with limit:
            await one(generated)
        done += 1
        if progress is not None:
            progress(done, len(todo))

    tasks = [asyncio.create_task(limited(case)) for case in todo]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return started
