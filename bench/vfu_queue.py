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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, create_engine, insert, make_url, text
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
KINDS = ("sqlite", "postgresql")
DATABASE_PREFIX = "pledge_bench_queue_"
# The index migration 0010 adds for the queue; dropped to time the reads without it.
QUEUE_INDEX = "ix_obligations_queue"
BATCH = 5000
# (standard, window) of the obligations each case has.
STANDARDS = (("acknowledgement", 1), ("dv_contact", 1), ("victim_update", 28))
# One row to insert, column by column.
Row = dict[str, Any]
OFFICERS = [f"PC {name}" for name in ("Patel", "Jones", "Smith", "Khan", "Brown", "Evans")]


# The categories of the generated cases, with their weights, and the share flagged
# vulnerable: the worklist ranks these (standards.worklist.risk_of).
CATEGORIES = (
    ("domestic_abuse", 20),
    ("burglary", 25),
    ("general", 35),
    ("hate_crime", 5),
    ("sexual_offence", 5),
    ("serious_assault", 10),
)
VULNERABLE_SHARE = 0.08
# The share of cases with an open victim_update whose victim asked for an update.
REQUEST_SHARE = 0.002
# Bump when the generator changes, so a cached history is built again.
GENERATOR_VERSION = 2


def _history(
    cases: int, boroughs: list[str], seed: int
) -> Iterator[tuple[Row, Row, list[Row], list[Row]]]:
    """Each case's row, its victim, its obligations' rows and its alerts."""
    chance = random.Random(seed)
    names = [name for name, _ in CATEGORIES]
    weights = [weight for _, weight in CATEGORIES]
    for number in range(cases):
        borough = boroughs[number % len(boroughs)]
        category = chance.choices(names, weights)[0]
        # Reported at some point in the last two years; the recent ones are still open.
        reported = NOW - timedelta(minutes=chance.randrange(0, 2 * 365 * 24 * 60))
        reference = f"{number // 1_000_000:02d}/{number % 1_000_000:06d}/26"
        case: Row = {
            "id": number + 1,
            "reference": reference,
            "workflow_id": f"case:{number}",
            "category": category,
            "borough": borough,
            "vulnerable": chance.random() < VULNERABLE_SHARE,
            "nation": "england_and_wales",
            "reported_at": reported,
            "policy_id": "met-pledge",
            "policy_version": 1,
            "status": "open",
            "created_at": reported,
            "officer_name": chance.choice(OFFICERS),
        }
        victim: Row = {
            "case_id": number + 1,
            "name": "Bench Victim",
            "email": None,
            "phone": "+447700900000",
            "preferred_channel": "sms" if number % 3 else "email",
            "allowed_channels": ["sms", "email"],
            "discreet": False,
            "do_not_contact": number % 50 == 0,
            "sms_opted_out": False,
            "updates_paused": False,
        }
        rows: list[Row] = []
        alerts: list[Row] = []
        for standard, days in STANDARDS:
            if standard == "dv_contact" and category != "domestic_abuse":
                continue
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
                    "category": category,
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
            if standard == "victim_update" and chance.random() < REQUEST_SHARE:
                alerts.append(
                    {
                        "case_id": number + 1,
                        "reference": reference,
                        "borough": borough,
                        "standard": standard,
                        "obligation_key": f"{standard}#1",
                        "kind": "update_requested",
                        "at": NOW - timedelta(hours=chance.uniform(0, 72)),
                        "due_at": due,
                        "detail": "The victim asked for an update",
                        "recipient_role": "vfu",
                    }
                )
        yield case, victim, rows, alerts


def fill(engine: Engine, cases: int, boroughs: list[str]) -> int:
    """Write the generated history; the number of obligations written."""
    total = 0
    tables = [
        cast(Table, model.__table__)
        for model in (models.Case, models.Victim, models.Obligation, models.Alert)
    ]
    batches: list[list[Row]] = [[], [], [], []]

    def flush(connection: Any) -> None:
        for table, batch in zip(tables, batches, strict=True):
            if batch:
                connection.execute(insert(table), batch)
            batch.clear()

    with engine.begin() as connection:
        for number, parts in enumerate(_history(cases, boroughs, seed=7), start=1):
            for batch, part in zip(batches, parts, strict=True):
                if isinstance(part, list):
                    batch.extend(part)
                else:
                    batch.append(part)
            total += len(parts[2])
            if number % BATCH == 0:
                flush(connection)
        flush(connection)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # VACUUM too on PostgreSQL, so index-only scans need not visit the table.
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name != "sqlite" else "ANALYZE"))
    return total


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@dataclass(frozen=True)
class Cache:
    """Where a history of `cases` is kept between runs: a SQLite file and a PostgreSQL
    database, each marked done only once it is complete (an interrupted build starts
    again), and only the newest one kept (older ones are deleted: the cache is bounded)."""

    directory: Path
    cases: int

    @property
    def key(self) -> str:
        return f"{self.cases}_g{GENERATOR_VERSION}"

    def sqlite_file(self) -> Path:
        return self.directory / f"queue_{self.key}.db"

    def database(self) -> str:
        return f"{DATABASE_PREFIX}{self.key}"

    def marker(self, kind: str) -> Path:
        return self.directory / f"queue_{self.key}.{kind}.done"

    def url(self, kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.sqlite_file()}"
        return make_url(POSTGRES_ADMIN).set(database=self.database()).render_as_string(False)


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def build(cache: Cache, kind: str, admin: Engine, boroughs: list[str]) -> None:
    """The history in `kind`'s database, written unless the cache already holds it."""
    cache.directory.mkdir(parents=True, exist_ok=True)
    if cache.marker(kind).exists():
        print(f"{kind}: reusing {cache.cases:,} cases ({cache.marker(kind).read_text().strip()})")
        return
    if kind == "sqlite":
        for old in cache.directory.glob("queue_*.db*"):
            old.unlink()
    else:
        with admin.connect() as connection:
            olds = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": DATABASE_PREFIX + "%"},
            ).scalars()
            for old in list(olds):
                _drop_database(admin, old)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{cache.database()}"'))
    for old in cache.directory.glob(f"queue_*.{kind}.done"):
        old.unlink()
    url = cache.url(kind)
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        rows = fill(engine, cache.cases, boroughs)
        took = time.perf_counter() - started
    finally:
        engine.dispose()
    note = f"{rows:,} obligations, written in {took:.0f} s"
    cache.marker(kind).write_text(note + "\n")
    print(f"{kind}: built {cache.cases:,} cases, {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=900_000)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / "bench" / "out" / "queue",
        help="where the generated history is kept between runs",
    )
    parser.add_argument("--only", choices=KINDS)
    parser.add_argument("--build-only", action="store_true")
    arguments = parser.parse_args()
    force = load_force(ROOT / "policies" / "met.force.toml")
    boroughs = [unit.id for unit in force.units]
    cache = Cache(arguments.data_dir, arguments.cases)
    kinds = [arguments.only] if arguments.only else list(KINDS)
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        for kind in kinds:
            build(cache, kind, admin, boroughs)
    finally:
        admin.dispose()
    if arguments.build_only:
        return
    measure_all(cache, kinds, force, arguments.runs)


if __name__ == "__main__":
    main()
