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


def test_event_help_lists_the_victims_code_events_and_their_details() -> None:
    result = CliRunner().invoke(app, ["case", "event", "--help"], env={"COLUMNS": "400"})
    text = " ".join(result.output.split())
    assert "needs_assessed: enhanced, basis" in text
    assert "support_consent: given" in text
    for event in ("suspect_interviewed", "released_on_bail", "vrr_requested", "vps_offered"):
        assert event in text
