"""`pledge simulate` on the in-process engine: a scenario's cases through their books.

The scenario is checked as the Temporal engine checks it, its cases and events are
handed to the engine as the service would hand them to the workflows (the unit's
canonical id and nation, the victim's row), and the outcome is written as it runs.
"""

from __future__ import annotations

from typing import IO

from engine.delivery import MessageSetting, Victim
from engine.driver import PostedEvent
from engine.run import CaseInput, EngineConfig, Encoded, indented, run_cases, write_outcome
from service.cases import CaseError, CaseIn, check_category, check_unit
from service.configuration import configured_force, configured_policy
from service.settings import Settings
from service.simulate import Scenario, ScenarioError
from standards.clock import to_utc_iso
from standards.contact import ContactProfile
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
    allowed = list(victim.allowed_channels or [victim.preferred_channel])
    return Victim(
        name=victim.name,
        email=victim.email,
        phone=victim.phone,
        profile=ContactProfile(
            preferred_channel=victim.preferred_channel,
            allowed_channels=allowed,
            has_email=bool(victim.email),
            has_phone=bool(victim.phone),
            do_not_contact=victim.do_not_contact,
            safe_hours_start=start,
            safe_hours_end=end,
        ),
        discreet=discreet,
    )


def engine_inputs(
    scenario: Scenario, policy: Policy, force: Force
) -> tuple[list[CaseInput], list[Encoded]]:
    """Each case with the events that reach it (in posting order), and the late events."""
    inputs: list[CaseInput] = []
    by_reference: dict[str, CaseInput] = {}
    for index, case in enumerate(scenario.cases):
        try:
            check_category(policy, case.category)
        except CaseError as error:
            raise ScenarioError(f"cases[{index}].category: {error}") from error
        try:
            unit = check_unit(force, case.borough)
        except CaseError as error:
            raise ScenarioError(f"cases[{index}].borough: {error}") from error
        run = CaseInput(
            reference=case.reference,
            category=case.category,
            borough=unit.id,
            borough_name=unit.name,
            reported_at=case.reported_at,
            victim=victim_of(case, policy),
            vulnerable=case.vulnerable,
            nation=force.nation_of(unit),
        )
        inputs.append(run)
        by_reference[case.reference] = run
    late: list[Encoded] = []
    for index, event in enumerate(scenario.events):
        if event.at > scenario.until:
            refusal = {
                "index": index,
                "reference": event.reference,
                "type": event.type.value,
                "at": to_utc_iso(event.at),
                "error": LATE,
            }
            late.append(((index,), indented(refusal)))
            continue
        run = by_reference[event.reference]
        run.events.append(
            PostedEvent(
                index=index,
                # An event dated before its report reaches the case once it is open, so
                # the case refuses it as it would live.
                posted_at=max(event.at, run.reported_at),
                type=event.type,
                at=event.at,
                standard=event.standard,
                details=event.details,
                actor=event.actor,
                event_id=event.event_id,
            )
        )
    for run in inputs:
        run.events.sort(key=lambda e: (e.posted_at, e.index))
    return inputs, late


def simulate_in_process(
    scenario: Scenario, settings: Settings, out: IO[str], processes: int | None = None
) -> None:
    """Run the scenario on the in-process engine and write its outcome to `out` as JSON."""
    policy = configured_policy(settings, scenario.policy)
    force = configured_force(settings)
    cases, late = engine_inputs(scenario, policy, force)
    config = engine_config(settings, policy, force)
    write_outcome(out, run_cases(config, cases, scenario.until, processes), late)
