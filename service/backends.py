"""Which delivery backend each channel uses, decided from the settings in one place.

The worker sends the case messages through these, and the web app sends victims'
sign-in codes through the same ones, so a code travels exactly as an update does.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.delivery import DeliveryBackend, LocalOutbox
from adapters.smtp import SmtpEmail, SmtpSettings
from config import Settings
from standards.vocabulary import Channel


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    if not settings.smtp_host:
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        mail_from=settings.mail_from,
        reply_to=settings.mail_reply_to,
    )


def twilio_configured(settings: Settings) -> bool:
    return bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.twilio_from_number or settings.twilio_messaging_service_sid)
    )


def default_backends(settings: Settings) -> dict[Channel, DeliveryBackend]:
    """The local outbox for each channel, unless that channel's provider is configured."""
    outbox = LocalOutbox()
    backends: dict[Channel, DeliveryBackend] = {Channel.SMS: outbox, Channel.EMAIL: outbox}
    smtp = smtp_settings(settings)
    if smtp is not None:
        backends[Channel.EMAIL] = SmtpEmail(smtp)
    if twilio_configured(settings):
        # Imported here: the twilio package is only needed when it is used.
        from adapters.twilio_sms import TwilioSettings, TwilioSms

        assert settings.twilio_account_sid and settings.twilio_auth_token
        backends[Channel.SMS] = TwilioSms(
            TwilioSettings(
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token.get_secret_value(),
                from_number=settings.twilio_from_number,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                base_url=settings.twilio_base_url,
            )
        )
    return backends


def local_outbox_only(backends: Mapping[Channel, DeliveryBackend]) -> bool:
    """True when nothing leaves the building: every channel is the local outbox."""
    return all(isinstance(backend, LocalOutbox) for backend in backends.values())
