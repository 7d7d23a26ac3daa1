"""Nearest-rank percentiles, the one method every figure in the report uses.

Nearest-rank was chosen because the answer is always a value that was actually
observed (no interpolation between two obligations), it is what PostgreSQL's
``percentile_disc`` computes, and a reader can check it by hand: sort the
values, and the p-th percentile is the one at position ceil(p/100 * n).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T", int, float)


def nearest_rank_position(percent: int, count: int) -> int:
    """The 1-based position of the ``percent``-th percentile among ``count`` sorted values.

    ceil(percent * count / 100) in integer arithmetic, so that no floating-point
    rounding can move a boundary case (e.g. 90% of 10 values is exactly position 9).
    """
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], got {percent}")
    if count < 1:
        raise ValueError("no values: a percentile of nothing is undefined")
    return (percent * count + 99) // 100


def nearest_rank(values: Sequence[T], percent: int) -> T | None:
    """The nearest-rank percentile of ``values`` (any order), or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[nearest_rank_position(percent, len(ordered)) - 1]


def select_positions(
    runs: Sequence[Sequence[T] | NDArray[Any]], positions: Sequence[int]
) -> list[T]:
    """The values at 1-based ``positions`` of the sorted union of ``runs``.

    Exact: the runs are joined into one array and each wanted rank is selected in place
    (``numpy.partition``, linear time), so no run needs to be sorted and nothing is merged
    value by value in Python. The answers are plain ``int`` or ``float``.
    """
    present = [run for run in runs if len(run)]
    if not present or not positions:
        return []
    joined = np.concatenate([np.asarray(run) for run in present])
    ranks = sorted({position - 1 for position in positions})
    chosen = np.partition(joined, ranks)
    return [chosen[position - 1].item() for position in positions]
