"""Every listing at 80 columns: names wrap instead of being cut, instants read to the minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from messaging.display import (
    Name,
    fit,
    listing,
    minute_text,
    name_column,
    number_column,
    print_listing,
)
from reporting.compliance import ComplianceReport, GroupFigures
from reporting.register import BreachEntry
from reporting.render import (
    breaches_table,
    counts_table,
    print_report,
    timeline_table,
    times_table,
)
from service.listings import CaseRow, alerts_table, case_table, cases_table
from storage import models
from storage.timeline import TimelineStep

WINTER = datetime(2026, 3, 28, 11, 30, 42, 123456, tzinfo=UTC)
SUMMER = datetime(2026, 3, 29, 11, 30, tzinfo=UTC)  # the first day of BST
LONG_STANDARDS = ("feedback_acknowledgement", "serious_assault_review", "traffic_unit_contact")


def rendered(*tables: Table, width: int = 80) -> str:
    console = Console(width=width, record=True)
    for table in tables:
        print_listing(console, table)
    return console.export_text()


def assert_fits(text: str, width: int = 80) -> None:
    assert text.strip()
    assert [line for line in text.splitlines() if len(line) > width] == []
    assert "…" not in text, text


def test_an_instant_reads_to_the_minute_in_london_with_its_offset() -> None:
    assert minute_text(WINTER) == "2026-03-28 11:30 +00:00"
    assert minute_text(SUMMER) == "2026-03-29 12:30 +01:00"
    assert minute_text(None) == ""


def test_a_long_name_wraps_after_an_underscore_and_its_pieces_read_back_as_the_name() -> None:
    table = listing("names", name_column("borough"), number_column("n"))
    table.add_row(Name("kensington_and_chelsea"), "1")
    text = rendered(table, width=16)
    assert_fits(text, 16)
    lines = [line.split()[0] for line in text.splitlines()[3:] if line.strip()]
    assert "".join(lines) == "kensington_and_chelsea"
    assert all(line.endswith("_") for line in lines[:-1])


def test_fitting_a_table_whose_headers_are_wider_than_its_cells_ends() -> None:
    # Cells narrower than their headers once made the width search loop forever.
    table = listing("t", *(number_column(f"a very long header {index}") for index in range(6)))
    table.add_row(*(str(index) for index in range(6)))
    console = Console(width=80, record=True)
    console.print(fit(console, table))
    assert_fits(console.export_text())


def test_case_show_fits_80_columns_with_instants_to_the_minute() -> None:
    obligations = [
        {
            "key": f"{standard}#12",
            "standard": standard,
            "state": "met_late",
            "started_at": WINTER.isoformat(),
            "due_at": (WINTER + timedelta(days=1)).isoformat(),
            "met_at": (WINTER + timedelta(days=2, seconds=5)).isoformat(),
        }
        for standard in LONG_STANDARDS
    ]
    view = {
        "reference": "01/123456/26",
        "category": "domestic_abuse",
        "borough": "hammersmith_and_fulham",
        "status": "open",
        "policy": "met-pledge@1",
        "obligations": obligations,
    }
    assert_fits(rendered(case_table(view)))
    text = rendered(case_table(view), width=120)  # wide enough that no instant wraps
    assert "2026-03-28 11:30 +00:00" in text
    assert "2026-03-30 12:30 +01:00" in text  # met two days later, in summer time
    assert ":42" not in text and ".123456" not in text  # no seconds, no microseconds


def test_cases_and_alerts_fit_80_columns() -> None:
    rows = [
        CaseRow("01/123456/26", "richmond_upon_thames", "domestic_abuse", 12, SUMMER),
        CaseRow("01/654321/26", "hammersmith_and_fulham", "serious_assault", 0, None),
    ]
    alerts = [
        models.Alert(
            reference="01/123456/26",
            borough="kensington_and_chelsea",
            standard=standard,
            obligation_key=f"{standard}#1",
            kind="manual_contact_required",
            at=WINTER,
            recipient_role="manager",
        )
        for standard in LONG_STANDARDS
    ]
    assert_fits(rendered(cases_table(rows, overdue=True), alerts_table(alerts)))
    text = rendered(cases_table(rows, overdue=True), alerts_table(alerts), width=120)
    assert "2026-03-29 12:30 +01:00" in text and "2026-03-28 11:30 +00:00" in text


def test_an_empty_listing_says_none_instead_of_printing_a_bare_table() -> None:
    assert rendered(alerts_table([])).strip() == "alerts: none"
    assert rendered(cases_table([], overdue=False)).strip() == "open cases: none"


def big_figures(key: tuple[str, ...]) -> GroupFigures:
    return GroupFigures(
        key=key, due=1_234_567, met_on_time=1_111_111, met_late=99_999, breached=23_456,
        awaiting_breach=1, median_hours=123.45, p90_hours=1_234.5, median_share=0.5,
        p90_share=1.25,
    )  # fmt: skip


def test_the_report_fits_80_columns_with_four_keys_and_seven_digit_counts() -> None:
    by = ("month", "borough", "category", "standard")
    groups = [
        big_figures(("2026-03", "barking_and_dagenham", "domestic_abuse", standard))
        for standard in LONG_STANDARDS
    ]
    report = ComplianceReport(
        start=WINTER, end=SUMMER, as_of=SUMMER, by=by, groups=groups, total=big_figures(())
    )
    text = rendered(counts_table(report), times_table(report))
    assert_fits(text)
    assert "1234567" in text and "90.0" in text  # 1,111,111 of 1,234,567 met on time
    assert "90.0%" not in text  # the header says the unit once


def test_the_breach_register_and_timeline_fit_80_columns() -> None:
    entries = [
        BreachEntry(
            reference="01/123456/26", borough="kingston_upon_thames", standard=standard,
            key=f"{standard}#3", state="met_late", due_at=WINTER, late_by=timedelta(days=123),
            explained=True, reason="awaiting_information", stale_unexplained=False,
        )
        for standard in LONG_STANDARDS
    ]  # fmt: skip
    steps = [
        TimelineStep(
            obligation_key=f"{standard}#3", standard=standard, seq=1, event="escalated",
            state="breached", at=WINTER, cause="still unmet 24 hours after the breach",
        )
        for standard in LONG_STANDARDS
    ]  # fmt: skip
    assert_fits(rendered(breaches_table(entries, SUMMER), timeline_table("01/123456/26", steps)))
    text = rendered(
        breaches_table(entries, SUMMER), timeline_table("01/123456/26", steps), width=160
    )
    assert "123.0 d" in text and "2026-03-28 11:30 +00:00" in text


def test_wide_prints_every_figure_in_one_table_with_standards_by_title() -> None:
    report = ComplianceReport(
        start=WINTER,
        end=SUMMER,
        as_of=SUMMER,
        by=("standard", "borough"),
        groups=[big_figures(("serious_assault_review", "barking_and_dagenham"))],
        total=big_figures(()),
    )
    title = "Supervising detective reviews a serious assault within 18 hours"
    console = Console(width=80, record=True)
    print_report(console, report, {"serious_assault_review": title}, wide=True)
    text = console.export_text()
    assert "…" not in text
    row = next(line for line in text.splitlines() if title in line)
    assert "barking_and_dagenham" in row and "1234567" in row and "0.500" in row
