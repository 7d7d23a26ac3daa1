"""`pledge holidays check`: the `holidays` package against GOV.UK's bank-holiday list.

Working-day deadlines skip the bank holidays of the `holidays` package (corrected by the
force file). GOV.UK publishes the official list; `govuk-bank-holidays` ships a copy of it,
read here from the package (never fetched), so the check runs offline and gives the
same answer on every machine with the same releases installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from govuk_bank_holidays.bank_holidays import BankHolidays

from standards.clock import HolidayCorrections, Nation, is_bank_holiday, listed_bank_holidays

GOVUK_DIVISION: dict[Nation, str] = {
    Nation.ENGLAND_AND_WALES: BankHolidays.ENGLAND_AND_WALES,
    Nation.SCOTLAND: BankHolidays.SCOTLAND,
    Nation.NORTHERN_IRELAND: BankHolidays.NORTHERN_IRELAND,
}


@dataclass(frozen=True)
class HolidayDifference:
    """A weekday one source calls a bank holiday and the other does not."""

    nation: Nation
    day: date
    holidays_name: str | None
    govuk_name: str | None
    # What deadlines use after the force file's corrections.
    used_as_holiday: bool
    # Whether the force file says so for this day (added or removed it).
    corrected: bool


@cache
def _govuk() -> BankHolidays:
    # The shipped copy only: without `use_cached_holidays` the package goes to the network.
    return BankHolidays(use_cached_holidays=True)


def govuk_holidays(nation: Nation, year: int) -> dict[date, str]:
    """GOV.UK's bank holidays for `nation` in `year`, from the copy the package ships."""
    listed = _govuk().get_holidays(GOVUK_DIVISION[nation], year)
    return {holiday["date"]: str(holiday["title"]) for holiday in listed}


def govuk_years() -> list[int]:
    """The years GOV.UK's shipped list covers for every nation."""
    data = _govuk().data
    spans = [{holiday["date"].year for holiday in data[d]} for d in GOVUK_DIVISION.values()]
    return sorted(set.intersection(*spans))


def holiday_differences(
    years: list[int], corrections: HolidayCorrections
) -> list[HolidayDifference]:
    """Every working-day difference between the two sources, by nation then day."""
    differences: list[HolidayDifference] = []
    for nation in Nation:
        for year in years:
            ours = listed_bank_holidays(nation, year)
            theirs = govuk_holidays(nation, year)
            for day in sorted(set(ours) ^ set(theirs)):
                if day.weekday() >= 5:
                    continue  # a weekend is no working day either way
                differences.append(
                    HolidayDifference(
                        nation=nation,
                        day=day,
                        holidays_name=ours.get(day),
                        govuk_name=theirs.get(day),
                        used_as_holiday=is_bank_holiday(day, nation, corrections),
                        corrected=(nation, day) in corrections.added | corrections.removed,
                    )
                )
    return differences
