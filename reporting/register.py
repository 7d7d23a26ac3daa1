"""The breach register, read from recorded history (the per-case timeline is
storage.timeline's: the staff case page reads it too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Connection, case, select
from sqlalchemy.orm import Session

from storage.enums import ObligationState
from storage.models import Case, Obligation
from storage.read_rules import needs_explanation
from storage.timeline import as_connection

# An unexplained breach older than this is the VFU's first job, so it heads the register.
STALE_AFTER: Final = timedelta(hours=48)


@dataclass(frozen=True)
class BreachEntry:
    reference: str
    borough: str
    standard: str
    key: str
    state: str
    due_at: datetime
    late_by: timedelta
    explained: bool
    reason: str | None
    stale_unexplained: bool


def breach_register(
    bind: Connection | Session,
    *,
    borough: str | None = None,
    limit: int | None = None,
    as_of: datetime | None = None,
    standard: str | None = None,
    due_from: datetime | None = None,
    due_before: datetime | None = None,
) -> list[BreachEntry]:
    """Breached and met-late obligations; breaches needing an explanation
    (standards.read_rules.needs_explanation) older than 48 hours first.

    Only deadlines at or before as_of (default now) are listed, so a history that runs
    past today can be read as it stood at an earlier instant. How late: met_at - due_at
    when met late by as_of, as_of - due_at while still unmet then. Within each band the
    longest-overdue come first. ``standard`` and [``due_from``, ``due_before``) narrow it
    to one standard's deadlines, and to a report's period.
    """
    now = (as_of or datetime.now(UTC)).astimezone(UTC)
    stale_before = now - STALE_AFTER
    unexplained = needs_explanation()
    stale = case((unexplained & (Obligation.due_at <= stale_before), 0), else_=1)
    query = (
        select(
            Case.reference,
            Obligation.borough,
            Obligation.standard,
            Obligation.key,
            Obligation.state,
            Obligation.due_at,
            Obligation.met_at,
            Obligation.explanation_reason,
            unexplained.label("unexplained"),
        )
        .join(Case, Case.id == Obligation.case_id)
        .where(
            Obligation.state.in_((ObligationState.BREACHED.value, ObligationState.MET_LATE.value)),
            Obligation.due_at <= now,
        )
        .order_by(stale, Obligation.due_at, Obligation.id)
    )
    if borough:
        query = query.where(Obligation.borough == borough)
    if standard:
        query = query.where(Obligation.standard == standard)
    if due_from is not None:
        query = query.where(Obligation.due_at >= due_from)
    if due_before is not None:
        query = query.where(Obligation.due_at < due_before)
    if limit is not None:
        query = query.limit(limit)
    entries = []
    for row in as_connection(bind).execute(query):
        end = row.met_at if row.met_at is not None and row.met_at <= now else now
        entries.append(
            BreachEntry(
                reference=row.reference,
                borough=row.borough,
                standard=row.standard,
                key=row.key,
                state=row.state,
                due_at=row.due_at,
                late_by=end - row.due_at,
                explained=row.explanation_reason is not None,
                reason=row.explanation_reason,
                stale_unexplained=bool(row.unexplained) and row.due_at <= stale_before,
            )
        )
    return entries
