"""A rehearsal's scenario: read from YAML or JSON, and checked as a whole.

Both engines of `pledge simulate` read a scenario so; apart from the Temporal engine
(service/simulate.py), so the in-process engine starts without loading it.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from service.case_input import CaseIn, EventIn, describe_validation_error


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the field at fault."""


class ScenarioFrame(BaseModel):
    """A scenario with its cases and events not yet checked one by one."""

    model_config = ConfigDict(extra="forbid")

    policy: str | None = None
    cases: list[Any]
    events: list[Any] = []
    until: AwareDatetime


class Scenario(ScenarioFrame):
    """A scenario with every case and event checked."""

    cases: list[CaseIn]
    events: list[EventIn] = []


# libyaml's parser where it is installed: the same documents, read several times faster.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def is_json(text: str, origin: str) -> bool:
    """A scenario is JSON if its file says so, or if it starts as a JSON object does."""
    return origin.endswith(".json") or text.lstrip()[:1] == "{"


def load_scenario(text: str, origin: str = "scenario") -> dict[str, Any]:
    """A scenario's mapping from YAML or JSON (JSON reads fastest: a force's year is large)."""
    try:
        raw = json.loads(text) if is_json(text, origin) else yaml.load(text, Loader=YAML_LOADER)
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{origin}: not valid JSON: {error}") from error
    except yaml.YAMLError as error:
        raise ScenarioError(f"{origin}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ScenarioError(f"{origin}: expected a mapping with cases, events and until")
    return raw


def parse_scenario(text: str, origin: str = "scenario") -> Scenario:
    return checked_scenario(load_scenario(text, origin), origin)


def checked_scenario(raw: dict[str, Any], origin: str = "scenario") -> Scenario:
    """The scenario, or a ScenarioError naming every field at fault."""
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
    for index, case in enumerate(scenario.cases):
        if case.reported_at > scenario.until:
            raise ScenarioError(
                f"{origin}: cases[{index}].reported_at: after until "
                f"({scenario.until.isoformat()}), when the clock stops"
            )
    for index, event in enumerate(scenario.events):
        if event.reference not in seen:
            raise ScenarioError(
                f"{origin}: events[{index}].reference: no case {event.reference} in this scenario"
            )
    return scenario
