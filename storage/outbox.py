"""The database's outbox: one case's `OutboxMessage` rows behind the send path's port.

It implements `delivery.outbox.Outbox` (by shape: storage does not import the layer
above it); the activities and the sign-in code's send hand it to `delivery.send`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from standards.vocabulary import DEFAULT_LANGUAGE, MessageStatus
from storage import models


class SqlOutbox:
    """One case's outbox rows in `session`.

    An attempt's end is written with `settle`: a commit of its own, or a flush into the
    transaction of a caller that records more with it. A hand-over mark (`mark`) is
    always committed, before an outside provider is called.
    """

    def __init__(
        self,
        session: Session,
        case_id: int,
        victim: models.Victim,
        settle: Callable[[], None],
    ) -> None:
        self._session = session
        self._case_id = case_id
        self._victim = victim
        self._settle = settle

    def find(self, key: str) -> models.OutboxMessage | None:
        return self._session.scalar(
            select(models.OutboxMessage).where(models.OutboxMessage.idempotency_key == key)
        )

    def add(
        self,
        *,
        key: str,
        channel: str,
        recipient: str,
        template: str,
        subject: str | None,
        body: str,
        html_body: str | None,
        obligation_key: str | None,
        created_at: datetime,
        language: str = DEFAULT_LANGUAGE,
        fallback_from: str | None = None,
    ) -> models.OutboxMessage:
        row = models.OutboxMessage(
            case_id=self._case_id,
            idempotency_key=key,
            template=template,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            html_body=html_body,
            status=MessageStatus.QUEUED,
            attempts=0,
            obligation_key=obligation_key,
            created_at=created_at,
            language=language,
            fallback_from=fallback_from,
        )
        self._session.add(row)
        return row

    def mark(self) -> None:
        self._session.commit()

    def settle(self, row: models.OutboxMessage, status: MessageStatus | None) -> None:
        if status is not None:
            row.status = status
        self._settle()

    def opt_out_of_sms(self) -> None:
        self._victim.sms_opted_out = True
