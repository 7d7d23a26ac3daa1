"""The force's units (its boroughs) and its corrections to the bank holidays, as data.

A force file (`policies/<force>.force.toml`, `PLEDGE_FORCE_FILE`) lists the units a
case may belong to: an id (what the database, the search attributes and the reports
hold), the display name victims and staff read, the unit's VFU and manager mailboxes
and the nation whose bank holidays its working days skip. A unit is named by id or
display name in any case; `Force.resolve_unit` turns either into the unit, and refuses
anything else in one line that lists what is accepted.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field, TypeAdapter

from standards.clock import HolidayCorrections, Nation
from standards.datafile import (
    DataFileError,
    InvalidData,
    Problem,
    describe_problems,
    read_toml,
    validate_strictly,
)

# A force file's name ends so; its stem has a dot, so it can never be taken for a policy.
FORCE_FILE_SUFFIX = ".force.toml"

UnitId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Mailbox = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class ForceError(DataFileError):
    """A force file that cannot be used; the message names file, line and field."""


class UnknownUnit(ValueError):
    """A unit (borough) the force does not have; the message lists the accepted ones."""


@dataclass(frozen=True)
class Unit:
    id: UnitId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    # Staff alert mailboxes; without them the settings' address patterns are used.
    vfu_email: Mailbox | None = None
    manager_email: Mailbox | None = None
    # Whose bank holidays the unit's working days skip; the force's nation unless set.
    nation: Nation | None = None

    def stored_spellings(self) -> list[str]:
        """What a case's borough column may hold for this unit: the id, and the name as
        cases opened before boroughs were checked usually hold it. For filters."""
        return sorted({self.id, self.name, self.name.lower()})


@dataclass(frozen=True)
class BankHolidayChanges:
    """Days the force knows better than the `holidays` data for one nation."""

    nation: Nation
    add: list[date] = field(default_factory=list)
    remove: list[date] = field(default_factory=list)
    note: str = ""


def unit_key(text: str) -> str:
    """ "Kensington and Chelsea", "kensington-and-chelsea" -> "kensington_and_chelsea"."""
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


@dataclass(frozen=True)
class Force:
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    name: Annotated[str, Field(min_length=1)]
    units: list[Unit]
    nation: Nation = Nation.ENGLAND_AND_WALES
    # What the force calls a unit, in messages to the people who name one.
    unit_label: Annotated[str, Field(min_length=1)] = "borough"
    bank_holidays: list[BankHolidayChanges] = field(default_factory=list)

    def resolve_unit(self, text: str) -> Unit:
        """The unit `text` names, by id or display name, in any case (or UnknownUnit)."""
        key = unit_key(text)
        for unit in self.units:
            if key in (unit.id, unit_key(unit.name)):
                return unit
        names = {unit_key(unit.name): unit.name for unit in self.units}
        close = difflib.get_close_matches(key, list(names), n=1)
        hint = f" (did you mean {names[close[0]]!r}?)" if close else ""
        raise UnknownUnit(
            f"unknown {self.unit_label} {text!r}{hint}; accepted (by name or id, any case): "
            f"{', '.join(names.values())}"
        )

    def unit(self, unit_id: str) -> Unit | None:
        """The unit with this canonical id, if the force has it."""
        return next((unit for unit in self.units if unit.id == unit_id), None)

    def display_name(self, unit_id: str) -> str:
        """The unit's name for people to read; an id the force no longer lists, as stored."""
        unit = self.unit(unit_id)
        return unit.name if unit is not None else unit_id

    def nation_of(self, unit: Unit) -> Nation:
        return unit.nation or self.nation

    @property
    def holiday_corrections(self) -> HolidayCorrections:
        return HolidayCorrections(
            added=frozenset((c.nation, day) for c in self.bank_holidays for day in c.add),
            removed=frozenset((c.nation, day) for c in self.bank_holidays for day in c.remove),
        )


def force_problems(force: Force) -> list[Problem]:
    """Checks that span entries: every way of naming a unit must name only one."""
    problems: list[Problem] = []
    if not force.units:
        problems.append((("units",), f"lists no {force.unit_label}"))
    ids: set[str] = set()
    named: dict[str, str] = {}
    for i, unit in enumerate(force.units):
        if unit.id in ids:
            problems.append((("units", i, "id"), f"{unit.id!r} is defined twice"))
        ids.add(unit.id)
        for location, key in (
            (("units", i, "id"), unit.id),
            (("units", i, "name"), unit_key(unit.name)),
        ):
            other = named.setdefault(key, unit.id)
            if other != unit.id:
                problems.append((location, f"{key!r} already names the unit {other!r}"))
                break
    seen: set[Nation] = set()
    for i, changes in enumerate(force.bank_holidays):
        if changes.nation in seen:
            problems.append(
                (("bank_holidays", i, "nation"), f"{changes.nation.value} is listed twice")
            )
        seen.add(changes.nation)
        both = sorted(set(changes.add) & set(changes.remove))
        if both:
            days = ", ".join(day.isoformat() for day in both)
            problems.append((("bank_holidays", i, "remove"), f"both added and removed: {days}"))
    return problems


_FORCE_ADAPTER = TypeAdapter(Force)


def parse_force(source: str, origin: str = "<force>") -> Force:
    raw = read_toml(source, origin, ForceError)
    try:
        force = validate_strictly(_FORCE_ADAPTER, Force, raw)
    except InvalidData as invalid:
        problems = invalid.problems
    else:
        problems = force_problems(force)
    if problems:
        raise ForceError(describe_problems(source, origin, "invalid force file", problems))
    return force


def load_force(path: Path) -> Force:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ForceError(f"no force file at {path} (set PLEDGE_FORCE_FILE)") from error
    return parse_force(source, str(path))
