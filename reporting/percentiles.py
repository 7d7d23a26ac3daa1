"""Nearest-rank percentiles, the one method every figure in the report uses.

Nearest-rank was chosen because the answer is always a value that was actually
observed (no interpolation between two obligations), it is what PostgreSQL's
``percentile_disc`` computes, and a reader can check it by hand: sort the
values, and the p-th percentile is the one at position ceil(p/100 * n).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import chain
from math import isqrt
from typing import Final, TypeVar

T = TypeVar("T", int, float)
# Below this many values a plain sort is quicker than sampling.
SMALL: Final = 20_000


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


def select_positions(runs: Sequence[Sequence[T]], positions: Sequence[int]) -> list[T]:
    """The values at 1-based ``positions`` of the sorted union of sorted ``runs``.

    Exact. Rather than merging every run, it sorts a regular sample of them, takes the two
    sample values that should bracket the wanted position, counts exactly (by bisection in
    each run) how many values lie below the bracket, and sorts only the values inside it.
    A bracket that misses is widened until it cannot miss.
    """
    runs = [run for run in runs if run]
    if not runs:
        return []
    if len(runs) == 1:
        return [runs[0][position - 1] for position in positions]
    total = sum(map(len, runs))
    if total <= SMALL:
        merged = sorted(chain.from_iterable(runs))
        return [merged[position - 1] for position in positions]
    step = max(1, isqrt(total // max(1, isqrt(len(runs)))))
    sample = sorted(chain.from_iterable(run[step // 2 :: step] for run in runs))
    return [_select_one(runs, sample, total, position) for position in positions]


def _select_one(runs: list[Sequence[T]], sample: list[T], total: int, position: int) -> T:
    guess = position * len(sample) // total
    # The sample rank errs by about sqrt(runs) / 3.5 places; start at about 3.5 sigma.
    margin = isqrt(len(runs)) + 16
    while True:
        low_index, high_index = guess - margin, guess + margin
        starts = (
            [bisect_left(run, sample[low_index]) for run in runs]
            if 0 <= low_index < len(sample)
            else [0] * len(runs)
        )
        below = sum(starts)
        if below < position:
            ends = (
                [bisect_right(run, sample[high_index]) for run in runs]
                if 0 <= high_index < len(sample)
                else [len(run) for run in runs]
            )
            if sum(ends) >= position:
                inside = sorted(
                    chain.from_iterable(
                        run[begin:end] for run, begin, end in zip(runs, starts, ends, strict=True)
                    )
                )
                return inside[position - below - 1]
        margin *= 4
