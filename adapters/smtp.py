"""Email over SMTP: one connection per message, STARTTLS and login when configured.

SMTP acceptance is the delivery record for email (STANDARDS.md), so an accepted
message comes back DELIVERED. A 5xx on the recipient or the data is permanent:
it will not get better by retrying, and the caller falls back to another
channel. Everything else that goes wrong (4xx, a refused or dropped
connection, our own login or sender being refused) is the server's or our
configuration's problem, not the victim's address, so it is retried with
backoff rather than failed over.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from adapters.delivery import DeliveryReceipt, Envelope, TransientDeliveryError
from standards.vocabulary import MessageStatus

MESSAGE_ID_DOMAIN = "pledge-monitor"
DEFAULT_TIMEOUT_SECONDS = 30.0


def message_id_for(idempotency_key: str) -> str:
    """A Message-ID that is the same on every attempt, so a copy is recognisable as one."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    mail_from: str = "Pledge Monitor <no-reply@pledge.invalid>"
    reply_to: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    # None: the system's trusted CAs, with hostname checks (a private CA may be given here).
    tls_context: ssl.SSLContext | None = None


def build_email(envelope: Envelope, settings: SmtpSettings) -> EmailMessage:
    message = envelope.message
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = envelope.recipient
    if settings.reply_to:
        email["Reply-To"] = settings.reply_to
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = message_id_for(envelope.idempotency_key)
    # Tells mail servers and autoresponders not to answer with out-of-office replies.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpEmail:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        email = build_email(envelope, self._settings)
        message_id = email["Message-ID"]
        try:
            with smtplib.SMTP(
                self._settings.host, self._settings.port, timeout=self._settings.timeout
            ) as smtp:
                smtp.ehlo()
                if self._settings.starttls:
                    smtp.starttls(
                        context=self._settings.tls_context or ssl.create_default_context()
                    )
                    smtp.ehlo()
                if self._settings.username:
                    smtp.login(self._settings.username, self._settings.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            # One recipient per message, so "all refused" is this one.
            code, reply = next(iter(error.recipients.values()))
            return _rejected(code, reply, message_id)
        except smtplib.SMTPDataError as error:
            return _rejected(error.smtp_code, error.smtp_error, message_id)
        except (smtplib.SMTPException, OSError) as error:
            # Connection refused or dropped, timeouts, 4xx greetings, login and
            # sender refusals, no STARTTLS: none is about this victim's address.
            raise TransientDeliveryError(f"SMTP {self._settings.host}: {error}") from error
        return DeliveryReceipt(status=MessageStatus.DELIVERED, provider_id=message_id)

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        # SMTP has no way to ask "did you accept this?". Sending again could give
        # the victim a second copy, so the message is recorded as handed over but
        # unconfirmed: it does not count as delivered, and the obligation's own
        # warning and breach alerts bring it to a person.
        return DeliveryReceipt(
            status=MessageStatus.SENT,
            provider_id=message_id_for(envelope.idempotency_key),
            error="unconfirmed: the attempt that handed this email to the SMTP server was "
            "lost before it recorded the reply; not sent again, to avoid a duplicate",
        )


def _rejected(code: int, reply: bytes | str, message_id: str) -> DeliveryReceipt:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    if 500 <= code < 600:
        return DeliveryReceipt(
            status=MessageStatus.FAILED, provider_id=message_id, error=f"SMTP {code}: {text}"
        )
    raise TransientDeliveryError(f"SMTP {code}: {text}")
