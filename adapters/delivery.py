"""The delivery seam: how a rendered message leaves the building.

The case workflow never knows which backend is in use; the send path
(`delivery.send`) hands an `Envelope` to the backend for its channel and records
the receipt.

Exactly once: the outbox row is marked as handed over (`sent_at`) before
`send` is called. If an attempt dies after that mark and before the receipt is
recorded, the retry calls `recover` instead of sending again; see
`delivery/send.py`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from messaging.rendering import RenderedMessage
from standards.vocabulary import Channel, MessageStatus


@dataclass(frozen=True)
class Envelope:
    idempotency_key: str
    channel: Channel
    recipient: str
    message: RenderedMessage
    # Where the provider should report delivery (SMS status callbacks).
    status_callback: str | None = None
    # For `recover`: when the lost attempt handed the message over.
    handed_over_at: datetime | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    # DELIVERED: done; SENT: the provider reports delivery later; FAILED: permanent.
    status: MessageStatus
    provider_id: str | None = None
    error: str | None = None
    # The provider says the recipient opted out (Twilio 21610): SMS is no longer allowed.
    opted_out: bool = False


class TransientDeliveryError(RuntimeError):
    """Worth retrying later (rate limit, server error, connection refused).

    Raised only when the backend knows the message was *not* accepted, so the
    retry may send it again.
    """


class DeliveryBackend(Protocol):
    def send(self, envelope: Envelope) -> DeliveryReceipt: ...

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        """What became of an envelope an earlier, lost attempt handed over.

        None means the provider certainly never received it (safe to send);
        a receipt means it did (never send again). Raises
        `TransientDeliveryError` if the provider cannot be asked right now.
        """
        ...


def sends_in_house(backend: DeliveryBackend) -> bool:
    """True for a backend whose sends never leave the service (the outbox, a rehearsal's
    SMS): its hand-over needs no mark committed first, so a send is one transaction.
    Any other backend is an outside provider, where the mark is what makes a retry
    after a crash ask the provider instead of sending a second copy."""
    return bool(getattr(backend, "IN_HOUSE", False))


class LocalOutbox:
    """The embedded default: the outbox table is the record, and it counts as delivered."""

    IN_HOUSE = True

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        return DeliveryReceipt(
            status=MessageStatus.DELIVERED, provider_id=f"outbox:{envelope.idempotency_key}"
        )

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        # Nothing leaves the building: the row written before the hand-over is the message.
        return self.send(envelope)


# A provider's test numbers, for rehearsals: each fails the way its real
# counterpart does, so a scenario can exercise fallback and retries.
INVALID_NUMBER = "+447700900002"
OPTED_OUT_NUMBER = "+447700900003"
FLAKY_NUMBER = "+447700900004"
FLAKY_FAILURES = 2
TWILIO_INVALID_NUMBER = 21211
TWILIO_OPTED_OUT = 21610
TWILIO_NOT_MOBILE = 21614


class SimulatedSms:
    """SMS for rehearsals: delivers at once, except on the test numbers above."""

    IN_HOUSE = True

    def __init__(self) -> None:
        self._attempts: dict[str, int] = {}
        self._receipts: dict[str, DeliveryReceipt] = {}
        # Activities run on a thread pool; two cases may share the backend.
        self._lock = threading.Lock()

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        receipt = self._decide(envelope)
        with self._lock:
            self._receipts[envelope.idempotency_key] = receipt
        return receipt

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        with self._lock:
            return self._receipts.get(envelope.idempotency_key)

    def _decide(self, envelope: Envelope) -> DeliveryReceipt:
        if envelope.recipient == INVALID_NUMBER:
            return DeliveryReceipt(
                status=MessageStatus.FAILED,
                error=f"{TWILIO_INVALID_NUMBER}: invalid 'To' phone number",
            )
        if envelope.recipient == OPTED_OUT_NUMBER:
            return DeliveryReceipt(
                status=MessageStatus.FAILED,
                error=f"{TWILIO_OPTED_OUT}: recipient has opted out (STOP)",
                opted_out=True,
            )
        if envelope.recipient == FLAKY_NUMBER:
            with self._lock:
                seen = self._attempts.get(envelope.idempotency_key, 0) + 1
                self._attempts[envelope.idempotency_key] = seen
            if seen <= FLAKY_FAILURES:
                raise TransientDeliveryError(
                    f"simulated temporary failure {seen} of {FLAKY_FAILURES}"
                )
        return DeliveryReceipt(
            status=MessageStatus.DELIVERED, provider_id=f"sim:{envelope.idempotency_key}"
        )
