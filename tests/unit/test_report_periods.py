"""Which parts of a period are read from which summary, and which raw."""

from __future__ import annotations

from datetime import UTC, date, datetime

from reporting.periods import split_period
from storage.summary import local_midnight


def _midnight(text: str) -> datetime:
    return local_midnight(date.fromisoformat(text))


def test_only_part_of_a_day_is_ever_read_raw() -> None:
    split = split_period(
        datetime(2025, 3, 17, 10, 30, tzinfo=UTC),
        _midnight("2025-08-01"),
        datetime(2025, 7, 20, 9, tzinfo=UTC),
    )
    assert split.months == [(date(2025, 4, 1), date(2025, 6, 1))]
    assert split.days == [
        (date(2025, 3, 18), date(2025, 3, 31)),
        (date(2025, 7, 1), date(2025, 7, 19)),
    ]
    assert split.raw == [
        (datetime(2025, 3, 17, 10, 30, tzinfo=UTC), _midnight("2025-03-18")),
        (_midnight("2025-07-20"), _midnight("2025-08-01")),
    ]


def test_whole_months_before_as_of_come_from_the_month_summary_alone() -> None:
    split = split_period(_midnight("2025-01-01"), _midnight("2026-01-01"), _midnight("2026-01-01"))
    assert split.months == [(date(2025, 1, 1), date(2025, 12, 1))]
    assert split.days == [] and split.raw == []


def test_without_the_day_summary_partial_months_are_read_raw() -> None:
    split = split_period(
        _midnight("2025-03-17"), _midnight("2025-08-01"), _midnight("2026-01-01"), read_days=False
    )
    assert split.days == []
    assert split.raw == [(_midnight("2025-03-17"), _midnight("2025-04-01"))]


def test_a_period_inside_one_day_is_read_raw() -> None:
    start = datetime(2025, 3, 17, 9, tzinfo=UTC)
    end = datetime(2025, 3, 17, 17, tzinfo=UTC)
    split = split_period(start, end, _midnight("2026-01-01"))
    assert (split.months, split.days, split.raw) == ([], [], [(start, end)])
