"""Both `pledge simulate` engines give the same JSON, byte for byte.

The in-process engine drives the case books itself; `--engine temporal` runs the real
workflows and activities on the time-skipping server. Every scenario in scenarios/
and a generated 200-case year must come out identical, refusals' wording included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine.year import generated_year

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def simulate(path: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "simulate", str(path), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def assert_engines_agree(path: Path) -> str:
    in_process = simulate(path)
    on_temporal = simulate(path, "--engine", "temporal")
    assert in_process == on_temporal
    return in_process


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_scenario_comes_out_the_same_on_both_engines(scenario: Path) -> None:
    outcome = json.loads(assert_engines_agree(scenario))
    assert outcome["cases"] and outcome["messages"]


def test_a_generated_year_of_200_cases_comes_out_the_same_on_both_engines(tmp_path: Path) -> None:
    year = tmp_path / "year.yaml"
    year.write_text(yaml.safe_dump(generated_year(200, seed=7), sort_keys=False))
    outcome = json.loads(assert_engines_agree(year))
    assert len(outcome["cases"]) == 200
    assert {a["kind"] for a in outcome["alerts"]} >= {"warning", "breach", "escalation"}


def test_refusals_are_worded_the_same_on_both_engines(tmp_path: Path) -> None:
    scenario = {
        "policy": "met-pledge",
        "cases": [
            {
                "reference": "03/000001/26",
                "category": "feedback",
                "reported_at": "2026-05-04T10:00:00+00:00",
                "borough": "Camden",
                "victim": {"name": "Ann", "email": "ann@example.org"},
            },
            {
                "reference": "03/000002/26",
                "category": "burglary",
                "reported_at": "2026-05-04T10:00:00+00:00",
                "borough": "Camden",
                "victim": {"name": "Bo", "email": "bo@example.org"},
            },
        ],
        "events": [
            {"reference": "03/000001/26", "type": "arrest", "at": "2026-05-04T12:00:00+00:00"},
            {"reference": "03/000002/26", "type": "reopened", "at": "2026-05-04T12:00:00+00:00"},
            {
                "reference": "03/000002/26",
                "type": "closed",
                "at": "2026-05-04T09:00:00+00:00",
                "details": {"reason": "x"},
            },
            {
                "reference": "03/000002/26",
                "type": "contact_recorded",
                "at": "2026-05-04T13:00:00+00:00",
                "details": {"colour": "blue"},
            },
            {
                "reference": "03/000002/26",
                "type": "breach_explained",
                "standard": "victim_update",
                "at": "2026-05-04T14:00:00+00:00",
                "details": {"reason": "other", "text": "x"},
            },
            {
                "reference": "03/000002/26",
                "type": "closed",
                "event_id": "crs-1",
                "at": "2026-05-04T15:00:00+00:00",
                "details": {"reason": "done"},
            },
            {
                "reference": "03/000002/26",
                "type": "closed",
                "event_id": "crs-1",
                "at": "2026-05-04T15:00:00+00:00",
                "details": {"reason": "done"},
            },
            {
                "reference": "03/000002/26",
                "type": "reopened",
                "event_id": "crs-1",
                "at": "2026-05-04T16:00:00+00:00",
                "details": {"reason": "again"},
            },
            {"reference": "03/000002/26", "type": "arrest", "at": "2026-05-07T10:00:00+00:00"},
        ],
        "until": "2026-05-06T00:00:00+00:00",
    }
    path = tmp_path / "refusals.json"
    path.write_text(json.dumps(scenario))
    outcome = json.loads(assert_engines_agree(path))
    errors = [r["error"] for r in outcome["rejected_events"]]
    assert len(errors) == 7
    assert (
        errors[0]
        == "arrest refused for case 03/000001/26: arrest does not apply to a feedback case"
    )
    assert errors[-1] == "after until: the simulation clock stops first"


def test_an_event_for_a_case_whose_run_has_finished_is_refused_the_same_way(
    tmp_path: Path,
) -> None:
    case = {
        "reference": "04/000001/26",
        "category": "burglary",
        "reported_at": "2026-01-05T10:00:00+00:00",
        "borough": "Camden",
        "victim": {"name": "Cy", "email": "cy@example.org"},
    }
    closed = {"reason": "done"}
    scenario = {
        "policy": "met-pledge",
        "cases": [case],
        "events": [
            {
                "reference": case["reference"],
                "type": "closed",
                "at": "2026-01-06T10:00:00+00:00",
                "details": closed,
            },
            # After the reopening window (365 days): the case's run has ended.
            {
                "reference": case["reference"],
                "type": "reopened",
                "at": "2027-02-01T10:00:00+00:00",
                "details": closed,
            },
        ],
        "until": "2027-03-01T00:00:00+00:00",
    }
    path = tmp_path / "finished.json"
    path.write_text(json.dumps(scenario))
    outcome = json.loads(assert_engines_agree(path))
    assert [r["error"] for r in outcome["rejected_events"]] == [
        "case 04/000001/26 is not running (its workflow has finished); "
        "is the reference right, or has the case been archived?"
    ]


def test_the_number_of_worker_processes_never_changes_the_output(tmp_path: Path) -> None:
    year = tmp_path / "year.json"
    year.write_text(json.dumps(generated_year(300, seed=11)))
    assert simulate(year, "--processes", "1") == simulate(year, "--processes", "2")


def test_an_update_sent_on_request_and_its_refusals_come_out_the_same_on_both_engines(
    tmp_path: Path,
) -> None:
    def case(number: int, category: str = "burglary", **victim: object) -> dict[str, object]:
        return {
            "reference": f"05/00000{number}/26",
            "category": category,
            "reported_at": "2026-05-04T10:00:00+00:00",
            "borough": "Camden",
            "victim": {"name": f"V{number}", "email": f"v{number}@example.org", **victim},
        }

    def event(number: int, type: str, hour: int, **details: object) -> dict[str, object]:
        at = f"2026-05-05T{hour:02d}:00:00+00:00"
        return {"reference": f"05/00000{number}/26", "type": type, "at": at, "details": details}

    scenario = {
        "policy": "met-pledge",
        "cases": [
            case(1),
            case(2, do_not_contact=True),
            case(3),
            case(4, "feedback"),
            case(5),
        ],
        "events": [
            event(1, "update_requested", 9),
            event(1, "update_sent_on_request", 11),
            event(2, "update_sent_on_request", 11),
            event(3, "closed", 10, reason="no further lines of enquiry"),
            event(3, "update_sent_on_request", 11),
            event(4, "update_sent_on_request", 11),
            event(5, "preferences_changed", 10, no_updates=True),
            event(5, "update_sent_on_request", 11),
            event(5, "update_requested", 12),
            event(5, "update_sent_on_request", 13),
        ],
        "until": "2026-05-08T00:00:00+00:00",
    }
    path = tmp_path / "update-now.json"
    path.write_text(json.dumps(scenario))
    outcome = json.loads(assert_engines_agree(path))
    sent = [(m["reference"], m["template"]) for m in outcome["messages"]]
    assert ("05/000001/26", "periodic_update") in sent
    assert ("05/000005/26", "periodic_update") in sent
    errors = {r["reference"]: r["error"].split(": ", 1)[1] for r in outcome["rejected_events"]}
    assert errors == {
        "05/000002/26": "the victim asked not to be contacted automatically: "
        "contact them another way and record the contact",
        "05/000003/26": "case 05/000003/26 is closed: update_sent_on_request is not accepted; "
        "reopen it first",
        "05/000004/26": "update_sent_on_request does not apply to a feedback case",
        "05/000005/26": "the victim asked for no updates and has not asked for one since: "
        "change their update preferences first if they want them again",
    }
    first = next(c for c in outcome["cases"] if c["reference"] == "05/000001/26")
    states = [(o["standard"], o["state"]) for o in first["obligations"]]
    assert ("update_request_reply", "met") in states
    assert states.count(("victim_update", "pending")) == 1


def test_a_welsh_victims_messages_come_out_the_same_on_both_engines(tmp_path: Path) -> None:
    scenario = {
        "policy": "victims-code-2021",
        "cases": [
            {
                "reference": "03/000010/26",
                "category": "burglary",
                "reported_at": "2026-05-04T10:00:00+00:00",
                "borough": "Camden",
                "victim": {"name": "Siân", "email": "sian@example.org", "language": "cy"},
            },
            {
                "reference": "03/000011/26",
                "category": "burglary",
                "reported_at": "2026-05-04T10:00:00+00:00",
                "borough": "Camden",
                "victim": {"name": "Bo", "email": "bo@example.org"},
            },
        ],
        "events": [
            {"reference": "03/000010/26", "type": "arrest", "at": "2026-05-05T12:00:00+00:00"},
            {
                "reference": "03/000011/26",
                "type": "preferences_changed",
                "at": "2026-05-05T11:00:00+00:00",
                "details": {"language": "cy"},
            },
            {"reference": "03/000011/26", "type": "arrest", "at": "2026-05-05T12:00:00+00:00"},
            {
                "reference": "03/000011/26",
                "type": "preferences_changed",
                "at": "2026-05-05T13:00:00+00:00",
                "details": {"language": "fr"},
            },
        ],
        "until": "2026-05-08T00:00:00+00:00",
    }
    path = tmp_path / "welsh.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    outcome = json.loads(assert_engines_agree(path))
    languages = {
        (m["reference"], m["template"]): (m.get("language"), m.get("fallback_from"))
        for m in outcome["messages"]
    }
    # Welsh (every template is shipped in Welsh); English for Bo until the change.
    assert languages[("03/000010/26", "acknowledgement")] == ("cy", None)
    assert languages[("03/000011/26", "acknowledgement")] == (None, None)
    assert languages[("03/000011/26", "arrest")] == languages[("03/000010/26", "arrest")]
    assert any("not offered" in r["error"] for r in outcome["rejected_events"])
