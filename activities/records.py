"""The record activity: what a case's clocks did, written through storage.case_records.

Every write is idempotent (keyed by obligation key, transition sequence number and alert
kind), so a retried activity records nothing twice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from standards.contracts import RECORD_CASE_CHANGES, CaseChanges, RecordResult
from storage.case_records import write_case_changes


class CaseRecordActivities:
    """Writes a case's changes with plain statements, several rows per statement.

    This runs after almost every step of every case, so it avoids the ORM's
    per-object bookkeeping; each write is still one transaction.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name=RECORD_CASE_CHANGES)
    def record_case_changes(self, changes: CaseChanges) -> RecordResult:
        with self._sessions.begin() as session:
            raised = write_case_changes(session.connection(), changes)
        return RecordResult(obligations_written=len(changes.obligations), alerts_raised=raised)
