"""The report, register and timeline against a small history counted by hand, on both databases."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reporting.compliance import ComplianceReport, GroupFigures, compliance_report, local_midnight
from reporting.demo import generate
from reporting.percentiles import nearest_rank
from reporting.register import breach_register, case_timeline
from reporting.render import CSV_TAIL, write_csv
from reporting.summary import rebuild_report_summary
from standards.force import load_force
from standards.policy import load_policy, policy_path
from storage import models

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FORCE = load_force(POLICIES / "met.force.toml")
START = local_midnight(date(2025, 3, 1))  # 00:00Z (GMT)
END = local_midnight(date(2025, 5, 1))  # 2025-04-30 23:00Z (BST)
AS_OF = datetime(2025, 4, 20, 12, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Spec:
    name: str
    case: str
    standard: str
    start: str
    due: str
    state: str
    met: str | None = None
    reason: str | None = None


CASES = {"A/1": ("camden", "burglary"), "B/1": ("hackney", "domestic_abuse")}
# Each line says why it is (or is not) counted; the expected figures below follow from it.
HISTORY = (
    Spec("a1", "A/1", "acknowledgement", "2025-02-28 00:00", "2025-03-01 00:00", "met",
         met="2025-02-28 01:00"),  # due exactly at `from`: counted, March
    Spec("a2", "A/1", "acknowledgement", "2025-02-27 22:00", "2025-02-28 22:00", "met",
         met="2025-02-27 23:00"),  # due before the period: not counted
    Spec("a3", "A/1", "victim_update", "2025-03-05 12:00", "2025-04-02 11:00", "met_late",
         met="2025-04-02 21:00"),  # 28 days across the clock change; late, unexplained
    Spec("a4", "A/1", "closure_explanation", "2025-04-03 09:00", "2025-04-10 23:00",
         "breached"),  # breached, unexplained
    Spec("a5", "A/1", "acknowledgement", "2025-04-29 23:00", "2025-04-30 23:00",
         "pending"),  # due exactly at `to`: not counted
    Spec("b1", "B/1", "dv_contact", "2025-03-29 20:00", "2025-03-30 20:00", "breached",
         reason="victim_unreachable"),
    Spec("b2", "B/1", "acknowledgement", "2025-04-01 08:00", "2025-04-02 08:00", "met_late",
         met="2025-04-02 20:00", reason="officer_unavailable"),
    Spec("b3", "B/1", "victim_update", "2025-03-08 00:00", "2025-04-05 00:00",
         "cancelled"),  # cancelled: not counted
    Spec("b4", "B/1", "acknowledgement", "2025-04-24 10:00", "2025-04-25 10:00",
         "pending"),  # not yet due at AS_OF: not counted
    Spec("b5", "B/1", "dv_contact", "2025-04-18 12:00", "2025-04-19 12:00",
         "pending"),  # overdue, breach not recorded yet: due, awaiting breach
    Spec("b6", "B/1", "acknowledgement", "2025-03-31 22:30", "2025-04-01 22:30", "met",
         met="2025-03-31 23:00"),  # due 23:30 London on 1 April: April
    Spec("b7", "B/1", "acknowledgement", "2025-03-30 22:59", "2025-03-31 22:59", "met",
         met="2025-03-31 04:59"),  # due 23:59 London on 31 March: March
)  # fmt: skip


def build_history(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ids: dict[str, models.Case] = {}
        for reference, (borough, category) in CASES.items():
            case = models.Case(
                reference=reference,
                workflow_id=f"case:{reference}",
                category=category,
                borough=borough,
                vulnerable=False,
                nation="england_and_wales",
                reported_at=at("2025-02-27 00:00"),
                policy_id="met-pledge",
                policy_version=1,
                status="open",
            )
            session.add(case)
            ids[reference] = case
        session.flush()
        for spec in HISTORY:
            borough, category = CASES[spec.case]
            due = at(spec.due)
            late = spec.state in ("breached", "met_late")
            session.add(
                models.Obligation(
                    case_id=ids[spec.case].id,
                    key=f"{spec.standard}#{spec.name}",
                    standard=spec.standard,
                    occurrence=1,
                    state=spec.state,
                    borough=borough,
                    category=category,
                    started_at=at(spec.start),
                    due_at=due,
                    met_at=at(spec.met) if spec.met else None,
                    breached_at=due if late else None,
                    cancelled_at=due - timedelta(days=1) if spec.state == "cancelled" else None,
                    explanation_reason=spec.reason,
                    explained_at=due + timedelta(hours=2) if spec.reason else None,
                    window_amount=1,
                    window_unit="hours",
                )
            )
        # Written by hand rather than by the service, so summarise it as the service would.
        session.flush()
        rebuild_report_summary(session)


# -- the independent count: plain Python over HISTORY, no SQL ------------------------------


def counted(spec: Spec, as_of: datetime = AS_OF) -> bool:
    due = at(spec.due)
    return START <= due < END and due <= as_of and spec.state != "cancelled"


def london_month(spec: Spec) -> str:
    from zoneinfo import ZoneInfo

    return f"{at(spec.due).astimezone(ZoneInfo('Europe/London')):%Y-%m}"


def key_of(spec: Spec, by: tuple[str, ...]) -> tuple[str, ...]:
    borough, category = CASES[spec.case]
    values = {
        "standard": spec.standard,
        "borough": borough,
        "category": category,
        "month": london_month(spec),
    }
    return tuple(values[name] for name in by)


def hand_count(specs: list[Spec]) -> dict[str, object]:
    met = [s for s in specs if s.state in ("met", "met_late")]
    hours = [(at(s.met) - at(s.start)).total_seconds() / 3600 for s in met if s.met]
    shares = [(at(s.met) - at(s.start)) / (at(s.due) - at(s.start)) for s in met if s.met]
    reasons: dict[str, int] = {}
    for s in specs:
        if s.state in ("breached", "met_late"):
            reason = s.reason or "unexplained"
            reasons[reason] = reasons.get(reason, 0) + 1
    due = len(specs)
    on_time = sum(s.state == "met" for s in specs)
    return {
        "due": due,
        "met_on_time": on_time,
        "met_late": sum(s.state == "met_late" for s in specs),
        "breached": sum(s.state == "breached" for s in specs),
        "awaiting_breach": sum(s.state == "pending" for s in specs),
        "on_time_rate": on_time / due if due else None,
        "median_hours": nearest_rank(hours, 50),
        "p90_hours": nearest_rank(hours, 90),
        "median_share": nearest_rank(shares, 50),
        "p90_share": nearest_rank(shares, 90),
        "reasons": reasons,
    }


def figures(group: GroupFigures) -> dict[str, object]:
    return {
        "due": group.due,
        "met_on_time": group.met_on_time,
        "met_late": group.met_late,
        "breached": group.breached,
        "awaiting_breach": group.awaiting_breach,
        "on_time_rate": group.on_time_rate,
        "median_hours": group.median_hours,
        "p90_hours": group.p90_hours,
        "median_share": group.median_share,
        "p90_share": group.p90_share,
        "reasons": group.reasons,
    }


def assert_same(actual: dict[str, object], expected: dict[str, object]) -> None:
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        if isinstance(value, float):
            assert actual[name] == pytest.approx(value, rel=1e-9), name
        else:
            assert actual[name] == value, name


@pytest.fixture
def history(db_session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    build_history(db_session_factory)
    return db_session_factory


def run(
    sessions: sessionmaker[Session], by: tuple[str, ...], as_of: datetime = AS_OF
) -> ComplianceReport:
    with sessions() as session:
        return compliance_report(session, START, END, by, as_of)


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
        "on_time_rate", "median_time_to_meet_hours", "p90_time_to_meet_hours",
    ]  # fmt: skip
    assert tuple(rows[0][2:]) == CSV_TAIL
    assert len(rows) == 1 + len(report.groups)
    ack_hackney = next(r for r in rows if r[:2] == ["acknowledgement", "hackney"])
    # b2 (late, 36 h), b6 (on time, 0.5 h), b7 (on time, 6 h)
    assert ack_hackney[2:6] == ["3", "2", "1", "0"]
    assert float(ack_hackney[6]) == pytest.approx(2 / 3, abs=1e-6)
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
    policy = load_policy(policy_path(POLICIES, "met-pledge"))
    now = datetime(2025, 7, 1, tzinfo=UTC)
    counts = generate(
        db_engine, policy, force=FORCE, cases=300, start=START, days=90, seed=7, now=now
    )
    assert counts.cases == 300
    with db_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(models.Case)) == 300
        assert (
            session.scalar(select(func.count()).select_from(models.Obligation))
            == counts.obligations
        )
        victims = session.scalars(select(models.Victim)).all()
        assert len(victims) == 300
        assert all(v.phone and v.phone.startswith("+447700900") for v in victims)
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
            assert [t.seq for t in history] == list(range(1, len(history) + 1))
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
