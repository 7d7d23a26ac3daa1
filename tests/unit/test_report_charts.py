"""The charts' pure computations: order, axis, bands, trend pairing, the grid, targets."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from reporting.chart_drawing import grid_table, rate_chart, trend_chart
from reporting.charts import (
    Band,
    RateItem,
    TrendPoint,
    axis_floor,
    axis_ticks,
    band,
    change_text,
    common_target,
    pair_buckets,
    standard_borough_grid,
    worst_first,
)
from reporting.views import previous_period, week_buckets, weighted_target
from storage.summary import local_midnight


def test_the_worst_rate_comes_first_and_nothing_due_comes_last() -> None:
    items = [
        RateItem("camden", "Camden", 0.91, 100),
        RateItem("hackney", "Hackney", None, 0),
        RateItem("barnet", "Barnet", 0.84, 50),
        RateItem("brent", "Brent", 0.91, 80),
    ]
    assert [item.label for item in worst_first(items)] == ["Barnet", "Brent", "Camden", "Hackney"]


def test_among_equal_rates_the_one_furthest_below_its_target_comes_first() -> None:
    items = [RateItem("a", "A", 0.8, 10, target=0.85), RateItem("b", "B", 0.8, 10, target=0.95)]
    assert [item.key for item in worst_first(items)] == ["b", "a"]


@pytest.mark.parametrize(
    "values, floor",
    [([0.88, 0.91, 0.95], 0.7), ([0.12, 0.5], 0.0), ([0.995], 0.8), ([], 0.0), ([None], 0.0)],
)
def test_the_axis_starts_ten_points_below_the_lowest_figure_on_a_round_number(
    values: list[float | None], floor: float
) -> None:
    assert axis_floor(values) == pytest.approx(floor)


def test_axis_ticks_run_to_100_percent() -> None:
    assert axis_ticks(0.7) == [0.7, 0.8, 0.9, 1.0]
    assert axis_ticks(0.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


@pytest.mark.parametrize(
    "rate, target, expected",
    [
        (0.95, 0.95, Band.MET),
        (0.949, 0.95, Band.BELOW),
        (0.90, 0.95, Band.FAR_BELOW),
        (0.91, 0.95, Band.BELOW),
        (0.5, None, Band.NO_TARGET),
        (None, 0.9, Band.NOTHING_DUE),
    ],
)
def test_a_rate_is_banded_against_its_target(
    rate: float | None, target: float | None, expected: Band
) -> None:
    assert band(rate, target) == expected


def test_a_target_line_is_shared_only_when_every_item_has_the_same_target() -> None:
    assert common_target([0.9, 0.9]) == 0.9
    assert common_target([0.9, 0.95]) is None
    assert common_target([]) is None


def test_the_mixes_target_weights_each_standards_target_by_what_was_due() -> None:
    targets = {"acknowledgement": 0.95, "victim_update": 0.85}
    assert weighted_target({"acknowledgement": 3, "victim_update": 1}, targets) == pytest.approx(
        0.925
    )
    assert weighted_target({"acknowledgement": 3, "other": 1}, targets) is None
    assert weighted_target({}, targets) is None


def test_trend_buckets_pair_by_position_with_the_period_before() -> None:
    points = pair_buckets([("w1", 0.9, 10), ("w2", 0.8, 5)], [("p1", 0.85, 7)])
    assert points == [
        TrendPoint("w1", 0.9, 10, "p1", 0.85, 7),
        TrendPoint("w2", 0.8, 5, "", None, 0),
    ]
    assert change_text(0.9, 0.85) == "+5.0 points"
    assert change_text(0.9, None) == "n/a"


def test_the_period_before_has_as_many_london_days() -> None:
    start, end = local_midnight(date(2025, 3, 17)), local_midnight(date(2025, 8, 1))
    before = previous_period(start, end)
    assert before == (local_midnight(date(2024, 10, 31)), start)  # 137 days each
    odd = (datetime(2025, 3, 17, 10, tzinfo=UTC), datetime(2025, 3, 18, 10, tzinfo=UTC))
    assert previous_period(*odd) == (datetime(2025, 3, 16, 10, tzinfo=UTC), odd[0])


def test_weeks_are_seven_london_days_from_the_first_day_the_last_may_be_shorter() -> None:
    weeks = week_buckets(local_midnight(date(2025, 3, 17)), local_midnight(date(2025, 4, 3)))
    assert [(label, lower.date(), upper.date()) for label, lower, upper in weeks] == [
        ("w/c 17 Mar", date(2025, 3, 17), date(2025, 3, 24)),
        ("w/c 24 Mar", date(2025, 3, 24), date(2025, 3, 30)),  # 23:00Z: BST began
        ("w/c 31 Mar", date(2025, 3, 30), date(2025, 4, 2)),
    ]


def test_the_grid_puts_the_worst_borough_first_and_leaves_out_standards_never_due() -> None:
    grid = standard_borough_grid(
        {("ack", "camden"): (9, 10), ("ack", "hackney"): (5, 10), ("upd", "camden"): (1, 2)},
        [("ack", "Acknowledge"), ("upd", "Update"), ("never", "Never due")],
        [("camden", "Camden"), ("hackney", "Hackney"), ("barnet", "Barnet")],
        {"ack": 0.95, "upd": 0.9},
    )
    assert grid.columns == [("ack", "Acknowledge"), ("upd", "Update")]
    assert [row.label for row in grid.rows] == ["Hackney", "Camden", "Barnet"]
    hackney = grid.rows[0]
    assert [cell.text for cell in hackney.cells] == ["50.0", ""]
    assert [cell.band for cell in hackney.cells] == [Band.FAR_BELOW, Band.NOTHING_DUE]
    assert grid.rows[1].overall == pytest.approx(10 / 12)


def test_the_grid_writes_every_band_as_text_not_colour_alone() -> None:
    grid = standard_borough_grid(
        {("ack", "camden"): (9, 10), ("ack", "hackney"): (10, 10)},
        [("ack", "Acknowledge")],
        [("camden", "Camden"), ("hackney", "Hackney")],
        {"ack": 0.95},
    )
    html = str(grid_table(grid, "Grid"))
    assert "90.0" in html and "(5+ points below target, 10 due)" in html
    assert "100.0" in html and "(at or above target, 10 due)" in html


def test_a_rate_chart_writes_each_figure_and_says_what_is_below_target() -> None:
    svg = str(
        rate_chart(
            "c",
            "On time",
            [RateItem("a", "Alpha", 0.8, 10, 0.9), RateItem("b", "Beta <b>", 0.95, 20, 0.9)],
        )
    )
    assert svg.index("Alpha") < svg.index("Beta &lt;b&gt;")  # worst first, escaped
    assert "80.0 % of 10 · below 90.0 %" in svg
    assert "95.0 % of 20" in svg and 'class="target"' in svg
    assert "Axis from 70 % to 100 %" in svg


def test_a_trend_chart_draws_both_periods_and_the_target() -> None:
    points = pair_buckets([("Mar", 0.9, 10), ("Apr", 0.85, 12)], [("Nov", 0.8, 9), ("Dec", 0.7, 8)])
    svg = str(trend_chart("t", "Trend", points, 0.9))
    assert svg.count("<polyline") == 2 and 'class="target"' in svg
    assert "Nov: 80.0 % of 9" in svg and "Apr: 85.0 % of 12" in svg


def test_a_grid_cell_of_few_cases_is_hatched_and_says_so_and_links_to_its_cases() -> None:
    grid = standard_borough_grid(
        {("ack", "camden"): (9, 10), ("ack", "hackney"): (190, 200)},
        [("ack", "Acknowledge")],
        [("camden", "Camden"), ("hackney", "Hackney")],
        {"ack": 0.95},
    )
    html = str(grid_table(grid, "Grid", link=lambda borough, standard: f"/x/{borough}/{standard}"))
    camden = html.split("Camden")[1].split("</tr>")[0]
    hackney = html.split("Hackney")[1].split("</tr>")[0]
    assert "grid-cell--few" in camden and "few cases" in camden
    assert "grid-cell--few" not in hackney and "few cases" not in hackney
    assert 'href="/x/camden/ack"' in camden and 'href="/x/hackney/ack"' in hackney


def test_a_rate_of_few_cases_is_drawn_hollow_and_said_beside_its_dot() -> None:
    chart = str(
        rate_chart(
            "c",
            "Rates",
            [RateItem("a", "Few", 0.5, 4, 0.9), RateItem("b", "Many", 0.8, 400, 0.9)],
        )
    )
    few = chart.split(">Few<")[1].split('class="label"')[0]
    many = chart.split(">Many<")[1]
    assert "dot--few" in few and "of 4 · below 90.0 % · few cases" in few
    assert "dot--few" not in many and "few cases" not in many


def test_a_trend_figure_is_written_away_from_the_period_befores_point() -> None:
    points = [
        TrendPoint("w1", 0.6, 100, "p1", 0.9, 100),
        TrendPoint("w2", 0.9, 100, "p2", 0.6, 100),
    ]
    chart = str(trend_chart("t", "Trend", points, None))
    circles = re.findall(r'<circle[^>]*cy="([\d.]+)"', chart)
    labels = re.findall(r'<text class="value" x="[\d.]+" y="([\d.]+)"', chart)
    # Lower than the week before: the figure goes under its dot; higher: over it.
    assert float(labels[0]) > float(circles[0])
    assert float(labels[1]) < float(circles[1])
