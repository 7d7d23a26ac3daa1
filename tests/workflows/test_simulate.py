"""`pledge simulate`: scenarios through the case books (the in-process engine, the
default), and through the real workflows on the time-skipping server where it says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "scenarios" / "standards-examples.yaml"


def simulate(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "simulate", str(path), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    result = simulate(EXAMPLES)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)  # stdout holds JSON and nothing else
    return parsed


def obligations(outcome: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    case = next(c for c in outcome["cases"] if c["reference"] == reference)
    return list(case["obligations"])


def test_the_christmas_traffic_example_is_due_at_midnight_on_7_january_2027(
    examples: dict[str, Any],
) -> None:
    traffic = [
        o for o in obligations(examples, "01/654321/26") if o["standard"] == "traffic_unit_contact"
    ]
    assert traffic == [
        {
            "standard": "traffic_unit_contact",
            "started_at": "2026-12-18T10:00:00+00:00",
            "due_at": "2027-01-07T00:00:00+00:00",
            "state": "breached",
            "met_at": None,
        }
    ]


def test_calendar_day_windows_keep_the_local_time_across_the_spring_clock_change(
    examples: dict[str, Any],
) -> None:
    first_update = obligations(examples, "01/123456/26")[1]
    assert first_update["standard"] == "victim_update"
    # 17:30 GMT on 27 March; 28 days later is 17:30 BST, i.e. 16:30 UTC.
    assert first_update["due_at"] == "2026-04-24T16:30:00+00:00"


def test_the_domestic_abuse_case_meets_its_standards_and_its_late_update_is_recorded(
    examples: dict[str, Any],
) -> None:
    states = [(o["standard"], o["state"]) for o in obligations(examples, "01/123456/26")]
    assert states == [
        ("acknowledgement", "met"),
        ("victim_update", "met"),
        ("dv_contact", "met"),
        ("victim_update", "met"),
        ("arrest_charge_update", "met"),
        ("victim_update", "met_late"),
        ("closure_explanation", "met"),
    ]
    arrest = obligations(examples, "01/123456/26")[4]
    # Enhanced rights: one working day, counted from Tuesday; midnight BST.
    assert arrest["due_at"] == "2026-04-21T23:00:00+00:00"


def test_messages_are_discreet_for_domestic_abuse_and_carry_reference_and_number(
    examples: dict[str, Any],
) -> None:
    sent = [m for m in examples["messages"] if m["reference"] == "01/123456/26"]
    assert [m["template"] for m in sent] == ["acknowledgement", "arrest", "closure"]
    for message in sent:
        assert message["channel"] == "sms" and message["to"] == "+447700900123"
        assert message["status"] == "delivered"
        assert "01/123456/26" in message["body"] and "101" in message["body"]
        for word in ("arrest", "domestic", "police", "crime"):
            assert word not in message["body"].lower()


def test_alerts_follow_warning_breach_escalation_once_each(examples: dict[str, Any]) -> None:
    traffic = [
        (a["at"], a["kind"]) for a in examples["alerts"] if a["standard"] == "traffic_unit_contact"
    ]
    assert traffic == [
        ("2027-01-02T02:30:00+00:00", "warning"),
        ("2027-01-07T00:00:00+00:00", "breach"),
        ("2027-01-08T00:00:00+00:00", "escalation"),
    ]


def test_every_instant_in_the_output_is_utc_with_an_offset(examples: dict[str, Any]) -> None:
    instants = [
        o[k]
        for c in examples["cases"]
        for o in c["obligations"]
        for k in ("started_at", "due_at", "met_at")
        if o[k]
    ]
    instants += [m["at"] for m in examples["messages"]] + [a["at"] for a in examples["alerts"]]
    assert instants and all(i.endswith("+00:00") for i in instants)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("2026-03-27T17:30:00+00:00", "2026-03-27T17:30:00"), "cases[0].reported_at"),
        (("category: domestic_abuse", "category: domestic"), "cases[0].category"),
        (("borough: Camden", "borough: Narnia"), "cases[0].borough: unknown borough 'Narnia'"),
        (('phone: "+447700900123"', 'phone: "12345"'), "cases[0].victim.phone"),
        (
            (
                'reference: "01/123456/26"\n    type: arrest',
                'reference: "01/999999/26"\n    type: arrest',
            ),
            "events[1].reference",
        ),
    ],
)
def test_a_malformed_scenario_exits_non_zero_naming_the_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    text = EXAMPLES.read_text()
    assert change[0] in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace(change[0], change[1], 1))
    result = simulate(broken)
    assert result.returncode != 0
    assert result.stdout == ""
    assert field in result.stderr


@pytest.fixture(scope="module")
def delivery() -> dict[str, Any]:
    result = simulate(ROOT / "scenarios" / "delivery-conventions.yaml")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_the_simulated_sms_test_numbers_fail_fall_back_and_retry_as_documented(
    delivery: dict[str, Any],
) -> None:
    sent = [
        (m["reference"], m["channel"], m["status"], m.get("error", "")[:5])
        for m in delivery["messages"]
        if m["reference"] in ("02/000002/26", "02/000003/26", "02/000004/26")
    ]
    assert sent == [
        ("02/000002/26", "sms", "failed", "21211"),
        ("02/000002/26", "email", "delivered", ""),
        ("02/000003/26", "sms", "failed", "21610"),
        ("02/000003/26", "email", "delivered", ""),
        ("02/000004/26", "sms", "delivered", ""),
    ]
    failed = [
        (a["reference"], a["kind"]) for a in delivery["alerts"] if a["kind"] == "delivery_failed"
    ]
    assert failed == [("02/000002/26", "delivery_failed"), ("02/000003/26", "delivery_failed")]


def test_a_message_outside_safe_hours_waits_and_meets_its_standard_only_when_sent(
    delivery: dict[str, Any],
) -> None:
    night = [m for m in delivery["messages"] if m["reference"] == "02/000005/26"]
    assert [m["at"] for m in night] == ["2026-05-05T08:00:00+00:00"]  # 09:00 BST
    ack = obligations(delivery, "02/000005/26")[0]
    assert (ack["standard"], ack["state"], ack["met_at"]) == (
        "acknowledgement",
        "met",
        "2026-05-05T08:00:00+00:00",
    )


def test_a_do_not_contact_victim_gets_no_message_and_the_unit_is_told_to_call(
    delivery: dict[str, Any],
) -> None:
    assert not [m for m in delivery["messages"] if m["reference"] == "02/000006/26"]
    kinds = [
        a["kind"]
        for a in delivery["alerts"]
        if a["reference"] == "02/000006/26" and a["standard"] == "acknowledgement"
    ]
    assert kinds == ["manual_contact_required", "warning", "breach"]


def test_spreading_cases_over_one_or_several_servers_gives_the_same_outcome(
    examples: dict[str, Any],
) -> None:
    single = simulate(EXAMPLES, "--engine", "temporal", "--shards", "1")
    assert single.returncode == 0, single.stderr
    assert json.loads(single.stdout) == examples


def test_an_event_after_until_is_not_applied_and_is_listed_as_rejected(tmp_path: Path) -> None:
    text = EXAMPLES.read_text().replace(
        'until: "2027-01-20T00:00:00+00:00"', 'until: "2026-05-01T00:00:00+00:00"'
    )
    text = text.replace(
        'reported_at: "2026-12-18T10:00:00+00:00"', 'reported_at: "2026-04-18T10:00:00+00:00"'
    )
    late = tmp_path / "late.yaml"
    late.write_text(text)
    result = simulate(late)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert [(r["index"], r["type"]) for r in outcome["rejected_events"]] == [(2, "closed")]
    states = [o["standard"] for o in obligations(outcome, "01/123456/26")]
    assert "closure_explanation" not in states


ROAD_CASE = """
policy: met-pledge
cases:
  - reference: "03/000001/26"
    category: road_traffic_collision
    reported_at: "2026-03-02T09:00:00+00:00"
    borough: Camden
    victim: {name: "Sam Jones", email: "sam@example.org", preferred_channel: email}
until: "2026-03-03T09:00:00+00:00"
"""


def test_an_event_before_its_cases_report_is_refused_as_the_live_case_refuses_it(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "early.yaml"
    scenario.write_text(
        ROAD_CASE
        + """events:
  - {at: "2026-03-01T09:00:00+00:00", reference: "03/000001/26", type: officer_assigned}
"""
    )
    result = simulate(scenario, "--shards", "1")
    assert result.returncode == 0, result.stderr
    (rejected,) = json.loads(result.stdout)["rejected_events"]
    assert rejected["index"] == 0
    assert rejected["error"] == (
        "officer_assigned refused for case 03/000001/26: 'at' 2026-03-01T09:00:00+00:00 "
        "is before the report was received at 2026-03-02T09:00:00+00:00"
    )


def test_a_scenario_event_posted_twice_under_one_event_id_acts_once(tmp_path: Path) -> None:
    twice = """events:
  - {at: "2026-03-02T10:00:00+00:00", reference: "03/000001/26", type: officer_assigned,
     event_id: "crs-1"}
  - {at: "2026-03-02T10:00:00+00:00", reference: "03/000001/26", type: officer_assigned,
     event_id: "crs-1"}
"""
    scenario = tmp_path / "twice.yaml"
    scenario.write_text(ROAD_CASE + twice)
    result = simulate(scenario, "--shards", "1")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    templates = [m["template"] for m in outcome["messages"]]
    assert templates == ["acknowledgement", "traffic_unit_contact"]
    assert "rejected_events" not in outcome
