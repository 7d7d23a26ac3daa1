"""Demo history made by the rules: generated cases run by the case book's driver.

Each case's life comes from `engine.year.case_history` (over the demo's period, among the
force's units and the policy's categories), runs through `CaseDriver` with the
rehearsal's delivery and the real renderer, and comes back as the rows the service
would have kept for it: the case and its victim as intake writes them, every obligation
with its transitions, message and alert as the workflow's records and the send activity
write them, and every accepted event as `case_events` keeps it. Nothing here decides a
deadline, a state or a message: the book and the delivery rules do.

The victim focus unit explains some breaches: after a first run, a share of the breached
obligations get a `breach_explained` event some hours after their breach, and the case is
run again with those events, so the book records the explanations as it would live.

Rows carry no ids; the writer (reporting/demo.py) numbers them. The same seed gives the
same history, whatever the number of processes: cases are generated in order in the
calling process, and each case's explanations are drawn in the process that runs it
from a generator seeded by the run's seed and the case's reference.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.delivery import CaseOutbox, SimulatedDelivery, Victim
from engine.demo import ACTOR, EXPLAINER, demo_categories, to_the_second
from engine.driver import CaseDriver, CaseRun, PostedEvent
from engine.run import CHUNK_CASES, CaseRunner, EngineConfig, run_chunks
from engine.year import GeneratedCase, case_history
from messaging.rendering import MessageRenderer
from reporting.demo_rows import DemoCase, DemoTables, demo_rows
from standards.case_state import CaseFacts
from standards.events import EventType
from standards.force import Force
from standards.obligations import BreachReason
from standards.policy import Policy
from standards.vocabulary import Channel
from storage.bulk import dialect_named

# The share of breaches the unit explains, and how long after the breach it does.
EXPLAINED_SHARE = 0.6
EXPLAINED_AFTER_HOURS = (1.0, 72.0)
OTHER_TEXT = "victim moved address; new one traced"
DO_NOT_CONTACT_SHARE = 0.01


@dataclass
class DemoCaseInput:
    """A generated case with the victim's extras drawn for the demo."""

    generated: GeneratedCase
    do_not_contact: bool


def reference_of(case_id: int, reported_at: datetime) -> str:
    """A crime reference that rises with the case's id, as a force's do."""
    return (
        f"{(case_id // 1_000_000) % 100:02d}/{case_id % 1_000_000:06d}/{reported_at.year % 100:02d}"
    )


def report_instants(
    start: datetime, end: datetime, count: int, rng: random.Random
) -> list[datetime]:
    """`count` sorted instants in [start, end): ids and references rise with time."""
    span = int((end - start).total_seconds())
    if span < 1:
        raise ValueError("the demo's period must end after it starts")
    return [start + timedelta(seconds=s) for s in sorted(rng.randrange(span) for _ in range(count))]


def generated_cases(
    policy: Policy,
    force: Force,
    first_id: int,
    instants: Sequence[datetime],
    until: datetime,
    rng: random.Random,
) -> Iterator[DemoCaseInput]:
    """One case for each report instant, numbered from `first_id`."""
    categories = demo_categories(policy)
    units = [unit.id for unit in force.units]
    for number, reported in enumerate(instants, start=first_id):
        generated = case_history(
            rng, number, reference_of(number, reported), reported, until, categories, units
        )
        for event in generated.events:
            event.at = to_the_second(event.at)
        yield DemoCaseInput(generated, do_not_contact=rng.random() < DO_NOT_CONTACT_SHARE)


# -- running -------------------------------------------------------------------


def victim_of(case: DemoCaseInput, policy: Policy) -> Victim:
    generated = case.generated
    allowed = [generated.preferred_channel]
    if generated.phone and generated.preferred_channel == Channel.SMS:
        allowed.append(Channel.EMAIL.value)
    return Victim.reached_by(
        name=generated.name,
        email=generated.email,
        phone=generated.phone,
        preferred_channel=generated.preferred_channel,
        allowed_channels=allowed,
        do_not_contact=case.do_not_contact,
        discreet=policy.discreet_by_default_for(generated.category),
    )


def posted_events(generated: GeneratedCase) -> list[PostedEvent]:
    """The case's events in the order they reach it (by instant, then as generated)."""
    ordered = sorted(enumerate(generated.events), key=lambda pair: (pair[1].at, pair[0]))
    return [
        PostedEvent(
            index=index,
            posted_at=max(event.at, generated.reported_at),
            type=EventType(event.type),
            at=event.at,
            standard=event.standard,
            details=dict(event.details or {}),
            actor=ACTOR,
        )
        for index, (_, event) in enumerate(ordered)
    ]


def explanations(run: CaseRun, until: datetime, rng: random.Random) -> list[PostedEvent]:
    """The unit's explanations of a share of the run's breaches, each some hours after it."""
    found: list[PostedEvent] = []
    for obligation in run.book.state.obligations:
        if obligation.breached_at is None or rng.random() >= EXPLAINED_SHARE:
            continue
        after = timedelta(hours=rng.uniform(*EXPLAINED_AFTER_HOURS))
        at = to_the_second(obligation.breached_at + after)
        reason = rng.choice(list(BreachReason))
        if at > until:
            continue
        details: dict[str, Any] = {"reason": reason.value}
        if reason == BreachReason.OTHER:
            details["text"] = OTHER_TEXT
        found.append(
            PostedEvent(
                index=0,
                posted_at=at,
                type=EventType.BREACH_EXPLAINED,
                at=at,
                standard=obligation.standard,
                details=details,
                actor=EXPLAINER,
            )
        )
    return found


class DemoRunner:
    """Runs demo cases in one process (a worker of the pool, or this one)."""

    def __init__(self, config: EngineConfig) -> None:
        assert config.force is not None, "a demo's cases belong to a force's units"
        self.config = config
        self.force = config.force
        self.renderer = MessageRenderer(
            config.template_dir, reload_templates=False, with_html=False
        )
        self._tables: dict[str, DemoTables] = {}

    def drive(self, case: DemoCaseInput, events: list[PostedEvent], until: datetime) -> CaseRun:
        generated = case.generated
        config = self.config
        unit = self.force.resolve_unit(generated.borough)
        facts = CaseFacts(
            reference=generated.reference,
            category=generated.category,
            borough=unit.id,
            reported_at=generated.reported_at,
            policy=config.policy,
            vulnerable=generated.vulnerable,
            nation=self.force.nation_of(unit),
        )
        outbox = CaseOutbox(
            reference=generated.reference,
            category=generated.category,
            borough_name=unit.name,
            victim=victim_of(case, config.policy),
        )
        # A delivery of its own for each run: the simulated SMS counts a flaky number's
        # attempts, so a second run must start where the first did.
        delivery = SimulatedDelivery(self.renderer, config.setting)
        return CaseDriver(facts, outbox, delivery, config.corrections).drive(events, until)

    def tables(self, dialect: str) -> DemoTables:
        if dialect not in self._tables:
            self._tables[dialect] = DemoTables.for_dialect(dialect_named(dialect))
        return self._tables[dialect]

    def run(self, tables: DemoTables, case: DemoCaseInput, until: datetime, seed: int) -> DemoCase:
        events = posted_events(case.generated)
        run = self.drive(case, events, until)
        rng = random.Random(f"{seed}/{case.generated.reference}")
        explained = explanations(run, until, rng)
        if explained:
            events = sorted(events + explained, key=lambda e: e.posted_at)
            for index, event in enumerate(events):
                event.index = index
            run = self.drive(case, events, until)
        return demo_rows(tables, run, events, case.do_not_contact)


# -- the pool ------------------------------------------------------------------

# This process's runner, for the configuration it was made for (held, so never mistaken).
_runner: list[DemoRunner] = []


@dataclass
class DemoChunk:
    cases: list[DemoCaseInput]
    until: datetime
    seed: int
    # The database's dialect (`storage.bulk.dialect_name`): rows are bound for it here.
    dialect: str


def _demo_chunk(runner: CaseRunner, chunk: DemoChunk) -> list[DemoCase]:
    if not _runner or _runner[0].config is not runner.config:
        _runner[:] = [DemoRunner(runner.config)]
    demo = _runner[0]
    tables = demo.tables(chunk.dialect)
    with young_garbage_only():
        return [demo.run(tables, case, chunk.until, chunk.seed) for case in chunk.cases]


@contextmanager
def young_garbage_only() -> Iterator[None]:
    """Run without the cyclic garbage collector, then collect what was made meanwhile.

    A demo makes millions of small objects, which would set off full collections of
    everything alive again and again (a third of a run's time, profiled); the objects
    made here are freed by reference counting, and the rare cycles by the young
    generation's collection at the end (nothing is promoted while collection is off).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect(0)
        if enabled:
            gc.enable()


def run_demo_cases(
    config: EngineConfig,
    cases: Sequence[DemoCaseInput],
    until: datetime,
    seed: int,
    dialect: str,
    processes: int | None = None,
) -> Iterator[DemoCase]:
    """Each case's rows, in the order of `cases`, run on every core (engine/run.py's pool)."""
    chunks = [
        DemoChunk(list(cases[i : i + CHUNK_CASES]), until, seed, dialect)
        for i in range(0, len(cases), CHUNK_CASES)
    ]
    for rows in run_chunks(config, _demo_chunk, chunks, processes):
        yield from rows
