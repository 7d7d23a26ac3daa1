"""`pledge what-if` on recorded history (cases, victims and case_events written as the
service writes them), on SQLite and PostgreSQL: a changed window moves the figures the
expected way, and bad input gets one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dev import dev_environment_in, pledge
from tests.support.what_if import (
    SHIPPED_POLICY,
    csv_by_key,
    policy_with_window,
    recorded_year_in,
)

PERIOD = ("--from", "2026-01-01", "--to", "2027-01-01", "--as-of", "2027-01-01T00:00+00:00")


@pytest.fixture
def recorded_year(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A database holding 120 cases of 2026 and their events; the environment to reach it."""
    cases, events = recorded_year_in(database_url)
    assert cases == 120 and events > 200
    return dev_environment_in(tmp_path / "data", DATABASE_URL=database_url)


def test_updates_every_21_days_instead_of_28_make_more_updates_due_and_fewer_on_time(
    recorded_year: dict[str, str], tmp_path: Path
) -> None:
    proposed = policy_with_window(tmp_path, "victim_update", 21)
    table = tmp_path / "what-if.csv"
    page = tmp_path / "what-if.html"
    result = pledge(
        recorded_year,
        *("what-if", "--policy", str(proposed), *PERIOD),
        *("--csv", str(table), "--html", str(page)),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "120 cases reported in the period" in result.stdout
    rows = csv_by_key(table)
    update = rows["victim_update"]
    assert int(update["proposed_due"]) > int(update["current_due"])
    assert float(update["proposed_on_time_rate_percent"]) < float(
        update["current_on_time_rate_percent"]
    )
    assert float(update["on_time_rate_difference_points"]) < 0
    # Only the victim-update window moved: every other standard counts the same.
    for standard, row in rows.items():
        if standard not in ("victim_update", "all"):
            for figure in ("due", "met_on_time", "met_late", "breached"):
                assert row[f"current_{figure}"] == row[f"proposed_{figure}"], standard
    html = page.read_text()
    assert "victim_update" in html and "on-time difference" in html


def test_the_shipped_policy_as_proposal_changes_nothing(
    recorded_year: dict[str, str], tmp_path: Path
) -> None:
    table = tmp_path / "same.csv"
    result = pledge(
        recorded_year,
        *("what-if", "--policy", str(SHIPPED_POLICY), *PERIOD, "--csv", str(table)),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    total = csv_by_key(table)["all"]
    assert int(total["current_due"]) > 0
    for figure in ("due", "met_on_time", "met_late", "breached", "on_time_rate_percent"):
        assert total[f"current_{figure}"] == total[f"proposed_{figure}"]
    assert float(total["on_time_rate_difference_points"]) == 0


@pytest.mark.parametrize(
    ("arguments", "code", "said"),
    [
        (("--policy", "no-such-policy.toml", *PERIOD), 2, "no such file"),
        (("--policy", "{broken}", *PERIOD), 2, "invalid policy"),
        (
            ("--policy", str(SHIPPED_POLICY), "--from", "2026-06-01", "--to", "2026-01-01"),
            2,
            "the period is empty",
        ),
        (
            ("--policy", str(SHIPPED_POLICY), "--from", "2030-01-01", "--to", "2030-02-01"),
            1,
            "no cases were reported in the period",
        ),
        (
            ("--policy", str(SHIPPED_POLICY), "--from", "2026-13-01", "--to", "2027-01-01"),
            2,
            "is not a date",
        ),
        (("--policy", str(SHIPPED_POLICY), *PERIOD, "--by", "colour"), 2, "cannot group by"),
    ],
)
def test_bad_input_gets_one_line_and_no_traceback(
    recorded_year: dict[str, str],
    tmp_path: Path,
    arguments: tuple[str, ...],
    code: int,
    said: str,
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "met-pledge"\nversion = "two"\n')
    arguments = tuple(str(broken) if a == "{broken}" else a for a in arguments)
    result = pledge(recorded_year, "what-if", *arguments, timeout=120)
    assert result.returncode == code, result
    first, *rest = result.stderr.strip().splitlines()
    assert said in first
    assert "Traceback" not in result.stderr + result.stdout
    # One line, but for an invalid policy: then a line per field at fault, as elsewhere.
    assert all(line.startswith(str(tmp_path)) for line in rest), result.stderr
    assert bool(rest) == (said == "invalid policy"), result.stderr
