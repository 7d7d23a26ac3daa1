"""Time the VFU queue page's reads at a force's scale on SQLite and PostgreSQL.

Writes a history of cases, victims, obligations and victims' requests for an update
(most obligations met long ago; every case's recurring victim update open, a quarter of
them due soon; 3% of the one-day standards breached, half of those explained) into a
database of each kind, once: it is kept under --data-dir (the SQLite file) and in the
PostgreSQL database `pledge_bench_queue_<cases>_g<version>`, and later runs reuse it
(a new build replaces the old one, so one history is kept). Then it times `read_queue`,
everything the page reads (the counts, a page of rows, the officers), for one borough
and force-wide, in the default order and others, and prints the medians side by side
with the PostgreSQL plan. The page is reloaded every minute by every VFU: target under
300 ms at 900,000 cases on both databases.

    python bench/vfu_queue.py                          # 900,000 cases
    python bench/vfu_queue.py --cases 20000            # a quick run
    python bench/vfu_queue.py --data-dir /somewhere    # keep the history elsewhere
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Engine, Table, create_engine, insert, make_url, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.queue import (  # noqa: E402
    COLUMN_SORT_LIMIT,
    QueueFilters,
    QueueQuery,
    QueueSort,
    QueueState,
    priority_statement,
    read_queue,
)
from standards.force import Force, load_force  # noqa: E402
from standards.policy import load_policy  # noqa: E402
from storage import models  # noqa: E402
from storage.database import (  # noqa: E402
    make_engine,
    make_session_factory,
    refresh_statistics,
    upgrade_to_head,
)
from storage.enums import ObligationState  # noqa: E402
from storage.read_rules import is_due_soon  # noqa: E402

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
RUNS = 15
KINDS = ("sqlite", "postgresql")
DATABASE_PREFIX = "pledge_bench_queue_"
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
        for number, (case, victim, rows, alerts) in enumerate(
            _history(cases, boroughs, seed=7), start=1
        ):
            batches[0].append(case)
            batches[1].append(victim)
            batches[2].extend(rows)
            batches[3].extend(alerts)
            total += len(rows)
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


def reads(camden: list[str], enhanced: tuple[str, ...]) -> dict[str, QueueQuery]:
    """The queue page's reads to time: each is one whole page (its counts, its rows, the
    officers the filter offers), as read_queue reads it for the page."""
    borough = QueueQuery(camden, enhanced_categories=enhanced)
    force_wide = QueueQuery(None, enhanced_categories=enhanced)
    return {
        "one borough, most urgent first": borough,
        "one borough, page 20": replace(borough, page=20),
        "one borough, overdue": replace(borough, filters=QueueFilters(state=QueueState.OVERDUE)),
        "one borough, due today": replace(
            borough, filters=QueueFilters(state=QueueState.DUE_TODAY)
        ),
        "one borough, officer + standard": replace(
            borough, filters=QueueFilters(standard="victim_update", officer=OFFICERS[0])
        ),
        "one borough, by officer": replace(borough, sort=QueueSort.OFFICER),
        "one borough, by time left desc": replace(
            borough, sort=QueueSort.TIME_LEFT, descending=True
        ),
        "force-wide, most urgent first": force_wide,
        "force-wide, overdue page 10": replace(
            force_wide, page=10, filters=QueueFilters(state=QueueState.OVERDUE)
        ),
        "one borough, by reference": replace(borough, sort=QueueSort.REFERENCE),
        "one borough, by channel": replace(borough, sort=QueueSort.CHANNEL),
        # Longer than the column sort limit: the page keeps most urgent first and says so.
        "force-wide, by reference": replace(force_wide, sort=QueueSort.REFERENCE),
        "force-wide, by officer": replace(force_wide, sort=QueueSort.OFFICER),
    }


# The reads timed a second time with the column sort limit lifted (the whole force-wide
# list sorted), to print beside the limited page: what the limit saves.
UNLIMITED: Final = ("force-wide, by reference", "force-wide, by officer")
NO_LIMIT: Final = 10**12


def plan(engine: Engine, query: QueueQuery) -> str:
    """The PostgreSQL plan (with its timings) of the first page's savable rows."""
    statement = priority_statement(query, is_due_soon(NOW), True, 0, query.per_page)
    compiled = statement.compile(engine, compile_kwargs={"render_postcompile": True})
    with engine.connect() as connection:
        lines = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}", compiled.params
        ).scalars()
        return "\n".join(f"      {line}" for line in lines)


def measure_all(cache: Cache, kinds: list[str], force: Force, runs: int) -> None:
    """Time every read on each database and print them side by side."""
    policy = load_policy(ROOT / "policies" / "met-pledge.toml")
    camden = force.resolve_unit("camden").stored_spellings()
    queries = reads(camden, tuple(policy.enhanced_rights))
    timings: dict[str, dict[str, float]] = {}
    sizes: dict[str, str] = {}
    plans: dict[str, str] = {}
    for kind in kinds:
        url = cache.url(kind)
        # A migration added since the history was built (an index) applies to it now, and
        # the statistics are refreshed after it, as `pledge migrate` does.
        upgrade_to_head(url)
        engine = make_engine(url)
        refresh_statistics(engine)
        try:
            sessions = make_session_factory(engine)
            first = read_queue(sessions, queries["one borough, most urgent first"], NOW)
            whole = read_queue(sessions, queries["force-wide, most urgent first"], NOW)
            sizes[kind] = (
                f"one borough {first.total:,} rows ({first.counts}), force-wide {whole.total:,}"
            )
            timings[kind] = {
                label: median_ms(partial(read_queue, sessions, query, NOW), runs)
                for label, query in queries.items()
            }
            # Slow by seconds: three runs are enough to show it.
            for label in UNLIMITED:
                lifted = partial(read_queue, sessions, queries[label], NOW, NO_LIMIT)
                timings[kind][f"{label}, limit lifted"] = median_ms(lifted, min(runs, 3))
            if kind == "postgresql":
                plans[kind] = plan(engine, queries["one borough, most urgent first"])
        finally:
            engine.dispose()
    print(f"\n{cache.cases:,} cases; the queue page's reads, median of {runs} (ms):")
    for kind, size in sizes.items():
        print(f"  {kind}: {size}")
    header = "".join(f"{kind:>12}" for kind in kinds)
    print(f"  {'page':36}{header}")
    for label in timings[kinds[0]]:
        figures = "".join(f"{timings[kind][label]:10.1f}ms" for kind in kinds)
        print(f"  {label:36}{figures}")
    print(
        f"  column sorts apply to lists of up to {COLUMN_SORT_LIMIT:,} rows; beyond, side by side:"
    )
    for label in UNLIMITED:
        ratios = "".join(
            f"{timings[kind][f'{label}, limit lifted'] / timings[kind][label]:11.1f}x"
            for kind in kinds
        )
        print(f"  {label + ', lifted / limited':36}{ratios}")
    for kind, text_plan in plans.items():
        print(f"  {kind} plan of one borough's savable rows:")
        print(text_plan)


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
