"""Charts a manager reads at a glance, as pure computations and inline SVG.

Shared by the managers' dashboard and ``pledge report --html``, so both draw the same
picture of the same numbers. Each chart names things by their display names, puts the
worst first, and draws the force's on-time target as a line. The rate axis starts where
the figures do (to the 10 points below the lowest rate or target) rather than at 0, so
rates of 84 % and 91 % do not look alike; a dot marks each rate (not a bar, whose length
would then mislead) and the axis is labelled. Colour always comes with text: the figure
and whether it is below target are written beside every dot and in every grid cell.

No scripts and nothing fetched: the SVG is inline, its styles are in the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# A rate this many points or more below its target is far below it (red, not amber).
FAR_BELOW_POINTS: Final = 5.0


# A rate of fewer obligations than this is marked "few cases": one late case among 12
# moves it 8 points, so it is drawn hollow and said, never plotted as the equal of a
# rate of thousands.
FEW_CASES: Final = 20
FEW_TEXT: Final = "few cases"

# Shown where there is no rate (nothing was due).
NO_FIGURE: Final = "n/a"


class Band(StrEnum):
    """How a rate compares with its target; each has a colour and a text."""

    MET = "met"
    BELOW = "below"
    FAR_BELOW = "far_below"
    NO_TARGET = "no_target"
    NOTHING_DUE = "nothing_due"


BAND_TEXT: Final = {
    Band.MET: "at or above target",
    Band.BELOW: "below target",
    Band.FAR_BELOW: f"{FAR_BELOW_POINTS:g}+ points below target",
    Band.NO_TARGET: "no target set",
    Band.NOTHING_DUE: "nothing due",
}


def band(rate: float | None, target: float | None) -> Band:
    """Where ``rate`` (0 to 1) stands against ``target`` (0 to 1)."""
    if rate is None:
        return Band.NOTHING_DUE
    if target is None:
        return Band.NO_TARGET
    if rate >= target:
        return Band.MET
    if (target - rate) * 100 >= FAR_BELOW_POINTS - 1e-9:
        return Band.FAR_BELOW
    return Band.BELOW


def percent_text(rate: float | None) -> str:
    return NO_FIGURE if rate is None else f"{rate * 100:.1f} %"


@dataclass(frozen=True)
class RateItem:
    """One row of a rate chart: what it is, its on-time rate, how many were due."""

    key: str
    label: str
    rate: float | None
    due: int
    target: float | None = None

    @property
    def band(self) -> Band:
        return band(self.rate, self.target)

    @property
    def few(self) -> bool:
        return 0 < self.due < FEW_CASES


def worst_first(items: Sequence[RateItem]) -> list[RateItem]:
    """Lowest on-time rate first (the furthest below target first among equal rates);
    rows with nothing due last; ties by display name so the order is stable."""

    def order(item: RateItem) -> tuple[int, float, float, str]:
        if item.rate is None:
            return (1, 0.0, 0.0, item.label)
        gap = item.rate - item.target if item.target is not None else 0.0
        return (0, item.rate, gap, item.label)

    return sorted(items, key=order)


def common_target(targets: Sequence[float | None]) -> float | None:
    """The one target every item shares, or None when they differ or have none."""
    distinct = set(targets)
    if len(distinct) == 1:
        return next(iter(distinct))
    return None


def axis_floor(values: Sequence[float | None]) -> float:
    """Where a rate axis starts: 10 points below the lowest rate or target, rounded down
    to a multiple of 10 points, never below 0."""
    present = [value for value in values if value is not None]
    if not present:
        return 0.0
    lowest = min(present) * 100 - 10
    return max(0.0, math.floor(lowest / 10) * 10) / 100


def axis_ticks(floor: float) -> list[float]:
    """Tick values from ``floor`` to 100 %, every 10 points (every 20 from 0)."""
    step = 20 if floor < 0.3 else 10
    start = round(floor * 100)
    return [value / 100 for value in range(start, 101, step)]


@dataclass(frozen=True)
class TrendPoint:
    """One bucket (a week or a month) of this period beside the same bucket of the
    period before."""

    label: str
    rate: float | None
    due: int
    previous_label: str
    previous_rate: float | None
    previous_due: int


def pair_buckets(
    current: Sequence[tuple[str, float | None, int]],
    previous: Sequence[tuple[str, float | None, int]],
) -> list[TrendPoint]:
    """Pair this period's buckets (label, rate, due) with the previous period's, by
    position: the first week with the first week before, and so on."""
    points = []
    for index, (label, rate, due) in enumerate(current):
        before = previous[index] if index < len(previous) else ("", None, 0)
        points.append(TrendPoint(label, rate, due, before[0], before[1], before[2]))
    return points


def change_text(current: float | None, previous: float | None) -> str:
    """The change in points, signed, or a dash when either is missing."""
    if current is None or previous is None:
        return NO_FIGURE
    points = (current - previous) * 100
    if abs(points) < 0.05:
        return "no change"
    return f"{points:+.1f} points"


@dataclass(frozen=True)
class GridCell:
    rate: float | None
    due: int
    target: float | None

    @property
    def band(self) -> Band:
        return band(self.rate, self.target)

    @property
    def text(self) -> str:
        return "" if self.rate is None else f"{self.rate * 100:.1f}"

    @property
    def few(self) -> bool:
        return 0 < self.due < FEW_CASES


@dataclass(frozen=True)
class GridRow:
    key: str
    label: str
    overall: float | None
    cells: list[GridCell]


@dataclass(frozen=True)
class Grid:
    """Standards as columns, boroughs as rows (worst borough first), each cell a rate
    coloured by how it stands against that standard's target."""

    columns: list[tuple[str, str]]  # (standard id, title)
    rows: list[GridRow]


def standard_borough_grid(
    cells: Mapping[tuple[str, str], tuple[int, int]],
    standards: Sequence[tuple[str, str]],
    boroughs: Sequence[tuple[str, str]],
    targets: Mapping[str, float],
) -> Grid:
    """The grid from (standard, borough) -> (met on time, due).

    ``standards`` and ``boroughs`` are (id, display name) in any order; columns keep the
    order given (those with nothing due anywhere are left out), rows go worst first by
    their overall rate, boroughs with nothing due last."""
    columns = [
        (sid, title)
        for sid, title in standards
        if any(cells.get((sid, b), (0, 0))[1] for b, _ in boroughs)
    ]
    rows = []
    for borough, name in boroughs:
        met = sum(cells.get((sid, borough), (0, 0))[0] for sid, _ in columns)
        due = sum(cells.get((sid, borough), (0, 0))[1] for sid, _ in columns)
        row_cells = []
        for sid, _title in columns:
            on_time, count = cells.get((sid, borough), (0, 0))
            row_cells.append(GridCell(on_time / count if count else None, count, targets.get(sid)))
        rows.append(GridRow(borough, name, met / due if due else None, row_cells))
    ranked = worst_first([RateItem(row.key, row.label, row.overall, 0) for row in rows])
    by_key = {row.key: row for row in rows}
    return Grid(columns=columns, rows=[by_key[item.key] for item in ranked])
