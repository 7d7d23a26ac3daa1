"""Recorded history for benchmarks and tests: a scenario's cases and events written as the
service writes them (``service.cases.case_record`` and ``record_event``), in bulk.

`pledge demo-data` writes obligations but no events; a what-if replays events, so this
writes what intake and posting leave behind: the case, its victim and every event in
``case_events`` with the details the case was told. No obligations are written: the
what-if makes its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, func, insert, select, text

from service.cases import CaseIn, EventIn, case_record, workflow_details
from standards.force import Force
from standards.policy import Policy
from storage.models import Case, CaseEventRecord, Victim

BATCH = 5_000
_CASE_COLUMNS = [c.name for c in Case.__table__.columns if c.name != "id"]
_VICTIM_COLUMNS = [c.name for c in Victim.__table__.columns if c.name not in ("id", "case_id")]


def write_recorded_history(
    engine: Engine, scenario: Mapping[str, Any], policy: Policy, force: Force
) -> tuple[int, int]:
    """Write the scenario's cases (units by id, as intake keeps them) and their events,
    each received at its own instant (or at the report, if dated before); (cases, events)."""
    with engine.connect() as connection:
        first = (connection.scalar(select(func.max(Case.id))) or 0) + 1
        first_event = (connection.scalar(select(func.max(CaseEventRecord.id))) or 0) + 1
    ids: dict[str, tuple[int, datetime]] = {}
    cases: list[dict[str, Any]] = []
    victims: list[dict[str, Any]] = []
    for number, raw in enumerate(scenario["cases"]):
        case = CaseIn.model_validate(raw)
        unit = force.resolve_unit(case.borough)
        case = case.model_copy(update={"borough": unit.id})
        record = case_record(case, policy, force.nation_of(unit))
        case_id = first + number
        ids[case.reference] = (case_id, case.reported_at)
        cases.append({"id": case_id, **{name: getattr(record, name) for name in _CASE_COLUMNS}})
        assert record.victim is not None
        victim = record.victim
        victims.append(
            {"case_id": case_id, **{name: getattr(victim, name) for name in _VICTIM_COLUMNS}}
        )
        cases[-1]["created_at"] = case.reported_at
        # Column defaults apply only to columns left out; these rows name every column.
        cases[-1]["demo_history"] = False
        victims[-1]["sms_opted_out"] = False
        victims[-1]["updates_paused"] = False
    events: list[dict[str, Any]] = []
    for number, raw in enumerate(scenario.get("events", [])):
        event = EventIn.model_validate(raw)
        case_id, reported_at = ids[event.reference]
        events.append(
            {
                "id": first_event + number,
                "case_id": case_id,
                "event_id": event.event_id,
                "type": event.type.value,
                "at": event.at,
                "actor": event.actor,
                "received_at": max(event.at, reported_at),
                "standard": event.standard,
                "details": to_jsonable_python(workflow_details(event)),
            }
        )
    with engine.begin() as connection:
        for model, rows in ((Case, cases), (Victim, victims), (CaseEventRecord, events)):
            for start in range(0, len(rows), BATCH):
                connection.execute(insert(model), rows[start : start + BATCH])
        if connection.dialect.name == "postgresql":
            # Rows were written with their ids: move the sequences past them.
            for name in ("cases", "victims", "case_events"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )
    return len(cases), len(events)
