"""Staff alert emails in development: with no mail server configured and every channel on
the local outbox (`make run`), an alert raised by a case is emailed into the local mail
drop and listed on /dev/outbox, and never among the victim's own messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from adapters.delivery import Envelope, TransientDeliveryError
from adapters.mail_drop import LocalMailDrop, mail_drop_dir
from bootstrap import alert_mailer
from config import Settings
from messaging.rendering import RenderedMessage
from standards.vocabulary import Channel
from storage import models
from tests.support.api import open_case_over_http, running_api
from tests.support.delivery import alerts_not_emailed


async def test_an_alert_raised_in_development_is_emailed_to_the_local_outbox(
    api_temporal: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> None:
    async with running_api(api_temporal.client, database_url, data_dir=tmp_path) as api:
        # Reported 30 hours ago: the 24-hour domestic abuse contact is breached at intake.
        opened = await open_case_over_http(api, reported_at=datetime.now(UTC) - timedelta(hours=30))
        reference = opened["reference"]
        settings = Settings(
            database_url=database_url, data_dir=tmp_path, smtp_host=None, twilio_account_sid=None
        )
        mailer = alert_mailer(settings, api.sessions)
        assert mailer is not None
        with api.sessions() as session:
            raised = session.scalar(select(func.count()).select_from(models.Alert))
            victim_messages = session.scalar(select(func.count()).select_from(models.OutboxMessage))
        assert raised

        assert mailer.send_pending() == raised
        assert mailer.send_pending() == 0  # each alert is emailed once

        files = sorted(mail_drop_dir(tmp_path).glob("*.eml"))
        assert len(files) == raised
        emails = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
        breach = [e for e in emails if str(e["Subject"]).startswith("Breached")]
        assert breach and breach[0]["To"] == "vfu-camden@pledge.invalid"
        assert alerts_not_emailed(api.sessions) == 0
        with api.sessions() as session:
            # Staff email never joins the victim's messages (the victim's page reads those).
            assert (
                session.scalar(select(func.count()).select_from(models.OutboxMessage))
                == victim_messages
            )
        page = await api.http.get("/dev/outbox")
        assert page.status_code == 200
        assert "Staff alert emails" in page.text
        assert "Breached: " in page.text and reference in page.text
        assert "vfu-camden@pledge.invalid" in page.text


def test_a_mail_drop_it_cannot_write_postpones_the_email_with_the_reason(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    drop = LocalMailDrop(blocked / "staff", "Pledge Monitor <no-reply@pledge.invalid>")
    envelope = Envelope(
        idempotency_key="alert:1",
        channel=Channel.EMAIL,
        recipient="vfu-camden@pledge.invalid",
        message=RenderedMessage("alert", Channel.EMAIL, "Breached: x", "text", None),
    )
    with pytest.raises(TransientDeliveryError, match="the local mail drop cannot write"):
        drop.send(envelope)
    assert drop.recover(envelope) is None
