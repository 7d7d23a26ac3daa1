"""Simulated delivery for the in-process engine: an outbox per case, in memory.

It follows the send activity (activities/messages.py) step by step, on the same
channel rules (standards/contact.py, standards/delivery.py), the same renderer and the
same simulated backends, so a message reads and fails as it would on the workflow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from adapters.delivery import (
    DeliveryBackend,
    DeliveryReceipt,
    Envelope,
    LocalOutbox,
    SimulatedSms,
    TransientDeliveryError,
)
from messaging.rendering import MessageContext, MessageRenderer, RenderedMessage
from standards.contact import ContactProfile, plan_channels
from standards.delivery import (
    DeliveryStatus,
    MessageIntent,
    MessageOutcome,
    outbox_key,
    outcome_of_row,
    over_channels,
    retry_instant,
)
from standards.vocabulary import Channel, MessageStatus


@dataclass
class Victim:
    """What a case's messages need to know about its victim (the victim's row)."""

    name: str
    email: str | None
    phone: str | None
    profile: ContactProfile
    discreet: bool
    update_interval_days: int | None = None

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
        )


@dataclass
class OutboxRow:
    key: str
    seq: int
    created_at: datetime
    channel: str
    recipient: str
    template: str
    body: str
    status: MessageStatus = MessageStatus.QUEUED
    error: str | None = None
    sent_at: datetime | None = None
    attempts: int = 0


@dataclass(frozen=True)
class MessageSetting:
    """The settings a message reads (service/settings.py), for one force."""

    force_name: str
    unit_name_pattern: str
    contact_number: str


@dataclass
class CaseOutbox:
    """One case's outbox and the facts its messages are rendered from."""

    reference: str
    category: str
    borough_name: str
    victim: Victim
    officer: dict[str, str | None] = field(default_factory=dict)
    rows: dict[str, OutboxRow] = field(default_factory=dict)


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
        DEFERRED, to be tried again on the case's clock)."""
        plan = plan_channels(outbox.victim.profile, at, excluded)
        if plan.blocked is not None:
            return MessageOutcome(status=DeliveryStatus.NOT_ALLOWED, error=plan.blocked)
        if plan.wait_until is not None:
            return MessageOutcome(status=DeliveryStatus.DEFERRED, retry_at=plan.wait_until)
        return over_channels(
            plan.channels, lambda channel: self._deliver(outbox, intent, at, Channel(channel))
        )

    def _deliver(
        self, outbox: CaseOutbox, intent: MessageIntent, at: datetime, channel: Channel
    ) -> MessageOutcome:
        key = outbox_key(intent.key, channel.value)
        row = outbox.rows.get(key)
        if row is not None and row.status != MessageStatus.QUEUED:
            return _outcome_of(row)
        if row is None:
            row = self._compose(outbox, intent, at, channel, key)
            outbox.rows[key] = row
        envelope = Envelope(
            idempotency_key=key,
            channel=channel,
            recipient=row.recipient,
            message=RenderedMessage(
                template=row.template, channel=channel, subject=None, text=row.body, html=None
            ),
        )
        row.attempts += 1
        row.sent_at = at
        row.error = None
        try:
            receipt = self._backends[channel].send(envelope)
        except TransientDeliveryError as error:
            row.sent_at = None
            row.error = f"temporary failure, will retry: {error}"
            return MessageOutcome(
                status=DeliveryStatus.DEFERRED,
                channel=row.channel,
                retry_at=retry_instant(at, row.attempts),
                error=row.error,
            )
        return self._record(outbox, row, receipt)

    def _record(
        self, outbox: CaseOutbox, row: OutboxRow, receipt: DeliveryReceipt
    ) -> MessageOutcome:
        row.status = receipt.status
        row.error = receipt.error
        if receipt.opted_out:
            victim = outbox.victim
            victim.profile = dataclasses.replace(victim.profile, sms_opted_out=True)
        return _outcome_of(row)

    def _compose(
        self, outbox: CaseOutbox, intent: MessageIntent, at: datetime, channel: Channel, key: str
    ) -> OutboxRow:
        victim = outbox.victim
        recipient = victim.phone if channel == Channel.SMS else victim.email
        assert recipient is not None
        return OutboxRow(
            key=key,
            seq=len(outbox.rows),
            created_at=at,
            channel=channel.value,
            recipient=recipient,
            template=intent.template,
            body=self._text(outbox, intent, channel),
        )

    def _text(self, outbox: CaseOutbox, intent: MessageIntent, channel: Channel) -> str:
        """The message as the victim reads it, from the real templates."""
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
        )
        return self._renderer.render(intent.template, channel, context).text


def _outcome_of(row: OutboxRow) -> MessageOutcome:
    return outcome_of_row(row.status, row.channel, row.error)
