"""The send path: one case message, from the victim's safe channels to its outcome.

Every send takes these steps, on the workflow (activities.messages) and in a rehearsal
(engine.delivery) alike, and the sign-in code's send reuses the ones that are the same
for it (service.victim_sign_in):

1. the channels: the victim's safe channels in order (standards.contact.plan_channels),
   or why none may be used now (NOT_ALLOWED, or DEFERRED to the safe hours);
2. for each channel in turn, falling back on a permanent failure
   (standards.delivery.over_channels), its copy at most once: the outbox row keyed by
   `standards.delivery.outbox_key`, written before the hand-over;
3. the provider seam (adapters.delivery): the row is marked as handed over (`sent_at`),
   the mark made durable before an outside provider is called, then the backend sends;
4. the outcome, decided once from the row (`standards.delivery.outcome_of_row`).

A retry that finds a row handed over but without a receipt cannot know whether the
provider got it, so it asks the backend (`recover`) instead of sending a second copy. A
backend that raises `TransientDeliveryError` knows it was *not* accepted, so the mark is
cleared and the case retries later on its own clock (DEFERRED).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from adapters.delivery import (
    DeliveryBackend,
    DeliveryReceipt,
    Envelope,
    TransientDeliveryError,
    sends_in_house,
)
from delivery.outbox import Outbox, OutboxRow, Row
from messaging.rendering import RenderedMessage
from standards.contact import ContactProfile, plan_channels
from standards.delivery import (
    DeliveryStatus,
    MessageOutcome,
    outbox_key,
    outcome_of_row,
    over_channels,
    retry_instant,
)
from standards.vocabulary import Channel, MessageStatus


@dataclass(frozen=True)
class CaseMessage:
    """One automatic message to send now, with what the path needs to know of its victim.

    `render` writes the message for a channel; it is called only for a copy not yet in
    the outbox, so a retry never renders twice.
    """

    intent_key: str
    at: datetime
    excluded_channels: Sequence[str]
    profile: ContactProfile
    email: str | None
    phone: str | None
    render: Callable[[Channel], RenderedMessage]
    obligation_key: str | None = None


def recipient(channel: Channel, email: str | None, phone: str | None) -> str:
    """Where a channel's copy goes (the plan offers a channel only with its contact)."""
    address = phone if channel == Channel.SMS else email
    assert address is not None
    return address


def send_message(
    outbox: Outbox[Row],
    message: CaseMessage,
    backends: Mapping[Channel, DeliveryBackend],
    status_callback: str | None = None,
) -> MessageOutcome:
    """The outcome of one send (a temporary failure: DEFERRED, tried again on the case's
    clock)."""
    plan = plan_channels(message.profile, message.at, list(message.excluded_channels))
    if plan.blocked is not None:
        return MessageOutcome(status=DeliveryStatus.NOT_ALLOWED, error=plan.blocked)
    if plan.wait_until is not None:
        return MessageOutcome(status=DeliveryStatus.DEFERRED, retry_at=plan.wait_until)
    return over_channels(
        plan.channels,
        lambda channel: _deliver(
            outbox, message, Channel(channel), backends[Channel(channel)], status_callback
        ),
    )


def _deliver(
    outbox: Outbox[Row],
    message: CaseMessage,
    channel: Channel,
    backend: DeliveryBackend,
    status_callback: str | None,
) -> MessageOutcome:
    """Send one channel's copy at most once: QUEUED -> handed over -> the receipt."""
    key = outbox_key(message.intent_key, channel.value)
    row = outbox.find(key)
    if row is not None and row.status != MessageStatus.QUEUED:
        # Sent before: a retry after a crash must not send it again.
        return outcome_of(row)
    if row is None:
        row = add_copy(
            outbox,
            key,
            channel,
            recipient(channel, message.email, message.phone),
            message.render(channel),
            message.obligation_key,
            message.at,
        )
    envelope = Envelope(
        idempotency_key=key,
        channel=channel,
        recipient=row.recipient,
        message=RenderedMessage(
            template=row.template,
            channel=channel,
            subject=row.subject,
            text=row.body,
            html=row.html_body,
            language=row.language,
            fallback_from=row.fallback_from,
        ),
        status_callback=status_callback,
        handed_over_at=row.sent_at,
    )
    if row.sent_at is not None:
        try:
            recovered = backend.recover(envelope)
        except TransientDeliveryError as error:
            return _retry_later(outbox, row, message.at, error)
        if recovered is not None:
            return record(outbox, row, recovered, message.at)
        # The provider never got it: sending now is the first copy.
    try:
        # An in-house send is kept once, with its receipt.
        receipt = hand_over(
            outbox, row, backend, envelope, message.at, mark=not sends_in_house(backend)
        )
    except TransientDeliveryError as error:
        row.sent_at = None
        return _retry_later(outbox, row, message.at, error)
    return record(outbox, row, receipt, message.at)


def add_copy(
    outbox: Outbox[Row],
    key: str,
    channel: Channel,
    to: str,
    kept: RenderedMessage,
    obligation_key: str | None,
    at: datetime,
) -> Row:
    """A channel's copy written to the outbox, queued, with the text `kept` as its record."""
    return outbox.add(
        key=key,
        channel=channel.value,
        recipient=to,
        template=kept.template,
        subject=kept.subject,
        body=kept.text,
        html_body=kept.html,
        obligation_key=obligation_key,
        created_at=at,
        language=kept.language,
        fallback_from=kept.fallback_from,
    )


def hand_over(
    outbox: Outbox[Row],
    row: Row,
    backend: DeliveryBackend,
    envelope: Envelope,
    at: datetime,
    *,
    mark: bool,
) -> DeliveryReceipt:
    """The row marked as handed over at `at` (made durable first if `mark`), then sent.

    Raises `TransientDeliveryError` as the backend does: the caller decides what then."""
    row.attempts += 1
    row.sent_at = at
    row.error = None
    if mark:
        outbox.mark()
    return backend.send(envelope)


def record(outbox: Outbox[Row], row: Row, receipt: DeliveryReceipt, at: datetime) -> MessageOutcome:
    """The backend's receipt written to the row, and what it means to the case book."""
    row.provider_id = receipt.provider_id or row.provider_id
    row.error = receipt.error
    if receipt.status == MessageStatus.DELIVERED:
        row.delivered_at = at
    if receipt.opted_out:
        outbox.opt_out_of_sms()
    outbox.settle(row, receipt.status)
    return outcome_of(row)


def outcome_of(row: OutboxRow) -> MessageOutcome:
    return outcome_of_row(row.status, row.channel, row.error)


def _retry_later(
    outbox: Outbox[Row], row: Row, at: datetime, error: TransientDeliveryError
) -> MessageOutcome:
    row.error = f"temporary failure, will retry: {error}"
    outbox.settle(row, None)
    return MessageOutcome(
        status=DeliveryStatus.DEFERRED,
        channel=row.channel,
        retry_at=retry_instant(at, row.attempts),
        error=row.error,
    )
