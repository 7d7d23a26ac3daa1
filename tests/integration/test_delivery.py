"""MessageActivities over fake backends: exactly once, retries, fallback and opt-outs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from adapters.delivery import DeliveryReceipt, LocalOutbox, TransientDeliveryError
from standards.contracts import DeliveryStatus
from standards.vocabulary import Channel, MessageStatus
from tests.support.delivery import (
    CrashAfterFirstSend,
    FakeProvider,
    WorkerCrashed,
    message_activities,
    outbox_rows,
    seed_case,
    send_request,
    victim_of,
)


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
