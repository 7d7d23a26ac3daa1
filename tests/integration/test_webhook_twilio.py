"""The Twilio webhook: signed status callbacks and STOP/START, forged requests refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from config import Settings
from standards.contracts import DeliveryStatus, MessageStatusUpdate
from standards.vocabulary import MessageStatus
from storage import models
from tests.support.delivery import outbox_rows, seed_case, victim_of
from web.app import INBOUND_PATH, STATUS_PATH, create_app

AUTH_TOKEN = "webhook-test-token"
PUBLIC = "https://pledge.example.org"
NOW = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)


@dataclass
class FakeHandle:
    workflow_id: str
    sent: list[tuple[str, Any]]

    async def signal(self, signal: Any, arg: Any) -> None:
        self.sent.append((self.workflow_id, arg))


@dataclass
class FakeTemporal:
    """Stands in for the Temporal client: records the signals the app sends."""

    signals: list[tuple[str, MessageStatusUpdate]] = field(default_factory=list)

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        return FakeHandle(workflow_id, cast(list[tuple[str, Any]], self.signals))


@pytest.fixture
def temporal() -> FakeTemporal:
    return FakeTemporal()


@pytest_asyncio.fixture
async def http(
    sessions: sessionmaker[Session], temporal: FakeTemporal
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(twilio_auth_token=SecretStr(AUTH_TOKEN), public_base_url=PUBLIC)
    app = create_app(settings, sessions, cast(Client, temporal), clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    # The app sees an internal address; signatures are over the public one.
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        yield client


def signature(path: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return cast(str, RequestValidator(token).compute_signature(PUBLIC + path, params))


async def post(
    http: httpx.AsyncClient, path: str, params: dict[str, str], sign: str | None = None
) -> httpx.Response:
    headers = {"X-Twilio-Signature": sign if sign is not None else signature(path, params)}
    return await http.post(path, data=params, headers=headers)


def sent_sms(sessions: sessionmaker[Session], sid: str = "SM0001") -> tuple[str, str]:
    """A case whose acknowledgement SMS Twilio has accepted; returns (reference, intent key)."""
    reference = seed_case(sessions)
    intent_key = f"{reference}|acknowledgement|1"
    with sessions.begin() as session:
        case = session.scalar(select(models.Case).where(models.Case.reference == reference))
        assert case is not None
        session.add(
            models.OutboxMessage(
                case_id=case.id,
                idempotency_key=f"{intent_key}|sms",
                template="acknowledgement",
                channel="sms",
                recipient="+447700900123",
                body="Ref. Call 101.",
                status=MessageStatus.SENT,
                provider_id=sid,
                attempts=1,
            )
        )
    return reference, intent_key


def callback(status: str, sid: str = "SM0001", **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "To": "+447700900123",
        "From": "+447700900999",
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def test_a_signed_delivered_callback_records_delivery_and_tells_the_case(
    http: httpx.AsyncClient, sessions: sessionmaker[Session], temporal: FakeTemporal
) -> None:
    reference, intent_key = sent_sms(sessions)
    response = await post(http, STATUS_PATH, callback("delivered"))
    assert response.status_code == 204
    (row,) = outbox_rows(sessions, reference)
    assert (row.status, row.delivered_at) == ("delivered", NOW)
    assert temporal.signals == [
        (
            f"case:{reference}",
            MessageStatusUpdate(
                key=intent_key, status=DeliveryStatus.DELIVERED, at=NOW, channel="sms"
            ),
        )
    ]


async def test_an_undelivered_callback_records_the_error_and_tells_the_case_it_failed(
    http: httpx.AsyncClient, sessions: sessionmaker[Session], temporal: FakeTemporal
) -> None:
    reference, intent_key = sent_sms(sessions)
    response = await post(http, STATUS_PATH, callback("undelivered", ErrorCode="30003"))
    assert response.status_code == 204
    (row,) = outbox_rows(sessions, reference)
    assert (row.status, row.error) == ("undelivered", "30003: Twilio error")
    ((_, update),) = temporal.signals
    assert (update.key, update.status, update.channel) == (
        intent_key,
        DeliveryStatus.FAILED,
        "sms",
    )


async def test_an_intermediate_status_is_recorded_without_telling_the_case(
    http: httpx.AsyncClient, sessions: sessionmaker[Session], temporal: FakeTemporal
) -> None:
    reference, _ = sent_sms(sessions)
    await post(http, STATUS_PATH, callback("sending"))
    assert outbox_rows(sessions, reference)[0].status == "sent"
    assert temporal.signals == []


async def test_a_late_sent_callback_does_not_undo_a_delivery(
    http: httpx.AsyncClient, sessions: sessionmaker[Session], temporal: FakeTemporal
) -> None:
    reference, _ = sent_sms(sessions)
    await post(http, STATUS_PATH, callback("delivered"))
    await post(http, STATUS_PATH, callback("sent"))
    assert outbox_rows(sessions, reference)[0].status == "delivered"


async def test_an_opted_out_error_in_a_callback_marks_the_victim_opted_out(
    http: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    reference, _ = sent_sms(sessions)
    await post(http, STATUS_PATH, callback("failed", ErrorCode="21610"))
    assert victim_of(sessions, reference).sms_opted_out is True


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda params: "", id="unsigned"),
        pytest.param(
            lambda params: signature(STATUS_PATH, params, token="someone-elses-token"),
            id="wrong-token",
        ),
        pytest.param(
            lambda params: signature(STATUS_PATH, {**params, "MessageStatus": "failed"}),
            id="signed-for-other-params",
        ),
        pytest.param(
            lambda params: signature("/twilio/other", params), id="signed-for-another-url"
        ),
    ],
)
async def test_an_unsigned_or_forged_callback_is_refused_and_changes_nothing(
    http: httpx.AsyncClient,
    sessions: sessionmaker[Session],
    temporal: FakeTemporal,
    forge: Any,
) -> None:
    reference, _ = sent_sms(sessions)
    params = callback("delivered")
    response = await post(http, STATUS_PATH, params, sign=forge(params))
    assert response.status_code == 403
    (row,) = outbox_rows(sessions, reference)
    assert (row.status, row.delivered_at) == ("sent", None)
    assert temporal.signals == []


async def test_a_callback_without_any_signature_header_is_refused(
    http: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    reference, _ = sent_sms(sessions)
    response = await http.post(STATUS_PATH, data=callback("delivered"))
    assert response.status_code == 403
    assert outbox_rows(sessions, reference)[0].status == "sent"


def inbound(body: str, sender: str = "+447700900123") -> dict[str, str]:
    return {
        "MessageSid": "SMin1",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+447700900999",
        "Body": body,
        "NumMedia": "0",
    }


async def test_an_inbound_stop_stops_sms_and_start_allows_it_again(
    http: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    reference = seed_case(sessions)
    other = seed_case(sessions, phone="+447700900321")
    response = await post(http, INBOUND_PATH, inbound("Stop "))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert victim_of(sessions, reference).sms_opted_out is True
    assert victim_of(sessions, other).sms_opted_out is False
    await post(http, INBOUND_PATH, inbound("START"))
    assert victim_of(sessions, reference).sms_opted_out is False


@pytest.mark.parametrize("word", ["STOP", "unsubscribe", "cancel", "END", "quit", "STOPALL"])
async def test_every_twilio_opt_out_word_stops_sms(
    http: httpx.AsyncClient, sessions: sessionmaker[Session], word: str
) -> None:
    reference = seed_case(sessions)
    await post(http, INBOUND_PATH, inbound(word))
    assert victim_of(sessions, reference).sms_opted_out is True


async def test_an_ordinary_reply_changes_nothing(
    http: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    reference = seed_case(sessions)
    await post(http, INBOUND_PATH, inbound("please stop calling my work number"))
    assert victim_of(sessions, reference).sms_opted_out is False


async def test_a_forged_stop_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    reference = seed_case(sessions)
    params = inbound("STOP")
    response = await post(http, INBOUND_PATH, params, sign=signature(INBOUND_PATH, params, "x"))
    assert response.status_code == 403
    assert victim_of(sessions, reference).sms_opted_out is False
