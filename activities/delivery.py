"""The delivery seam: how a rendered message leaves the building.

The case workflow never knows which backend is in use; `MessageActivities`
hands an `Envelope` to the backend for its channel and records the receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from activities.rendering import Channel, RenderedMessage
from storage.enums import MessageStatus


@dataclass(frozen=True)
class Envelope:
    idempotency_key: str
    channel: Channel
    recipient: str
    message: RenderedMessage
    # Where the provider should report delivery (SMS status callbacks).
    status_callback: str | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    # DELIVERED: done; SENT: the provider reports delivery later; FAILED: permanent.
    status: MessageStatus
    provider_id: str | None = None
    error: str | None = None


class TransientDeliveryError(RuntimeError):
    """Worth retrying later (rate limit, server error, connection refused)."""


class DeliveryBackend(Protocol):
    def send(self, envelope: Envelope) -> DeliveryReceipt: ...


class LocalOutbox:
    """The embedded default: the outbox table is the record, and it counts as delivered."""

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        return DeliveryReceipt(
            status=MessageStatus.DELIVERED, provider_id=f"outbox:{envelope.idempotency_key}"
        )


# A provider's test numbers, for rehearsals: each fails the way its real
# counterpart does, so a scenario can exercise fallback and retries.
INVALID_NUMBER = "+447700900002"
OPTED_OUT_NUMBER = "+447700900003"
FLAKY_NUMBER = "+447700900004"
FLAKY_FAILURES = 2
TWILIO_INVALID_NUMBER = 21211
TWILIO_OPTED_OUT = 21610


class SimulatedSms:
    """SMS for rehearsals: delivers at once, except on the test numbers above."""

    def __init__(self) -> None:
        self._attempts: dict[str, int] = {}

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        if envelope.recipient == INVALID_NUMBER:
            return DeliveryReceipt(
                status=MessageStatus.FAILED,
                error=f"{TWILIO_INVALID_NUMBER}: invalid 'To' phone number",
            )
        if envelope.recipient == OPTED_OUT_NUMBER:
            return DeliveryReceipt(
                status=MessageStatus.FAILED,
                error=f"{TWILIO_OPTED_OUT}: recipient has opted out (STOP)",
            )
        if envelope.recipient == FLAKY_NUMBER:
            seen = self._attempts.get(envelope.idempotency_key, 0) + 1
            self._attempts[envelope.idempotency_key] = seen
            if seen <= FLAKY_FAILURES:
                raise TransientDeliveryError(
                    f"simulated temporary failure {seen} of {FLAKY_FAILURES}"
                )
        return DeliveryReceipt(
            status=MessageStatus.DELIVERED, provider_id=f"sim:{envelope.idempotency_key}"
        )
