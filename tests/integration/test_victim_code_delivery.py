"""A sign-in code through a real SMTP server (aiosmtpd on loopback): the victim's email has
the code, the outbox keeps the message with the code blanked out, and nothing stores it."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from bootstrap import alert_mailer
from config import Settings
from messaging.rendering import SIGN_IN_CODE_TEMPLATE
from storage import models
from storage.victim_models import VictimSignInCode
from tests.support.api import running_api
from tests.support.victim import (
    CASE,
    ask_for_code,
    enter_code,
    open_victim_case,
    requests_dealt_with,
)

HOST = "127.0.0.1"


class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


class Busy:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "451 4.3.0 Mailbox busy, try again later"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[Any]:
    controllers: list[Controller] = []

    def start(handler: Any) -> int:
        port = _free_port()
        controller = Controller(handler, hostname=HOST, port=port)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


async def test_a_code_goes_by_smtp_and_only_its_digest_is_kept(
    api_temporal: WorkflowEnvironment, sqlite_url: str, smtp: Any
) -> None:
    recorder = Recorder()
    port = smtp(recorder)
    async with running_api(
        api_temporal.client, sqlite_url, smtp_host=HOST, smtp_port=port, smtp_starttls=False
    ) as api:
        reference, case_id = await open_victim_case(api, email="sam@example.org")
        response = await ask_for_code(api.http, reference)
        assert response.status_code == 303
        assert await requests_dealt_with(api.sessions) == ["sent"]
        emails = [m for m in recorder.messages if str(m["Subject"]).startswith("Your code")]
        assert len(emails) == 1 and emails[0]["To"] == "sam@example.org"
        body = emails[0].get_body(("plain",))
        assert body is not None
        found = re.search(r"Your code is (\d{6})", body.get_content())
        assert found is not None
        code = found.group(1)
        with api.sessions() as session:
            row = session.scalars(
                select(models.OutboxMessage).where(
                    models.OutboxMessage.case_id == case_id,
                    models.OutboxMessage.template == SIGN_IN_CODE_TEMPLATE,
                )
            ).one()
            stored = session.scalars(select(VictimSignInCode.code_hash)).one()
        assert row.status == "delivered" and row.channel == "email"
        assert code not in f"{row.subject} {row.body} {row.html_body}"
        assert "••••••" in row.body
        assert code not in stored
        signed_in = await enter_code(api.http, code)
        assert signed_in.headers["location"] == CASE
        # "Request an update": the VFU's alert email goes by the staff alert path.
        page = (await api.http.get(CASE)).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        await api.http.post(f"{CASE}/update", data={"csrf_token": token.group(1)})
        mailer = alert_mailer(
            Settings(smtp_host=HOST, smtp_port=port, smtp_starttls=False), api.sessions
        )
        assert mailer is not None
        assert mailer.send_pending() == 1
        alert_email = recorder.messages[-1]
        assert str(alert_email["Subject"]).startswith("Update requested")
        assert alert_email["To"] == "vfu-camden@pledge.invalid"
        alert_body = alert_email.get_body(("plain",))
        assert alert_body is not None and reference in alert_body.get_content()


async def test_a_mail_server_that_will_not_take_the_code_falls_back_to_the_next_safe_channel(
    api_temporal: WorkflowEnvironment, sqlite_url: str, smtp: Any
) -> None:
    # The case is opened while mail flows; then the mail server turns everyone away.
    async with running_api(
        api_temporal.client,
        sqlite_url,
        smtp_host=HOST,
        smtp_port=smtp(Recorder()),
        smtp_starttls=False,
    ) as api:
        reference, case_id = await open_victim_case(
            api, phone="+447700900123", allowed_channels=["email", "sms"]
        )
    async with running_api(
        api_temporal.client,
        sqlite_url,
        smtp_host=HOST,
        smtp_port=smtp(Busy()),
        smtp_starttls=False,
        with_worker=False,
    ) as api:
        await ask_for_code(api.http, reference)
        assert await requests_dealt_with(api.sessions) == ["sent"]
        with api.sessions() as session:
            rows = session.scalars(
                select(models.OutboxMessage)
                .where(
                    models.OutboxMessage.case_id == case_id,
                    models.OutboxMessage.template == SIGN_IN_CODE_TEMPLATE,
                )
                .order_by(models.OutboxMessage.id)
            ).all()
            code_row = session.scalars(select(VictimSignInCode)).one()
        assert [(row.channel, row.status) for row in rows] == [
            ("email", "failed"),
            ("sms", "delivered"),
        ]
        assert code_row.channel == "sms"
        # The SMS went to the local outbox (no Twilio), so the row is the message itself.
        assert re.search(r"code is \d{6}", rows[1].body)
