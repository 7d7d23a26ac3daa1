"""Nearest-rank percentiles, the one method every figure in the report uses.

Nearest-rank was chosen because the answer is always a value that was actually
observed (no interpolation between two obligations), it is what PostgreSQL's
``percentile_disc`` computes, and a reader can check it by hand: sort the
values, and the p-th percentile is the one at position ceil(p/100 * n).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

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
