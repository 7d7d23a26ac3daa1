"""Demo history from the engine: generated cases, their runs, the rows they leave."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Table

from engine.delivery import MessageSetting
from engine.demo import demo_categories
from engine.run import EngineConfig
from engine.year import YEAR_END, YEAR_START, case_history, generated_year
from reporting.demo_cases import (
    DemoCaseInput,
    DemoRunner,
    explanations,
    generated_cases,
    posted_events,
    report_instants,
)
from reporting.demo_rows import DemoTables
from standards.force import load_force
from standards.policy import load_policy, policy_path
from storage import models
from storage.bulk import BulkTable, dialect_named

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(policy_path(ROOT / "policies", "met-pledge"))
FORCE = load_force(ROOT / "policies" / "met.force.toml")
CONFIG = EngineConfig(
    policy=POLICY,
    template_dir=ROOT / "templates",
    setting=MessageSetting("Metropolitan Police", "{borough} Victim Focus Unit", "101"),
    corrections=FORCE.holiday_corrections,
    force=FORCE,
)
START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
SQLITE = "sqlite+pysqlite"


def demo_cases(count: int, seed: int = 3) -> list[DemoCaseInput]:
    rng = random.Random(seed)
    instants = report_instants(START, NOW, count, rng)
    return list(generated_cases(POLICY, FORCE, 1, instants, NOW, rng))


def test_report_instants_are_sorted_and_inside_the_period() -> None:
    instants = report_instants(START, NOW, 500, random.Random(1))
    assert instants == sorted(instants)
    assert instants[0] >= START and instants[-1] < NOW


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        report_instants(NOW, START, 10, random.Random(1))


def test_demo_cases_belong_to_the_forces_units_and_stop_at_now() -> None:
    units = {unit.id for unit in FORCE.units}
    for case in demo_cases(300):
        assert case.generated.borough in units
        assert all(event.at <= NOW for event in case.generated.events)


def test_categories_the_policy_does_not_know_are_left_out() -> None:
    narrow = dataclasses.replace(POLICY, categories=["burglary", "unknown"])
    assert demo_categories(narrow) == [("burglary", 20)]
    with pytest.raises(ValueError, match="none of the demo's categories"):
        demo_categories(dataclasses.replace(POLICY, categories=["unknown"]))


def test_a_generated_year_is_made_of_one_case_history_per_case() -> None:
    year = generated_year(40, seed=5)
    rng = random.Random(5)
    for n, case in enumerate(year["cases"]):
        rng.randrange(0, 365 * 24 * 60 - 60 * 24 * 30)
        reported = datetime.fromisoformat(case["reported_at"])
        assert (
            case_history(rng, n, case["reference"], reported, YEAR_END).category
            == (case["category"])
        )
    assert all(YEAR_START <= datetime.fromisoformat(e["at"]) <= YEAR_END for e in year["events"])


def test_events_reach_the_case_in_time_order() -> None:
    for case in demo_cases(100):
        posted = posted_events(case.generated)
        assert [e.posted_at for e in posted] == sorted(e.posted_at for e in posted)
        assert [e.index for e in posted] == list(range(len(posted)))


def test_explanations_follow_breaches_and_never_come_after_now() -> None:
    runner = DemoRunner(CONFIG)
    found = 0
    for case in demo_cases(150):
        run = runner.drive(case, posted_events(case.generated), NOW)
        breached = {o.standard: o.breached_at for o in run.book.state.obligations if o.breached_at}
        for event in explanations(run, NOW, random.Random(case.generated.reference)):
            found += 1
            assert event.standard in breached and event.at <= NOW
            first = min(
                o.breached_at
                for o in run.book.state.obligations
                if o.standard == event.standard and o.breached_at
            )
            assert event.at > first
    assert found > 0


def test_every_explanation_is_accepted_and_recorded_by_the_book() -> None:
    runner = DemoRunner(CONFIG)
    tables = runner.tables(SQLITE)
    for case in demo_cases(150):
        rows = runner.run(tables, case, NOW, seed=2)
        events = [dict(zip(tables.event.columns, row, strict=True)) for row in rows.events]
        explained = [
            dict(zip(tables.obligation.columns, row, strict=True))
            for row in rows.obligations
            if row[tables.obligation.columns.index("explained_at")] is not None
        ]
        assert len(explained) == sum(e["type"] == "breach_explained" for e in events)
        assert all(o["breached_at"] is not None for o in explained)


def test_the_rows_are_the_engines_run_and_the_same_seed_gives_the_same_rows() -> None:
    runner = DemoRunner(CONFIG)
    tables = runner.tables(SQLITE)
    explained_at = tables.obligation.columns.index("explained_at")
    for case in demo_cases(60):
        rows = runner.run(tables, case, NOW, seed=8)
        assert rows == runner.run(tables, case, NOW, seed=8)
        run = runner.drive(case, posted_events(case.generated), NOW)
        obligations = run.book.state.obligations
        # Explaining a breach changes no state: the states are the plain run's.
        assert rows.outcomes == [(o.standard, o.state.value, o.due_at) for o in obligations]
        assert [len(steps) for steps in rows.transitions] == [
            len(o.history) + (row[explained_at] is not None)
            for o, row in zip(obligations, rows.obligations, strict=True)
        ]
        assert len(rows.messages) == len(run.outbox.rows)


def test_alerts_keep_the_books_detail_and_deadline() -> None:
    runner = DemoRunner(CONFIG)
    tables = runner.tables(SQLITE)
    columns = tables.alert.columns
    alerts = [
        dict(zip(columns, row, strict=True))
        for case in demo_cases(60)
        for row in runner.run(tables, case, NOW, seed=1).alerts
    ]
    breaches = [a for a in alerts if a["kind"] == "breach"]
    assert breaches
    assert all(a["detail"] == "deadline passed with the standard unmet" for a in breaches)
    assert all(a["due_at"] == a["at"] for a in breaches)
    assert {a["recipient_role"] for a in alerts if a["kind"] == "escalation"} == {"manager"}


def test_bulk_values_are_bound_as_the_models_write_them() -> None:
    table = cast(Table, models.CaseEventRecord.__table__)
    at = datetime(2025, 3, 30, 1, 30, tzinfo=UTC) + timedelta(hours=1)
    row = {
        "event_id": None,
        "type": "closed",
        "at": at,
        "actor": "someone",
        "received_at": at,
        "standard": None,
        "details": {"reason": "done"},
        "note": None,
    }
    on_sqlite = BulkTable(table, dialect_named(SQLITE), ("id", "case_id"))
    assert on_sqlite.columns[:2] == ("event_id", "type")
    assert on_sqlite.statement.startswith("INSERT INTO case_events (id, case_id, event_id")
    values = dict(zip(on_sqlite.columns, on_sqlite.values(row), strict=True))
    assert values["at"] == "2025-03-30 02:30:00.000000"
    assert values["details"] == '{"reason": "done"}'
    on_postgres = BulkTable(table, dialect_named("postgresql+psycopg"), ("id", "case_id"))
    assert "%s" in on_postgres.statement
    assert dict(zip(on_postgres.columns, on_postgres.values(row), strict=True))["at"] == at


def test_the_demo_writes_parents_before_children() -> None:
    names = [bulk.table.name for bulk in DemoTables.for_dialect(dialect_named(SQLITE)).in_order()]
    assert names.index("cases") < names.index("victims") < names.index("obligations")
    assert names.index("obligations") < names.index("obligation_transitions")
    assert names[-1] == "case_events"
