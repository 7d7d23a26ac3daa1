"""Persisting what a case's clocks did: obligations, their transitions, alerts.

The record activity (activities/records.py) writes through these, and so do the send
activity, a victim's update request (service/victim_case.py) and the demo's rows. Every
write is idempotent (keyed by obligation key, transition sequence number and alert kind),
so a retried activity records nothing twice.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from standards.contracts import CaseChanges
from standards.obligations import Alert, AlertKind, Obligation
from standards.vocabulary import RecipientRole
from storage import models
from storage.summary import apply_contribution_changes, contributions

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


CASES = cast(Table, models.Case.__table__)
VICTIMS = cast(Table, models.Victim.__table__)
OBLIGATIONS = cast(Table, models.Obligation.__table__)
TRANSITIONS = cast(Table, models.ObligationTransition.__table__)
ALERTS = cast(Table, models.Alert.__table__)


# id, reference, borough, category
CaseRow = Row[int, str, str, str]


def find_case(session: Session, reference: str) -> models.Case:
    case = session.scalar(select(models.Case).where(models.Case.reference == reference))
    if case is None:
        raise models.UnknownCase(reference)
    return case


def recipient_role(kind: AlertKind) -> RecipientRole:
    return RecipientRole.MANAGER if kind == AlertKind.ESCALATION else RecipientRole.VFU


def alert_values(reference: str, borough: str, alert: Alert) -> dict[str, Any]:
    """A new alert's row (but its case's id), for the case with this reference and unit."""
    return {
        "reference": reference,
        "borough": borough,
        "standard": alert.standard,
        "obligation_key": alert.obligation_key,
        "kind": alert.kind.value,
        "at": alert.at,
        "due_at": alert.due_at,
        "detail": alert.detail,
        "recipient_role": recipient_role(alert.kind).value,
    }


def write_case_changes(connection: Connection, changes: CaseChanges) -> int:
    """Write a case's changes in the caller's transaction; returns how many alerts are new."""
    case = _case_row(connection, changes.reference)
    _write_case_state(connection, case.id, changes)
    _write_obligations(connection, case, changes.obligations)
    return _write_alerts(connection, case, changes.alerts)


def record_alerts(
    session_factory: sessionmaker[Session], reference: str, alerts: list[Alert]
) -> int:
    """Record alerts raised outside a case's workflow (a victim's request for an update),
    exactly as the workflow's are: once per (obligation key, kind); returns how many are new.
    The staff alert emails pick them up like any other."""
    with session_factory.begin() as session:
        connection = session.connection()
        return _write_alerts(connection, _case_row(connection, reference), alerts)


def _case_row(connection: Connection, reference: str) -> CaseRow:
    case = connection.execute(
        select(CASES.c.id, CASES.c.reference, CASES.c.borough, CASES.c.category).where(
            CASES.c.reference == reference
        )
    ).first()
    if case is None:
        raise models.UnknownCase(reference)
    return case


def _write_case_state(connection: Connection, case_id: int, changes: CaseChanges) -> None:
    connection.execute(
        update(CASES)
        .where(
            CASES.c.id == case_id,
            or_(
                CASES.c.status != changes.status.value,
                _differs(CASES.c.closed_at, changes.closed_at),
            ),
        )
        .values(status=changes.status.value, closed_at=changes.closed_at)
    )
    connection.execute(
        update(VICTIMS)
        .where(
            VICTIMS.c.case_id == case_id,
            or_(
                _differs(VICTIMS.c.update_interval_days, changes.update_interval_days),
                VICTIMS.c.updates_paused != changes.updates_paused,
            ),
        )
        .values(
            update_interval_days=changes.update_interval_days,
            updates_paused=changes.updates_paused,
        )
    )


def _differs(column: Any, value: Any) -> ColumnElement[bool]:
    return column.is_not(None) if value is None else or_(column.is_(None), column != value)


def _write_obligations(
    connection: Connection, case: CaseRow, obligations: list[Obligation]
) -> None:
    if not obligations:
        return
    ids: dict[str, int] = {
        key: ident
        for ident, key in connection.execute(
            select(OBLIGATIONS.c.id, OBLIGATIONS.c.key).where(
                OBLIGATIONS.c.case_id == case.id,
                OBLIGATIONS.c.key.in_([o.key for o in obligations]),
            )
        )
    }
    before = contributions(connection, ids.values())
    changed = [
        {"obligation_id": ids[o.key], **_obligation_values(o)} for o in obligations if o.key in ids
    ]
    if changed:
        connection.execute(
            update(OBLIGATIONS).where(OBLIGATIONS.c.id == bindparam("obligation_id")), changed
        )
    new = [o for o in obligations if o.key not in ids]
    # Only obligations written before can have transitions recorded already (one
    # transaction writes an obligation and its transitions).
    existing = list(ids.values())
    if new:
        inserted = connection.execute(
            insert(OBLIGATIONS).returning(
                OBLIGATIONS.c.id, OBLIGATIONS.c.key, sort_by_parameter_order=True
            ),
            [
                {
                    "case_id": case.id,
                    "key": o.key,
                    "standard": o.standard,
                    "occurrence": o.occurrence,
                    "borough": case.borough,
                    "category": case.category,
                    **_obligation_values(o),
                }
                for o in new
            ],
        )
        ids.update({key: ident for ident, key in inserted})
    apply_contribution_changes(connection, before, contributions(connection, ids.values()))
    recorded: dict[int, int] = _recorded_transitions(connection, existing)
    transitions = [
        {
            "obligation_id": ids[o.key],
            "case_id": case.id,
            "seq": seq,
            "event": step.event,
            "state": step.state,
            "at": step.at,
            "cause": step.cause,
        }
        for o in obligations
        for seq, step in enumerate(o.history)
        if seq >= recorded.get(ids[o.key], 0)
    ]
    if transitions:
        connection.execute(insert(TRANSITIONS), transitions)


def _recorded_transitions(connection: Connection, obligation_ids: list[int]) -> dict[int, int]:
    """How many transitions each of these obligations has recorded (none: absent)."""
    if not obligation_ids:
        return {}
    return {
        ident: count
        for ident, count in connection.execute(
            select(TRANSITIONS.c.obligation_id, func.count(TRANSITIONS.c.id))
            .where(TRANSITIONS.c.obligation_id.in_(obligation_ids))
            .group_by(TRANSITIONS.c.obligation_id)
        )
    }


def _obligation_values(obligation: Obligation) -> dict[str, Any]:
    return {name: getattr(obligation, name) for name in OBLIGATION_FIELDS}


def _write_alerts(connection: Connection, case: CaseRow, alerts: list[Alert]) -> int:
    if not alerts:
        return 0
    existing: set[tuple[str, str]] = {
        (key, kind)
        for key, kind in connection.execute(
            select(ALERTS.c.obligation_key, ALERTS.c.kind).where(
                ALERTS.c.case_id == case.id,
                ALERTS.c.obligation_key.in_([a.obligation_key for a in alerts]),
            )
        )
    }
    rows: list[dict[str, Any]] = []
    for alert in alerts:
        if (alert.obligation_key, alert.kind.value) in existing:
            continue
        existing.add((alert.obligation_key, alert.kind.value))
        rows.append({"case_id": case.id, **alert_values(case.reference, case.borough, alert)})
    if rows:
        connection.execute(insert(ALERTS), rows)
    return len(rows)
