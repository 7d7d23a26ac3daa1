"""Time the VFU queue's reads at a force's scale on SQLite and PostgreSQL.

Writes a history of cases and obligations (most of them met long ago, the open ones
spread over the next weeks, a few overdue and due soon) into a fresh database of each
kind, then times `read_queue` and `queue_officers` for one borough and force-wide, with
the queue's index (migration 0010) and again without it, and prints the milliseconds,
their ratio and the PostgreSQL plan. The page is reloaded
every minute by every VFU, so its queries must stay small however long the history.

    python bench/vfu_queue.py                  # 100,000 cases
    python bench/vfu_queue.py --cases 20000    # a quick run
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, create_engine, insert, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.queue import (  # noqa: E402
    QUEUE_LIMIT,
    QueueFilters,
    QueueState,
    queue_officers,
    queue_statement,
    read_queue,
)
from standards.force import load_force  # noqa: E402
from storage import models  # noqa: E402
from storage.database import make_engine, make_session_factory, upgrade_to_head  # noqa: E402
from storage.enums import ObligationState  # noqa: E402

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
RUNS = 15
# The index migration 0010 adds for the queue; dropped to time the reads without it.
QUEUE_INDEX = "ix_obligations_queue"
BATCH = 5000
# (standard, window) of the obligations each case has.
STANDARDS = (("acknowledgement", 1), ("dv_contact", 1), ("victim_update", 28))
# One row to insert, column by column.
Row = dict[str, Any]
OFFICERS = [f"PC {name}" for name in ("Patel", "Jones", "Smith", "Khan", "Brown", "Evans")]


def _history(cases: int, boroughs: list[str], seed: int) -> Iterator[tuple[Row, list[Row]]]:
    """Each case's row and its obligations' rows."""
    chance = random.Random(seed)
    for number in range(cases):
        borough = boroughs[number % len(boroughs)]
        # Reported at some point in the last two years; the recent ones are still open.
        reported = NOW - timedelta(minutes=chance.randrange(0, 2 * 365 * 24 * 60))
        case: Row = {
            "id": number + 1,
            "reference": f"{number // 1_000_000:02d}/{number % 1_000_000:06d}/26",
            "workflow_id": f"case:{number}",
            "category": "domestic_abuse",
            "borough": borough,
            "vulnerable": False,
            "nation": "england_and_wales",
            "reported_at": reported,
            "policy_id": "met-pledge",
            "policy_version": 1,
            "status": "open",
            "created_at": reported,
            "officer_name": chance.choice(OFFICERS),
        }
        rows: list[Row] = []
        for standard, days in STANDARDS:
            started = reported
            if standard == "victim_update":
                # The recurring update: the latest occurrence, started at its last update.
                started = max(reported, NOW - timedelta(days=chance.uniform(0, 28)))
            due = started + timedelta(days=days)
            warn = started + timedelta(days=days * 0.75)
            state = ObligationState.MET
            if due > NOW:
                state = ObligationState.PENDING
            elif chance.random() < 0.03:
                state = ObligationState.BREACHED
            rows.append(
                {
                    "case_id": number + 1,
                    "key": f"{standard}#1",
                    "standard": standard,
                    "occurrence": 1,
                    "state": state,
                    "borough": borough,
                    "category": "domestic_abuse",
                    "started_at": started,
                    "due_at": due,
                    "warn_at": warn,
                    "escalate_at": due + timedelta(hours=24),
                    "breached_at": due if state == ObligationState.BREACHED else None,
                    "met_at": started + timedelta(hours=2)
                    if state == ObligationState.MET
                    else None,
                    "explained_at": due if chance.random() < 0.5 and state == "breached" else None,
                    "window_amount": days,
                    "window_unit": "days",
                    "updated_at": NOW,
                }
            )
        yield case, rows


def fill(engine: Engine, cases: int, boroughs: list[str]) -> int:
    total = 0
    cases_table = cast(Table, models.Case.__table__)
    obligations_table = cast(Table, models.Obligation.__table__)
    batch_cases: list[Row] = []
    batch_obligations: list[Row] = []
    with engine.begin() as connection:
        for case, rows in _history(cases, boroughs, seed=7):
            batch_cases.append(case)
            batch_obligations += rows
            if len(batch_cases) >= BATCH:
                connection.execute(insert(cases_table), batch_cases)
                connection.execute(insert(obligations_table), batch_obligations)
                total += len(batch_obligations)
                batch_cases, batch_obligations = [], []
        if batch_cases:
            connection.execute(insert(cases_table), batch_cases)
            connection.execute(insert(obligations_table), batch_obligations)
            total += len(batch_obligations)
        connection.execute(text("ANALYZE"))
    return total


def median_ms(call: Callable[[], object]) -> float:
    call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(sessions: sessionmaker[Session], spellings: list[str]) -> dict[str, float]:
    """Milliseconds per call (the median of RUNS) of each of the queue page's reads."""
    calls: dict[str, Callable[[], object]] = {
        "one borough, all": lambda: read_queue(sessions, spellings, QueueFilters(), NOW),
        "one borough, due soon": lambda: read_queue(
            sessions, spellings, QueueFilters(state=QueueState.DUE_SOON), NOW
        ),
        "one borough, officers": lambda: queue_officers(sessions, spellings, NOW),
        "force-wide, all": lambda: read_queue(sessions, None, QueueFilters(), NOW),
    }
    return {label: median_ms(call) for label, call in calls.items()}


def plan(engine: Engine, spellings: list[str]) -> str:
    """The PostgreSQL plan of the borough's queue (the query read_queue runs), one line per
    node."""
    statement = queue_statement(spellings, QueueFilters(), NOW, QUEUE_LIMIT)
    compiled = statement.compile(engine, compile_kwargs={"render_postcompile": True})
    with engine.connect() as connection:
        lines = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars()
        return "\n".join(f"      {line}" for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    arguments = parser.parse_args()
    force = load_force(ROOT / "policies" / "met.force.toml")
    boroughs = [unit.id for unit in force.units]
    camden = force.resolve_unit("camden").stored_spellings()
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    database = f"pledge_bench_queue_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as directory:
        urls = {
            "sqlite": f"sqlite:///{Path(directory) / 'queue.db'}",
            "postgresql": admin.url.set(database=database).render_as_string(False),
        }
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        try:
            for name, url in urls.items():
                upgrade_to_head(url)
                engine = make_engine(url)
                try:
                    started = time.perf_counter()
                    rows = fill(engine, arguments.cases, boroughs)
                    print(
                        f"{name}: {arguments.cases:,} cases, {rows:,} obligations "
                        f"(written in {time.perf_counter() - started:.0f} s)"
                    )
                    sessions = make_session_factory(engine)
                    indexed = measure(sessions, camden)
                    indexed_plan = plan(engine, camden) if name == "postgresql" else ""
                    with engine.begin() as connection:
                        connection.execute(text(f"DROP INDEX {QUEUE_INDEX}"))
                        connection.execute(text("ANALYZE"))
                    without = measure(sessions, camden)
                    print(f"  {'read':24} {'indexed':>10} {'without':>10} {'ratio':>7}")
                    for label, ms in indexed.items():
                        print(
                            f"  {label:24} {ms:8.1f}ms {without[label]:8.1f}ms "
                            f"{without[label] / ms:6.1f}x"
                        )
                    if indexed_plan:
                        print(f"  plan of one borough's queue with {QUEUE_INDEX}:")
                        print(indexed_plan)
                finally:
                    engine.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
