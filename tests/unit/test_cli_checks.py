"""`pledge policy check` and `pledge holidays check`: what a force runs before it deploys."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SOURCE = (POLICIES / "met-pledge.toml").read_text()
FORCE_SOURCE = (POLICIES / "met.force.toml").read_text()

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Files are named relative to it: short paths, so no line is wrapped in the output.
    monkeypatch.chdir(tmp_path)


def check(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["policy", "check", str(path)])
    return result.exit_code, " ".join(result.output.split())


def check_text(name: str, text: str) -> tuple[int, str]:
    path = Path(name)
    path.write_text(text)
    return check(path)


def test_policy_check_refuses_a_message_with_no_template_naming_line_and_field() -> None:
    broken = SOURCE.replace('"message:acknowledgement"', '"message:acknowledgment"', 1)
    code, output = check_text("met-pledge.toml", broken)
    line = broken.splitlines().index('met_by = ["message:acknowledgment", "contact"]') + 1
    assert code == 2
    assert f"met-pledge.toml:{line}: standards[0].met_by: no message template" in output


def test_policy_check_refuses_a_misspelt_key_and_a_quoted_number_together() -> None:
    broken = SOURCE.replace("recurs = true", "recur = true").replace("window = 28", 'window = "28"')
    code, output = check_text("met-pledge.toml", broken)
    assert code == 2
    assert "standards[1].recur: is not a known field; did you mean 'recurs'?" in output
    assert "standards[1].window: Input should be a valid integer" in output


def test_policy_check_passes_the_shipped_policy_and_force_file() -> None:
    code, output = check(POLICIES / "met-pledge.toml")
    assert code == 0
    assert "met-pledge version 3: 10 standards, languages en, cy, ok" in output
    assert check(POLICIES / "met.force.toml") == (0, "met: 32 borough units, ok")


def test_policy_check_names_the_line_of_a_mistake_in_a_force_file() -> None:
    broken = FORCE_SOURCE.replace('name = "Camden"', 'nmae = "Camden"')
    code, output = check_text("met.force.toml", broken)
    line = broken.splitlines().index('nmae = "Camden"') + 1
    assert code == 2
    assert f"met.force.toml:{line}: units[5].nmae: is not a known field" in output


def holidays_check(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["holidays", "check", *args], terminal_width=200)
    return result.exit_code, result.output


def test_holidays_check_shows_the_scottish_day_only_one_source_lists() -> None:
    code, output = holidays_check("--year", "2026")
    lines = [line for line in output.splitlines() if "2026-06-15" in line]
    assert len(lines) == 1
    assert "scotland" in lines[0] and "bank holiday" in lines[0] and "silent" in lines[0]
    assert "england_and_wales" not in output
    assert code == 1  # a difference the force file does not settle
    # The way to settle it is named as the file spells it, not eaten as markup.
    assert "under [[bank_holidays]]" in " ".join(output.split())


def test_holidays_check_shows_a_difference_the_force_file_settles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    force = tmp_path / "met.force.toml"
    correction = '[[bank_holidays]]\nnation = "scotland"\nremove = [2026-06-15]\n'
    force.write_text(f"{FORCE_SOURCE}\n{correction}")
    monkeypatch.setenv("PLEDGE_FORCE_FILE", str(force))
    code, output = holidays_check("--year", "2026")
    (line,) = [line for line in output.splitlines() if "2026-06-15" in line]
    assert "working day" in line and "corrects it" in line
    assert code == 0


def test_holidays_check_agrees_for_a_year_without_differences() -> None:
    assert holidays_check("--year", "2025") == (
        0,
        "holidays and GOV.UK agree on every working day, 2025\n",
    )


def test_holidays_check_refuses_a_year_outside_the_published_list() -> None:
    code, output = holidays_check("--year", "1990")
    assert code == 2 and "not 1990" in output
