"""`pledge report`, `breaches`, `case explain` and `alerts` as a user runs them, at 80 columns."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.report_history import LONG_REFERENCE, add_long_named_case, build_history

PERIOD = ("--from", "2025-03-01", "--to", "2025-05-01")


def pledge(
    tmp_path: Path, database_url: str | None, *args: str, columns: int = 80
) -> subprocess.CompletedProcess[str]:
    environment = {
        "COLUMNS": str(columns),
        "PLEDGE_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin",
    }
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=tmp_path,  # away from any .env in the worktree
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_fits_80_columns(output: str) -> None:
    lines = output.splitlines()
    assert lines
    assert [line for line in lines if len(line) > 80] == []
    assert "…" not in output, output


@pytest.fixture
def long_history(database_url: str, db_session_factory: sessionmaker[Session]) -> str:
    build_history(db_session_factory)
    add_long_named_case(db_session_factory)
    return database_url


@pytest.mark.parametrize(
    "command",
    [
        ("report", *PERIOD, "--by", "standard"),
        ("report", *PERIOD, "--by", "month,borough,category,standard"),
        ("report", *PERIOD, "--by", "borough,standard"),
        ("breaches",),
        ("case", "explain", LONG_REFERENCE),
        ("alerts",),
    ],
    ids=["report-standard", "report-four-keys", "report-borough-standard", "breaches", "explain",
         "alerts"],
)  # fmt: skip
def test_every_table_fits_80_columns_and_cuts_no_cell(
    long_history: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = pledge(tmp_path, long_history, *command)
    assert result.returncode == 0, result.stderr
    assert_fits_80_columns(result.stdout)
    # Long names are wrapped, not lost: each piece is there.
    assert "hammersmith_" in result.stdout or "feedback_" in result.stdout
    # Instants to the minute in London with the offset; never seconds or microseconds.
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", result.stdout)


def test_instants_are_shown_to_the_minute_in_london_with_the_offset(
    long_history: str, tmp_path: Path
) -> None:
    # Wide enough that no instant wraps in its cell.
    explained = pledge(tmp_path, long_history, "case", "explain", LONG_REFERENCE, columns=160)
    alerts = pledge(tmp_path, long_history, "alerts", columns=160)
    # started 2025-04-01 09:00:00.123456Z; the alert 2025-04-02 09:00:01.654321Z (BST)
    assert "2025-04-01 10:00 +01:00" in explained.stdout, explained.stderr
    assert "2025-04-02 10:00 +01:00" in alerts.stdout, alerts.stderr


def test_the_on_time_rate_is_the_same_percentage_in_the_table_csv_and_html(
    long_history: str, tmp_path: Path
) -> None:
    result = pledge(
        tmp_path, long_history, "report", *PERIOD, "--by", "borough", "--as-of",
        "2025-04-20T13:00+01:00", "--csv", "report.csv", "--html", "report.html",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "on-time %" in result.stdout
    table_rate = next(
        line.split()[-1] for line in result.stdout.splitlines() if line.split()[:1] == ["hackney"]
    )
    with (tmp_path / "report.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["borough"]: row for row in csv.DictReader(handle)}
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    html_row = re.search(r"<tr><td[^>]*>hackney</td>(.*?)</tr>", html)
    assert html_row is not None
    html_cells = re.findall(r"<td[^>]*>([^<]*)</td>", html_row.group(1))
    # hackney: b2 late, b6 and b7 on time, b1 breached, b5 awaiting: 2 of 5 on time.
    assert table_rate == "40.0"
    assert f"{float(rows['hackney']['on_time_rate_percent']):.1f}" == table_rate
    assert html_cells[5] == table_rate
    assert "percentage" in html
    assert "counted to 2025-04-20 13:00:00 +01:00" in html  # the HTML names its as-of too


def test_the_report_counts_to_the_as_of_instant_and_says_which(
    database_url: str, db_session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    build_history(db_session_factory)

    def due_as_of(instant: str, shown: str) -> int:
        result = pledge(
            tmp_path, database_url, "report", *PERIOD, "--as-of", instant, "--csv", "out.csv"
        )
        assert result.returncode == 0, result.stderr
        assert f"counted to {shown}" in " ".join(result.stdout.split())
        with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as handle:
            return sum(int(row["due"]) for row in csv.DictReader(handle))

    # As at the hand count's instant: 8 due. After 25 April b4 is due as well.
    assert due_as_of("2025-04-20T13:00+01:00", "2025-04-20 13:00:00 +01:00") == 8
    assert due_as_of("2025-06-01T00:00:00Z", "2025-06-01 01:00:00 +01:00") == 9
    # Before b5's deadline (19 April 12:00Z) it is not due, so not awaiting breach either.
    assert due_as_of("2025-04-19T11:59:59+00:00", "2025-04-19 12:59:59 +01:00") == 7


def test_breaches_as_of_lists_only_what_was_overdue_by_then(
    database_url: str, db_session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    build_history(db_session_factory)
    result = pledge(tmp_path, database_url, "breaches", "--as-of", "2025-04-01T00:00+01:00")
    assert result.returncode == 0, result.stderr
    assert "B/1" in result.stdout and "A/1" not in result.stdout
    assert "as of 2025-04-01 00:00 +01:00" in result.stdout


@pytest.mark.parametrize("command", ["report", "breaches"])
@pytest.mark.parametrize("instant", ["2025-04-20T12:00", "yesterday"])
def test_an_as_of_without_an_offset_is_refused_in_one_line_and_changes_nothing(
    tmp_path: Path, command: str, instant: str
) -> None:
    args = (command, *PERIOD) if command == "report" else (command,)
    result = pledge(tmp_path, None, *args, "--as-of", instant)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--as-of" in lines[0] and "+00:00" in lines[0], result.stderr
    assert ("no UTC offset" in lines[0]) == (instant != "yesterday")
    assert not (tmp_path / "data" / "pledge.db").exists()


def test_empty_listings_say_so_instead_of_printing_an_empty_frame(
    sqlite_url: str, tmp_path: Path
) -> None:
    outputs = {
        "alerts": pledge(tmp_path, sqlite_url, "alerts").stdout,
        "breaches": pledge(tmp_path, sqlite_url, "breaches").stdout,
        "report": pledge(tmp_path, sqlite_url, "report", *PERIOD).stdout,
    }
    assert outputs["alerts"].strip() == "alerts: none"
    assert "no breaches" in outputs["breaches"]
    assert "nothing was due" in outputs["report"]
    for output in outputs.values():
        assert "──" not in output.split("Definitions")[0], output


def test_breaches_takes_a_borough_by_name_in_any_case_and_refuses_an_unknown_one(
    database_url: str, db_session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    build_history(db_session_factory)
    as_of = ("--as-of", "2025-04-20T13:00+01:00")
    by_name = pledge(tmp_path, database_url, "breaches", "--borough", "HACKNEY", *as_of)
    unknown = pledge(tmp_path, database_url, "breaches", "--borough", "Narnia", *as_of)
    assert by_name.returncode == 0, by_name.stderr
    assert "B/1" in by_name.stdout and "A/1" not in by_name.stdout
    assert unknown.returncode == 2
    assert len(unknown.stderr.strip().splitlines()) == 1 and "Narnia" in unknown.stderr
