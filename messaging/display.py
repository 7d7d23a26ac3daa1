"""Terminal output shared by every `pledge` listing: London instants, tables that fit 80 columns.

Here rather than in ``standards`` because it is presentation (rich renderables), not a rule
about domain values; here rather than in ``reporting`` because ``reporting`` already builds
on ``service`` (its settings), so both edges can use it without a new dependency between
them. It imports nothing from the project but ``standards.clock``.

How a listing fits 80 columns: identifiers (standards, boroughs, obligation keys, reason
codes) wrap after an underscore instead of being cut; instants are shown to the minute in
Europe/London with their offset, and wrap between date, time and offset; numbers never wrap.
A listing with no rows prints one line saying so instead of an empty frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from standards.clock import LONDON, require_aware

# A name breaks after one of these, so the pieces read back into the name unchanged.
_BREAK_AFTER: Final = re.compile(r"[^_\s]+[_\s]*|[_\s]+")


def minute_text(instant: datetime | None) -> str:
    """An instant to the minute in Europe/London with its offset: 2026-03-28 11:30 +00:00."""
    if instant is None:
        return ""
    local = require_aware(instant, "instant").astimezone(LONDON)
    return f"{local:%Y-%m-%d %H:%M} {local.isoformat()[-6:]}"


def exact_text(instant: datetime) -> str:
    """An instant in Europe/London with its offset, to the second (finer when it has it)."""
    local = require_aware(instant, "instant").astimezone(LONDON)
    fraction = f".{local.microsecond:06d}" if local.microsecond else ""
    return f"{local:%Y-%m-%d %H:%M:%S}{fraction} {local.isoformat()[-6:]}"


class Name:
    """An identifier such as ``hammersmith_and_fulham`` that wraps after its underscores
    (and at a space, for names joined into one cell).

    rich wraps text only at spaces, so a narrow column would otherwise cut such a name
    with an ellipsis; a piece longer than the column is folded as a last resort.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces = _BREAK_AFTER.findall(text) or [""]

    def __str__(self) -> str:
        return self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max(len(piece.rstrip()) for piece in self.pieces)
        return Measurement(min(longest, options.max_width), min(len(self.text), options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self._lines(max(options.max_width, 1)):
            yield Text(line, overflow="fold")

    def _lines(self, width: int) -> Iterator[str]:
        line = ""
        for piece in self.pieces:
            if line and len(line) + len(piece.rstrip()) > width:
                yield line.rstrip()
                line = ""
            line += piece
        yield line.rstrip()


class Figure:
    """Text that is never broken, such as ``10.5 h``: a figure and its unit stay together."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(len(self.text), len(self.text))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(self.text, no_wrap=True, overflow="fold")


def name_column(header: str, footer: str = "") -> Column:
    """A column of identifiers or free text: wraps, never cut."""
    return Column(Name(header), footer=footer, overflow="fold")


def number_column(header: str, footer: str = "") -> Column:
    """A right-aligned column of figures; a figure is one word, so it is never broken,
    while a header of several words may wrap to leave room for the other columns."""
    return Column(header, footer=footer, justify="right", overflow="fold")


def listing(title: str, *columns: Column, footer: bool = False) -> Table:
    """The one table style of every listing: a rule under the header, no outer frame and
    two spaces between columns, which leaves the most room for the cells at 80 columns."""
    return Table(
        *columns,
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        show_footer=footer,
    )


def fit(console: Console, table: Table) -> Table:
    """Fix the table's column widths so it fits the console without cutting a cell.

    rich narrows the widest wrapping columns first, with no regard for the longest word in
    them, so a long name ends up cut; here every column gets at least its longest word
    (or figure), the cells share the room left over, and headers wrap before cells do.
    """
    unbounded = console.options.update(width=10**6)

    def measure(renderable: Any) -> Measurement:
        if renderable is None or renderable == "":
            return Measurement(0, 0)
        return Measurement.get(console, unbounded, renderable)

    def cells(column: Column) -> list[Any]:
        edges = [column.header] if table.show_header else []
        return [*edges, *([column.footer] if table.show_footer else []), *column.cells]

    columns = table.columns
    needs = [[measure(cell) for cell in cells(column)] for column in columns]
    least = [max(need.minimum for need in column) for column in needs]
    most = [max(need.maximum for need in column) for column in needs]
    natural = Measurement.get(console, unbounded, table).maximum
    room = console.width - (natural - sum(most))
    if sum(least) > room or sum(most) <= room:
        return table  # it fits as it is, or cannot fit at all: rich's own way is as good
    # Short of room, a header wraps before any cell does: it is read once, the cells often.
    skip = int(table.show_header)
    cells_most = [
        max(low, *(need.maximum for need in column[skip:]))
        for low, column in zip(least, needs, strict=True)
    ]
    widths = _fill(least, cells_most, room)
    widths = _fill(widths, [max(pair) for pair in zip(widths, most, strict=True)], room)
    for column, width in zip(columns, widths, strict=True):
        column.width = width
    return table


def _fill(least: list[int], most: list[int], room: int) -> list[int]:
    """Widths from ``least`` towards ``most`` within ``room``, by water-filling: every column
    may grow up to a common cap, the largest that fits; what is left goes one by one."""

    def grown(cap: int) -> list[int]:
        return [max(low, min(high, cap)) for low, high in zip(least, most, strict=True)]

    cap = 0
    while cap < max(most) and sum(grown(cap + 1)) <= room:
        cap += 1
    widths = grown(cap)
    for index, high in enumerate(most):
        if sum(widths) < room and widths[index] < high:
            widths[index] += 1
    return widths


def print_listing(console: Console, table: Table, empty: str = "none") -> None:
    """Print the table, or, when it has no rows, one line saying the listing is empty."""
    if table.row_count:
        console.print(fit(console, table))
    else:
        console.print(f"{table.title}: {empty}", highlight=False, soft_wrap=True)


__all__ = [
    "Figure",
    "Name",
    "exact_text",
    "fit",
    "listing",
    "minute_text",
    "name_column",
    "number_column",
    "print_listing",
]
