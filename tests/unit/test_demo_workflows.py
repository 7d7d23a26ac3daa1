"""The demo cases `make run` opens with workflows: what is planned, before any I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.demo_workflows import DemoPlan, case_input, demo_units, event_inputs, planned_cases
from standards.force import load_force
from standards.policy import load_policy, policy_path

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(policy_path(ROOT / "policies", "met-pledge"))
FORCE = load_force(ROOT / "policies" / "met.force.toml")
NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def test_the_same_seed_plans_the_same_cases_under_the_demos_own_references() -> None:
    plan = DemoPlan(cases=25, seed=4, now=NOW)
    first, again = planned_cases(POLICY, FORCE, plan), planned_cases(POLICY, FORCE, plan)
    assert [c.reference for c in first] == [f"DEMO-{n:04d}" for n in range(1, 26)]
    assert [(c.category, c.borough, c.reported_at) for c in first] == [
        (c.category, c.borough, c.reported_at) for c in again
    ]
    other = planned_cases(POLICY, FORCE, DemoPlan(cases=25, seed=5, now=NOW))
    assert [c.reported_at for c in other] != [c.reported_at for c in first]


def test_demo_cases_are_reported_within_the_days_asked_and_no_event_is_after_now() -> None:
    cases = planned_cases(POLICY, FORCE, DemoPlan(cases=60, days=45, seed=1, now=NOW))
    assert all(NOW - timedelta(days=45) <= c.reported_at < NOW for c in cases)
    assert all(e.at <= NOW for c in cases for e in c.events)
    assert {c.borough for c in cases} <= set(demo_units(FORCE))
    assert all(c.category in POLICY.categories for c in cases)
    # Some nobody has caught up with: the queue has rows to clear.
    assert any(not c.events for c in cases if c.category == "domestic_abuse")


def test_a_demo_cases_events_go_in_the_order_they_happened_each_with_its_own_id() -> None:
    cases = planned_cases(POLICY, FORCE, DemoPlan(cases=60, seed=2, now=NOW))
    case = max(cases, key=lambda c: len(c.events))
    events = event_inputs(case)
    assert len(events) == len(case.events) > 1
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.at >= case.reported_at for e in events)
    opened = case_input(case)
    assert opened.reference == case.reference and opened.victim.name == case.name


def test_a_demo_with_no_cases_or_no_days_is_refused() -> None:
    with pytest.raises(ValueError, match="days >= 1"):
        planned_cases(POLICY, FORCE, DemoPlan(cases=3, days=0, now=NOW))
    assert planned_cases(POLICY, FORCE, DemoPlan(cases=0, now=NOW)) == []
