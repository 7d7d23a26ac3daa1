"""Persisting what a case's clocks did: obligations, their transitions, alerts.

Every write is idempotent (keyed by obligation key, transition sequence number
and alert kind), so a retried activity records nothing twice.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from reporting.summary import SummaryKey, refresh_report_summary, summary_key
from standards.obligations import Alert, AlertKind, Obligation
from storage import models
from storage.enums import RecipientRole
from workflows.contracts import RECORD_CASE_CHANGES, CaseChanges, RecordResult

OBLIGATION_FIELDS = (
    "state",
    "started_at",
    "due_at",
    "warn_at",
    "escalate_at",
    "warned_at",
    "breached_at",
    "escalated_at",
    "met_at",
    "cancelled_at",
    "window_amount",
    "window_unit",
    "explanation_reason",
    "explanation_text",
    "explained_at",
)


class UnknownCase(LookupError):
    pass


def find_case(session: Session, reference: str) -> models.Case:
    case = session.scalar(select(models.Case).where(models.Case.reference == reference))
    if case is None:
        raise UnknownCase(f"no case with reference {reference!r}")
    return case


def recipient_role(kind: AlertKind) -> RecipientRole:
    return RecipientRole.MANAGER if kind == AlertKind.ESCALATION else RecipientRole.VFU


class CaseRecordActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name=RECORD_CASE_CHANGES)
    def record_case_changes(self, changes: CaseChanges) -> RecordResult:
        with self._sessions.begin() as session:
            case = find_case(session, changes.reference)
            case.status = changes.status
            case.closed_at = changes.closed_at
            if case.victim is not None:
                case.victim.update_interval_days = changes.update_interval_days
                case.victim.updates_paused = changes.updates_paused
            self._write_obligations(session, case, changes.obligations)
            raised = self._write_alerts(session, case, changes.alerts)
        return RecordResult(obligations_written=len(changes.obligations), alerts_raised=raised)

    def _write_obligations(
        self, session: Session, case: models.Case, obligations: list[Obligation]
    ) -> None:
        if not obligations:
            return
        keys = [o.key for o in obligations]
        rows = {
            row.key: row
            for row in session.scalars(
                select(models.Obligation).where(
                    models.Obligation.case_id == case.id, models.Obligation.key.in_(keys)
                )
            )
        }
        # The report summary rows this write changes: each row's key before and after.
        touched: set[SummaryKey] = {
            summary_key(row.due_at, row.standard, row.borough, row.category)
            for row in rows.values()
        }
        for obligation in obligations:
            row = rows.get(obligation.key)
            if row is None:
                row = models.Obligation(
                    case_id=case.id,
                    key=obligation.key,
                    standard=obligation.standard,
                    occurrence=obligation.occurrence,
                    borough=case.borough,
                    category=case.category,
                )
                session.add(row)
                rows[obligation.key] = row
            for name in OBLIGATION_FIELDS:
                setattr(row, name, getattr(obligation, name))
            touched.add(summary_key(row.due_at, row.standard, row.borough, row.category))
        session.flush()
        refresh_report_summary(session, touched)
        recorded: dict[int, int] = {
            obligation_id: count
            for obligation_id, count in session.execute(
                select(
                    models.ObligationTransition.obligation_id,
                    func.count(models.ObligationTransition.id),
                )
                .where(
                    models.ObligationTransition.obligation_id.in_([row.id for row in rows.values()])
                )
                .group_by(models.ObligationTransition.obligation_id)
            )
        }
        for obligation in obligations:
            row = rows[obligation.key]
            for seq in range(recorded.get(row.id, 0), len(obligation.history)):
                step = obligation.history[seq]
                session.add(
                    models.ObligationTransition(
                        obligation_id=row.id,
                        case_id=case.id,
                        seq=seq,
                        event=step.event,
                        state=step.state,
                        at=step.at,
                        cause=step.cause,
                    )
                )

    def _write_alerts(self, session: Session, case: models.Case, alerts: list[Alert]) -> int:
        if not alerts:
            return 0
        existing: set[tuple[str, str]] = {
            (key, kind)
            for key, kind in session.execute(
                select(models.Alert.obligation_key, models.Alert.kind).where(
                    models.Alert.case_id == case.id,
                    models.Alert.obligation_key.in_([a.obligation_key for a in alerts]),
                )
            )
        }
        raised = 0
        for alert in alerts:
            if (alert.obligation_key, alert.kind.value) in existing:
                continue
            existing.add((alert.obligation_key, alert.kind.value))
            session.add(
                models.Alert(
                    case_id=case.id,
                    reference=case.reference,
                    borough=case.borough,
                    standard=alert.standard,
                    obligation_key=alert.obligation_key,
                    kind=alert.kind,
                    at=alert.at,
                    due_at=alert.due_at,
                    detail=alert.detail,
                    recipient_role=recipient_role(alert.kind),
                )
            )
            raised += 1
        return raised
