"""The small report history counted by hand, and the independent counter, shared by the
report tests.

Twelve obligations on two cases, each line saying why it is (or is not) counted; plus a
case whose names are as long as the force's longest, to check tables at 80 columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from reporting.compliance import ComplianceReport, GroupFigures, compliance_report, local_midnight
from reporting.percentiles import nearest_rank
from storage import models
from storage.summary import rebuild_report_summary

POLICIES = Path(__file__).resolve().parents[1] / "policies"
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


def open_case(reference: str, borough: str, category: str, reported_at: datetime) -> models.Case:
    return models.Case(
        reference=reference,
        workflow_id=f"case:{reference}",
        category=category,
        borough=borough,
        vulnerable=False,
        nation="england_and_wales",
        reported_at=reported_at,
        policy_id="met-pledge",
        policy_version=1,
        status="open",
    )


def build_history(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ids: dict[str, models.Case] = {}
        for reference, (borough, category) in CASES.items():
            case = open_case(reference, borough, category, at("2025-02-27 00:00"))
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


LONG_REFERENCE = "01/123456/25"
LONG_BOROUGH = "hammersmith_and_fulham"  # the longest borough code
# (standard, state, started, due, met, reason): long standard ids and reason codes.
LONG_NAMED = (
    ("feedback_acknowledgement", "breached", "2025-04-01 09:00", "2025-04-02 09:00", None,
     "officer_unavailable"),
    ("serious_assault_review", "met_late", "2025-04-03 09:00", "2025-04-04 03:00",
     "2025-04-04 07:30", "awaiting_information"),
    ("traffic_unit_contact", "met", "2025-04-05 09:00", "2025-04-19 09:00", "2025-04-06 09:00",
     None),
)  # fmt: skip


def add_long_named_case(sessions: sessionmaker[Session]) -> None:
    """A case with the longest names, its transitions and alerts, summarised as the service
    would; it widens every table the CLI prints."""
    with sessions.begin() as session:
        case = open_case(LONG_REFERENCE, LONG_BOROUGH, "domestic_abuse", at("2025-04-01 09:00"))
        session.add(case)
        session.flush()
        for standard, state, start, due, met, reason in LONG_NAMED:
            late = state in ("breached", "met_late")
            obligation = models.Obligation(
                case_id=case.id,
                key=f"{standard}#1",
                standard=standard,
                occurrence=1,
                state=state,
                borough=LONG_BOROUGH,
                category="domestic_abuse",
                started_at=at(start),
                due_at=at(due),
                met_at=at(met) if met else None,
                breached_at=at(due) if late else None,
                explanation_reason=reason,
                explained_at=at(due) + timedelta(hours=1) if reason else None,
                window_amount=1,
                window_unit="days",
            )
            session.add(obligation)
            session.flush()
            session.add(
                models.ObligationTransition(
                    obligation_id=obligation.id,
                    case_id=case.id,
                    seq=1,
                    event="started",
                    state="pending",
                    at=at(start) + timedelta(microseconds=123456),
                    cause="opened by the crime recording system with enhanced rights",
                )
            )
            if late:
                session.add(
                    models.Alert(
                        case_id=case.id,
                        reference=LONG_REFERENCE,
                        borough=LONG_BOROUGH,
                        standard=standard,
                        obligation_key=obligation.key,
                        kind="manual_contact_required",
                        at=at(due) + timedelta(seconds=1, microseconds=654321),
                        due_at=at(due),
                        detail="the victim could not be reached by any channel",
                        recipient_role="manager",
                    )
                )
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


def run(
    sessions: sessionmaker[Session], by: tuple[str, ...], as_of: datetime = AS_OF
) -> ComplianceReport:
    with sessions() as session:
        return compliance_report(session, START, END, by, as_of)


def raw_count(rows: list[models.Obligation]) -> dict[str, object]:
    """Every figure of the report for these obligations, counted in plain Python."""
    met = [o for o in rows if o.state in ("met", "met_late") and o.met_at is not None]
    seconds = [round((o.met_at - o.started_at).total_seconds()) for o in met if o.met_at]
    windows = [round((o.due_at - o.started_at).total_seconds()) for o in met]
    shares = [s / w for s, w in zip(seconds, windows, strict=True)]
    reasons: dict[str, int] = {}
    for o in rows:
        if o.state in ("breached", "met_late"):
            name = o.explanation_reason or "unexplained"
            reasons[name] = reasons.get(name, 0) + 1
    on_time = sum(o.state == "met" for o in rows)
    median, p90 = nearest_rank(seconds, 50), nearest_rank(seconds, 90)
    return {
        "due": len(rows),
        "met_on_time": on_time,
        "met_late": sum(o.state == "met_late" for o in rows),
        "breached": sum(o.state == "breached" for o in rows),
        "awaiting_breach": sum(o.state == "pending" for o in rows),
        "on_time_rate": on_time / len(rows) if rows else None,
        "median_hours": None if median is None else median / 3600,
        "p90_hours": None if p90 is None else p90 / 3600,
        "median_share": nearest_rank(shares, 50),
        "p90_share": nearest_rank(shares, 90),
        "reasons": reasons,
    }
