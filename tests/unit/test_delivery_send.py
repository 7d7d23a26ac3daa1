"""The send path (delivery.send) over the in-memory outbox: the channel, the fallback, the
row and its key, the hand-over and the outcome, as every send takes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from adapters.delivery import (
    FLAKY_FAILURES,
    FLAKY_NUMBER,
    INVALID_NUMBER,
    OPTED_OUT_NUMBER,
    DeliveryBackend,
    DeliveryReceipt,
    Envelope,
    LocalOutbox,
    SimulatedSms,
)
from delivery.outbox import MemoryOutbox
from delivery.send import CaseMessage, send_message
from messaging.rendering import RenderedMessage
from standards.contact import ContactProfile
from standards.delivery import FIRST_RETRY_AFTER, DeliveryStatus, outbox_key
from standards.vocabulary import Channel, MessageStatus

AT = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
EMAIL = "victim@example.org"
PHONE = "+447700900123"


@dataclass
class Renderer:
    """Writes a message per channel and counts how often it was asked."""

    calls: list[Channel] = field(default_factory=list)

    def __call__(self, channel: Channel) -> RenderedMessage:
        self.calls.append(channel)
        subject = "Your case" if channel == Channel.EMAIL else None
        return RenderedMessage(
            template="acknowledgement",
            channel=channel,
            subject=subject,
            text=f"by {channel.value}",
            html=None,
        )


def message(
    renderer: Renderer,
    *,
    phone: str | None = PHONE,
    at: datetime = AT,
    do_not_contact: bool = False,
    safe_hours: tuple[time, time] | None = None,
) -> CaseMessage:
    return CaseMessage(
        intent_key="01/7/26|acknowledgement|1",
        at=at,
        excluded_channels=[],
        profile=ContactProfile(
            preferred_channel=Channel.SMS,
            allowed_channels=[Channel.SMS, Channel.EMAIL],
            has_email=True,
            has_phone=phone is not None,
            do_not_contact=do_not_contact,
            safe_hours_start=safe_hours[0] if safe_hours else None,
            safe_hours_end=safe_hours[1] if safe_hours else None,
        ),
        email=EMAIL,
        phone=phone,
        render=renderer,
        obligation_key="acknowledgement#1",
    )


def backends() -> dict[Channel, DeliveryBackend]:
    return {Channel.SMS: SimulatedSms(), Channel.EMAIL: LocalOutbox()}


def test_a_message_is_rendered_for_the_preferred_channel_kept_under_its_key_and_delivered() -> None:
    outbox, renderer = MemoryOutbox(), Renderer()
    outcome = send_message(outbox, message(renderer), backends())
    assert outcome.status == DeliveryStatus.DELIVERED
    assert outcome.channel == Channel.SMS
    assert renderer.calls == [Channel.SMS]
    [row] = outbox.rows.values()
    assert row.key == outbox_key("01/7/26|acknowledgement|1", Channel.SMS)
    assert (row.recipient, row.body, row.status) == (PHONE, "by sms", MessageStatus.DELIVERED)
    assert (row.attempts, row.sent_at, row.delivered_at) == (1, AT, AT)
    assert row.obligation_key == "acknowledgement#1"


def test_a_permanent_sms_failure_falls_back_to_email_and_names_the_channel_that_failed() -> None:
    outbox, renderer = MemoryOutbox(), Renderer()
    outcome = send_message(outbox, message(renderer, phone=INVALID_NUMBER), backends())
    assert outcome.status == DeliveryStatus.DELIVERED
    assert outcome.channel == Channel.EMAIL
    assert outcome.fell_back_from == Channel.SMS
    assert outcome.error is not None and "invalid" in outcome.error
    statuses = [(row.channel, row.status) for row in outbox.rows.values()]
    assert statuses == [
        (Channel.SMS, MessageStatus.FAILED),
        (Channel.EMAIL, MessageStatus.DELIVERED),
    ]
    assert outbox.rows[outbox_key("01/7/26|acknowledgement|1", Channel.EMAIL)].subject == (
        "Your case"
    )


def test_a_temporary_failure_waits_a_doubling_while_and_the_retry_sends_the_same_row() -> None:
    outbox, renderer, sends = MemoryOutbox(), Renderer(), backends()
    first = send_message(outbox, message(renderer, phone=FLAKY_NUMBER), sends)
    assert first.status == DeliveryStatus.DEFERRED
    assert first.retry_at == AT + FIRST_RETRY_AFTER
    [row] = outbox.rows.values()
    assert (row.status, row.sent_at) == (MessageStatus.QUEUED, None)
    assert row.error is not None and row.error.startswith("temporary failure, will retry")
    second = send_message(outbox, message(renderer, phone=FLAKY_NUMBER, at=AT), sends)
    assert second.retry_at == AT + 2 * FIRST_RETRY_AFTER
    for _ in range(FLAKY_FAILURES - 1):
        last = send_message(outbox, message(renderer, phone=FLAKY_NUMBER), sends)
    assert last.status == DeliveryStatus.DELIVERED
    assert list(outbox.rows.values()) == [row]
    # Read afresh: the row's error was narrowed to a string above.
    kept = outbox.rows[row.key]
    assert (kept.attempts, kept.error) == (FLAKY_FAILURES + 1, None)
    assert renderer.calls == [Channel.SMS]


def test_a_message_already_delivered_is_neither_rendered_nor_sent_again() -> None:
    outbox, renderer = MemoryOutbox(), Renderer()
    send_message(outbox, message(renderer), backends())
    again = send_message(outbox, message(renderer), backends())
    assert again.status == DeliveryStatus.DELIVERED
    assert renderer.calls == [Channel.SMS]
    assert [row.attempts for row in outbox.rows.values()] == [1]


def test_outside_the_safe_hours_nothing_is_written_and_the_message_waits_for_them() -> None:
    outbox, renderer = MemoryOutbox(), Renderer()
    # 11:00 UTC is noon in London in June; the victim may be reached from 18:00.
    evening = (time(18, 0), time(21, 0))
    outcome = send_message(outbox, message(renderer, safe_hours=evening), backends())
    assert outcome.status == DeliveryStatus.DEFERRED
    assert outcome.retry_at == datetime(2026, 6, 1, 17, 0, tzinfo=UTC)
    assert outbox.rows == {}
    assert renderer.calls == []


def test_a_victim_who_asked_not_to_be_contacted_gets_nothing_and_the_outcome_says_so() -> None:
    outbox, renderer = MemoryOutbox(), Renderer()
    outcome = send_message(outbox, message(renderer, do_not_contact=True), backends())
    assert outcome.status == DeliveryStatus.NOT_ALLOWED
    assert outcome.error == "the victim asked not to be contacted automatically"
    assert outbox.rows == {}


def test_a_provider_that_reports_a_stop_opts_the_victim_out_of_sms() -> None:
    outbox = MemoryOutbox()
    outcome = send_message(outbox, message(Renderer(), phone=OPTED_OUT_NUMBER), backends())
    assert outbox.sms_opted_out
    assert outcome.channel == Channel.EMAIL
    assert outcome.fell_back_from == Channel.SMS


@dataclass
class OutsideProvider:
    """An outside provider: it notes whether the hand-over mark was durable when called,
    and knows what it has received."""

    outbox: CountingOutbox
    marks_seen: list[int] = field(default_factory=list)
    received: dict[str, DeliveryReceipt] = field(default_factory=dict)

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        self.marks_seen.append(self.outbox.marks)
        receipt = DeliveryReceipt(status=MessageStatus.SENT, provider_id="SM1")
        self.received[envelope.idempotency_key] = receipt
        return receipt

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        return self.received.get(envelope.idempotency_key)


@dataclass
class CountingOutbox(MemoryOutbox):
    marks: int = 0

    def mark(self) -> None:
        self.marks += 1


def test_an_outside_provider_is_called_only_after_the_hand_over_mark_is_made_durable() -> None:
    outbox = CountingOutbox()
    provider = OutsideProvider(outbox)
    sends: dict[Channel, DeliveryBackend] = {Channel.SMS: provider, Channel.EMAIL: LocalOutbox()}
    outcome = send_message(outbox, message(Renderer()), sends)
    assert provider.marks_seen == [1]
    assert outcome.status == DeliveryStatus.PENDING
    [row] = outbox.rows.values()
    assert (row.status, row.provider_id) == (MessageStatus.SENT, "SM1")


def test_a_row_a_lost_attempt_handed_over_is_recovered_from_the_provider_not_sent_again() -> None:
    outbox = CountingOutbox()
    provider = OutsideProvider(outbox)
    sends: dict[Channel, DeliveryBackend] = {Channel.SMS: provider, Channel.EMAIL: LocalOutbox()}
    send_message(outbox, message(Renderer()), sends)
    # The attempt died before its receipt was kept: the row is still queued, handed over.
    [row] = outbox.rows.values()
    row.status = MessageStatus.QUEUED
    later = AT + timedelta(minutes=1)
    outcome = send_message(outbox, message(Renderer(), at=later), sends)
    assert outcome.status == DeliveryStatus.PENDING
    assert provider.marks_seen == [1]
    assert (row.attempts, row.status) == (1, MessageStatus.SENT)
