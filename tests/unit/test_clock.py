"""Tests for standards.clock.

Expected values are worked out from the calendar by hand, not from the implementation:
- 1 January 2026 is a Thursday, 1 January 2027 a Friday.
- UK clocks go forward at 01:00 UTC on 29 March 2026 and 28 March 2027 (GMT -> BST) and
  back at 01:00 UTC on 25 October 2026 (BST -> GMT).
- In BST, local midnight is 23:00 UTC on the previous day.
"""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from standards.clock import (
    LONDON,
    HolidayCorrections,
    NaiveDatetimeError,
    Nation,
    WindowUnit,
    add_calendar_days,
    add_elapsed,
    add_window,
    add_working_days,
    fraction_of_window,
    is_working_day,
    require_aware,
    to_utc_iso,
)

EW = Nation.ENGLAND_AND_WALES
SCOT = Nation.SCOTLAND
NI = Nation.NORTHERN_IRELAND


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def assert_utc(value: datetime, expected: datetime) -> None:
    assert value == expected
    assert value.tzinfo is UTC


# --- elapsed time: hours and minutes -------------------------------------------------------


def test_24_hours_across_spring_forward_is_24_elapsed_hours() -> None:
    # Saturday 12:00 GMT; the wall clock on Sunday reads 13:00 BST.
    due = add_window(utc(2026, 3, 28, 12), 24, WindowUnit.HOURS)
    assert_utc(due, utc(2026, 3, 29, 12))
    assert due.astimezone(LONDON).hour == 13


def test_24_hours_across_fall_back_is_24_elapsed_hours() -> None:
    # Saturday 13:00 BST (12:00 UTC); the wall clock on Sunday reads 12:00 GMT.
    due = add_window(london(2026, 10, 24, 13), 24, WindowUnit.HOURS)
    assert_utc(due, utc(2026, 10, 25, 12))
    assert due.astimezone(LONDON).hour == 12


def test_90_minutes_across_spring_forward_is_90_elapsed_minutes() -> None:
    # 00:30 GMT + 90 minutes = 02:00 UTC, which is 03:00 BST on the wall clock.
    due = add_window(utc(2026, 3, 29, 0, 30), 90, WindowUnit.MINUTES)
    assert_utc(due, utc(2026, 3, 29, 2))
    assert due.astimezone(LONDON).hour == 3


def test_minutes_window_adds_exact_minutes() -> None:
    assert_utc(add_window(utc(2026, 6, 1, 9), 45, WindowUnit.MINUTES), utc(2026, 6, 1, 9, 45))


def test_add_elapsed_converts_the_result_to_utc() -> None:
    assert_utc(add_elapsed(london(2026, 7, 1, 9), timedelta(hours=2)), utc(2026, 7, 1, 10))


# --- calendar time: days and weeks --------------------------------------------------------


def test_1_day_across_spring_forward_keeps_the_wall_clock_time_and_is_23_hours() -> None:
    start = london(2026, 3, 28, 12)  # 12:00 GMT = 12:00 UTC
    due = add_window(start, 1, WindowUnit.DAYS)
    assert_utc(due, utc(2026, 3, 29, 11))  # 12:00 BST
    assert due - start == timedelta(hours=23)


def test_1_day_across_fall_back_keeps_the_wall_clock_time_and_is_25_hours() -> None:
    start = london(2026, 10, 24, 12)  # 12:00 BST = 11:00 UTC
    due = add_window(start, 1, WindowUnit.DAYS)
    assert_utc(due, utc(2026, 10, 25, 12))  # 12:00 GMT
    assert due - start == timedelta(hours=25)


def test_a_day_landing_in_the_spring_forward_gap_moves_to_the_first_instant_after_it() -> None:
    # 01:30 on 29 March 2026 does not exist locally; the gap ends at 02:00 BST = 01:00 UTC.
    start = london(2026, 3, 28, 1, 30)
    assert_utc(add_calendar_days(start, 1), utc(2026, 3, 29, 1))


def test_a_day_landing_in_the_fall_back_overlap_takes_the_first_occurrence() -> None:
    # 01:30 on 25 October 2026 happens twice; the first time is 01:30 BST = 00:30 UTC.
    start = london(2026, 10, 24, 1, 30)
    assert_utc(add_calendar_days(start, 1), utc(2026, 10, 25, 0, 30))


def test_a_week_landing_in_the_spring_forward_gap_moves_to_the_first_instant_after_it() -> None:
    assert_utc(add_window(london(2026, 3, 22, 1, 30), 1, WindowUnit.WEEKS), utc(2026, 3, 29, 1))


def test_weeks_are_seven_calendar_days_at_the_same_wall_clock_time() -> None:
    # Monday 23 March 09:00 GMT; two weeks later is Monday 6 April 09:00 BST.
    due = add_window(london(2026, 3, 23, 9), 2, WindowUnit.WEEKS)
    assert_utc(due, utc(2026, 4, 6, 8))


def test_zero_days_is_the_start_instant() -> None:
    assert_utc(add_calendar_days(utc(2026, 5, 1, 10, 15), 0), utc(2026, 5, 1, 10, 15))


def test_days_use_the_london_wall_clock_even_when_the_start_has_another_offset() -> None:
    # 23:30 at +02:00 on 27 March is 21:30 GMT; one day later is still GMT, two days later
    # is 21:30 BST = 20:30 UTC.
    start = datetime(2026, 3, 27, 23, 30, tzinfo=timezone(timedelta(hours=2)))
    assert_utc(add_calendar_days(start, 1), utc(2026, 3, 28, 21, 30))
    assert_utc(add_calendar_days(start, 2), utc(2026, 3, 29, 20, 30))


# --- working days -------------------------------------------------------------------------


def test_standards_example_ten_working_days_from_friday_18_december_2026() -> None:
    # Counts 21-24, 29-31 December and 4-6 January; 25 and 28 December and 1 January are
    # bank holidays, so the deadline is midnight starting Thursday 7 January 2027 (GMT).
    due = add_window(london(2026, 12, 18, 15), 10, WindowUnit.WORKING_DAYS, EW)
    assert_utc(due, utc(2027, 1, 7))
    assert due.astimezone(LONDON) == london(2027, 1, 7)


def test_easter_2027_skips_good_friday_and_easter_monday_in_england_and_wales() -> None:
    # Thursday 25 March; 26 and 29 March are holidays, so Tuesday 30 March is day 1 and the
    # deadline is midnight starting 31 March, which is BST (clocks changed on 28 March).
    due = add_working_days(london(2027, 3, 25, 10), 1, EW)
    assert_utc(due, utc(2027, 3, 30, 23))


def test_easter_2026_skips_good_friday_and_easter_monday_in_england_and_wales() -> None:
    # Thursday 2 April; 3 and 6 April are holidays, so Tuesday 7 April is day 1.
    due = add_working_days(london(2026, 4, 2, 10), 1, EW)
    assert_utc(due, utc(2026, 4, 7, 23))


def test_easter_dates_are_not_working_days_in_england_and_wales() -> None:
    for day in (date(2026, 4, 3), date(2026, 4, 6), date(2027, 3, 26), date(2027, 3, 29)):
        assert not is_working_day(day, EW), day
    assert is_working_day(date(2026, 4, 7), EW)
    assert is_working_day(date(2027, 3, 30), EW)


def test_a_start_on_a_saturday_counts_from_monday() -> None:
    # Saturday 4 July 2026: Monday 6 and Tuesday 7 are days 1 and 2.
    due = add_working_days(london(2026, 7, 4, 11), 2, EW)
    assert_utc(due, utc(2026, 7, 7, 23))


def test_a_working_day_deadline_in_summer_is_23_00_utc_the_previous_day() -> None:
    # Monday 1 June 2026 + 3 working days = end of Thursday 4 June = 5 June 00:00 BST.
    due = add_working_days(utc(2026, 6, 1, 9), 3, EW)
    assert_utc(due, utc(2026, 6, 4, 23))
    assert to_utc_iso(due) == "2026-06-04T23:00:00+00:00"


def test_a_start_on_a_bank_holiday_does_not_count_the_start_day() -> None:
    # Christmas Day 2026 is a Friday; Monday 28 December is the Boxing Day substitute, so
    # Tuesday 29 December is day 1 and the deadline is midnight starting 30 December (GMT).
    due = add_working_days(london(2026, 12, 25, 9), 1, EW)
    assert_utc(due, utc(2026, 12, 30))


def test_a_start_on_a_working_day_does_not_count_the_start_day() -> None:
    # Monday 7 December 2026, 1 working day: Tuesday 8 December is day 1.
    assert_utc(add_working_days(london(2026, 12, 7, 8), 1, EW), utc(2026, 12, 9))


def test_the_start_day_is_the_london_day_not_the_utc_day() -> None:
    # 23:30 UTC on Thursday 2 July 2026 is 00:30 BST on Friday 3 July, so Friday is the
    # start day and Monday 6 July is day 1.
    due = add_working_days(utc(2026, 7, 2, 23, 30), 1, EW)
    assert_utc(due, utc(2026, 7, 6, 23))


def test_2_january_is_a_bank_holiday_in_scotland_but_not_in_england() -> None:
    assert not is_working_day(date(2026, 1, 2), SCOT)
    assert is_working_day(date(2026, 1, 2), EW)


def test_a_scottish_count_over_new_year_skips_2_january() -> None:
    # Wednesday 31 December 2025; 1 January is a holiday everywhere; Friday 2 January is a
    # holiday only in Scotland, where Monday 5 January becomes day 1.
    start = london(2025, 12, 31, 12)
    assert_utc(add_working_days(start, 1, EW), utc(2026, 1, 3))
    assert_utc(add_working_days(start, 1, SCOT), utc(2026, 1, 6))


def test_easter_monday_is_a_working_day_in_scotland() -> None:
    assert is_working_day(date(2026, 4, 6), SCOT)
    assert not is_working_day(date(2026, 4, 3), SCOT)  # Good Friday still is a holiday
    # Thursday 25 March 2027: Good Friday off, Monday 29 March is day 1 in Scotland.
    assert_utc(add_working_days(london(2027, 3, 25, 10), 1, SCOT), utc(2027, 3, 29, 23))


def test_a_bank_holiday_the_force_file_removes_is_a_working_day_again() -> None:
    # `holidays` lists Monday 15 June 2026 for Scotland; GOV.UK's list does not.
    fifteenth = date(2026, 6, 15)
    assert not is_working_day(fifteenth, SCOT)
    removed = HolidayCorrections(removed=frozenset({(SCOT, fifteenth)}))
    assert is_working_day(fifteenth, SCOT, removed)
    # Friday 12 June: day 1 is Monday 15 June once the correction applies, not Tuesday.
    start = london(2026, 6, 12, 10)
    assert_utc(add_working_days(start, 1, SCOT), utc(2026, 6, 16, 23))
    assert_utc(add_working_days(start, 1, SCOT, removed), utc(2026, 6, 15, 23))


def test_a_bank_holiday_the_force_file_adds_is_skipped_in_that_nation_only() -> None:
    tenth = date(2026, 6, 10)  # a Wednesday
    added = HolidayCorrections(added=frozenset({(EW, tenth)}))
    assert not is_working_day(tenth, EW, added)
    assert is_working_day(tenth, SCOT, added)
    # Monday 8 June + 5 working days: Monday 15 June, or Tuesday 16 June without the 10th.
    start = london(2026, 6, 8, 9)
    assert_utc(add_window(start, 5, WindowUnit.WORKING_DAYS, EW), utc(2026, 6, 15, 23))
    assert_utc(add_window(start, 5, WindowUnit.WORKING_DAYS, EW, added), utc(2026, 6, 16, 23))


def test_st_patricks_day_is_a_bank_holiday_in_northern_ireland_only() -> None:
    # 17 March 2026 is a Tuesday.
    assert not is_working_day(date(2026, 3, 17), NI)
    assert is_working_day(date(2026, 3, 17), EW)
    start = london(2026, 3, 16, 9)  # Monday
    assert_utc(add_window(start, 1, WindowUnit.WORKING_DAYS, NI), utc(2026, 3, 19))
    assert_utc(add_window(start, 1, WindowUnit.WORKING_DAYS, EW), utc(2026, 3, 18))


def test_12_july_is_a_bank_holiday_in_northern_ireland_only() -> None:
    # 12 July 2027 is a Monday.
    assert not is_working_day(date(2027, 7, 12), NI)
    assert is_working_day(date(2027, 7, 12), EW)


def test_12_july_on_a_sunday_gives_northern_ireland_the_monday_off() -> None:
    # 12 July 2026 is a Sunday; the substitute day is Monday 13 July.
    assert not is_working_day(date(2026, 7, 13), NI)
    assert is_working_day(date(2026, 7, 13), EW)


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 7, 4), EW)  # Saturday
    assert not is_working_day(date(2026, 7, 5), EW)  # Sunday
    assert is_working_day(date(2026, 7, 6), EW)  # Monday


def test_holidays_are_known_for_years_far_ahead_and_across_year_boundaries() -> None:
    # 25 December 2030 is a Wednesday; 1 January 2031 is a Wednesday too.
    assert is_working_day(date(2030, 12, 24), EW)
    assert not is_working_day(date(2030, 12, 25), EW)
    assert not is_working_day(date(2031, 1, 1), EW)
    # From Tuesday 31 December 2030, Thursday 2 January 2031 is day 1.
    assert_utc(add_working_days(london(2030, 12, 31, 9), 1, EW), utc(2031, 1, 3))


def test_is_working_day_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        is_working_day(utc(2026, 7, 6, 9), EW)


# --- warning point ------------------------------------------------------------------------


def test_fraction_of_window_at_75_percent() -> None:
    # A 96-hour window: 75% is 72 hours in.
    assert_utc(fraction_of_window(utc(2026, 3, 1), utc(2026, 3, 5), 0.75), utc(2026, 3, 4))


def test_fraction_of_window_uses_elapsed_time_across_a_clock_change() -> None:
    # 1 calendar day from 12:00 GMT Saturday is 23 elapsed hours; 75% is 17h15m in.
    start = london(2026, 3, 28, 12)
    due = add_window(start, 1, WindowUnit.DAYS)
    assert_utc(fraction_of_window(start, due, 0.75), utc(2026, 3, 29, 5, 15))


def test_fraction_of_window_at_the_ends_is_start_and_due() -> None:
    start, due = utc(2026, 3, 1), utc(2026, 3, 5)
    assert_utc(fraction_of_window(start, due, 0), start)
    assert_utc(fraction_of_window(start, due, 1), due)


def test_fraction_of_window_rejects_a_fraction_outside_zero_to_one() -> None:
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="fraction"):
            fraction_of_window(utc(2026, 3, 1), utc(2026, 3, 5), bad)


def test_fraction_of_window_rejects_due_before_start() -> None:
    with pytest.raises(ValueError, match="before start"):
        fraction_of_window(utc(2026, 3, 5), utc(2026, 3, 1), 0.75)


# --- edges: naive datetimes and bad amounts -----------------------------------------------


def test_a_naive_start_is_rejected_with_a_message_naming_the_field() -> None:
    with pytest.raises(NaiveDatetimeError, match=r"start.*\+00:00"):
        add_window(datetime(2026, 3, 1, 9), 1, WindowUnit.HOURS)


def test_require_aware_names_the_field_it_was_given() -> None:
    with pytest.raises(NaiveDatetimeError, match="received_at"):
        require_aware(datetime(2026, 3, 1, 9), field="received_at")


def test_a_naive_due_is_rejected_by_fraction_of_window() -> None:
    with pytest.raises(NaiveDatetimeError, match="due"):
        fraction_of_window(utc(2026, 3, 1), datetime(2026, 3, 5), 0.75)


@pytest.mark.parametrize("unit", list(WindowUnit))
def test_every_window_unit_rejects_a_naive_start(unit: WindowUnit) -> None:
    with pytest.raises(NaiveDatetimeError):
        add_window(datetime(2026, 3, 1, 9), 1, unit)


def test_naive_datetimes_are_rejected_by_every_function() -> None:
    naive = datetime(2026, 3, 1, 9)
    with pytest.raises(NaiveDatetimeError):
        add_elapsed(naive, timedelta(hours=1))
    with pytest.raises(NaiveDatetimeError):
        add_calendar_days(naive, 1)
    with pytest.raises(NaiveDatetimeError):
        add_working_days(naive, 1, EW)
    with pytest.raises(NaiveDatetimeError):
        to_utc_iso(naive)


def test_naive_datetime_error_is_a_value_error() -> None:
    assert issubclass(NaiveDatetimeError, ValueError)


def test_require_aware_converts_other_offsets_to_utc() -> None:
    value = datetime(2026, 3, 1, 11, tzinfo=timezone(timedelta(hours=2)))
    assert_utc(require_aware(value), utc(2026, 3, 1, 9))


@pytest.mark.parametrize("unit", list(WindowUnit))
def test_a_negative_amount_is_rejected_for_every_unit(unit: WindowUnit) -> None:
    with pytest.raises(ValueError, match=r"negative|at least 1"):
        add_window(utc(2026, 3, 1), -1, unit)


def test_a_zero_working_day_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_window(utc(2026, 3, 1), 0, WindowUnit.WORKING_DAYS)


def test_negative_days_and_negative_elapsed_time_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_calendar_days(utc(2026, 3, 1), -1)
    with pytest.raises(ValueError, match="negative"):
        add_elapsed(utc(2026, 3, 1), timedelta(seconds=-1))


# --- serialisation ------------------------------------------------------------------------


def test_to_utc_iso_writes_a_plus_zero_offset() -> None:
    assert to_utc_iso(london(2027, 1, 7)) == "2027-01-07T00:00:00+00:00"
    assert to_utc_iso(london(2026, 7, 8)) == "2026-07-07T23:00:00+00:00"


def test_window_units_and_nations_have_stable_string_values() -> None:
    assert [u.value for u in WindowUnit] == [
        "minutes",
        "hours",
        "days",
        "weeks",
        "working_days",
    ]
    assert add_window(utc(2026, 6, 1, 9), 2, WindowUnit("hours")) == utc(2026, 6, 1, 11)
    assert Nation("scotland") is SCOT
