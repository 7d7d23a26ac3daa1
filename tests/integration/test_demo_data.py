"""`pledge demo-data`: cases run by the engine, written to SQLite and PostgreSQL, and
`pledge report` on them agreeing with what the engine produced."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reporting.demo import generate
from storage import models
from storage.summary import local_midnight
from tests.support.reports import demo_config, pledge_report_csv

START = date(2025, 1, 6)
DAYS = 120
NOW = datetime(2025, 5, 20, 8, 15, tzinfo=UTC)


def test_the_report_on_demo_data_counts_what_the_engine_produced(
    tmp_path: Path, db_engine: Engine, database_url: str
) -> None:
    counts = generate(
        db_engine, demo_config(), cases=400, start=local_midnight(START), days=DAYS, seed=4, now=NOW
    )
    rows = pledge_report_csv(
        tmp_path,
        database_url,
        "--from",
        str(START),
        "--to",
        "2025-06-01",
        "--as-of",
        NOW.isoformat(),
        "--by",
        "standard",
    )
    header, *groups = rows
    column = {name: header.index(name) for name in ("due", "met_on_time", "met_late", "breached")}
    reported = {row[0]: {name: int(row[index]) for name, index in column.items()} for row in groups}
    expected: dict[str, Counter[str]] = {}
    for (standard, state), count in counts.due.items():
        expected.setdefault(standard, Counter())[state] += count
    assert set(reported) >= set(expected)
    for standard, states in expected.items():
        assert reported[standard] == {
            "due": sum(n for state, n in states.items() if state != "cancelled"),
            "met_on_time": states["met"],
            "met_late": states["met_late"],
            "breached": states["breached"],
        }, standard
    # Plausible figures: most obligations met on time, and some breaches.
    due = sum(r["due"] for r in reported.values())
    assert sum(r["met_on_time"] for r in reported.values()) > 0.7 * due
    assert sum(r["breached"] for r in reported.values()) > 0


def test_demo_data_keeps_every_row_the_engine_left(
    db_engine: Engine, db_session_factory: sessionmaker[Session]
) -> None:
    counts = generate(
        db_engine, demo_config(), cases=200, start=local_midnight(START), days=DAYS, seed=9, now=NOW
    )
    tables = {
        models.Case: counts.cases,
        models.Victim: counts.victims,
        models.Obligation: counts.obligations,
        models.ObligationTransition: counts.transitions,
        models.OutboxMessage: counts.messages,
        models.Alert: counts.alerts,
        models.CaseEventRecord: counts.events,
    }
    with db_session_factory() as session:
        for model, expected in tables.items():
            assert session.scalar(select(func.count()).select_from(model)) == expected, model
        assert counts.messages and counts.alerts and counts.events
        # Explained breaches come through the book: only breached obligations have one.
        explained = session.scalars(
            select(models.Obligation).where(models.Obligation.explained_at.is_not(None))
        ).all()
        assert explained
        for o in explained:
            assert o.breached_at is not None and o.explained_at is not None
            assert o.explained_at > o.breached_at
        assert session.scalar(
            select(func.count())
            .select_from(models.CaseEventRecord)
            .where(models.CaseEventRecord.type == "breach_explained")
        ) == len(explained)
        # Nothing was raised after "now", and alerts are not mailed again.
        last_alert = session.scalar(select(func.max(models.Alert.at)))
        assert last_alert is not None and last_alert <= NOW
        assert (
            session.scalar(
                select(func.count())
                .select_from(models.Alert)
                .where(models.Alert.emailed_at.is_(None))
            )
            == 0
        )


def test_a_second_demo_run_adds_cases_after_the_first(db_engine: Engine) -> None:
    config = demo_config()
    first = generate(
        db_engine, config, cases=30, start=local_midnight(START), days=DAYS, seed=1, now=NOW
    )
    second = generate(
        db_engine, config, cases=30, start=local_midnight(START), days=DAYS, seed=1, now=NOW
    )
    assert first.obligations == second.obligations
    with db_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(models.Case)) == 60
        references = connection.scalars(select(models.Case.reference)).all()
    assert len(set(references)) == 60


def test_pledge_demo_data_writes_history_the_report_reads(
    tmp_path: Path, database_url: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo-data", "--cases", "60", "--days", "40"],
        cwd=tmp_path,  # away from any .env in the worktree
        env={"PATH": "/usr/bin", "DATABASE_URL": database_url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "wrote 60 cases, 60 victims" in done.stdout
    assert "case events" in done.stdout
    today = datetime.now(UTC).date()
    header, *groups = pledge_report_csv(
        tmp_path, database_url, "--from", str(date(today.year - 1, 1, 1)), "--to", str(today)
    )
    assert sum(int(row[header.index("due")]) for row in groups) > 0
