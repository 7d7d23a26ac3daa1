"""`pledge report --measures moj`: the Ministry of Justice's quarterly measures from the
recorded obligations, on the terminal and as CSV, under any shipped policy."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.report_history import build_history

PERIOD = ("--from", "2025-03-01", "--to", "2025-05-01", "--as-of", "2025-04-20T12:00+00:00")


def pledge(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "COLUMNS": "80",
        "PLEDGE_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin",
        "DATABASE_URL": database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def history(database_url: str, db_session_factory: sessionmaker[Session]) -> str:
    build_history(db_session_factory)
    return database_url


def test_the_moj_measures_count_the_standards_each_names_as_the_csv_shows(
    history: str, tmp_path: Path
) -> None:
    path = tmp_path / "moj.csv"
    result = pledge(tmp_path, history, "report", "--measures", "moj", *PERIOD, "--csv", str(path))
    assert result.returncode == 0, result.stderr
    assert "Written" in result.stdout and "acknowledgement" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    with path.open(encoding="utf-8") as handle:
        rows = {row["measure"]: row for row in csv.DictReader(handle)}
    # Four acknowledgements due in the period, three on time (see tests/report_history).
    acknowledgement = rows["written_acknowledgement"]
    assert (acknowledgement["due"], acknowledgement["met_on_time"]) == ("4", "3")
    assert acknowledgement["on_time_percent"] == "75.000000"
    # A late update and a breached closure explanation: two due, none on time.
    updates = rows["updates_in_timeframe"]
    assert (updates["due"], updates["met_on_time"], updates["breached"]) == ("2", "0", "1")
    assert rows["vps_offered"]["due"] == "0" and rows["vps_offered"]["on_time_percent"] == ""


def test_an_unknown_set_of_measures_or_a_flag_it_cannot_take_gets_one_line(
    history: str, tmp_path: Path
) -> None:
    unknown = pledge(tmp_path, history, "report", "--measures", "quarterly", *PERIOD)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "error: no policy defines measures 'quarterly'; defined: moj"
    ]
    html = pledge(tmp_path, history, "report", "--measures", "moj", *PERIOD, "--html", "x.html")
    assert html.returncode == 2 and "takes no --html" in html.stderr
    assert "Traceback" not in unknown.stderr + html.stderr
