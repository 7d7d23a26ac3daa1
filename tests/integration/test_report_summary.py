"""The monthly report summary stays equal to the raw obligations as writers change them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session, sessionmaker

from activities.records import CaseRecordActivities
from reporting.compliance import compliance_report, local_midnight
from reporting.demo import generate
from standards.clock import LONDON
from standards.contracts import CaseChanges
from standards.obligations import Obligation as DomainObligation
from standards.obligations import ObligationState
from storage import models
from storage.enums import CaseStatus
from storage.report_models import ReportDaySummary, ReportMonthSummary
from storage.summary import rebuild_report_summary
from tests.report_history import (
    HISTORY,
    START,
    Spec,
    assert_same,
    at,
    build_history,
    counted,
    figures,
    hand_count,
    key_of,
    raw_count,
    run,
)
from tests.support.reports import demo_config

BYS = [(), ("standard",), ("month",), ("borough", "category"), ("standard", "month")]


def _domain(spec: Spec) -> DomainObligation:
    due = at(spec.due)
    return DomainObligation(
        key=f"{spec.standard}#{spec.name}",
        standard=spec.standard,
        occurrence=1,
        state=ObligationState(spec.state),
        started_at=at(spec.start),
        due_at=due,
        warn_at=due - timedelta(hours=1),
        escalate_at=due + timedelta(hours=24),
        window_amount=1,
        window_unit="hours",
        met_at=at(spec.met) if spec.met else None,
        breached_at=due if spec.state in ("breached", "met_late") else None,
        explanation_reason=spec.reason,
        explained_at=due + timedelta(hours=2) if spec.reason else None,
    )


def _history_spec(name: str) -> Spec:
    return next(spec for spec in HISTORY if spec.name == name)


def test_the_recording_activity_keeps_the_summary_equal_to_the_obligations(
    db_session_factory: sessionmaker[Session],
) -> None:
    build_history(db_session_factory)
    # b1 (March, summarised) is met late after all; a new one is due in March too; b7 moves
    # from March into April, so both months' rows must change.
    b1 = _history_spec("b1")
    b7 = _history_spec("b7")
    changed = [
        replace(b1, state="met_late", met="2025-03-31 02:00", reason="victim_unreachable"),
        Spec("b8", "B/1", "acknowledgement", "2025-03-10 09:00", "2025-03-11 09:00", "met",
             met="2025-03-10 09:17"),
        replace(b7, due="2025-04-01 05:00"),
    ]  # fmt: skip
    _record(db_session_factory, changed)
    names = {spec.name: spec for spec in changed}
    history = [names.get(spec.name, spec) for spec in HISTORY] + [names["b8"]]
    included = [spec for spec in history if counted(spec)]
    for by in BYS:
        report = run(db_session_factory, by)
        assert [group.key for group in report.groups] == sorted(
            {key_of(spec, by) for spec in included}
        )
        for group in report.groups:
            if group.key:
                members = [spec for spec in included if key_of(spec, by) == group.key]
                assert_same(figures(group), hand_count(members))
        assert_same(figures(report.total), hand_count(included))
    # The summary is what a full rebuild would write.
    with db_session_factory() as session:
        before = _summary(session)
    with db_session_factory.begin() as session:
        rebuild_report_summary(session)
    with db_session_factory() as session:
        assert _summary(session) == before


def _record(sessions: sessionmaker[Session], specs: list[Spec]) -> None:
    CaseRecordActivities(sessions).record_case_changes(
        CaseChanges(
            reference="B/1",
            status=CaseStatus.OPEN,
            closed_at=None,
            update_interval_days=None,
            updates_paused=False,
            obligations=[_domain(spec) for spec in specs],
            alerts=[],
        )
    )


def test_cancelling_the_last_obligation_of_a_summary_row_removes_the_row_and_repeats_change_nothing(
    db_session_factory: sessionmaker[Session],
) -> None:
    build_history(db_session_factory)
    # b1 is the only March dv_contact of Hackney's domestic abuse cases.
    b1 = _history_spec("b1")
    b6 = _history_spec("b6")
    cancelled = replace(b1, state="cancelled")
    _record(db_session_factory, [cancelled, b6])
    with db_session_factory() as session:
        after_once = _summary(session)
    _record(db_session_factory, [cancelled, b6])
    with db_session_factory() as session:
        assert _summary(session) == after_once
    march_dv_contact = [
        row
        for row in after_once
        if row[2] == "dv_contact" and date(2025, 3, 1) <= row[1] < date(2025, 4, 1)  # type: ignore[operator]
    ]
    assert march_dv_contact == []
    with db_session_factory.begin() as session:
        rebuild_report_summary(session)
    with db_session_factory() as session:
        assert _summary(session) == after_once


def _summary(session: Session) -> list[tuple[object, ...]]:
    """Every month row, then every day row, in key order."""
    rows: list[tuple[object, ...]] = []
    for model in (ReportMonthSummary, ReportDaySummary):
        table = cast(Table, model.__table__)
        query = select(*table.columns).order_by(*table.primary_key.columns)
        rows += [(model.__tablename__, *row) for row in session.execute(query)]
    return rows


@pytest.mark.parametrize("by", [*BYS, ("standard", "borough", "category", "month")])
def test_demo_data_reports_the_same_from_the_summary_as_counted_from_raw_rows(
    db_engine: Engine, db_session_factory: sessionmaker[Session], by: tuple[str, ...]
) -> None:
    now = datetime(2025, 7, 1, tzinfo=UTC)
    generate(
        db_engine,
        demo_config(),
        cases=400,
        start=START,
        days=100,
        seed=11,
        now=now,
    )
    # March to May come from the summary; June 14 to as-of from the raw rows.
    end = local_midnight(datetime(2025, 7, 1).date())
    as_of = datetime(2025, 6, 14, 9, tzinfo=UTC)
    with db_session_factory() as session:
        report = compliance_report(session, START, end, by, as_of)
        rows = session.scalars(select(models.Obligation)).all()
    london: dict[str, Callable[[models.Obligation], str]] = {
        "standard": lambda o: o.standard,
        "borough": lambda o: o.borough,
        "category": lambda o: o.category,
        "month": lambda o: f"{o.due_at.astimezone(LONDON):%Y-%m}",
    }
    due = [
        o for o in rows if START <= o.due_at < end and o.due_at <= as_of and o.state != "cancelled"
    ]
    assert sum(1 for o in due if o.due_at >= local_midnight(datetime(2025, 6, 1).date())) > 0
    groups: dict[tuple[str, ...], list[models.Obligation]] = {}
    for o in due:
        groups.setdefault(tuple(london[name](o) for name in by), []).append(o)
    assert [group.key for group in report.groups] == sorted(groups)
    for group in report.groups:
        if group.key:
            assert_same(figures(group), raw_count(groups[group.key]))
    assert_same(figures(report.total), raw_count(due))
