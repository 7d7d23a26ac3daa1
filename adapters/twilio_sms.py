"""SMS through Twilio's Messages API, with the real `twilio` client.

A created message is only *sent*: Twilio reports delivery later to the status
callback (`web/app.py`), and only then does the update count. Twilio's own
error codes decide what is permanent:

- 21211 invalid number, 21610 opted out (STOP), 21614 not a mobile: permanent,
  the caller falls back to the next channel; 21610 also marks the victim as
  opted out so no later message tries SMS.
- HTTP 429 and 5xx, and a network failure: retried with backoff.
- Any other 4xx is a request Twilio will never accept (a bad sender, a bad
  account): permanent for this message too, with Twilio's code in the error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from adapters.delivery import (
    TWILIO_INVALID_NUMBER,
    TWILIO_NOT_MOBILE,
    TWILIO_OPTED_OUT,
    DeliveryReceipt,
    Envelope,
    TransientDeliveryError,
)
from standards.vocabulary import MessageStatus

DEFAULT_TIMEOUT_SECONDS = 30.0
# Twilio's clock and ours may differ a little; a recovered message may be this much "early".
RECOVERY_CLOCK_SLACK = timedelta(minutes=5)
RECOVERY_LOOKUP_LIMIT = 50

PERMANENT_CODES = {
    TWILIO_INVALID_NUMBER: "invalid 'To' phone number",
    TWILIO_OPTED_OUT: "recipient has opted out (STOP)",
    TWILIO_NOT_MOBILE: "'To' number is not a mobile number",
}

# Twilio's message statuses, folded into the outbox's vocabulary.
TWILIO_STATUS = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    # Tests point the real client at a local server speaking the Messages API.
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        if not (self.from_number or self.messaging_service_sid):
            raise ValueError("Twilio needs a from number or a messaging service SID")


def make_client(settings: TwilioSettings) -> Client:
    client = Client(
        settings.account_sid,
        settings.auth_token,
        http_client=TwilioHttpClient(timeout=settings.timeout),
    )
    if settings.base_url:
        # Every v2010 resource builds its URL from this domain's base URL.
        client.api.base_url = settings.base_url.rstrip("/")
    return client


class TwilioSms:
    def __init__(self, settings: TwilioSettings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client or make_client(settings)

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        options: dict[str, Any] = {"to": envelope.recipient, "body": envelope.message.text}
        if self._settings.messaging_service_sid:
            options["messaging_service_sid"] = self._settings.messaging_service_sid
        else:
            options["from_"] = self._settings.from_number
        if envelope.status_callback:
            options["status_callback"] = envelope.status_callback
        try:
            message = self._client.messages.create(**options)
        except TwilioException as error:
            return _refused(error)
        except requests.RequestException as error:
            raise TransientDeliveryError(f"Twilio unreachable: {error}") from error
        status = TWILIO_STATUS.get(str(message.status), MessageStatus.SENT)
        if status == MessageStatus.QUEUED:
            # Accepted by Twilio; the outbox keeps QUEUED for "not yet handed over".
            status = MessageStatus.SENT
        return _receipt(status, message.sid, message.error_code, message.error_message)

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        """Find the message a lost attempt created, by recipient, body and creation time."""
        try:
            candidates = self._client.messages.list(
                to=envelope.recipient, limit=RECOVERY_LOOKUP_LIMIT
            )
        except TwilioException as error:
            raise TransientDeliveryError(f"Twilio look-up failed: {error}") from error
        except requests.RequestException as error:
            raise TransientDeliveryError(f"Twilio unreachable: {error}") from error
        earliest = (
            envelope.handed_over_at - RECOVERY_CLOCK_SLACK if envelope.handed_over_at else None
        )
        for message in candidates:
            if message.body != envelope.message.text:
                continue
            # A periodic update has the same words every time: only this attempt's counts.
            if earliest is not None and message.date_created and message.date_created < earliest:
                continue
            status = TWILIO_STATUS.get(str(message.status), MessageStatus.SENT)
            if status == MessageStatus.QUEUED:
                status = MessageStatus.SENT
            return _receipt(status, message.sid, message.error_code, message.error_message)
        return None


def _receipt(
    status: MessageStatus, sid: str | None, code: int | None, message: str | None
) -> DeliveryReceipt:
    error = f"{code}: {message or PERMANENT_CODES.get(code, 'failed')}" if code else None
    return DeliveryReceipt(
        status=status, provider_id=sid, error=error, opted_out=code == TWILIO_OPTED_OUT
    )


def _refused(error: TwilioException) -> DeliveryReceipt:
    status = int(getattr(error, "status", 0) or 0)
    code = getattr(error, "code", None)
    detail = getattr(error, "msg", None) or getattr(error, "detail", None) or str(error)
    if isinstance(error, TwilioRestException) and ": " in str(detail):
        # The client prefixes "Unable to create record: "; the provider's words follow.
        detail = str(detail).split(": ", 1)[1]
    if status == 429 or status >= 500 or status == 0:
        raise TransientDeliveryError(f"Twilio HTTP {status} ({code}): {detail}") from error
    return DeliveryReceipt(
        status=MessageStatus.FAILED,
        error=f"{code}: {detail}",
        opted_out=code == TWILIO_OPTED_OUT,
    )
