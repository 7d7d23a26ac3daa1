"""Any period, not just whole months: the summaries give what the raw obligations say.

A period is read from whole months (the monthly summary), whole days (the daily summary)
and, for part of a day, the raw obligations. Each period below makes a different mix of
the three, and every figure of every group must equal a plain count of the raw rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from reporting.compliance import compliance_report, local_midnight
from reporting.demo import generate
from standards.clock import LONDON
from storage import models
from storage.database import alembic_config
from storage.report_models import ReportDaySummary
from tests.report_history import assert_same, figures, raw_count
from tests.support.reports import demo_config

FIRST_REPORT = local_midnight(date(2025, 2, 10))
NOW = datetime(2025, 9, 1, tzinfo=UTC)


def _midnight(text: str) -> datetime:
    return local_midnight(date.fromisoformat(text))


# (name, start, end, as_of): partial months at both ends, a period inside one month,
# sub-day edges, a month still running at as-of, the day of a clock change.
PERIODS = [
    ("17 March to 1 August", _midnight("2025-03-17"), _midnight("2025-08-01"), NOW),
    ("inside April", _midnight("2025-04-03"), _midnight("2025-04-29"), NOW),
    (
        "from 10:30 to 16:45",
        datetime(2025, 3, 17, 10, 30, tzinfo=UTC),
        datetime(2025, 5, 20, 15, 45, tzinfo=UTC),
        NOW,
    ),
    (
        "running month, as of mid-day",
        _midnight("2025-03-17"),
        _midnight("2025-06-01"),
        datetime(2025, 5, 14, 13, 7, tzinfo=UTC),
    ),
    ("the clock change", _midnight("2025-03-30"), _midnight("2025-03-31"), NOW),
    ("whole months", _midnight("2025-03-01"), _midnight("2025-06-01"), NOW),
]
BYS = [(), ("standard",), ("borough", "month"), ("standard", "borough", "category", "month")]


@pytest.fixture
def history(db_engine: Engine, db_session_factory: sessionmaker[Session]) -> Iterator[None]:
    generate(
        db_engine,
        demo_config(),
        cases=300,
        start=FIRST_REPORT,
        days=150,
        seed=5,
        now=NOW,
    )
    yield


_KEYS: dict[str, Callable[[models.Obligation], str]] = {
    "standard": lambda o: o.standard,
    "borough": lambda o: o.borough,
    "category": lambda o: o.category,
    "month": lambda o: f"{o.due_at.astimezone(LONDON):%Y-%m}",
}


def _assert_report_equals_raw_rows(
    sessions: sessionmaker[Session],
    start: datetime,
    end: datetime,
    as_of: datetime,
    by: tuple[str, ...],
    borough: str | None = None,
    standard: str | None = None,
) -> None:
    with sessions() as session:
        report = compliance_report(
            session, start, end, by, as_of, borough=borough, standard=standard
        )
        rows = session.scalars(select(models.Obligation)).all()
    due = [
        o
        for o in rows
        if start <= o.due_at < end
        and o.due_at <= as_of
        and o.state != "cancelled"
        and borough in (None, o.borough)
        and standard in (None, o.standard)
    ]
    assert due, "the period must have obligations for the comparison to mean anything"
    groups: dict[tuple[str, ...], list[models.Obligation]] = {}
    for o in due:
        groups.setdefault(tuple(_KEYS[name](o) for name in by), []).append(o)
    assert [group.key for group in report.groups] == sorted(groups)
    for group in report.groups:
        if group.key:
            assert_same(figures(group), raw_count(groups[group.key]))
    assert_same(figures(report.total), raw_count(due))


@pytest.mark.parametrize("name, start, end, as_of", PERIODS, ids=[p[0] for p in PERIODS])
def test_any_period_reports_what_the_raw_obligations_say(
    history: None,
    db_session_factory: sessionmaker[Session],
    name: str,
    start: datetime,
    end: datetime,
    as_of: datetime,
) -> None:
    for by in BYS:
        _assert_report_equals_raw_rows(db_session_factory, start, end, as_of, by)


def test_a_borough_and_a_standard_filter_count_only_their_obligations(
    history: None, db_session_factory: sessionmaker[Session]
) -> None:
    start, end = _midnight("2025-03-17"), _midnight("2025-08-01")
    with db_session_factory() as session:
        borough = session.scalar(select(models.Obligation.borough).limit(1))
    assert borough is not None
    _assert_report_equals_raw_rows(
        db_session_factory, start, end, NOW, ("standard", "month"), borough=borough
    )
    _assert_report_equals_raw_rows(
        db_session_factory, start, end, NOW, ("borough",), standard="acknowledgement"
    )
    _assert_report_equals_raw_rows(
        db_session_factory,
        start,
        end,
        NOW,
        ("category",),
        borough=borough,
        standard="acknowledgement",
    )


def test_the_day_summary_and_the_raw_path_give_the_same_report(
    history: None, db_session_factory: sessionmaker[Session]
) -> None:
    start, end = _midnight("2025-03-17"), _midnight("2025-08-01")
    by = ("standard", "borough")
    with db_session_factory() as session:
        from_days = compliance_report(session, start, end, by, NOW)
        from_raw = compliance_report(session, start, end, by, NOW, read_days=False)
    assert [figures(g) for g in from_days.groups] == [figures(g) for g in from_raw.groups]
    assert figures(from_days.total) == figures(from_raw.total)


def _day_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        query = select(*ReportDaySummary.__table__.columns).order_by(
            ReportDaySummary.day,
            ReportDaySummary.standard,
            ReportDaySummary.borough,
            ReportDaySummary.category,
        )
        return [tuple(row) for row in connection.execute(query)]


def test_migration_0008_summarises_the_obligations_recorded_before_it(
    history: None, database_url: str, db_engine: Engine
) -> None:
    written = _day_rows(db_engine)
    assert len(written) > 100
    db_engine.dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0007")
    command.upgrade(config, "head")
    # The migration's own code writes what the live summary code wrote.
    assert _day_rows(db_engine) == written
