"""`pledge simulate` on the in-process engine: a scenario's cases through their books.

The scenario is checked as the Temporal engine checks it, its cases and events are
handed to the engine as the service would hand them to the workflows (the unit's
canonical id and nation, the victim's row), and the outcome is written once all is run.

A force's year is large, and checking each case's contact details costs as much as
running it, so each worker process checks the cases it runs. If any is at fault the
whole scenario is checked again in one piece, which names every field at fault exactly
as the Temporal engine does.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from pydantic import ValidationError

from config import Settings
from engine.delivery import MessageSetting, Victim
from engine.driver import PostedEvent
from engine.run import (
    CHUNK_CASES,
    CaseInput,
    CaseResult,
    CaseRunner,
    Encoded,
    EngineConfig,
    indented,
    run_chunks,
    write_outcome,
)
from service.case_input import (
    CaseError,
    CaseIn,
    EventIn,
    check_category,
    check_language,
    check_unit,
)
from service.configuration import configured_force, configured_policy

# ScenarioFrame: the cases are not checked here, each worker checks its own (`check_and_run`).
from service.scenario import ScenarioError, ScenarioFrame, checked_scenario, load_scenario
from standards.clock import to_utc_iso
from standards.datafile import DataFileError
from standards.force import Force
from standards.policy import Policy

LATE = "after until: the simulation clock stops first"


def engine_config(settings: Settings, policy: Policy, force: Force) -> EngineConfig:
    return EngineConfig(
        policy=policy,
        template_dir=settings.template_dir,
        setting=MessageSetting(
            force_name=settings.force_name,
            unit_name_pattern=settings.unit_name_pattern,
            contact_number=policy.contact_number,
        ),
        corrections=force.holiday_corrections,
        force=force,
    )


def victim_of(case: CaseIn, policy: Policy) -> Victim:
    """The victim's row as `service.cases.case_record` writes it."""
    victim = case.victim
    start, end = victim.safe_hours_window()
    discreet = (
        victim.discreet
        if victim.discreet is not None
        else policy.discreet_by_default_for(case.category)
    )
    return Victim.reached_by(
        name=victim.name,
        email=victim.email,
        phone=victim.phone,
        preferred_channel=victim.preferred_channel,
        allowed_channels=victim.allowed_channels,
        do_not_contact=victim.do_not_contact,
        safe_hours_start=start,
        safe_hours_end=end,
        discreet=discreet,
        language=victim.language.value,
    )


@dataclass
class RawCase:
    index: int
    case: dict[str, Any]
    events: list[tuple[int, dict[str, Any]]]


@dataclass
class ChunkOutcome:
    results: list[CaseResult]
    late: list[Encoded]
    # A case or event at fault: the scenario is checked again as a whole to say where.
    invalid: bool = False
    # The first case whose category or unit the policy or force does not have.
    refused: tuple[int, str] | None = None


def _utc(instant: datetime) -> datetime:
    """`instant` on the standard library's UTC if it is at offset zero (pydantic gives its
    own zone, which every deadline calculation would convert again); it prints the same.
    Other offsets are kept: the book's refusals quote an instant as it was given."""
    return instant.replace(tzinfo=UTC) if instant.utcoffset() == _ZERO else instant


_ZERO = timedelta(0)


def case_input(index: int, case: CaseIn, policy: Policy, force: Force) -> CaseInput:
    try:
        check_category(policy, case.category)
    except CaseError as error:
        raise ScenarioError(f"cases[{index}].category: {error}") from error
    try:
        check_language(policy, case.victim.language)
    except CaseError as error:
        raise ScenarioError(f"cases[{index}].victim.language: {error}") from error
    try:
        unit = check_unit(force, case.borough)
    except CaseError as error:
        raise ScenarioError(f"cases[{index}].borough: {error}") from error
    return CaseInput(
        reference=case.reference,
        category=case.category,
        borough=unit.id,
        borough_name=unit.name,
        reported_at=_utc(case.reported_at),
        victim=victim_of(case, policy),
        vulnerable=case.vulnerable,
        nation=force.nation_of(unit),
    )


def posted(index: int, event: EventIn, reported_at: datetime) -> PostedEvent:
    return PostedEvent(
        index=index,
        # An event dated before its report reaches the case once it is open, so the
        # case refuses it as it would live.
        posted_at=max(_utc(event.at), reported_at),
        type=event.type,
        at=_utc(event.at),
        standard=event.standard,
        details=event.details,
        actor=event.actor,
        event_id=event.event_id,
    )


def late_refusal(index: int, event: EventIn) -> Encoded:
    refusal = {
        "index": index,
        "reference": event.reference,
        "type": event.type.value,
        "at": to_utc_iso(event.at),
        "error": LATE,
    }
    return (index,), indented(refusal)


def check_and_run(runner: CaseRunner, chunk: tuple[list[RawCase], datetime]) -> ChunkOutcome:
    """Check a chunk's cases and events, then run them; runs in a worker process.

    The cycle collector is off meanwhile, as in the what-if's replays: a case's objects
    die with it, but the collections its many small objects set off cost a tenth of a
    run; the chunk's garbage is collected after.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check_and_run(runner, chunk)
    finally:
        if collecting:
            gc.enable()


def _check_and_run(runner: CaseRunner, chunk: tuple[list[RawCase], datetime]) -> ChunkOutcome:
    raw_cases, until = chunk
    config = runner.config
    assert config.force is not None
    outcome = ChunkOutcome(results=[], late=[])
    inputs: list[CaseInput] = []
    try:
        for raw in raw_cases:
            case = CaseIn.model_validate(raw.case)
            if case.reported_at > until:
                outcome.invalid = True
                return outcome
            try:
                run = case_input(raw.index, case, config.policy, config.force)
            except ScenarioError as error:
                if outcome.refused is None:
                    outcome.refused = (raw.index, str(error))
                continue
            for index, raw_event in raw.events:
                event = EventIn.model_validate(raw_event)
                if event.at > until:
                    outcome.late.append(late_refusal(index, event))
                else:
                    run.events.append(posted(index, event, run.reported_at))
            run.events.sort(key=lambda e: (e.posted_at, e.index))
            inputs.append(run)
    except ValidationError:
        outcome.invalid = True
        return outcome
    if outcome.refused is None:
        outcome.results = [runner.run_encoded(run, until) for run in inputs]
    return outcome


def raw_chunks(frame: ScenarioFrame) -> list[RawCase] | None:
    """Each case with its events, by reference; None if a case or event is not a
    mapping, or references are not plain or not unique (checking the whole scenario
    says which)."""
    cases: dict[str, RawCase] = {}
    for index, case in enumerate(frame.cases):
        reference = case.get("reference") if isinstance(case, dict) else None
        if not isinstance(reference, str) or reference in cases:
            return None
        cases[reference] = RawCase(index, case, [])
    for index, event in enumerate(frame.events):
        reference = event.get("reference") if isinstance(event, dict) else None
        owner = cases.get(reference) if isinstance(reference, str) else None
        if owner is None:
            return None
        owner.events.append((index, event))
    return list(cases.values())


def simulate_in_process(
    text: str, origin: str, settings: Settings, out: IO[str], processes: int | None = None
) -> None:
    """Run a scenario (YAML or JSON text) on the in-process engine; write its JSON to `out`."""
    raw = load_scenario(text, origin)
    # The scenario lives to the end: the collector need not scan its many objects again.
    gc.freeze()
    try:
        _simulate(raw, origin, settings, out, processes)
    finally:
        gc.unfreeze()


def _simulate(
    raw: dict[str, Any], origin: str, settings: Settings, out: IO[str], processes: int | None
) -> None:
    try:
        frame = ScenarioFrame.model_validate(raw)
    except ValidationError:
        checked_scenario(raw, origin)
        raise
    cases = raw_chunks(frame)
    try:
        policy = configured_policy(settings, frame.policy)
    except DataFileError:
        checked_scenario(raw, origin)  # a scenario at fault is reported first
        raise
    force = configured_force(settings)
    if cases is None:
        checked_scenario(raw, origin)
        raise ScenarioError(f"{origin}: the cases' references are not unique")
    chunks = [(cases[i : i + CHUNK_CASES], frame.until) for i in range(0, len(cases), CHUNK_CASES)]
    outcomes = list(
        run_chunks(engine_config(settings, policy, force), check_and_run, chunks, processes)
    )
    if any(o.invalid for o in outcomes):
        checked_scenario(raw, origin)
        raise ScenarioError(f"{origin}: invalid scenario")
    refused = [o.refused for o in outcomes if o.refused is not None]
    if refused:
        raise ScenarioError(min(refused)[1])
    write_outcome(
        out,
        (result for o in outcomes for result in o.results),
        [late for o in outcomes for late in o.late],
    )
