"""Realistic demo history in the database, made by the same rules as live cases.

Cases and their events are generated (``engine.year.case_history``, over the period and
the force's units) and run by the in-process engine (``reporting.demo_cases``: the case book's
driver, the rehearsal's delivery, the real renderer) on every core; what each run leaves
behind is written as the service would have written it: cases and victims, obligations
and their transitions, messages, alerts and every accepted event, then the report
summaries for the deadlines written. No window, schedule or clock is worked out here.

Rows are written in batches, one SQLAlchemy Core ``executemany`` per table and batch and
one transaction per batch, so memory stays bounded and a crash loses one batch at most.
Identifiers are assigned here (after the current maximum) so that children can point at
their parents without a round trip, and PostgreSQL's sequences are moved past them
afterwards so that the service's own inserts never collide.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Connection, Engine, Table, func, select, text

from engine.run import EngineConfig
from reporting.demo_cases import (
    generated_cases,
    report_instants,
    run_demo_cases,
    young_garbage_only,
)
from reporting.demo_rows import Bound, DemoCase, DemoTables
from storage.bulk import BulkTable, dialect_name
from storage.summary import rebuild_report_summary

# Cases written together: one transaction, and a bound on what is held at once.
BATCH_CASES: Final = 5_000
# Cases handed to the engine's pool at once (it runs them while batches are written).
WINDOW_CASES: Final = 10 * BATCH_CASES


@dataclass
class DemoCounts:
    cases: int = 0
    victims: int = 0
    obligations: int = 0
    transitions: int = 0
    messages: int = 0
    alerts: int = 0
    events: int = 0
    # The engine's obligations by state, and those whose deadline came by `now` by
    # (standard, state): what `pledge report` as of `now` counts as due (less cancelled).
    states: dict[str, int] = field(default_factory=dict)
    due: dict[tuple[str, str], int] = field(default_factory=dict)


class _Writer:
    """Numbers each case's rows after the tables' current maximum ids and writes them."""

    def __init__(self, engine: Engine, now: datetime) -> None:
        self.engine = engine
        self.now = now
        self.tables = DemoTables.for_dialect(engine.dialect)
        with engine.begin() as connection:
            self.next_id = {
                bulk.table.name: _after(connection, bulk.table) for bulk in self.tables.in_order()
            }
        self.rows: dict[str, list[Bound]] = {}
        self.counts = DemoCounts()
        self.states: Counter[str] = Counter()
        self.due: Counter[tuple[str, str]] = Counter()
        self.first_due: datetime | None = None
        self.last_due: datetime | None = None

    def _id(self, bulk: BulkTable) -> int:
        ident = self.next_id[bulk.table.name]
        self.next_id[bulk.table.name] = ident + 1
        return ident

    def add(self, demo: DemoCase) -> int:
        """Number the case's rows; return its id."""
        tables, rows = self.tables, self.rows
        case_id = self._id(tables.case)
        rows.setdefault(tables.case.table.name, []).append((case_id, *demo.case))
        rows.setdefault(tables.victim.table.name, []).append(
            (self._id(tables.victim), case_id, *demo.victim)
        )
        obligations = rows.setdefault(tables.obligation.table.name, [])
        transitions = rows.setdefault(tables.transition.table.name, [])
        for obligation, steps in zip(demo.obligations, demo.transitions, strict=True):
            obligation_id = self._id(tables.obligation)
            obligations.append((obligation_id, case_id, *obligation))
            transitions += [
                (self._id(tables.transition), obligation_id, case_id, *step) for step in steps
            ]
        for bulk, children in (
            (tables.message, demo.messages),
            (tables.alert, demo.alerts),
            (tables.event, demo.events),
        ):
            rows.setdefault(bulk.table.name, []).extend(
                (self._id(bulk), case_id, *child) for child in children
            )
        for standard, state, due in demo.outcomes:
            self.states[state] += 1
            if due <= self.now:
                self.due[(standard, state)] += 1
            self.first_due = due if self.first_due is None else min(self.first_due, due)
            self.last_due = due if self.last_due is None else max(self.last_due, due)
        return case_id

    def write(self) -> None:
        """Write the rows added since the last write, in one transaction."""
        with self.engine.begin() as connection:
            for bulk in self.tables.in_order():
                bulk.write(connection, self.rows.get(bulk.table.name, []))
        counts, tables = self.counts, self.tables
        written = {name: len(rows) for name, rows in self.rows.items()}
        counts.cases += written.get(tables.case.table.name, 0)
        counts.victims += written.get(tables.victim.table.name, 0)
        counts.obligations += written.get(tables.obligation.table.name, 0)
        counts.transitions += written.get(tables.transition.table.name, 0)
        counts.messages += written.get(tables.message.table.name, 0)
        counts.alerts += written.get(tables.alert.table.name, 0)
        counts.events += written.get(tables.event.table.name, 0)
        self.rows = {}

    def finish(self) -> DemoCounts:
        with self.engine.begin() as connection:
            _reset_sequences(connection, [bulk.table for bulk in self.tables.in_order()])
            if self.first_due is not None and self.last_due is not None:
                # The report reads the summaries, so summarise what was just written.
                rebuild_report_summary(connection, self.first_due, self.last_due)
        self.counts.states = dict(self.states)
        self.counts.due = dict(self.due)
        return self.counts


def _after(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def generate(
    engine: Engine,
    config: EngineConfig,
    *,
    cases: int,
    start: datetime,
    days: int,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    processes: int | None = None,
) -> DemoCounts:
    """Write ``cases`` cases reported over ``days`` days from ``start`` (none after
    ``now``), each run by the engine up to ``now``; return what was written."""
    if cases < 0 or days < 1:
        raise ValueError("cases must be >= 0 and days >= 1")
    if config.force is None:
        raise ValueError("the demo's cases need the force's units (EngineConfig.force)")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    start = start.astimezone(UTC)
    end = min(start + timedelta(days=days), now)
    if end <= start:
        raise ValueError(f"the demo's period starts at {start.isoformat()}, after now")
    rng = random.Random(seed)
    writer = _Writer(engine, now)
    dialect = dialect_name(engine.dialect)
    instants = report_instants(start, end, cases, rng)
    first_case = writer.next_id[writer.tables.case.table.name]
    # Without the cyclic collector, in this process and the forked workers (see
    # `young_garbage_only`); the summaries are rebuilt inside too.
    with young_garbage_only():
        for window in range(0, cases, WINDOW_CASES):
            some = instants[window : window + WINDOW_CASES]
            inputs = list(
                generated_cases(config.policy, config.force, first_case + window, some, now, rng)
            )
            for done, demo in enumerate(
                run_demo_cases(config, inputs, now, seed, dialect, processes), start=window + 1
            ):
                writer.add(demo)
                if done % BATCH_CASES == 0 or done == cases:
                    writer.write()
                    if progress is not None:
                        progress(done)
        return writer.finish()
