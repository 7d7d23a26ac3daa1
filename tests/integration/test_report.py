"""The report, register and timeline against a small history counted by hand, on both databases."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reporting.compliance import compliance_report, local_midnight
from reporting.demo import generate
from reporting.register import breach_register
from reporting.render import CSV_TAIL, write_csv
from standards.force import load_force
from storage import models
from storage.timeline import case_timeline
from tests.report_history import (
    AS_OF,
    HISTORY,
    POLICIES,
    START,
    assert_same,
    at,
    build_history,
    counted,
    figures,
    hand_count,
    key_of,
    run,
)
from tests.support.reports import demo_config

FORCE = load_force(POLICIES / "met.force.toml")


@pytest.fixture
def history(db_session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    build_history(db_session_factory)
    return db_session_factory


def test_the_totals_match_the_figures_counted_by_hand(history: sessionmaker[Session]) -> None:
    report = run(history, ())
    # Written out once in full, so the independent counter itself is checked.
    assert figures(report.total) == {
        "due": 8,
        "met_on_time": 3,
        "met_late": 2,
        "breached": 2,
        "awaiting_breach": 1,
        "on_time_rate": 3 / 8,
        "median_hours": 6.0,
        "p90_hours": 681.0,
        "median_share": 0.25,
        "p90_share": 1.5,
        "reasons": {"unexplained": 2, "victim_unreachable": 1, "officer_unavailable": 1},
    }
    assert report.groups == [] or [g.key for g in report.groups] == [()]


@pytest.mark.parametrize(
    "by",
    [
        ("standard",),
        ("borough",),
        ("category",),
        ("month",),
        ("standard", "borough"),
        ("month", "borough", "category", "standard"),
    ],
)
def test_every_group_matches_an_independent_count(
    history: sessionmaker[Session], by: tuple[str, ...]
) -> None:
    report = run(history, by)
    included = [spec for spec in HISTORY if counted(spec)]
    expected_keys = sorted({key_of(spec, by) for spec in included})
    assert [group.key for group in report.groups] == expected_keys
    for group in report.groups:
        members = [spec for spec in included if key_of(spec, by) == group.key]
        assert_same(figures(group), hand_count(members))
    assert_same(figures(report.total), hand_count(included))


def test_months_follow_london_time_across_the_clock_change(history: sessionmaker[Session]) -> None:
    report = run(history, ("month",))
    by_month = {group.key[0]: group for group in report.groups}
    assert set(by_month) == {"2025-03", "2025-04"}
    march, april = by_month["2025-03"], by_month["2025-04"]
    assert (march.due, march.met_on_time, march.breached) == (3, 2, 1)
    assert (march.median_hours, march.p90_hours) == (1.0, 6.0)
    assert (april.due, april.met_on_time, april.met_late, april.breached) == (5, 1, 2, 1)
    assert april.awaiting_breach == 1
    assert (april.median_hours, april.p90_hours) == (36.0, 681.0)


def test_an_obligation_due_at_the_end_of_the_period_is_not_counted_even_once_due(
    history: sessionmaker[Session],
) -> None:
    later = run(history, (), as_of=datetime(2025, 6, 1, tzinfo=UTC))
    included = [spec for spec in HISTORY if counted(spec, datetime(2025, 6, 1, tzinfo=UTC))]
    assert "a5" not in {spec.name for spec in included}
    assert "b4" in {spec.name for spec in included}
    assert_same(figures(later.total), hand_count(included))


def test_the_csv_has_the_group_keys_then_the_specified_columns(
    history: sessionmaker[Session], tmp_path: Path
) -> None:
    report = run(history, ("standard", "borough"))
    path = tmp_path / "report.csv"
    write_csv(report, path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "standard", "borough", "due", "met_on_time", "met_late", "breached",
        "on_time_rate_percent", "median_time_to_meet_hours", "p90_time_to_meet_hours",
    ]  # fmt: skip
    assert tuple(rows[0][2:]) == CSV_TAIL
    assert len(rows) == 1 + len(report.groups)
    ack_hackney = next(r for r in rows if r[:2] == ["acknowledgement", "hackney"])
    # b2 (late, 36 h), b6 (on time, 0.5 h), b7 (on time, 6 h)
    assert ack_hackney[2:6] == ["3", "2", "1", "0"]
    assert float(ack_hackney[6]) == pytest.approx(200 / 3, abs=1e-6)  # a percentage
    assert float(ack_hackney[7]) == 6.0
    assert float(ack_hackney[8]) == 36.0


def test_the_breach_register_lists_old_unexplained_breaches_first(
    history: sessionmaker[Session],
) -> None:
    with history() as session:
        entries = breach_register(session, as_of=AS_OF)
    assert [entry.key.split("#")[1] for entry in entries] == ["a3", "a4", "b1", "b2"]
    assert [entry.stale_unexplained for entry in entries] == [True, True, False, False]
    assert [entry.reason for entry in entries] == [
        None, None, "victim_unreachable", "officer_unavailable"
    ]  # fmt: skip
    assert entries[0].late_by == timedelta(hours=10)  # met 10 h after the deadline
    assert entries[1].late_by == AS_OF - at("2025-04-10 23:00")  # still unmet
    assert entries[0].reference == "A/1"
    assert entries[2].borough == "hackney"
    with history() as session:
        camden = breach_register(session, borough="camden", limit=1, as_of=AS_OF)
    assert [entry.key.split("#")[1] for entry in camden] == ["a3"]


def test_the_breach_register_as_of_an_earlier_instant_shows_it_as_it_stood_then(
    history: sessionmaker[Session],
) -> None:
    # 2 April 12:00Z: b1 (due 30 March) and b2 (due 08:00, met 20:00) are late; a3 is
    # due at 11:00 and met only at 21:00, so an hour late and still unmet; a4 not due yet.
    as_of = at("2025-04-02 12:00")
    with history() as session:
        entries = breach_register(session, as_of=as_of)
    late = {entry.key.split("#")[1]: entry.late_by for entry in entries}
    assert late == {
        "b1": as_of - at("2025-03-30 20:00"),
        "a3": timedelta(hours=1),
        "b2": timedelta(hours=4),
    }


def test_case_explain_rebuilds_the_timeline_from_recorded_transitions(
    history: sessionmaker[Session],
) -> None:
    with history.begin() as session:
        obligation = session.scalars(
            select(models.Obligation).where(models.Obligation.key == "closure_explanation#a4")
        ).one()
        steps = [
            ("started", "pending", "2025-04-03 09:00", "closed by crime recording system"),
            ("warned", "pending", "2025-04-08 00:00", "75% of the window elapsed"),
            ("breached", "breached", "2025-04-10 23:00", "deadline passed unmet"),
            ("escalated", "breached", "2025-04-11 23:00", "still unmet 24h after breach"),
        ]
        for seq, (event, state, when, cause) in enumerate(steps, start=1):
            session.add(
                models.ObligationTransition(
                    obligation_id=obligation.id,
                    case_id=obligation.case_id,
                    seq=seq,
                    event=event,
                    state=state,
                    at=at(when),
                    cause=cause,
                )
            )
    with history() as session:
        timeline = case_timeline(session, "A/1")
    assert [(s.event, s.state, s.at, s.cause) for s in timeline] == [
        (event, state, at(when), cause) for event, state, when, cause in steps
    ]
    assert {s.obligation_key for s in timeline} == {"closure_explanation#a4"}


def test_demo_data_writes_consistent_history(
    db_engine: Engine, db_session_factory: sessionmaker[Session]
) -> None:
    now = datetime(2025, 7, 1, tzinfo=UTC)
    counts = generate(db_engine, demo_config(), cases=300, start=START, days=90, seed=7, now=now)
    assert counts.cases == 300
    with db_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(models.Case)) == 300
        assert (
            session.scalar(select(func.count()).select_from(models.Obligation))
            == counts.obligations
        )
        victims = session.scalars(select(models.Victim)).all()
        assert len(victims) == 300
        assert all(v.phone is None or v.phone.startswith("+447700900") for v in victims)
        assert all(v.email and v.email.endswith("@example.org") for v in victims)
        for o in session.scalars(select(models.Obligation)):
            assert o.started_at <= o.due_at
            if o.state == "met":
                assert o.met_at is not None and o.met_at <= o.due_at <= o.met_at + (
                    o.due_at - o.started_at
                )
            elif o.state == "met_late":
                assert o.met_at is not None and o.met_at > o.due_at and o.breached_at == o.due_at
            elif o.state == "breached":
                assert o.met_at is None and o.due_at <= now
            elif o.state == "cancelled":
                assert o.cancelled_at is not None and o.met_at is None
            else:
                assert o.state == "pending" and o.met_at is None
            if o.explanation_reason is not None:
                assert o.state in ("breached", "met_late")
                assert o.explained_at is not None and o.explained_at <= now
            history = o.transitions
            assert [t.seq for t in history] == list(range(len(history)))
            assert history[0].event == "started"
            assert history[-1].state == o.state
            assert all(t.at <= now for t in history)
        states = set(session.scalars(select(models.Obligation.state).distinct()))
        assert {"met", "met_late", "breached", "cancelled"} <= states
        end = local_midnight(date(2025, 7, 1))
        report = compliance_report(session, START, end, (), now)
        direct = session.scalar(
            select(func.count())
            .select_from(models.Obligation)
            .where(
                models.Obligation.due_at >= START,
                models.Obligation.due_at < end,
                models.Obligation.due_at <= now,
                models.Obligation.state != "cancelled",
            )
        )
        assert report.total.due == direct
