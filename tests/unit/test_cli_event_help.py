"""`pledge case event --help`: what each event accepts, from the one definition."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.main import app


def test_event_help_names_the_details_each_event_accepts_officer_details_included() -> None:
    result = CliRunner().invoke(app, ["case", "event", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "officer_assigned: officer_name, officer_contact" in text
    assert "preferences_changed: update_interval_days, no_updates" in text
    assert "other events take none" in text
