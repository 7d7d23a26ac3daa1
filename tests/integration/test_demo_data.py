"""Demo data on SQLite and PostgreSQL: demo cases opened as real cases with workflows, which
a VFU clears from the queue over the pages, opened once however often it runs; and the
read-only history written by the engine, which `pledge report` counts exactly as the
engine produced it."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from reporting.demo import generate
from service.cases import CaseError, EventIn, record_event
from service.demo_workflows import DemoPlan, DemoStarted, start_demo_cases
from service.queue import QueueQuery, read_queue
from standards.events import EventType
from standards.force import load_force
from standards.policy import load_policy, policy_path
from standards.staff import StaffRole
from storage import models
from storage.database import make_engine
from storage.enums import ObligationState
from storage.summary import local_midnight
from tests.support.api import Api
from tests.support.delivery import alerts_not_emailed
from tests.support.dev import dev_environment_in, free_port, pledge, start_dev, stop_dev
from tests.support.pages import create_staff_user, csrf_token_of, form_event_id, sign_in
from tests.support.reports import POLICIES, demo_config, pledge_report_csv

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
        # History, read-only: every case is marked, none is in the queue, and an event
        # posted to one is refused with the reason before anything is written.
        assert (
            session.scalar(
                select(func.count()).select_from(models.Case).where(models.Case.demo_history)
            )
            == counts.cases
        )
        reference = session.scalars(select(models.Case.reference)).first()
        assert reference is not None
    assert read_queue(db_session_factory, QueueQuery(None), NOW).rows == []
    contact = EventIn(reference=reference, type=EventType.CONTACT_RECORDED, at=NOW)
    with pytest.raises(CaseError, match=r"is demo history, read-only: no workflow runs for it"):
        record_event(db_session_factory, contact, {}, NOW)
    with db_session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(models.CaseEventRecord))
            == counts.events
        )
        # Nothing was raised after "now", and alerts are not mailed again.
        last_alert = session.scalar(select(func.max(models.Alert.at)))
        assert last_alert is not None and last_alert <= NOW
    assert alerts_not_emailed(db_session_factory) == 0


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
        [
            *(sys.executable, "-m", "cli.main", "demo-data"),
            *("--history", "60", "--history-days", "40"),
        ],
        cwd=tmp_path,  # away from any .env in the worktree
        env={"PATH": "/usr/bin", "DATABASE_URL": database_url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "wrote 60 history cases (read-only, no workflows), 60 victims" in done.stdout
    assert "case events" in done.stdout
    today = datetime.now(UTC).date()
    header, *groups = pledge_report_csv(
        tmp_path, database_url, "--from", str(date(today.year - 1, 1, 1)), "--to", str(today)
    )
    assert sum(int(row[header.index("due")]) for row in groups) > 0


# -- demo cases with workflows ------------------------------------------------------


async def open_demo(api: Api, database_url: str, cases: int, prefix: str) -> DemoStarted:
    """The demo's cases; each test its own `prefix`, as the tests share a Temporal server."""
    settings = Settings(_env_file=None, database_url=database_url, task_queue=api.task_queue)
    return await start_demo_cases(
        api.temporal,
        api.sessions,
        settings,
        load_policy(policy_path(POLICIES, "met-pledge")),
        load_force(POLICIES / "met.force.toml"),
        DemoPlan(cases=cases, seed=1, prefix=prefix),
    )


def cases_in(api: Api) -> int:
    with api.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(models.Case)) or 0)


async def test_a_vfu_records_a_contact_on_a_demo_case_from_the_queue_and_it_is_met(
    api: Api, database_url: str
) -> None:
    started = await open_demo(api, database_url, cases=30, prefix=f"Q{database_url[:4]}-")
    assert started.opened == 30 and started.existing == 0 and started.events > 0
    now = datetime.now(UTC)
    rows = read_queue(api.sessions, QueueQuery(None), now).rows
    overdue = [row for row in rows if row.overdue and row.state == ObligationState.BREACHED]
    assert overdue, "the demo left nothing overdue in the queue"
    row = overdue[0]
    email = f"vfu-{row.borough}@met.example"
    create_staff_user(database_url, email, StaffRole.VFU, row.borough)
    http = await sign_in(api.http, email)
    queue = await http.get("/queue")
    assert f'id="obligation-{row.obligation_id}"' in queue.text

    recorded = await http.post(
        f"/cases/{row.reference}/contact",
        data={
            "csrf_token": csrf_token_of(queue.text),
            "obligation": str(row.obligation_id),
            f"method-{row.obligation_id}": "phone",
            "event_id": form_event_id(queue.text, row.obligation_id, "contact"),
            "back": "",
        },
    )

    assert recorded.status_code == 303, recorded.text
    after = await http.get(recorded.headers["location"])
    assert f"Contact recorded on case {row.reference}" in after.text
    assert f'id="obligation-{row.obligation_id}"' not in after.text
    with api.sessions() as session:
        met = session.get(models.Obligation, row.obligation_id)
        assert met is not None and met.state == ObligationState.MET_LATE
        assert met.met_at is not None


async def test_opening_the_demo_cases_again_opens_none_twice(api: Api, database_url: str) -> None:
    prefix = f"R{database_url[:4]}-"
    first = await open_demo(api, database_url, cases=6, prefix=prefix)
    assert first.opened == 6
    with api.sessions() as session:
        events = session.scalar(select(func.count()).select_from(models.CaseEventRecord))

    again = await open_demo(api, database_url, cases=8, prefix=prefix)

    assert (again.opened, again.existing) == (2, 6)
    assert cases_in(api) == 8
    with api.sessions() as session:
        references = list(session.scalars(select(models.Case.reference)))
        more = session.scalar(select(func.count()).select_from(models.CaseEventRecord))
    assert sorted(references) == [f"{prefix}{n:04d}" for n in range(1, 9)]
    assert more is not None and events is not None and more - events == again.events


def test_make_run_opens_its_demo_cases_once_however_often_it_starts(tmp_path: Path) -> None:
    environment = dev_environment_in(
        tmp_path, PLEDGE_DEMO_CASES="5", PLEDGE_TEMPORAL_TIMEOUT_SECONDS="30"
    )
    environment.pop("DATABASE_URL", None)
    seen = []
    for _ in range(2):
        process, output = start_dev(environment)
        seen.append(output + stop_dev(process))
    assert "demo cases: 5 opened with their workflows, 0 already there" in seen[0]
    assert "demo cases: 0 opened with their workflows, 5 already there" in seen[1]
    listed = pledge(environment, "cases")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("DEMO-") == 5


def test_demo_cases_with_no_temporal_server_end_in_one_line_not_a_hang(
    tmp_path: Path, database_url: str
) -> None:
    environment = {
        **dev_environment_in(tmp_path),
        "DATABASE_URL": database_url,
        "PLEDGE_TEMPORAL_PORT": str(free_port()),  # nothing listens there
        "PLEDGE_TEMPORAL_TIMEOUT_SECONDS": "2",
    }

    done = pledge(environment, "demo-data", "--cases", "3", timeout=60)

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "is not answering" in lines[0] and "make run" in lines[0]
    engine_rows = pledge(environment, "cases")
    assert "DEMO-" not in engine_rows.stdout


async def test_an_action_on_a_history_case_from_its_page_is_refused_with_the_reason(
    api: Api, database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        generate(
            engine, demo_config(), cases=40, start=local_midnight(START), days=DAYS, seed=3, now=NOW
        )
    finally:
        engine.dispose()
    with api.sessions() as session:
        breached = session.scalars(
            select(models.Obligation).where(
                models.Obligation.state == ObligationState.BREACHED,
                models.Obligation.explained_at.is_(None),
            )
        ).first()
        assert breached is not None
        case = session.get(models.Case, breached.case_id)
        assert case is not None and case.demo_history
        reference = case.reference
        recorded = session.scalar(select(func.count()).select_from(models.CaseEventRecord))
    email = f"vfu-{breached.borough}@met.example"
    create_staff_user(database_url, email, StaffRole.VFU, breached.borough)
    http = await sign_in(api.http, email)
    page = await http.get(f"/cases/{reference}")
    assert page.status_code == 200, page.text
    # The page says so and offers no form; a post made anyway is refused.
    assert "This case is demo history: it is read-only" in page.text
    assert 'class="action-form' not in page.text

    refused = await http.post(
        f"/cases/{reference}/contact",
        data={
            "csrf_token": csrf_token_of(page.text),
            "obligation": str(breached.id),
            f"method-{breached.id}": "phone",
            "event_id": "page-history-1",
            "back": "case",
        },
    )

    assert refused.status_code == 409, refused.text
    assert f"case {reference} is demo history, read-only" in refused.text
    with api.sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.CaseEventRecord)) == recorded
        still = session.get(models.Obligation, breached.id)
        assert still is not None and still.state == ObligationState.BREACHED
