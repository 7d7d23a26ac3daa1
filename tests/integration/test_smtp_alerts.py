"""Staff alert emails over a real loopback SMTP server: one email per alert, never twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activities.alerts import AlertMailer, AlertMailSettings, alert_recipient, borough_slug
from adapters.smtp import SmtpEmail, message_id_for
from bootstrap import alert_mailer
from config import Settings
from messaging.rendering import DEFAULT_TEMPLATE_DIR, MessageRenderer
from storage import models
from tests.integration.test_smtp_email import HOST, Busy, Recorder, settings_for, smtp_server
from tests.support.delivery import seed_case

__all__ = ["smtp_server"]  # the fixture, shared with the SMTP delivery tests

EMAILED_AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
PATTERNS = AlertMailSettings(
    vfu_email_pattern="vfu-{borough}@met.example",
    manager_email_pattern="manager-{borough}@met.example",
)


def raise_alerts(sessions: sessionmaker[Session], kinds: list[tuple[str, str]]) -> str:
    reference = seed_case(sessions)
    with sessions.begin() as session:
        case = session.scalar(select(models.Case).where(models.Case.reference == reference))
        assert case is not None
        for kind, role in kinds:
            session.add(
                models.Alert(
                    case_id=case.id,
                    reference=reference,
                    borough="Kensington and Chelsea",
                    standard="victim_update",
                    obligation_key="victim_update#1",
                    kind=kind,
                    at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                    due_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
                    detail="no update given",
                    recipient_role=role,
                )
            )
    return reference


def mailer(sessions: sessionmaker[Session], port: int) -> AlertMailer:
    return AlertMailer(
        sessions,
        MessageRenderer(DEFAULT_TEMPLATE_DIR),
        SmtpEmail(settings_for(port)),
        PATTERNS,
        title_of=lambda policy_id, standard: "Keep the victim updated",
        clock=lambda: EMAILED_AT,
    )


def emailed(sessions: sessionmaker[Session]) -> list[tuple[str, datetime | None]]:
    with sessions() as session:
        return [(a.kind, a.emailed_at) for a in session.scalars(select(models.Alert))]


def test_each_alert_is_emailed_once_to_the_vfu_or_for_escalations_the_manager(
    smtp_server: Any, sessions: sessionmaker[Session]
) -> None:
    recorder = Recorder()
    port = smtp_server(recorder)
    reference = raise_alerts(
        sessions, [("warning", "vfu"), ("breach", "vfu"), ("escalation", "manager")]
    )
    alerts = mailer(sessions, port)
    assert alerts.send_pending() == 3
    assert alerts.send_pending() == 0
    assert mailer(sessions, port).send_pending() == 0  # a restarted worker sends nothing again
    assert [rcpts for _, rcpts in recorder.envelopes] == [
        ["vfu-kensington-and-chelsea@met.example"],
        ["vfu-kensington-and-chelsea@met.example"],
        ["manager-kensington-and-chelsea@met.example"],
    ]
    # Long subjects are folded onto the next line; unfolding leaves a leading space.
    subjects = [str(m["Subject"]).strip() for m in recorder.messages]
    assert subjects[0].startswith("Due soon: Keep the victim updated - " + reference)
    assert subjects[2].startswith("Escalated")
    assert all(m.get_body(("html",)) is not None for m in recorder.messages)
    assert len({m["Message-ID"] for m in recorder.messages}) == 3
    assert emailed(sessions) == [
        ("warning", EMAILED_AT),
        ("breach", EMAILED_AT),
        ("escalation", EMAILED_AT),
    ]


def test_the_workers_alert_emails_give_the_title_the_cases_policy_gives_the_standard(
    smtp_server: Any, sessions: sessionmaker[Session]
) -> None:
    recorder = Recorder()
    port = smtp_server(recorder)
    raise_alerts(sessions, [("breach", "vfu")])
    mailer = alert_mailer(Settings(smtp_host=HOST, smtp_port=port, smtp_starttls=False), sessions)
    assert mailer is not None and mailer.send_pending() == 1
    (message,) = recorder.messages
    title = "Update the victim at least every four weeks"  # policies/met-pledge.toml
    assert " ".join(str(message["Subject"]).split()).startswith(f"Breached: {title} - ")
    text = message.get_body(("plain",))
    assert text is not None and f"Standard: {title} (victim_update)" in text.get_content()


def test_alerts_wait_for_a_busy_mail_server_and_go_out_on_a_later_sweep(
    smtp_server: Any, sessions: sessionmaker[Session]
) -> None:
    raise_alerts(sessions, [("breach", "vfu")])
    assert mailer(sessions, smtp_server(Busy())).send_pending() == 0
    assert emailed(sessions) == [("breach", None)]
    recorder = Recorder()
    assert mailer(sessions, smtp_server(recorder)).send_pending() == 1
    assert len(recorder.messages) == 1


def test_an_alert_email_has_a_message_id_of_its_own_for_every_attempt() -> None:
    assert message_id_for("alert:1") == message_id_for("alert:1") != message_id_for("alert:2")


def test_addresses_come_from_the_patterns_with_the_borough_made_safe() -> None:
    assert borough_slug("Barking & Dagenham") == "barking-dagenham"
    assert alert_recipient(PATTERNS, "manager", "Camden") == "manager-camden@met.example"
    assert alert_recipient(PATTERNS, "vfu", "City of London") == "vfu-city-of-london@met.example"
