"""How the queue words time and what would meet an obligation."""

from __future__ import annotations

from datetime import timedelta

from config import PROJECT_ROOT
from service.queue import duration_text, met_by_contact, met_by_text, urgency_text, what_meets
from standards.policy import load_policy

POLICY = load_policy(PROJECT_ROOT / "policies" / "met-pledge.toml")


def test_a_span_reads_in_its_two_largest_units_to_the_minute() -> None:
    assert duration_text(timedelta(minutes=45, seconds=59)) == "45 minutes"
    assert duration_text(timedelta(hours=1, minutes=1)) == "1 hour 1 minute"
    assert duration_text(timedelta(days=2, hours=3, minutes=4)) == "2 days 3 hours"
    assert duration_text(timedelta(days=1, minutes=5)) == "1 day 5 minutes"
    assert duration_text(timedelta(seconds=20)) == "less than a minute"
    assert duration_text(-timedelta(hours=3)) == "3 hours"


def test_urgency_says_how_late_or_the_time_left() -> None:
    assert urgency_text(-timedelta(hours=30)) == "1 day 6 hours late"
    assert urgency_text(timedelta(minutes=40)) == "due in 40 minutes"
    assert urgency_text(timedelta(0)) == "less than a minute late"


def test_what_meets_a_standard_is_said_in_words() -> None:
    assert met_by_text("message:arrest") == "the arrest message, once delivered"
    assert met_by_text("message:closure+reason") == (
        "the closure message with a reason, once delivered"
    )
    assert what_meets(POLICY.standard("dv_contact")) == [
        "a recorded contact with the victim about this"
    ]
    assert met_by_contact(POLICY.standard("victim_update"))
    assert not met_by_contact(POLICY.standard("serious_assault_review"))
