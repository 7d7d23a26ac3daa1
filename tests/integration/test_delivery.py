"""MessageActivities over fake backends: exactly once, retries, fallback and opt-outs.

Also home to the small helpers the SMTP, Twilio and webhook tests share.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activities.delivery import (
    DeliveryBackend,
    DeliveryReceipt,
    Envelope,
    LocalOutbox,
    TransientDeliveryError,
)
from activities.messages import MessageActivities, MessageSettings
from activities.rendering import DEFAULT_TEMPLATE_DIR, Channel, MessageRenderer
from standards.delivery import MessageIntent
from storage import models
from storage.enums import MessageStatus
from workflows.contracts import DeliveryStatus, SendMessage

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


# -- shared helpers ----------------------------------------------------------


def seed_case(
    sessions: sessionmaker[Session],
    *,
    phone: str | None = "+447700900123",
    email: str | None = "alex@example.org",
    preferred_channel: str = "sms",
    allowed_channels: list[str] | None = None,
    safe_hours: tuple[time, time] | None = None,
    do_not_contact: bool = False,
) -> str:
    """A case and its victim written straight to the database; returns the reference."""
    reference = f"T-{uuid.uuid4().hex[:12]}"
    with sessions.begin() as session:
        case = models.Case(
            reference=reference,
            workflow_id=f"case:{reference}",
            category="general",
            borough="Camden",
            vulnerable=False,
            nation="england_and_wales",
            reported_at=AT,
            policy_id="met-pledge",
            policy_version=1,
            status="open",
        )
        session.add(case)
        session.flush()
        session.add(
            models.Victim(
                case_id=case.id,
                name="Alex Smith",
                email=email,
                phone=phone,
                preferred_channel=preferred_channel,
                allowed_channels=allowed_channels or [preferred_channel],
                safe_hours_start=safe_hours[0] if safe_hours else None,
                safe_hours_end=safe_hours[1] if safe_hours else None,
                discreet=False,
                do_not_contact=do_not_contact,
            )
        )
    return reference


def send_request(reference: str, template: str = "acknowledgement", seq: int = 1) -> SendMessage:
    intent = MessageIntent(key=f"{reference}|{template}|{seq}", template=template, at=AT)
    return SendMessage(reference=reference, intent=intent, at=AT, contact_number="101")


def message_activities(
    sessions: sessionmaker[Session],
    backends: dict[Channel, DeliveryBackend],
    status_callback_url: str | None = None,
) -> MessageActivities:
    return MessageActivities(
        sessions,
        MessageRenderer(DEFAULT_TEMPLATE_DIR),
        backends,
        MessageSettings(force_name="Metropolitan Police", status_callback_url=status_callback_url),
    )


def outbox_rows(sessions: sessionmaker[Session], reference: str) -> list[models.OutboxMessage]:
    with sessions() as session:
        return list(
            session.scalars(
                select(models.OutboxMessage)
                .join(models.Case, models.Case.id == models.OutboxMessage.case_id)
                .where(models.Case.reference == reference)
                .order_by(models.OutboxMessage.id)
            )
        )


def victim_of(sessions: sessionmaker[Session], reference: str) -> models.Victim:
    with sessions() as session:
        victim = session.scalar(
            select(models.Victim).join(models.Case).where(models.Case.reference == reference)
        )
        assert victim is not None
        return victim


class WorkerCrashed(RuntimeError):
    """Stands for the worker dying after the provider accepted a message."""


class CrashAfterFirstSend:
    """Hands the first envelope to the real backend, then fails as if the worker died."""

    def __init__(self, inner: DeliveryBackend) -> None:
        self.inner = inner
        self.crashed = False

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        receipt = self.inner.send(envelope)
        if not self.crashed:
            self.crashed = True
            raise WorkerCrashed("the worker died after the send and before recording it")
        return receipt

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        return self.inner.recover(envelope)


# -- fakes -------------------------------------------------------------------


@dataclass
class FakeProvider:
    """Remembers what it accepted; answers with a scripted receipt or error per call."""

    script: list[DeliveryReceipt | Exception] = field(default_factory=list)
    accepted: list[Envelope] = field(default_factory=list)
    calls: int = 0

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        self.calls += 1
        outcome: DeliveryReceipt | Exception = (
            self.script.pop(0)
            if self.script
            else DeliveryReceipt(status=MessageStatus.DELIVERED, provider_id=f"p{self.calls}")
        )
        if isinstance(outcome, Exception):
            raise outcome
        if outcome.status != MessageStatus.FAILED:
            self.accepted.append(envelope)
        return outcome

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        for accepted in self.accepted:
            if accepted.idempotency_key == envelope.idempotency_key:
                return DeliveryReceipt(status=MessageStatus.DELIVERED, provider_id="recovered")
        return None


# -- tests -------------------------------------------------------------------


def test_a_message_retried_after_a_crash_between_send_and_record_is_not_sent_again(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    provider = FakeProvider()
    activities = message_activities(sessions, {Channel.SMS: CrashAfterFirstSend(provider)})
    with pytest.raises(WorkerCrashed):
        activities.send_message(send_request(reference))
    outcome = activities.send_message(send_request(reference))
    assert outcome.status == DeliveryStatus.DELIVERED
    assert len(provider.accepted) == 1 and provider.calls == 1
    (row,) = outbox_rows(sessions, reference)
    assert (row.status, row.attempts, row.provider_id) == ("delivered", 1, "recovered")


def test_a_crash_before_the_provider_got_the_message_sends_it_on_the_retry(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    provider = FakeProvider(script=[WorkerCrashed("died while connecting")])
    activities = message_activities(sessions, {Channel.SMS: provider})
    with pytest.raises(WorkerCrashed):
        activities.send_message(send_request(reference))
    assert activities.send_message(send_request(reference)).status == DeliveryStatus.DELIVERED
    assert len(provider.accepted) == 1
    assert outbox_rows(sessions, reference)[0].attempts == 2


def test_a_temporary_failure_defers_the_message_to_a_retry_on_the_case_clock_and_it_sends(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    provider = FakeProvider(script=[TransientDeliveryError("429 too many requests")])
    activities = message_activities(sessions, {Channel.SMS: provider})
    request = send_request(reference)
    deferred = activities.send_message(request)
    # The case waits on a timer of its own: the first retry two seconds on.
    assert deferred.status == DeliveryStatus.DEFERRED
    assert deferred.retry_at == request.at + timedelta(seconds=2)
    (row,) = outbox_rows(sessions, reference)
    assert row.status == "queued" and row.sent_at is None
    assert row.error is not None and "429" in row.error
    assert activities.send_message(send_request(reference)).status == DeliveryStatus.DELIVERED
    (row,) = outbox_rows(sessions, reference)
    assert (row.status, row.attempts, row.error) == ("delivered", 2, None)


def test_a_sent_message_waits_for_the_provider_and_a_retry_does_not_send_it_again(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    provider = FakeProvider(script=[DeliveryReceipt(MessageStatus.SENT, provider_id="SM1")])
    activities = message_activities(
        sessions, {Channel.SMS: provider}, status_callback_url="https://pledge.example/cb"
    )
    assert activities.send_message(send_request(reference)).status == DeliveryStatus.PENDING
    assert activities.send_message(send_request(reference)).status == DeliveryStatus.PENDING
    assert provider.calls == 1
    assert provider.accepted[0].status_callback == "https://pledge.example/cb"


def test_a_permanent_sms_failure_falls_back_to_email_and_records_why(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions, allowed_channels=["sms", "email"])
    sms = FakeProvider(
        script=[DeliveryReceipt(MessageStatus.FAILED, error="21211: invalid 'To' phone number")]
    )
    email = FakeProvider()
    activities = message_activities(sessions, {Channel.SMS: sms, Channel.EMAIL: email})
    outcome = activities.send_message(send_request(reference))
    assert (outcome.status, outcome.channel) == (DeliveryStatus.DELIVERED, "email")
    assert outcome.fell_back_from == "sms" and outcome.error is not None
    assert "21211" in outcome.error
    rows = outbox_rows(sessions, reference)
    assert [(r.channel, r.status) for r in rows] == [("sms", "failed"), ("email", "delivered")]
    assert rows[0].error == "21211: invalid 'To' phone number"


def test_an_opted_out_number_marks_the_victim_so_later_messages_skip_sms(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions, allowed_channels=["sms", "email"])
    sms = FakeProvider(
        script=[DeliveryReceipt(MessageStatus.FAILED, error="21610: opted out", opted_out=True)]
    )
    email = FakeProvider()
    activities = message_activities(sessions, {Channel.SMS: sms, Channel.EMAIL: email})
    activities.send_message(send_request(reference))
    assert victim_of(sessions, reference).sms_opted_out is True
    outcome = activities.send_message(send_request(reference, "arrest", seq=2))
    assert (outcome.status, outcome.channel, outcome.fell_back_from) == (
        DeliveryStatus.DELIVERED,
        "email",
        None,
    )
    assert sms.calls == 1


def test_no_allowed_channel_left_is_not_allowed_rather_than_failed(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    sms = FakeProvider(script=[DeliveryReceipt(MessageStatus.FAILED, error="21614: landline")])
    activities = message_activities(sessions, {Channel.SMS: sms})
    assert activities.send_message(send_request(reference)).status == DeliveryStatus.FAILED
    request = send_request(reference, "arrest", seq=2)
    request.excluded_channels = ["sms"]
    outcome = activities.send_message(request)
    assert outcome.status == DeliveryStatus.NOT_ALLOWED


def test_do_not_contact_sends_nothing(sessions: sessionmaker[Session]) -> None:
    reference = seed_case(sessions, do_not_contact=True)
    sms = FakeProvider()
    outcome = message_activities(sessions, {Channel.SMS: sms}).send_message(send_request(reference))
    assert outcome.status == DeliveryStatus.NOT_ALLOWED
    assert sms.calls == 0 and outbox_rows(sessions, reference) == []


def test_the_local_outbox_recovers_a_lost_attempt_as_delivered(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    activities = message_activities(sessions, {Channel.SMS: CrashAfterFirstSend(LocalOutbox())})
    with pytest.raises(WorkerCrashed):
        activities.send_message(send_request(reference))
    assert activities.send_message(send_request(reference)).status == DeliveryStatus.DELIVERED
