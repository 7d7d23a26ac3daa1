"""Erasing the contact profiles of cases closed longer than the retention period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from standards.case_state import CaseStatus
from standards.contracts import ERASE_EXPIRED_CONTACTS, ErasureBatch, ErasureBatchResult
from storage import models, victim_models

# What an erased message keeps in place of its recipient and text.
ERASED = "[erased]"


class RetentionActivities:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name=ERASE_EXPIRED_CONTACTS)
    def erase_expired_contacts(self, batch: ErasureBatch) -> ErasureBatchResult:
        """Erase up to `batch.limit` cases' contact profiles in one transaction.

        Idempotent: an erased case has no victim row, so a retry finds only the rest.
        """
        with self._sessions.begin() as session:
            due = session.execute(
                select(models.Case.id, models.Case.closed_at)
                .join(models.Victim, models.Victim.case_id == models.Case.id)
                .where(
                    models.Case.status == CaseStatus.CLOSED,
                    models.Case.closed_at < batch.closed_before,
                )
                .order_by(models.Case.id)
                .limit(batch.limit + 1)
            ).all()
            chosen = [(case_id, closed_at) for case_id, closed_at in due[: batch.limit]]
            case_ids = [case_id for case_id, _ in chosen]
            if case_ids:
                _erase(session, chosen, batch)
        return ErasureBatchResult(erased=len(case_ids), more=len(due) > batch.limit)


def _erase(
    session: Session, chosen: Sequence[tuple[int, datetime | None]], batch: ErasureBatch
) -> None:
    case_ids = [case_id for case_id, _ in chosen]
    counted = session.execute(
        select(models.OutboxMessage.case_id, func.count())
        .where(models.OutboxMessage.case_id.in_(case_ids))
        .group_by(models.OutboxMessage.case_id)
    )
    messages: Counter[int] = Counter({case_id: count for case_id, count in counted})
    session.execute(
        update(models.OutboxMessage)
        .where(models.OutboxMessage.case_id.in_(case_ids))
        .values(recipient=ERASED, subject=None, body=ERASED, html_body=None, error=None)
    )
    session.execute(delete(models.Victim).where(models.Victim.case_id.in_(case_ids)))
    # What staff wrote about the victim goes with the victim's details.
    session.execute(
        update(models.CaseEventRecord)
        .where(models.CaseEventRecord.case_id.in_(case_ids))
        .values(note=None)
    )
    # A victim's ways back in go with their contact details (they hold only digests,
    # but nothing is left that could lead to the person).
    for table in (victim_models.VictimSession, victim_models.VictimSignInCode):
        session.execute(delete(table).where(table.case_id.in_(case_ids)))
    session.execute(
        insert(models.ContactErasure),
        [
            {
                "case_id": case_id,
                "closed_at": closed_at,
                "erased_at": batch.erased_at,
                "retention_days": batch.retention_days,
                "messages_scrubbed": messages[case_id],
            }
            for case_id, closed_at in chosen
        ],
    )
