"""Reading the force's TOML data files (policies, units) strictly, naming file, line and field.

Shared by `standards.policy` and `standards.force`. A data file is held to more than its
types can say: a key the schema does not know is a mistake (a misspelt `recur` would
otherwise be dropped without a word), and a number written as a string is refused
rather than converted. The types themselves stay lenient, because the same dataclasses
are decoded from workflow histories, where neither check belongs.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import types
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

import pydantic_core
from pydantic import TypeAdapter, ValidationError

T = TypeVar("T")
Location = tuple[str | int, ...]
Problem = tuple[Location, str]


class DataFileError(ValueError):
    """A data file that cannot be used; the message names file, line and field."""


def read_toml(source: str, origin: str, error: type[DataFileError]) -> dict[str, Any]:
    try:
        return tomllib.loads(source)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{origin}: not valid TOML: {problem}") from problem


class InvalidData(ValueError):
    """The problems found in a data file's contents, each with its location."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def validate_strictly(adapter: TypeAdapter[T], shape: type, raw: dict[str, Any]) -> T:
    """The value `raw` describes; InvalidData lists unknown keys and type errors.

    Strict validation of the JSON form: strings stay strings, so `window = "28"` is an
    error, while enum values written as strings (all TOML can say) are still accepted.
    """
    problems = unknown_key_problems(raw, shape)
    try:
        value = adapter.validate_json(pydantic_core.to_json(raw), strict=True)
    except ValidationError as error:
        problems += [(tuple(p["loc"]), _explain(p)) for p in error.errors()]
    if problems:
        raise InvalidData(problems)
    return value


def _explain(problem: Any) -> str:
    message = str(problem["msg"])
    given = problem.get("input")
    if isinstance(given, str) and problem["type"] in ("int_type", "float_type", "bool_type"):
        return f"{message}, not the string {given!r} (leave out the quotes)"
    return message


def unknown_key_problems(raw: Any, shape: Any, location: Location = ()) -> list[Problem]:
    """Keys in `raw` that the dataclass `shape` (or those it nests) has no field for."""
    shape = _unwrap(shape)
    origin = typing.get_origin(shape)
    if origin in (list, Sequence) and isinstance(raw, list):
        (item,) = typing.get_args(shape) or (Any,)
        return [p for i, v in enumerate(raw) for p in unknown_key_problems(v, item, (*location, i))]
    if origin is dict and isinstance(raw, dict):
        value_type = typing.get_args(shape)[1]
        return [
            p
            for key, v in raw.items()
            for p in unknown_key_problems(v, value_type, (*location, key))
        ]
    if not (dataclasses.is_dataclass(shape) and isinstance(raw, dict)):
        return []
    hints = typing.get_type_hints(shape, include_extras=True)
    known = [f.name for f in dataclasses.fields(shape)]
    problems: list[Problem] = []
    for key, value in raw.items():
        if key in hints:
            problems += unknown_key_problems(value, hints[key], (*location, key))
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
        problems.append(((*location, key), f"is not a known field; {hint}"))
    return problems


def _unwrap(shape: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` as X, so nested dataclasses are found."""
    while True:
        origin = typing.get_origin(shape)
        if origin is typing.Annotated:
            shape = typing.get_args(shape)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(shape) if a is not type(None)]
            if len(members) != 1:
                return shape
            shape = members[0]
        else:
            return shape


def describe_problems(
    source: str, origin: str, heading: str, problems: Sequence[tuple[tuple[Any, ...], str]]
) -> str:
    lines = []
    for location, message in problems:
        line = locate_line(source, location)
        where = f"{origin}:{line}" if line else origin
        lines.append(f"{where}: {dotted_location(location) or '(file)'}: {message}")
    return heading + "\n" + "\n".join(lines)


def suggestion(value: str, accepted: Sequence[str]) -> str:
    """ "; did you mean 'x'?" for a near miss, or nothing."""
    close = difflib.get_close_matches(value, list(accepted), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


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
