"""Service standards as data: the policy file's schema, loader and look-ups.

The policy types are plain dataclasses so a case workflow can carry the exact
policy it started under in its own state; pydantic validates them at load time.
"""

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from standards.clock import Nation, WindowUnit

StandardId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class Trigger(StrEnum):
    """What starts an obligation: the case opening or an event posted to it."""

    CASE_OPENED = "case_opened"
    ARREST = "arrest"
    CHARGE = "charge"
    COURT_OUTCOME = "court_outcome"
    CLOSED = "closed"
    REOPENED = "reopened"
    OFFICER_ASSIGNED = "officer_assigned"


class OnCaseChange(StrEnum):
    KEEP = "keep"
    CANCEL = "cancel"


MATCH_TOKEN = re.compile(
    r"^(contact|any_contact|review|update_delivered|message:[a-z][a-z0-9_]*(\+reason)?)$"
)


@dataclass(frozen=True)
class StandardRule:
    id: StandardId
    title: str
    applies_to: list[str]
    starts_on: list[Trigger]
    window: Annotated[int, Field(gt=0)]
    unit: WindowUnit
    met_by: list[str]
    enhanced_window: Annotated[int, Field(gt=0)] | None = None
    warning_at: Fraction | None = None
    escalate_after_hours: Annotated[float, Field(gt=0)] | None = None
    recurs: bool = False
    victim_interval: bool = False
    on_close: OnCaseChange = OnCaseChange.KEEP
    on_reopen: OnCaseChange = OnCaseChange.KEEP
    auto_update: bool = False
    auto_update_at: Fraction = 0.9
    description: str = ""

    def met_by_token(self, token: str) -> bool:
        return token in self.met_by


@dataclass(frozen=True)
class MessageRule:
    on: Trigger
    template: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    applies_to: list[str]


@dataclass(frozen=True)
class Policy:
    id: StandardId | Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    version: Annotated[int, Field(ge=1)]
    title: str
    contact_number: Annotated[str, Field(min_length=1)]
    categories: list[str]
    standards: list[StandardRule]
    nation: Nation = Nation.ENGLAND_AND_WALES
    warning_at: Fraction = 0.75
    escalate_after_hours: Annotated[float, Field(gt=0)] = 24.0
    reopen_window_days: Annotated[int, Field(ge=0)] = 365
    groups: dict[str, list[str]] = field(default_factory=dict)
    enhanced_rights: list[str] = field(default_factory=list)
    discreet_by_default: list[str] = field(default_factory=list)
    messages: list[MessageRule] = field(default_factory=list)

    # Look-ups used by the case workflow; all pure.

    def standard(self, standard_id: str) -> StandardRule:
        for rule in self.standards:
            if rule.id == standard_id:
                return rule
        raise KeyError(standard_id)

    def has_standard(self, standard_id: str) -> bool:
        return any(rule.id == standard_id for rule in self.standards)

    def covers(self, selectors: list[str], category: str) -> bool:
        return any(s == category or category in self.groups.get(s, []) for s in selectors)

    def standards_for(self, category: str) -> list[StandardRule]:
        return [rule for rule in self.standards if self.covers(rule.applies_to, category)]

    def started_by(self, trigger: Trigger, category: str) -> list[StandardRule]:
        return [rule for rule in self.standards_for(category) if trigger in rule.starts_on]

    def message_for(self, trigger: Trigger, category: str) -> str | None:
        for rule in self.messages:
            if rule.on == trigger and self.covers(rule.applies_to, category):
                return rule.template
        return None

    def has_enhanced_rights(self, category: str, vulnerable: bool) -> bool:
        return vulnerable or category in self.enhanced_rights

    def window_for(self, rule: StandardRule, enhanced: bool) -> int:
        if enhanced and rule.enhanced_window is not None:
            return rule.enhanced_window
        return rule.window

    def warning_fraction(self, rule: StandardRule) -> float:
        return rule.warning_at if rule.warning_at is not None else self.warning_at

    def escalation_hours(self, rule: StandardRule) -> float:
        if rule.escalate_after_hours is not None:
            return rule.escalate_after_hours
        return self.escalate_after_hours

    def discreet_by_default_for(self, category: str) -> bool:
        return category in self.discreet_by_default


Location = tuple[str | int, ...]


def reference_problems(policy: Policy) -> list[tuple[Location, str]]:
    """Checks that span fields: names that must refer to something defined elsewhere."""
    problems: list[tuple[Location, str]] = []
    known = set(policy.categories)
    for name, members in policy.groups.items():
        if name in known:
            problems.append((("groups", name), f"group {name!r} has the name of a category"))
        unknown = [m for m in members if m not in known]
        if unknown:
            problems.append((("groups", name), f"names unknown categories {unknown}"))
    selectors = known | set(policy.groups)
    seen: set[str] = set()
    for i, rule in enumerate(policy.standards):
        if rule.id in seen:
            problems.append((("standards", i, "id"), f"standard {rule.id!r} is defined twice"))
        seen.add(rule.id)
        problems += _selector_problems(("standards", i, "applies_to"), rule.applies_to, selectors)
        for token in rule.met_by:
            if not MATCH_TOKEN.match(token):
                problems.append(
                    (
                        ("standards", i, "met_by"),
                        f"{token!r} is not one of contact, any_contact, review, "
                        "update_delivered, message:NAME or message:NAME+reason",
                    )
                )
        if rule.auto_update and not rule.recurs:
            problems.append(
                (("standards", i, "auto_update"), "auto_update needs a recurring standard")
            )
    for i, message in enumerate(policy.messages):
        problems += _selector_problems(("messages", i, "applies_to"), message.applies_to, selectors)
    for label, names in (
        ("enhanced_rights", policy.enhanced_rights),
        ("discreet_by_default", policy.discreet_by_default),
    ):
        unknown = [n for n in names if n not in known]
        if unknown:
            problems.append(((label,), f"names unknown categories {unknown}"))
    return problems


def _selector_problems(
    location: Location, selectors: list[str], known: set[str]
) -> list[tuple[Location, str]]:
    if not selectors:
        return [(location, "is empty: name categories or groups")]
    unknown = [s for s in selectors if s not in known]
    if unknown:
        return [(location, f"names unknown categories or groups {unknown}; known: {sorted(known)}")]
    return []


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names file, line and field."""


_POLICY_ADAPTER = TypeAdapter(Policy)


def parse_policy(source: str, origin: str = "<policy>") -> Policy:
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{origin}: not valid TOML: {error}") from error
    try:
        policy = _POLICY_ADAPTER.validate_python(raw)
    except ValidationError as error:
        found = [(tuple(p["loc"]), str(p["msg"])) for p in error.errors()]
        raise PolicyError(_describe(source, origin, found)) from error
    problems = reference_problems(policy)
    if problems:
        raise PolicyError(_describe(source, origin, problems))
    return policy


def _describe(source: str, origin: str, problems: list[tuple[tuple[Any, ...], str]]) -> str:
    lines = []
    for location, message in problems:
        line = locate_line(source, location)
        where = f"{origin}:{line}" if line else origin
        lines.append(f"{where}: {dotted_location(location) or '(file)'}: {message}")
    return "invalid policy\n" + "\n".join(lines)


def load_policy(path: Path) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"), origin=str(path))


def policy_path(policy_dir: Path, policy_id: str) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", policy_id):
        raise PolicyError(f"policy id {policy_id!r} must be lower-case letters, digits, - or _")
    path = policy_dir / f"{policy_id}.toml"
    if not path.is_file():
        available = sorted(p.stem for p in policy_dir.glob("*.toml"))
        raise PolicyError(f"no policy {policy_id!r} in {policy_dir}; available: {available}")
    return path


def dotted_location(location: tuple[Any, ...]) -> str:
    """A pydantic error location as a path: standards[3].unit (validator markers left out)."""
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif not str(item).startswith(("function-", "model")):
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def locate_line(source: str, location: tuple[Any, ...]) -> int | None:
    """Best-effort line number of the field at `location` in TOML `source`.

    tomllib keeps no positions, so this walks the text: find the N-th
    `[[array]]` header, then the key inside that table. A location it cannot
    place gives the nearest table header, or None at the top level.
    """
    lines = source.splitlines()
    keys = [item for item in location if isinstance(item, (str, int))]
    # (start, end) bounds the table being searched; the top level ends at the first header.
    start, end, top_level = 0, len(lines), True
    found: int | None = None
    index = 0
    while index < len(keys):
        key = keys[index]
        nxt = keys[index + 1] if index + 1 < len(keys) else None
        if not isinstance(key, str):
            index += 1
            continue
        if isinstance(nxt, int):
            header = re.compile(rf"^\s*\[\[\s*{re.escape(key)}\s*\]\]")
            headers = [i for i in range(start, end) if header.match(lines[i])]
            if nxt < len(headers):
                start = headers[nxt]
                end = _table_end(lines, start + 1, end)
                found, top_level = start + 1, False
                index += 2
                continue
        table = re.compile(rf"^\s*\[\s*{re.escape(key)}\s*\]")
        tables = [i for i in range(start, end) if top_level and table.match(lines[i])]
        if tables:
            start = tables[0]
            end = _table_end(lines, start + 1, end)
            found, top_level = start + 1, False
            index += 1
            continue
        limit = _table_end(lines, start, end) if top_level else end
        assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start + (0 if top_level else 1), limit):
            if assignment.match(lines[i]):
                return i + 1
        return found
    return found


def _table_end(lines: list[str], start: int, end: int) -> int:
    for i in range(start, end):
        if lines[i].lstrip().startswith("["):
            return i
    return end
