"""TwilioSms with the real `twilio` client against a local server speaking the Messages API."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from adapters.delivery import Envelope, TransientDeliveryError
from adapters.twilio_sms import TwilioSettings, TwilioSms
from messaging.rendering import RenderedMessage
from standards.contracts import DeliveryStatus
from standards.vocabulary import Channel, MessageStatus
from tests.support.delivery import (
    CrashAfterFirstSend,
    WorkerCrashed,
    message_activities,
    outbox_rows,
    seed_case,
    send_request,
    victim_of,
)

HOST = "127.0.0.1"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+447700900999"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

# What the fake provider answers for each recipient, as Twilio does for these cases.
ERRORS: dict[str, tuple[int, int, str]] = {
    "+447700900002": (400, 21211, "The 'To' number +447700900002 is not a valid phone number."),
    "+447700900003": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+447700900005": (400, 21614, "'To' number is not a valid mobile number"),
    "+447700900006": (429, 20429, "Too Many Requests"),
    "+447700900007": (503, 20500, "Service Unavailable"),
}


@dataclass
class FakeTwilio:
    """The Messages API's request and response shapes, on loopback."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def creates(self) -> list[dict[str, str]]:
        return [form for method, _path, form in self.requests if method == "POST"]

    def handle(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path, form))
        url = urlsplit(path)
        if url.path != MESSAGES_PATH:
            return 404, {"code": 20404, "message": "not found", "status": 404}
        if method == "GET":
            query = dict(parse_qsl(url.query))
            found = [m for m in self.created if m["to"] == query.get("To", m["to"])]
            return 200, {
                "messages": list(reversed(found)),
                "end": len(found),
                "first_page_uri": path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": 50,
                "start": 0,
                "uri": path,
            }
        if form["To"] in ERRORS:
            status, code, message = ERRORS[form["To"]]
            return status, {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            }
        now = format_datetime(datetime.now(UTC))
        message_json = {
            "sid": "SM" + uuid.uuid4().hex,
            "account_sid": ACCOUNT_SID,
            "to": form["To"],
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "accepted" if "MessagingServiceSid" in form else "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "uri": MESSAGES_PATH,
        }
        self.created.append(message_json)
        return 201, message_json


def serve(fake: FakeTwilio) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if not self.headers.get("Authorization", "").startswith("Basic "):
                status, body = 401, {"code": 20003, "message": "Authenticate", "status": 401}
            else:
                status, body = fake.handle(method, self.path, form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self._answer("POST")

        def do_GET(self) -> None:
            self._answer("GET")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    fake.port = server.server_address[1]
    return server


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    server = serve(fake)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def sms(fake: FakeTwilio, **overrides: Any) -> TwilioSms:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": FROM_NUMBER,
        "base_url": fake.base_url,
        "timeout": 5.0,
    }
    values.update(overrides)
    return TwilioSms(TwilioSettings(**values))


def envelope(to: str = "+447700900123", key: str = "01/1/26|acknowledgement|1|sms") -> Envelope:
    return Envelope(
        idempotency_key=key,
        channel=Channel.SMS,
        recipient=to,
        message=RenderedMessage(
            template="acknowledgement",
            channel=Channel.SMS,
            subject=None,
            text="Ref 01/1/26. Call 101.",
            html=None,
        ),
        status_callback="https://pledge.example/twilio/status",
    )


def test_a_created_message_is_sent_not_delivered_and_carries_the_sid_and_callback(
    twilio: FakeTwilio,
) -> None:
    receipt = sms(twilio).send(envelope())
    assert receipt.status == MessageStatus.SENT
    assert receipt.provider_id == twilio.created[0]["sid"]
    (form,) = twilio.creates()
    assert form == {
        "To": "+447700900123",
        "From": FROM_NUMBER,
        "Body": "Ref 01/1/26. Call 101.",
        "StatusCallback": "https://pledge.example/twilio/status",
    }


def test_a_messaging_service_is_used_instead_of_a_from_number_when_configured(
    twilio: FakeTwilio,
) -> None:
    service = "MG" + "1" * 32
    receipt = sms(twilio, from_number=None, messaging_service_sid=service).send(envelope())
    assert receipt.status == MessageStatus.SENT
    (form,) = twilio.creates()
    assert form["MessagingServiceSid"] == service and "From" not in form


@pytest.mark.parametrize(
    ("to", "code", "opted_out"),
    [
        ("+447700900002", 21211, False),
        ("+447700900003", 21610, True),
        ("+447700900005", 21614, False),
    ],
)
def test_invalid_opted_out_and_landline_numbers_fail_permanently_with_twilios_code(
    twilio: FakeTwilio, to: str, code: int, opted_out: bool
) -> None:
    receipt = sms(twilio).send(envelope(to))
    assert receipt.status == MessageStatus.FAILED
    assert receipt.error is not None and receipt.error.startswith(f"{code}: ")
    assert receipt.opted_out is opted_out


@pytest.mark.parametrize("to", ["+447700900006", "+447700900007"])
def test_rate_limits_and_server_errors_are_temporary_failures(twilio: FakeTwilio, to: str) -> None:
    with pytest.raises(TransientDeliveryError, match=r"HTTP (429|503)"):
        sms(twilio).send(envelope(to))


def test_an_unreachable_twilio_is_a_temporary_failure(twilio: FakeTwilio) -> None:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        sms(twilio, base_url=f"http://{HOST}:{port}").send(envelope())


def test_recovery_finds_a_message_created_by_a_lost_attempt_and_nothing_otherwise(
    twilio: FakeTwilio,
) -> None:
    backend = sms(twilio)
    assert backend.recover(envelope()) is None
    sent = backend.send(envelope())
    recovered = backend.recover(envelope())
    assert recovered is not None
    assert (recovered.status, recovered.provider_id) == (MessageStatus.SENT, sent.provider_id)


def test_an_sms_activity_failing_after_twilio_created_the_message_sends_exactly_one(
    twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    reference = seed_case(sessions)
    activities = message_activities(sessions, {Channel.SMS: CrashAfterFirstSend(sms(twilio))})
    with pytest.raises(WorkerCrashed):
        activities.send_message(send_request(reference))
    outcome = activities.send_message(send_request(reference))
    assert outcome.status == DeliveryStatus.PENDING
    assert len(twilio.creates()) == 1
    (row,) = outbox_rows(sessions, reference)
    assert (row.status, row.provider_id, row.attempts) == ("sent", twilio.created[0]["sid"], 1)


def test_an_opted_out_number_falls_back_to_email_and_marks_the_victim_opted_out(
    twilio: FakeTwilio, sessions: sessionmaker[Session]
) -> None:
    from adapters.delivery import LocalOutbox

    reference = seed_case(sessions, phone="+447700900003", allowed_channels=["sms", "email"])
    activities = message_activities(
        sessions, {Channel.SMS: sms(twilio), Channel.EMAIL: LocalOutbox()}
    )
    outcome = activities.send_message(send_request(reference))
    assert (outcome.status, outcome.channel, outcome.fell_back_from) == (
        DeliveryStatus.DELIVERED,
        "email",
        "sms",
    )
    assert victim_of(sessions, reference).sms_opted_out is True
    rows = outbox_rows(sessions, reference)
    assert rows[0].error is not None and rows[0].error.startswith("21610")
