"""The worker picks delivery backends from settings: the local outbox unless configured."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from adapters.delivery import LocalOutbox
from adapters.mail_drop import LocalMailDrop
from adapters.smtp import SmtpEmail
from adapters.twilio_sms import TwilioSms
from bootstrap import alert_mailer, status_callback_url
from config import Settings
from service.backends import default_backends
from standards.vocabulary import Channel


def settings(**values: object) -> Settings:
    # Every field a test depends on is given explicitly, so a developer's .env cannot decide it.
    return Settings.model_construct(**{**Settings().model_dump(), **values})


def test_the_local_outbox_is_the_default_for_both_channels() -> None:
    backends = default_backends(settings(smtp_host=None, twilio_account_sid=None))
    assert all(isinstance(b, LocalOutbox) for b in backends.values())
    assert status_callback_url(settings(twilio_account_sid=None)) is None


def test_smtp_settings_switch_email_to_smtp_and_turn_on_alert_emails() -> None:
    configured = settings(smtp_host="mail.example.org", twilio_account_sid=None)
    backends = default_backends(configured)
    assert isinstance(backends[Channel.EMAIL], SmtpEmail)
    assert isinstance(backends[Channel.SMS], LocalOutbox)
    mailer = alert_mailer(configured, sessions=None)  # type: ignore[arg-type]
    assert mailer is not None and isinstance(mailer.backend, SmtpEmail)


def test_alert_emails_go_to_the_local_mail_drop_only_while_nothing_leaves_the_building(
    tmp_path: Path,
) -> None:
    local = settings(smtp_host=None, twilio_account_sid=None, data_dir=tmp_path)
    mailer = alert_mailer(local, sessions=None)  # type: ignore[arg-type]
    assert mailer is not None and isinstance(mailer.backend, LocalMailDrop)
    # SMS through Twilio but no mail server: staff email has nowhere to go.
    twilio = settings(
        smtp_host=None,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=SecretStr("token"),
        twilio_from_number="+447700900999",
    )
    assert alert_mailer(twilio, sessions=None) is None  # type: ignore[arg-type]


def test_twilio_needs_an_account_a_token_and_a_sender() -> None:
    account = {"twilio_account_sid": "AC" + "0" * 32, "smtp_host": None}
    token = SecretStr("token")
    without_sender = settings(
        **account,
        twilio_auth_token=token,
        twilio_from_number=None,
        twilio_messaging_service_sid=None,
    )
    assert isinstance(default_backends(without_sender)[Channel.SMS], LocalOutbox)
    with_number = settings(**account, twilio_auth_token=token, twilio_from_number="+447700900999")
    assert isinstance(default_backends(with_number)[Channel.SMS], TwilioSms)
    with_service = settings(
        **account,
        twilio_auth_token=token,
        twilio_from_number=None,
        twilio_messaging_service_sid="MG" + "1" * 32,
        public_base_url="https://pledge.example.org/",
    )
    assert isinstance(default_backends(with_service)[Channel.SMS], TwilioSms)
    assert status_callback_url(with_service) == "https://pledge.example.org/twilio/status"
