"""Nearest-rank percentiles and the report's definitions, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reporting.compliance import (
    DEFINITIONS,
    GroupFigures,
    ReportError,
    local_midnight,
    month_boundaries,
    parse_dimensions,
)
from reporting.percentiles import nearest_rank, nearest_rank_position
from reporting.render import bar_chart


def test_the_median_of_an_odd_count_is_the_middle_value() -> None:
    assert nearest_rank([5, 1, 3], 50) == 3


def test_the_median_of_an_even_count_is_the_lower_middle_value_not_an_average() -> None:
    assert nearest_rank([4, 1, 3, 2], 50) == 2


def test_p90_of_ten_values_is_the_ninth_and_of_eleven_the_tenth() -> None:
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 12)), 90) == 10


def test_a_single_value_is_every_percentile() -> None:
    assert nearest_rank([7.5], 50) == 7.5
    assert nearest_rank([7.5], 90) == 7.5


def test_no_values_have_no_percentile() -> None:
    assert nearest_rank([], 50) is None


@pytest.mark.parametrize("count", range(1, 200))
def test_the_position_is_the_ceiling_of_p_times_n(count: int) -> None:
    import math

    for percent in (1, 50, 90, 99, 100):
        assert nearest_rank_position(percent, count) == math.ceil(percent * count / 100)


def test_an_impossible_percentile_is_refused() -> None:
    with pytest.raises(ValueError):
        nearest_rank_position(0, 10)


def test_the_on_time_rate_is_met_on_time_over_due_and_blank_when_nothing_was_due() -> None:
    assert GroupFigures(key=(), due=8, met_on_time=3).on_time_rate == 3 / 8
    assert GroupFigures(key=()).on_time_rate is None


def test_local_midnight_follows_british_summer_time() -> None:
    assert local_midnight(date(2025, 1, 1)) == datetime(2025, 1, 1, tzinfo=UTC)
    assert local_midnight(date(2025, 7, 1)) == datetime(2025, 6, 30, 23, tzinfo=UTC)


def test_months_are_london_calendar_months() -> None:
    months = month_boundaries(local_midnight(date(2025, 3, 1)), local_midnight(date(2025, 5, 1)))
    assert [(label, lower, upper) for label, lower, upper in months] == [
        ("2025-03", datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 31, 23, tzinfo=UTC)),
        ("2025-04", datetime(2025, 3, 31, 23, tzinfo=UTC), datetime(2025, 4, 30, 23, tzinfo=UTC)),
    ]


def test_dimensions_are_parsed_from_a_comma_separated_list() -> None:
    assert parse_dimensions("standard, borough") == ("standard", "borough")


def test_an_unknown_or_repeated_dimension_is_refused() -> None:
    with pytest.raises(ReportError):
        parse_dimensions("standard,unit")
    with pytest.raises(ReportError):
        parse_dimensions("month,month")


def test_every_definition_the_report_relies_on_is_written_down() -> None:
    terms = {term for term, _ in DEFINITIONS}
    assert {"Due", "Met on time", "Met late", "Breached", "On-time rate", "Median, p90"} <= terms
    assert any("ceil(p/100 x n)" in meaning for _, meaning in DEFINITIONS)


def test_a_bar_chart_is_inline_svg_with_one_bar_per_item_and_escaped_labels() -> None:
    svg = str(bar_chart("t", [("a<b", 0.5), ("c", 1.0)], maximum=1.0, percent=True))
    assert svg.startswith("<svg") and svg.count('class="bar"') == 2
    assert "a&lt;b" in svg and "50.0%" in svg
