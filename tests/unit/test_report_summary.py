"""Exact nearest-rank selection from many sorted runs, and the summary's packed arrays."""

from __future__ import annotations

import random
from datetime import date

import pytest

from reporting.percentiles import nearest_rank, nearest_rank_position, select_positions
from storage.report_models import ReportMonthSummary
from storage.summary import (
    _Row,
    pack_seconds,
    pack_shares,
    seconds_array,
    shares_array,
    unpack_seconds,
    unpack_shares,
)


def test_packed_arrays_come_back_sorted_and_exact() -> None:
    seconds = [3600, 5, 86_400 * 40, 0, 5]
    shares = [0.1 + 0.2, 1 / 3, 2.5, 0.0]
    assert unpack_seconds(pack_seconds(seconds)) == sorted(seconds)
    assert unpack_shares(pack_shares(shares)) == sorted(shares)
    assert unpack_seconds(pack_seconds([])) == []


@pytest.mark.parametrize("runs", [1, 2, 50, 3_000])
@pytest.mark.parametrize("kind", ["int", "float", "ties"])
def test_selection_from_runs_equals_sorting_everything(runs: int, kind: str) -> None:
    rng = random.Random(runs * 31 + len(kind))
    data: list[list[float]] = []
    for index in range(runs):
        # Runs of very different sizes and ranges, as (month, key) rows are.
        size = rng.choice((0, 1, 3, 40, 400, 5_000)) if runs > 1 else 60_000
        shift = rng.uniform(0, 10) * (index % 7)
        if kind == "int":
            run = [float(rng.randint(5, 900_000)) for _ in range(size)]
        elif kind == "ties":
            run = [float(rng.randint(0, 20)) for _ in range(size)]
        else:
            run = [shift + rng.expovariate(1.0) for _ in range(size)]
        data.append(sorted(run))
    everything = sorted(value for run in data for value in run)
    if not everything:
        assert select_positions(data, []) == []
        return
    for percent in (1, 50, 90, 100):
        position = nearest_rank_position(percent, len(everything))
        assert select_positions(data, [position]) == [everything[position - 1]]
        assert select_positions(data, [position])[0] == nearest_rank(everything, percent)


def test_selection_is_exact_with_many_short_runs_and_one_long_one() -> None:
    # Many short runs of large values and one long run of small ones: the shape that
    # misled the sampling selection this replaced.
    runs = [[1_000_000.0 + i] for i in range(5_000)] + [[float(i) for i in range(100_000)]]
    everything = sorted(value for run in runs for value in run)
    for position in (1, 50_000, 99_999, 100_000, 100_001, 102_500, len(everything)):
        assert select_positions(runs, [position]) == [everything[position - 1]]


def test_selection_reads_packed_arrays_in_place_and_answers_plain_numbers() -> None:
    seconds = [pack_seconds([5, 3_600, 90]), pack_seconds([]), pack_seconds([7])]
    shares = [pack_shares([0.5, 1 / 3]), pack_shares([2.5])]
    picked = select_positions([seconds_array(blob) for blob in seconds], [1, 2, 4])
    assert picked == [5, 7, 3_600] and all(type(value) is int for value in picked)
    share = select_positions([shares_array(blob) for blob in shares], [1, 3])
    assert share == [1 / 3, 2.5] and all(type(value) is float for value in share)


def test_removing_what_was_added_leaves_a_summary_row_empty() -> None:
    row = _Row()
    row.add("met_late", None, 7_200, 1.5)
    row.add("met", None, 60, 0.25)
    row.add("breached", "victim_unreachable", None, None)
    # As read back from the database: the packed times come back sorted.
    row = _Row.stored(ReportMonthSummary(**row.values((date(2026, 3, 1), "s", "b", "c"))))
    row.remove("met_late", None, 7_200, 1.5)
    assert (row.met, row.met_late, row.reasons, row.seconds, row.shares) == (1, 0, {
        "victim_unreachable": 1}, [60], [0.25])  # fmt: skip
    row.remove("met", None, 60, 0.25)
    row.remove("breached", "victim_unreachable", None, None)
    assert row.is_empty() and row.reasons == {} and row.seconds == [] and row.shares == []


@pytest.mark.parametrize(
    "state, reason, ttm, share",
    [("breached", None, None, None), ("met", None, 60, 0.25)],
    ids=["reason", "time to meet"],
)
def test_removing_what_was_never_added_says_the_summary_is_out_of_step(
    state: str, reason: str | None, ttm: int | None, share: float | None
) -> None:
    with pytest.raises(ValueError, match="out of step"):
        _Row().remove(state, reason, ttm, share)
