"""Delivery through the case workflow on the time-skipping server, with real activities.

Safe hours, fallback, do-not-contact, counting only delivered updates (through the
real webhook), and no duplicate when the send activity is retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest_asyncio
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from adapters.delivery import (
    DeliveryBackend,
    DeliveryReceipt,
    Envelope,
    LocalOutbox,
    SimulatedSms,
)
from bootstrap import WorkerParts, build_worker
from config import Settings
from standards.vocabulary import Channel, MessageStatus
from storage import models
from tests.support.delivery import CrashAfterFirstSend, outbox_rows, victim_of
from tests.workflows.conftest import RehearsalFactory
from tests.workflows.test_case_workflow import alerts_of, case_in, event, only, reference
from web.app import STATUS_PATH, create_app

LATE_EVENING = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # GMT: 23:30 in London too
PUBLIC = "https://pledge.example.org"
AUTH_TOKEN = "workflow-webhook-token"
SIGNAL_WAIT_SECONDS = 10.0


class Recording:
    """Passes envelopes to a backend and counts what it accepted."""

    def __init__(self, inner: DeliveryBackend) -> None:
        self.inner = inner
        self.accepted: list[str] = []

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        receipt = self.inner.send(envelope)
        if receipt.status != MessageStatus.FAILED:
            self.accepted.append(envelope.idempotency_key)
        return receipt

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        return self.inner.recover(envelope)


class Switchboard:
    """The worker's backend for one channel; each test plugs in what it needs."""

    def __init__(self, inner: DeliveryBackend) -> None:
        self.inner = inner

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        return self.inner.send(envelope)

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        return self.inner.recover(envelope)


class ProviderThatReportsLater:
    """Like Twilio: accepts with a SID; delivery arrives later on the status callback."""

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        return DeliveryReceipt(status=MessageStatus.SENT, provider_id=self.sid_of(envelope))

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        return None

    @staticmethod
    def sid_of(envelope_or_key: Envelope | str) -> str:
        key = (
            envelope_or_key if isinstance(envelope_or_key, str) else envelope_or_key.idempotency_key
        )
        return "SM" + str(abs(hash(key)))


@dataclass
class Delivery:
    cases: RehearsalFactory
    sms: Switchboard
    email: Switchboard


@pytest_asyncio.fixture
async def delivery(env: Any, sqlite_url: str) -> AsyncIterator[Delivery]:
    factory = RehearsalFactory(env, sqlite_url)
    sms, email = Switchboard(SimulatedSms()), Switchboard(LocalOutbox())
    backends: dict[Channel, DeliveryBackend] = {Channel.SMS: sms, Channel.EMAIL: email}
    parts = WorkerParts(sessions=factory.sessions, backends=backends)
    async with build_worker(env.client, Settings(), parts, task_queue=factory.task_queue):
        try:
            yield Delivery(factory, sms, email)
        finally:
            await factory.terminate_all()
    factory.engine.dispose()


async def open_case(
    cases: RehearsalFactory, reported_at: datetime = LATE_EVENING, **victim: Any
) -> tuple[Any, str]:
    rehearsal = cases.rehearsal(reported_at)
    await rehearsal.begin()
    ref = reference()
    await rehearsal.open(case_in(ref, "general", reported_at, **victim))
    return rehearsal, ref


async def eventually(
    check: Callable[[], Awaitable[bool]], seconds: float = SIGNAL_WAIT_SECONDS
) -> None:
    """Signals are handled asynchronously: wait (bounded) until the case shows the effect."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "the case never showed the expected change"
        await asyncio.sleep(0.05)


async def test_a_message_due_late_at_night_waits_until_safe_hours_open_the_next_morning(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    rehearsal, ref = await open_case(cases, safe_hours="08:00-20:00")
    assert only(await rehearsal.view(ref), "acknowledgement").state == "pending"
    assert outbox_rows(cases.sessions, ref) == []
    opening = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    await rehearsal.advance_to(opening - timedelta(minutes=1))
    assert outbox_rows(cases.sessions, ref) == []
    await rehearsal.advance_to(opening + timedelta(minutes=1))
    (row,) = outbox_rows(cases.sessions, ref)
    assert (row.template, row.created_at, row.status) == ("acknowledgement", opening, "delivered")
    ack = only(await rehearsal.view(ref), "acknowledgement")
    assert (ack.state, ack.met_at) == ("met", opening)


async def test_a_message_waiting_for_safe_hours_goes_at_once_when_the_victim_widens_them(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    rehearsal, ref = await open_case(cases, safe_hours="08:00-20:00")
    assert outbox_rows(cases.sessions, ref) == []
    # The victim says any time is safe now (their page writes it to their record).
    with cases.sessions.begin() as session:
        victim = session.get(models.Victim, victim_of(cases.sessions, ref).id)
        assert victim is not None
        victim.safe_hours_start, victim.safe_hours_end = None, None
    changed_at = LATE_EVENING + timedelta(minutes=5)
    await rehearsal.advance_to(changed_at)
    await rehearsal.post(event(ref, "preferences_changed", changed_at, contact_changed=True))
    (row,) = outbox_rows(cases.sessions, ref)
    assert (row.template, row.status) == ("acknowledgement", "delivered")
    assert row.created_at < datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert only(await rehearsal.view(ref), "acknowledgement").state == "met"


async def test_a_window_that_wraps_past_midnight_holds_a_morning_message_until_the_evening(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    morning = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    rehearsal, ref = await open_case(cases, reported_at=morning, safe_hours="22:00-07:00")
    await rehearsal.advance_to(datetime(2026, 3, 2, 22, 1, tzinfo=UTC))
    (row,) = outbox_rows(cases.sessions, ref)
    assert row.created_at == datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


async def test_an_invalid_number_falls_back_to_email_and_alerts_the_vfu(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    rehearsal, ref = await open_case(
        cases,
        reported_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        phone="+447700900002",
        allowed_channels=["sms", "email"],
    )
    rows = outbox_rows(cases.sessions, ref)
    assert [(r.channel, r.status) for r in rows] == [("sms", "failed"), ("email", "delivered")]
    assert rows[0].error is not None and rows[0].error.startswith("21211")
    assert ("acknowledgement", "delivery_failed") in alerts_of(cases, ref)
    assert only(await rehearsal.view(ref), "acknowledgement").state == "met"


async def test_a_do_not_contact_victim_gets_no_message_and_the_vfu_is_told_to_call(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    rehearsal, ref = await open_case(
        cases, reported_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC), do_not_contact=True
    )
    assert outbox_rows(cases.sessions, ref) == []
    assert alerts_of(cases, ref) == [("acknowledgement", "manual_contact_required")]
    assert only(await rehearsal.view(ref), "acknowledgement").state == "pending"


class Webhook:
    """The real webhook app talking to the real case workflows, on the scenario's clock."""

    def __init__(self, cases: RehearsalFactory) -> None:
        settings = Settings(twilio_auth_token=SecretStr(AUTH_TOKEN), public_base_url=PUBLIC)
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        app = create_app(settings, cases.sessions, cases.env.client, clock=lambda: self.now)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")

    async def status(self, at: datetime, sid: str, status: str, **extra: str) -> None:
        self.now = at
        params = {"MessageSid": sid, "MessageStatus": status, **extra}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + STATUS_PATH, params)
        async with self.http as http:
            response = await http.post(
                STATUS_PATH, data=params, headers={"X-Twilio-Signature": cast(str, signature)}
            )
        assert response.status_code == 204


async def test_an_update_counts_only_once_the_provider_reports_it_delivered(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    delivery.sms.inner = ProviderThatReportsLater()
    reported = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    rehearsal, ref = await open_case(cases, reported_at=reported)
    (row,) = outbox_rows(cases.sessions, ref)
    assert row.status == "sent"
    assert only(await rehearsal.view(ref), "acknowledgement").state == "pending"
    delivered_at = reported + timedelta(hours=2)
    await rehearsal.advance_to(delivered_at)
    await Webhook(cases).status(delivered_at, cast(str, row.provider_id), "delivered")

    await eventually(lambda: _is_met(rehearsal, ref))
    ack = only(await rehearsal.view(ref), "acknowledgement")
    assert ack.met_at == delivered_at
    assert outbox_rows(cases.sessions, ref)[0].delivered_at == delivered_at


async def test_an_sms_reported_undelivered_falls_back_to_email_and_alerts_the_vfu(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    delivery.sms.inner = ProviderThatReportsLater()
    reported = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    rehearsal, ref = await open_case(cases, reported_at=reported, allowed_channels=["sms", "email"])
    (row,) = outbox_rows(cases.sessions, ref)
    failed_at = reported + timedelta(minutes=10)
    await rehearsal.advance_to(failed_at)
    await Webhook(cases).status(
        failed_at, cast(str, row.provider_id), "undelivered", ErrorCode="30005"
    )

    async def fell_back() -> bool:
        return len(outbox_rows(cases.sessions, ref)) == 2

    await eventually(fell_back)
    await eventually(lambda: _is_met(rehearsal, ref))
    rows = outbox_rows(cases.sessions, ref)
    assert [(r.channel, r.status) for r in rows] == [("sms", "undelivered"), ("email", "delivered")]
    assert ("acknowledgement", "delivery_failed") in alerts_of(cases, ref)


async def _is_met(rehearsal: Any, ref: str) -> bool:
    return bool(only(await rehearsal.view(ref), "acknowledgement").state == "met")


async def test_a_send_activity_retried_after_a_crash_does_not_send_a_second_copy(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    provider = Recording(SimulatedSms())
    delivery.sms.inner = CrashAfterFirstSend(provider)
    rehearsal, ref = await open_case(cases, reported_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert len(provider.accepted) == 1
    (row,) = outbox_rows(cases.sessions, ref)
    assert (row.status, row.attempts) == ("delivered", 1)
    assert only(await rehearsal.view(ref), "acknowledgement").state == "met"


async def test_an_opted_out_victim_is_marked_and_later_messages_go_straight_to_email(
    delivery: Delivery,
) -> None:
    cases = delivery.cases
    reported = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    rehearsal, ref = await open_case(
        cases, reported_at=reported, phone="+447700900003", allowed_channels=["sms", "email"]
    )
    assert victim_of(cases.sessions, ref).sms_opted_out is True
    await rehearsal.post(event(ref, "arrest", reported + timedelta(days=1)))
    rows = outbox_rows(cases.sessions, ref)
    assert [(r.template, r.channel) for r in rows] == [
        ("acknowledgement", "sms"),
        ("acknowledgement", "email"),
        ("arrest", "email"),
    ]
