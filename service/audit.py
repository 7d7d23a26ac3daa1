"""The record of accepted API writes, and the first outcome a retried write gets again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage import models


@dataclass(frozen=True)
class AuditEntry:
    """What is kept of a write: never the request body or anyone's contact details."""

    token_name: str
    route: str
    reference: str
    outcome: str
    status_code: int
    # The client's event id, or a digest of the body: how a retry is recognised.
    request_key: str
    receipt: dict[str, Any] | None = None


def record_write(sessions: sessionmaker[Session], entry: AuditEntry) -> None:
    try:
        with sessions.begin() as session:
            session.add(
                models.ApiAuditRecord(
                    token_name=entry.token_name,
                    route=entry.route,
                    reference=entry.reference,
                    outcome=entry.outcome,
                    status_code=entry.status_code,
                    request_key=entry.request_key,
                    receipt=entry.receipt,
                )
            )
    except IntegrityError:
        # The same request, recorded by a concurrent retry: the first record stands.
        pass


def first_outcome(
    sessions: sessionmaker[Session], route: str, reference: str, request_key: str
) -> AuditEntry | None:
    with sessions() as session:
        row = session.scalar(
            select(models.ApiAuditRecord).where(
                models.ApiAuditRecord.route == route,
                models.ApiAuditRecord.reference == reference,
                models.ApiAuditRecord.request_key == request_key,
            )
        )
        if row is None:
            return None
        return AuditEntry(
            token_name=row.token_name,
            route=row.route,
            reference=row.reference,
            outcome=row.outcome,
            status_code=row.status_code,
            request_key=row.request_key,
            receipt=row.receipt,
        )
