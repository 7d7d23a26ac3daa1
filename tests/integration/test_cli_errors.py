"""What a user sees when something is wrong: one line saying what and what to do, never a
traceback (unless asked for with --debug), and no database created by a reading command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dev import ROOT, dev_environment_in, free_port, pledge


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return dev_environment_in(tmp_path / "data")


def test_policy_check_on_a_missing_file_a_folder_or_non_utf8_says_so_in_one_line(
    environment: dict[str, str], tmp_path: Path
) -> None:
    binary = tmp_path / "latin1.toml"
    binary.write_bytes("id = 'caf\xe9'\n".encode("latin-1"))
    expectations = {
        str(tmp_path / "missing.toml"): "no file",
        str(tmp_path): "is a folder",
        str(binary): "is not UTF-8",
    }
    for path, expected in expectations.items():
        result = pledge(environment, "policy", "check", path)
        assert result.returncode == 2
        assert expected in one_line(result)


def test_a_report_to_a_folder_that_does_not_exist_says_it_cannot_write_there(
    environment: dict[str, str], sqlite_url: str, tmp_path: Path
) -> None:
    environment["DATABASE_URL"] = sqlite_url
    target = tmp_path / "no" / "such" / "r.html"
    result = pledge(
        environment, "report", "--from", "2026-01-01", "--to", "2026-02-01", "--html", str(target)
    )
    assert result.returncode == 2
    assert f"cannot write {target}" in one_line(result)


def test_an_unreachable_database_is_one_line_and_debug_shows_the_traceback(
    environment: dict[str, str],
) -> None:
    environment["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/pledge"
    result = pledge(environment, "alerts")
    assert result.returncode == 1
    line = one_line(result)
    assert "cannot use the database at postgresql" in line and "DATABASE_URL" in line

    debugged = pledge(environment, "--debug", "alerts")
    assert debugged.returncode == 1
    assert "Traceback" in debugged.stderr
    environment["PLEDGE_DEBUG"] = "1"
    assert "Traceback" in pledge(environment, "alerts").stderr


@pytest.mark.parametrize(
    "command",
    [
        ("outbox",),
        ("alerts",),
        ("breaches",),
        ("case", "explain", "01/000001/26"),
        ("report", "--from", "2026-01-01", "--to", "2026-02-01"),
    ],
)
def test_a_reading_command_with_no_database_says_so_and_creates_nothing(
    environment: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    folder = tmp_path / "no" / "such"
    environment["DATABASE_URL"] = f"sqlite:///{folder / 'x.db'}"
    result = pledge(environment, *command)
    assert result.returncode == 1
    assert "no database at" in one_line(result) and "pledge migrate" in result.stderr
    assert not folder.exists()


def test_a_reading_command_on_an_empty_database_file_says_there_is_no_database(
    environment: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    environment["DATABASE_URL"] = f"sqlite:///{empty}"
    result = pledge(environment, "outbox")
    assert result.returncode == 1
    assert "no database at" in one_line(result)


def test_a_rehearsal_with_expected_retries_prints_no_traceback_or_slow_task_warning(
    environment: dict[str, str],
) -> None:
    result = pledge(
        environment, "simulate", "--engine", "temporal", "scenarios/delivery-conventions.yaml"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["messages"]
    assert "Traceback" not in result.stderr
    assert "TransientDeliveryError" not in result.stderr
    assert "exceeded 5 seconds" not in result.stderr


def test_pledge_help_imports_neither_temporal_nor_sqlalchemy() -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['pledge', '--help']\n"
        "import cli.main\n"
        "try:\n    cli.main.main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('temporalio', 'sqlalchemy', 'alembic', 'workflows.case', 'reporting.render')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "Usage" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
