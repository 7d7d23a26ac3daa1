"""The outbox port: where the send path keeps one channel's copy of a message.

The path (`delivery.send`) reads and stamps a row through `OutboxRow` and writes it
through `Outbox`; it never knows where the row lives. Two outboxes implement the port:
the database's (`storage.outbox.SqlOutbox`, used by the activities and the sign-in
code's send, over `storage.models.OutboxMessage`) and the rehearsal's, in memory
(`MemoryOutbox`, below, used by the in-process engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from standards.vocabulary import DEFAULT_LANGUAGE, MessageStatus


class OutboxRow(Protocol):
    """One channel's copy of a message as the path sees it; what it stamps is settable."""

    @property
    def channel(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def body(self) -> str: ...
    @property
    def html_body(self) -> str | None: ...
    @property
    def language(self) -> str: ...
    @property
    def fallback_from(self) -> str | None: ...
    # Written only through `Outbox.settle`, so each outbox keeps it in its own type.
    @property
    def status(self) -> str: ...

    error: str | None
    # The hand-over mark: set before the backend is called, cleared if it refused for now.
    sent_at: datetime | None
    attempts: int
    provider_id: str | None
    delivered_at: datetime | None


Row = TypeVar("Row", bound=OutboxRow)


class Outbox(Protocol[Row]):
    """Where one case's rows are kept; every write the send path makes goes through here."""

    def find(self, key: str) -> Row | None:
        """The row with this idempotency key, if an earlier attempt wrote it."""
        ...

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
    ) -> Row:
        """A new row, queued and not yet sent (kept with the next `mark` or `settle`)."""
        ...

    def mark(self) -> None:
        """Make the rows' hand-over marks durable now, before an outside provider is called."""
        ...

    def settle(self, row: Row, status: MessageStatus | None) -> None:
        """Write the end of an attempt: the backend's status, or None (still queued)."""
        ...

    def opt_out_of_sms(self) -> None:
        """The provider has the victim's STOP on record: no later message tries SMS."""
        ...


@dataclass
class MemoryRow:
    """A row of the in-memory outbox; `seq` is its place in the case's outbox."""

    key: str
    seq: int
    created_at: datetime
    channel: str
    recipient: str
    template: str
    body: str
    subject: str | None = None
    html_body: str | None = None
    obligation_key: str | None = None
    language: str = DEFAULT_LANGUAGE
    fallback_from: str | None = None
    status: MessageStatus = MessageStatus.QUEUED
    error: str | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    provider_id: str | None = None
    delivered_at: datetime | None = None


@dataclass
class MemoryOutbox:
    """An outbox in memory: nothing to commit, so `mark` does nothing; the rows are the record."""

    rows: dict[str, MemoryRow] = field(default_factory=dict)
    sms_opted_out: bool = False

    def find(self, key: str) -> MemoryRow | None:
        return self.rows.get(key)

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
    ) -> MemoryRow:
        row = MemoryRow(
            key=key,
            seq=len(self.rows),
            created_at=created_at,
            channel=channel,
            recipient=recipient,
            template=template,
            body=body,
            subject=subject,
            html_body=html_body,
            obligation_key=obligation_key,
            language=language,
            fallback_from=fallback_from,
        )
        self.rows[key] = row
        return row

    def mark(self) -> None:
        pass

    def settle(self, row: MemoryRow, status: MessageStatus | None) -> None:
        if status is not None:
            row.status = status

    def opt_out_of_sms(self) -> None:
        self.sms_opted_out = True


def language_fields(row: OutboxRow) -> list[tuple[str, str]]:
    """A message's language and the one it fell back from, as a rehearsal's output gives
    them (both engines): nothing for a message in English to an English reader, so the
    output of an all-English scenario is as it was."""
    fields = []
    if row.language != DEFAULT_LANGUAGE or row.fallback_from is not None:
        fields.append(("language", row.language))
    if row.fallback_from is not None:
        fields.append(("fallback_from", row.fallback_from))
    return fields
