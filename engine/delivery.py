"""Simulated delivery for the in-process engine: an outbox per case, in memory.

It sends on the workflow's send path itself (`delivery.send`, the send activity's),
with the same renderer and the same simulated backends, over the in-memory outbox
(`delivery.outbox.MemoryOutbox`), so a message reads and fails as it would on the
workflow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from adapters.delivery import DeliveryBackend, LocalOutbox, SimulatedSms
from delivery.outbox import MemoryOutbox
from delivery.send import CaseMessage, send_message
from messaging.rendering import MessageContext, MessageRenderer, RenderedMessage
from standards.contact import ContactProfile
from standards.delivery import MessageIntent, MessageOutcome
from standards.vocabulary import DEFAULT_LANGUAGE, Channel


@dataclass
class Victim:
    """What a case's messages need to know about its victim (the victim's row)."""

    name: str
    email: str | None
    phone: str | None
    profile: ContactProfile
    discreet: bool
    update_interval_days: int | None = None
    # The language of their messages (standards.vocabulary.Language).
    language: str = DEFAULT_LANGUAGE

    @classmethod
    def reached_by(
        cls,
        *,
        name: str,
        email: str | None,
        phone: str | None,
        preferred_channel: str,
        allowed_channels: Sequence[str] | None,
        discreet: bool,
        do_not_contact: bool = False,
        sms_opted_out: bool = False,
        safe_hours_start: time | None = None,
        safe_hours_end: time | None = None,
        language: str = DEFAULT_LANGUAGE,
    ) -> Victim:
        """The victim with the contacts given: no allowed channels means the preferred one
        only, and the profile has an address or a number exactly when one is given, as the
        victim's row is written by intake."""
        return cls(
            name=name,
            email=email,
            phone=phone,
            profile=ContactProfile(
                preferred_channel=preferred_channel,
                allowed_channels=list(allowed_channels or [preferred_channel]),
                has_email=bool(email),
                has_phone=bool(phone),
                sms_opted_out=sms_opted_out,
                do_not_contact=do_not_contact,
                safe_hours_start=safe_hours_start,
                safe_hours_end=safe_hours_end,
            ),
            discreet=discreet,
            language=language,
        )


@dataclass(frozen=True)
class MessageSetting:
    """The settings a message reads (service/settings.py), for one force."""

    force_name: str
    unit_name_pattern: str
    contact_number: str


@dataclass(kw_only=True)
class CaseOutbox(MemoryOutbox):
    """One case's outbox, in memory, and the facts its messages are rendered from."""

    reference: str
    category: str
    borough_name: str
    victim: Victim
    officer: dict[str, str | None] = field(default_factory=dict)

    def opt_out_of_sms(self) -> None:
        super().opt_out_of_sms()
        victim = self.victim
        victim.profile = dataclasses.replace(victim.profile, sms_opted_out=True)


def simulated_backends() -> dict[Channel, DeliveryBackend]:
    """The rehearsal backends: delivered at once, but for the SMS test numbers."""
    return {Channel.SMS: SimulatedSms(), Channel.EMAIL: LocalOutbox()}


class SimulatedDelivery:
    """Sends a case's messages as the send activity would, recording them in its outbox."""

    def __init__(
        self,
        renderer: MessageRenderer,
        setting: MessageSetting,
        backends: Mapping[Channel, DeliveryBackend] | None = None,
    ) -> None:
        self._renderer = renderer
        self._setting = setting
        self._backends = backends or simulated_backends()

    def send(
        self, outbox: CaseOutbox, intent: MessageIntent, at: datetime, excluded: list[str]
    ) -> MessageOutcome:
        """The outcome of one send, as the send activity gives it (a temporary failure:
        DEFERRED, to be tried again on the case's clock): the same path
        (`delivery.send`), over the case's outbox in memory."""
        victim = outbox.victim
        message = CaseMessage(
            intent_key=intent.key,
            at=at,
            excluded_channels=excluded,
            profile=victim.profile,
            email=victim.email,
            phone=victim.phone,
            render=lambda channel: self._rendered(outbox, intent, channel),
        )
        return send_message(outbox, message, self._backends)

    def _rendered(
        self, outbox: CaseOutbox, intent: MessageIntent, channel: Channel
    ) -> RenderedMessage:
        """The message as the victim reads it, from the real templates in their language
        (its text only: a rehearsal keeps no subject or HTML)."""
        victim = outbox.victim
        setting = self._setting
        borough = outbox.borough_name
        context = MessageContext(
            reference=outbox.reference,
            contact_number=setting.contact_number,
            force_name=setting.force_name,
            victim_name=victim.name,
            category=outbox.category,
            borough=borough,
            discreet=victim.discreet,
            officer_name=outbox.officer.get("officer_name"),
            officer_contact=outbox.officer.get("officer_contact"),
            unit_name=setting.unit_name_pattern.format(borough=borough),
            reason=intent.facts.get("reason"),
            outcome=intent.facts.get("outcome"),
            update_interval_days=victim.update_interval_days,
            language=victim.language,
        )
        rendered = self._renderer.render(intent.template, channel, context)
        return dataclasses.replace(rendered, subject=None, html=None)
