"""SmtpEmail against a real SMTP server on loopback (aiosmtpd): accepted, 4xx, 5xx, TLS, login."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.orm import Session, sessionmaker

from adapters.delivery import Envelope, TransientDeliveryError
from adapters.smtp import SmtpEmail, SmtpSettings, message_id_for
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
)

HOST = "127.0.0.1"
SMTP_TIMEOUT = 5.0


class Recorder:
    """Accepts every message and keeps it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class Busy:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "451 4.3.0 Mailbox busy, try again later"


class Rejecting:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 No such user here"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """Starts a loopback SMTP server around a handler; stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: Any, **options: Any) -> int:
        port = free_port()
        controller = Controller(handler, hostname=HOST, port=port, **options)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def settings_for(port: int, **overrides: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": HOST,
        "port": port,
        "starttls": False,
        "mail_from": "Camden VFU <vfu-camden@pledge.invalid>",
        "reply_to": "vfu-replies@pledge.invalid",
        "timeout": SMTP_TIMEOUT,
    }
    values.update(overrides)
    return SmtpSettings(**values)


def envelope(key: str = "01/1/26|acknowledgement|1|email") -> Envelope:
    return Envelope(
        idempotency_key=key,
        channel=Channel.EMAIL,
        recipient="alex@example.org",
        message=RenderedMessage(
            template="acknowledgement",
            channel=Channel.EMAIL,
            subject="We have received your report 01/1/26",
            text="Your reference is 01/1/26. Call 101.",
            html="<p>Your reference is 01/1/26. Call 101.</p>",
        ),
    )


def test_an_accepted_email_is_delivered_with_text_and_html_and_a_stable_message_id(
    smtp_server: Any,
) -> None:
    recorder = Recorder()
    port = smtp_server(recorder)
    receipt = SmtpEmail(settings_for(port)).send(envelope())
    assert receipt.status == MessageStatus.DELIVERED
    assert receipt.provider_id == message_id_for("01/1/26|acknowledgement|1|email")
    (message,) = recorder.messages
    assert message["Message-ID"] == receipt.provider_id
    assert message["From"] == "Camden VFU <vfu-camden@pledge.invalid>"
    assert message["Reply-To"] == "vfu-replies@pledge.invalid"
    assert message["To"] == "alex@example.org"
    assert message["Subject"] == "We have received your report 01/1/26"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and "Call 101." in text.get_content()
    assert html is not None and "<p>Your reference is 01/1/26" in html.get_content()
    assert recorder.envelopes == [("vfu-camden@pledge.invalid", ["alex@example.org"])]


def test_the_message_id_is_the_same_on_every_attempt_and_differs_between_messages() -> None:
    first = message_id_for("a|acknowledgement|1|email")
    assert first == message_id_for("a|acknowledgement|1|email")
    assert first != message_id_for("a|acknowledgement|2|email")
    assert first.startswith("<") and first.endswith("@pledge-monitor>")


def test_a_4xx_answer_is_a_temporary_failure_to_retry(smtp_server: Any) -> None:
    port = smtp_server(Busy())
    with pytest.raises(TransientDeliveryError, match="451"):
        SmtpEmail(settings_for(port)).send(envelope())


def test_a_5xx_rejection_is_a_permanent_failure_with_the_servers_reason(
    smtp_server: Any,
) -> None:
    port = smtp_server(Rejecting())
    receipt = SmtpEmail(settings_for(port)).send(envelope())
    assert receipt.status == MessageStatus.FAILED
    assert receipt.error is not None and receipt.error.startswith("SMTP 550")
    assert "No such user" in receipt.error


def test_a_refused_connection_is_a_temporary_failure() -> None:
    port = free_port()  # nothing listens here
    with pytest.raises(TransientDeliveryError):
        SmtpEmail(settings_for(port)).send(envelope())


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
def test_login_is_used_when_a_username_is_configured(smtp_server: Any) -> None:
    logins: list[tuple[str, str]] = []

    def authenticate(server: Any, session: Any, env: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret")

    recorder = Recorder()
    port = smtp_server(
        recorder, authenticator=authenticate, auth_required=True, auth_require_tls=False
    )
    receipt = SmtpEmail(settings_for(port, username="pledge", password="s3cret")).send(envelope())
    assert receipt.status == MessageStatus.DELIVERED
    assert logins == [("pledge", "s3cret")] and len(recorder.messages) == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_starttls_is_used_when_configured(smtp_server: Any, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    recorder = Recorder()
    port = smtp_server(recorder, tls_context=server_context, require_starttls=True)
    receipt = SmtpEmail(settings_for(port, starttls=True, tls_context=client_context)).send(
        envelope()
    )
    assert receipt.status == MessageStatus.DELIVERED and len(recorder.messages) == 1
    # Without STARTTLS the server refuses to take the message at all.
    with pytest.raises(TransientDeliveryError):
        SmtpEmail(settings_for(port, starttls=False)).send(envelope())


def test_an_email_activity_failing_after_the_smtp_server_accepted_sends_exactly_one_email(
    smtp_server: Any, sessions: sessionmaker[Session]
) -> None:
    recorder = Recorder()
    port = smtp_server(recorder)
    reference = seed_case(sessions, phone=None, preferred_channel="email")
    activities = message_activities(
        sessions, {Channel.EMAIL: CrashAfterFirstSend(SmtpEmail(settings_for(port)))}
    )
    with pytest.raises(WorkerCrashed):
        activities.send_message(send_request(reference))
    retried = activities.send_message(send_request(reference))
    again = activities.send_message(send_request(reference))
    assert len(recorder.messages) == 1
    # SMTP cannot be asked whether it took the message: it is not sent again, and
    # it does not count as delivered either; the obligation's alerts reach a person.
    assert retried.status == again.status == DeliveryStatus.PENDING
    (row,) = outbox_rows(sessions, reference)
    assert row.status == "sent" and row.attempts == 1
    assert row.error is not None and row.error.startswith("unconfirmed")
    assert recorder.messages[0]["Message-ID"] == row.provider_id


def test_an_email_activity_sends_over_smtp_and_counts_acceptance_as_delivery(
    smtp_server: Any, sessions: sessionmaker[Session]
) -> None:
    recorder = Recorder()
    port = smtp_server(recorder)
    reference = seed_case(sessions, phone=None, preferred_channel="email")
    activities = message_activities(sessions, {Channel.EMAIL: SmtpEmail(settings_for(port))})
    outcome = activities.send_message(send_request(reference))
    assert outcome.status == DeliveryStatus.DELIVERED
    (message,) = recorder.messages
    text = message.get_body(("plain",))
    assert text is not None and reference in text.get_content()
