"""Time the compliance report at a force's scale on SQLite and PostgreSQL.

Builds the demo history once per database (SQLite under bench/out/, PostgreSQL database
``pledge_bench`` on 127.0.0.1:5432), reusing it on later runs when the case count and seed
match, then (after one untimed report that warms the cache, printed apart) times the report
for a one-year period with several --by combinations, and
for periods that are not whole months (17 March to 1 August, a fortnight, a year from
mid-month, a month still running at the as-of instant). Each period is timed twice in
the same run: as the report reads it (whole months from the monthly summary, whole days
from the daily one) and with partial months read from raw rows as before the daily
summary, and printed side by side with their ratio to the 2-second target and to each
other. Every query has a time limit, so a slow run ends by itself.

    python bench/report.py                 # ~900,000 cases over one year
    python bench/report.py --cases 50000   # a quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A sibling script's module: bench/ is on the path when this runs as a script.
from dashboard_page import PageTime, time_dashboard_pages  # noqa: E402

from config import Settings  # noqa: E402
from reporting.compliance import compliance_report, local_midnight  # noqa: E402
from reporting.demo import generate  # noqa: E402
from service.simulate_in_process import engine_config  # noqa: E402
from standards.force import load_force  # noqa: E402
from standards.policy import load_policy, policy_path  # noqa: E402
from storage.database import make_engine, upgrade_to_head  # noqa: E402
from storage.report_models import ReportDaySummary, ReportMonthSummary  # noqa: E402
from storage.summary import rebuild_report_summary  # noqa: E402

OUT = ROOT / "bench" / "out"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_DATABASE = "pledge_bench"
TARGET_SECONDS = 2.0
# Not read by the report or the dashboard; --copy-postgres leaves them out (20 of the
# 29 million rows at 900,000 cases), so PostgreSQL's copy of those tables is empty.
COPY_SKIPS = ("obligation_transitions", "case_events", "outbox_messages")
# Long enough for a report well over target, short enough that a run always finishes.
QUERY_LIMIT_SECONDS = 300
PERIOD = (date(2025, 1, 1), date(2026, 1, 1))
# The data's "now": everything in the year is due, as it is for last year's report.
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
GROUPINGS = (
    ("standard",),
    ("borough",),
    ("standard", "borough"),
    ("month",),
    ("standard", "borough", "category", "month"),
)
# Periods a manager picks on the dashboard: (name, from, to, as of); by standard,borough.
ANY_PERIODS = (
    ("17 Mar - 1 Aug", date(2025, 3, 17), date(2025, 8, 1), AS_OF),
    ("fortnight 3-17 Jun", date(2025, 6, 3), date(2025, 6, 17), AS_OF),
    ("15 Jan - 15 Dec", date(2025, 1, 15), date(2025, 12, 15), AS_OF),
    (
        "1 Sep - 1 Dec, as of 20 Nov 13:07",
        date(2025, 9, 1),
        date(2025, 12, 1),
        datetime(2025, 11, 20, 13, 7, tzinfo=UTC),
    ),
)
ANY_PERIOD_BY = ("standard", "borough")


def _postgres_url(database: str = POSTGRES_DATABASE) -> str:
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return admin.url.set(database=database).render_as_string(hide_password=False)


def _marker(out: Path, name: str) -> Path:
    return out / f"{name}.built.json"


def _build(name: str, url: str, cases: int, seed: int, out: Path = OUT) -> Engine:
    # "made_by": a history from before demo data came from the engine is built again.
    wanted = {"cases": cases, "seed": seed, "period": [str(d) for d in PERIOD], "made_by": "engine"}
    marker = _marker(out, name)
    engine = make_engine(url)
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        print(f"{name}: reusing the {cases:,}-case history built earlier", flush=True)
        began = time.perf_counter()
        # A history built before migration 0004 is summarised by the upgrade itself.
        upgrade_to_head(url)
        with engine.begin() as connection:
            rows = min(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (ReportMonthSummary, ReportDaySummary)
            )
            if not rows:
                rows = rebuild_report_summary(connection)
                _analyse(engine)
        print(
            f"{name}: {rows:,} summary rows ready in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        return engine
    _empty(engine)
    upgrade_to_head(url)
    policy = load_policy(policy_path(ROOT / "policies", "met-pledge"))
    force = load_force(ROOT / "policies" / "met.force.toml")
    began, cpu_before = time.perf_counter(), _cpu_seconds()
    last = [began]

    def progress(done: int) -> None:
        if time.perf_counter() - last[0] > 15:
            last[0] = time.perf_counter()
            print(f"  {name}: {done:,}/{cases:,} cases", flush=True)

    counts = generate(
        engine,
        engine_config(Settings(_env_file=None), policy, force),
        cases=cases,
        start=local_midnight(PERIOD[0]),
        days=(PERIOD[1] - PERIOD[0]).days,
        seed=seed,
        now=AS_OF,
        progress=progress,
    )
    seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu_before
    _analyse(engine)
    print(
        f"{name}: built {counts.cases:,} cases, {counts.obligations:,} obligations, "
        f"{counts.transitions:,} transitions, {counts.messages:,} messages, "
        f"{counts.alerts:,} alerts, {counts.events:,} case events in {seconds:.0f} s "
        f"({counts.cases / max(seconds, 1e-9):,.0f} cases/s; {cpu:.0f} CPU s in this "
        "process and its engine workers, not the database server's)",
        flush=True,
    )
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(wanted))
    return engine


def _copy_history(source: Engine, name: str, url: str, wanted_from: Path, out: Path) -> Engine:
    """PostgreSQL given the very history SQLite holds (same cases, same obligations), by
    COPY, table by table: minutes instead of the generator's hour on a shared machine,
    and both databases then answer for the same rows."""
    from psycopg.types.json import Json

    from storage.base import Base

    wanted = json.loads(wanted_from.read_text()) | {
        "copied_from": "sqlite",
        "skipped": list(COPY_SKIPS),
    }
    marker = _marker(out, name)
    engine = make_engine(url)
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        print(f"{name}: reusing the history copied from SQLite earlier", flush=True)
        upgrade_to_head(url)
        return engine
    _empty(engine)
    upgrade_to_head(url)
    began = time.perf_counter()
    tables = [
        table
        for table in Base.metadata.sorted_tables
        if table.name != "alembic_version" and table.name not in COPY_SKIPS
    ]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in tables:
            columns = list(table.columns)
            json_at = [i for i, c in enumerate(columns) if c.type.__class__.__name__ == "JSON"]
            names = ", ".join(f'"{c.name}"' for c in columns)
            copied = 0
            with (
                source.connect() as reading,
                cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
            ):
                for row in reading.execution_options(yield_per=20_000).execute(table.select()):
                    values = list(row)
                    for i in json_at:
                        if values[i] is not None:
                            values[i] = Json(values[i])
                    copy.write_row(values)
                    copied += 1
            if "id" in table.c:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                )
            print(f"  {name}: {table.name} {copied:,} rows", flush=True)
        raw.commit()
    finally:
        raw.close()
    _analyse(engine)
    print(f"{name}: copied from SQLite in {time.perf_counter() - began:.0f} s", flush=True)
    marker.write_text(json.dumps(wanted))
    return engine


def _cpu_seconds() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _empty(engine: Engine) -> None:
    # A rebuild starts from nothing, so the figures never mix two generations.
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        return
    # SQLite ignores PRAGMA foreign_keys inside a transaction, so dropping tables one by one
    # trips over their foreign keys; removing the file is simpler and faster.
    engine.dispose()
    database = engine.url.database
    if database:
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)


def _analyse(engine: Engine) -> None:
    # Fresh statistics (and, on PostgreSQL, a visibility map for index-only scans),
    # as autovacuum would provide on a live database.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def _time(
    engine: Engine,
    by: tuple[str, ...],
    period: tuple[date, date] = PERIOD,
    as_of: datetime = AS_OF,
    *,
    read_days: bool = True,
) -> tuple[float, int]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SET statement_timeout = '{QUERY_LIMIT_SECONDS}s'"))
        began = time.perf_counter()
        report = compliance_report(
            connection,
            local_midnight(period[0]),
            local_midnight(period[1]),
            by,
            as_of,
            read_days=read_days,
        )
        return time.perf_counter() - began, report.total.due


def _time_any_periods(
    engine: Engine, name: str, runs: int
) -> list[tuple[str, str, float, float, int]]:
    """(database, period, seconds now, seconds reading partial months raw, due) each."""
    found = []
    for label, first, after_last, as_of in ANY_PERIODS:
        period = (first, after_last)
        now = min(_time(engine, ANY_PERIOD_BY, period, as_of) for _ in range(runs))
        raw = min(_time(engine, ANY_PERIOD_BY, period, as_of, read_days=False) for _ in range(runs))
        if now[1] != raw[1]:
            raise SystemExit(f"{name} {label}: {now[1]:,} due from the summaries, {raw[1]:,} raw")
        found.append((name, label, now[0], raw[0], now[1]))
        print(
            f"{name:10} {label:34} {now[0]:7.2f} s ({now[0] / TARGET_SECONDS:5.2f} x target); "
            f"partial months raw {raw[0]:7.2f} s ({raw[0] / TARGET_SECONDS:5.2f} x); "
            f"due={now[1]:,}",
            flush=True,
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=900_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--runs", type=int, default=2, help="timed runs per grouping (best kept)")
    parser.add_argument(
        "--data-dir", type=Path, default=OUT, help="where the SQLite history and markers live"
    )
    parser.add_argument("--postgres-database", default=POSTGRES_DATABASE)
    parser.add_argument(
        "--copy-postgres",
        action="store_true",
        help="give PostgreSQL the SQLite history by COPY instead of generating it again",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build (or check) the histories, time nothing"
    )
    args = parser.parse_args()
    out: Path = args.data_dir
    out.mkdir(parents=True, exist_ok=True)
    targets: dict[str, Callable[[], str]] = {
        "sqlite": lambda: f"sqlite:///{out / 'report.db'}",
        "postgresql": lambda: _postgres_url(args.postgres_database),
    }
    results: list[tuple[str, str, float, int]] = []
    periods: list[tuple[str, str, float, float, int]] = []
    pages: list[tuple[str, PageTime]] = []
    for name, url in targets.items():
        if args.only and name != args.only:
            continue
        if name == "postgresql" and args.copy_postgres:
            source = make_engine(targets["sqlite"]())
            engine = _copy_history(source, name, url(), _marker(out, "sqlite"), out)
            source.dispose()
        else:
            engine = _build(name, url(), args.cases, args.seed, out)
        if args.build_only:
            engine.dispose()
            continue
        # The first read of the database after it was built or opened comes from disk
        # (a 900,000-case SQLite file is 5 GB); a live service reads a warm cache, so this
        # one is printed apart and not counted as a grouping's time.
        cold = _time(engine, GROUPINGS[0])
        print(f"{name:10} first report after opening (cold cache) {cold[0]:7.2f} s", flush=True)
        for by in GROUPINGS:
            best = min(_time(engine, by) for _ in range(max(args.runs, 1)))
            results.append((name, ",".join(by), best[0], best[1]))
            print(
                f"{name:10} --by {','.join(by):34} {best[0]:7.2f} s "
                f"({best[0] / TARGET_SECONDS:5.2f} x target) due={best[1]:,}",
                flush=True,
            )
        periods += _time_any_periods(engine, name, max(args.runs, 1))
        engine.dispose()
        print(f"{name}: the dashboard's pages, a year force-wide (best of {args.runs})", flush=True)
        period = (PERIOD[0].isoformat(), PERIOD[1].isoformat())
        pages += [(name, page) for page in time_dashboard_pages(url(), period, AS_OF, args.runs)]
    print(
        f"\n{args.cases:,} cases, one-year report, best of {args.runs}; target {TARGET_SECONDS} s"
    )
    for name, grouping, seconds, _due in results:
        verdict = "ok" if seconds <= TARGET_SECONDS else "OVER"
        ratio = seconds / TARGET_SECONDS
        print(f"  {name:10} {grouping:34} {seconds:7.2f} s  {ratio:5.2f}x  {verdict}")
    print(
        f"\nAny period, --by {','.join(ANY_PERIOD_BY)}: with the daily summary | partial months "
        "read raw (before it) | speed-up"
    )
    for name, label, now_seconds, raw_seconds, _due in periods:
        verdict = "ok" if now_seconds <= TARGET_SECONDS else "OVER"
        print(
            f"  {name:10} {label:34} {now_seconds:7.2f} s {now_seconds / TARGET_SECONDS:5.2f}x"
            f" {verdict:4} | {raw_seconds:7.2f} s {raw_seconds / TARGET_SECONDS:5.2f}x"
            f" | {raw_seconds / max(now_seconds, 1e-9):5.1f}x faster"
        )
    _print_pages(results, pages)


def _print_pages(
    results: list[tuple[str, str, float, int]], pages: list[tuple[str, PageTime]]
) -> None:
    """Each page's time beside the report's (the year --by standard, which the dashboard
    reads among others), and SQLite against PostgreSQL."""
    if not pages:
        return
    report = {name: seconds for name, grouping, seconds, _due in results if grouping == "standard"}
    print(
        "\nThe dashboard as a whole page (server side, in-process), a year force-wide: "
        "page | report --by standard | page / report | page / target"
    )
    by_label: dict[str, dict[str, float]] = {}
    for name, page in pages:
        by_label.setdefault(page.label, {})[name] = page.seconds
        verdict = "ok" if page.seconds <= TARGET_SECONDS and page.status == 200 else "OVER"
        base = report.get(name)
        ratio = f"{page.seconds / base:5.1f}x" if base else "  n/a"
        print(
            f"  {name:10} {page.label:38} {page.seconds:7.2f} s | "
            f"{base or 0:5.2f} s | {ratio} | {page.seconds / TARGET_SECONDS:5.2f}x {verdict}"
            f" (HTTP {page.status})"
        )
    print("\nSQLite / PostgreSQL, same pages, same run:")
    for label, times in by_label.items():
        if "sqlite" in times and "postgresql" in times:
            print(f"  {label:38} {times['sqlite'] / max(times['postgresql'], 1e-9):5.2f}x")


if __name__ == "__main__":
    main()
