"""Staff email kept on this machine: the local outbox for alert emails in development.

With no SMTP server configured and every channel on the local outbox (`make run`), the
alert mailer hands its emails here instead of nowhere: each is written as the very
message SMTP would have carried (`adapters.smtp.build_email`), one `.eml` file per
idempotency key in a folder under the data directory, so a resend overwrites its own
file rather than adding a copy. `/dev/outbox` lists the newest beside the victims'
messages. Victims' messages stay in the outbox table; a staff email is never written
there, where the victim's own pages read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from adapters.delivery import DeliveryReceipt, Envelope, TransientDeliveryError
from adapters.smtp import SmtpSettings, build_email
from standards.vocabulary import MessageStatus

SUFFIX = ".eml"


def mail_drop_dir(data_dir: Path) -> Path:
    """Where the local mail drop keeps staff emails: one folder under the data directory."""
    return data_dir / "outbox" / "staff"


def _file_name(idempotency_key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", idempotency_key) + SUFFIX


class LocalMailDrop:
    """A delivery backend for staff email that keeps each message as a file: delivered."""

    IN_HOUSE = True

    def __init__(self, directory: Path, mail_from: str, reply_to: str | None = None) -> None:
        self._directory = directory
        # Only the headers are read from it: nothing connects anywhere.
        self._headers = SmtpSettings(host="", mail_from=mail_from, reply_to=reply_to)

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        path = self._directory / _file_name(envelope.idempotency_key)
        partial = path.with_suffix(".partial")
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(build_email(envelope, self._headers).as_bytes())
            partial.replace(path)  # whole or not at all, for a page reading meanwhile
        except OSError as error:
            # Not the recipient's fault: the alert stays unsent for the next sweep.
            raise TransientDeliveryError(
                f"the local mail drop cannot write {path}: {error.strerror}; make "
                "PLEDGE_DATA_DIR writable, or configure a mail server with PLEDGE_SMTP_HOST"
            ) from error
        return DeliveryReceipt(status=MessageStatus.DELIVERED, provider_id=f"file:{path.name}")

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        path = self._directory / _file_name(envelope.idempotency_key)
        if not path.exists():
            return None
        return DeliveryReceipt(status=MessageStatus.DELIVERED, provider_id=f"file:{path.name}")


@dataclass(frozen=True)
class DroppedMail:
    at: datetime
    recipient: str
    subject: str
    body: str


def newest_mail(directory: Path, limit: int) -> list[DroppedMail]:
    """The newest `limit` emails in the drop, newest first; none when it does not exist."""
    if not directory.is_dir():
        return []
    paths = sorted(
        directory.glob(f"*{SUFFIX}"), key=lambda path: path.stat().st_mtime, reverse=True
    )
    found: list[DroppedMail] = []
    for path in paths[:limit]:
        with path.open("rb") as handle:
            email = BytesParser(policy=policy.default).parse(handle)
        assert isinstance(email, EmailMessage)
        body = email.get_body(("plain",))
        date = email["Date"]
        found.append(
            DroppedMail(
                at=parsedate_to_datetime(date) if date else datetime.fromtimestamp(0, UTC),
                recipient=str(email["To"] or ""),
                subject=str(email["Subject"] or ""),
                body=body.get_content() if isinstance(body, EmailMessage) else "",
            )
        )
    return found
