"""Victim messages: choose a safe channel, render, record in the outbox, deliver.

A message is written to the outbox (keyed by intent and channel) before it is
handed to a backend, so a retried activity finds it and never sends twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from adapters.delivery import (
    DeliveryBackend,
    DeliveryReceipt,
    Envelope,
    TransientDeliveryError,
    sends_in_house,
)
from messaging.rendering import MessageContext, MessageRenderer, RenderedMessage
from standards.contact import plan_channels, profile_of
from standards.contracts import SEND_MESSAGE, DeliveryStatus, MessageOutcome, SendMessage
from standards.delivery import outbox_key, outcome_of_row, over_channels, retry_instant
from standards.vocabulary import Channel, MessageStatus
from storage import models
from storage.case_records import find_case


@dataclass(frozen=True)
class MessageSettings:
    force_name: str
    unit_name_pattern: str = "{borough} Victim Focus Unit"
    status_callback_url: str | None = None
    # Unit id -> the name victims read (from the force file); an id not here is shown as stored.
    unit_names: Mapping[str, str] = field(default_factory=dict)


class MessageActivities:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        renderer: MessageRenderer,
        backends: Mapping[Channel, DeliveryBackend],
        settings: MessageSettings,
    ) -> None:
        self._sessions = session_factory
        self._renderer = renderer
        self._backends = backends
        self._settings = settings

    @activity.defn(name=SEND_MESSAGE)
    def send_message(self, request: SendMessage) -> MessageOutcome:
        with self._sessions() as session:
            return self.send_in(session, request, settle=session.commit)

    def send_in(
        self, session: Session, request: SendMessage, settle: Callable[[], None]
    ) -> MessageOutcome:
        """Send one message in `session`. A send's outcome is written with `settle`: a
        commit of its own, or a flush into the transaction of a caller that records
        more with it. An outside provider's hand-over mark is committed first either way."""
        case = find_case(session, request.reference)
        victim = case.victim
        if victim is None:
            return MessageOutcome(
                status=DeliveryStatus.NOT_ALLOWED, error="no victim contact details on record"
            )
        plan = plan_channels(profile_of(victim), request.at, request.excluded_channels)
        if plan.blocked is not None:
            return MessageOutcome(status=DeliveryStatus.NOT_ALLOWED, error=plan.blocked)
        if plan.wait_until is not None:
            return MessageOutcome(status=DeliveryStatus.DEFERRED, retry_at=plan.wait_until)
        return over_channels(
            plan.channels,
            lambda channel: self._deliver(session, case, victim, Channel(channel), request, settle),
        )

    def _deliver(
        self,
        session: Session,
        case: models.Case,
        victim: models.Victim,
        channel: Channel,
        request: SendMessage,
        settle: Callable[[], None],
    ) -> MessageOutcome:
        """Send one channel's copy at most once.

        The row moves QUEUED -> (handed over: `sent_at` set, committed before an
        outside provider is called) -> the backend's receipt. A retry that finds a
        row handed over but without a receipt cannot know whether the provider got
        it, so it asks the backend (`recover`) instead of sending a second copy. A backend that
        raises `TransientDeliveryError` knows it was *not* accepted, so the
        mark is cleared and the case retries later on its own clock (DEFERRED).
        """
        key = outbox_key(request.intent.key, channel.value)
        row = session.scalar(
            select(models.OutboxMessage).where(models.OutboxMessage.idempotency_key == key)
        )
        if row is not None and row.status != MessageStatus.QUEUED:
            # Sent before: a retry after a crash must not send it again.
            return _outcome_of(row)
        backend = self._backends[channel]
        if row is None:
            row = self._compose(case, victim, channel, request, key)
            session.add(row)
        envelope = Envelope(
            idempotency_key=key,
            channel=channel,
            recipient=row.recipient,
            message=RenderedMessage(
                template=row.template,
                channel=channel,
                subject=row.subject,
                text=row.body,
                html=row.html_body,
            ),
            status_callback=self._settings.status_callback_url,
            handed_over_at=row.sent_at,
        )
        if row.sent_at is not None:
            try:
                recovered = backend.recover(envelope)
            except TransientDeliveryError as error:
                row.error = f"temporary failure, will retry: {error}"
                settle()
                return _retry_later(row, request)
            if recovered is not None:
                return self._record(victim, row, recovered, request, settle)
            # The provider never got it: sending now is the first copy.
        row.attempts += 1
        row.sent_at = request.at
        row.error = None
        if not sends_in_house(backend):
            # The hand-over mark (with a new row) is committed before the provider
            # is called; an in-house send commits once, with its receipt.
            session.commit()
        try:
            receipt = backend.send(envelope)
        except TransientDeliveryError as error:
            row.sent_at = None
            row.error = f"temporary failure, will retry: {error}"
            settle()
            return _retry_later(row, request)
        return self._record(victim, row, receipt, request, settle)

    def _record(
        self,
        victim: models.Victim,
        row: models.OutboxMessage,
        receipt: DeliveryReceipt,
        request: SendMessage,
        settle: Callable[[], None],
    ) -> MessageOutcome:
        row.status = receipt.status
        row.provider_id = receipt.provider_id or row.provider_id
        row.error = receipt.error
        if receipt.status == MessageStatus.DELIVERED:
            row.delivered_at = request.at
        if receipt.opted_out:
            # The provider has the victim's STOP on record: no later message tries SMS.
            victim.sms_opted_out = True
        settle()
        return _outcome_of(row)

    def _compose(
        self,
        case: models.Case,
        victim: models.Victim,
        channel: Channel,
        request: SendMessage,
        key: str,
    ) -> models.OutboxMessage:
        rendered = self._renderer.render(
            request.intent.template, channel, self._context(case, victim, request)
        )
        recipient = victim.phone if channel == Channel.SMS else victim.email
        assert recipient is not None
        return models.OutboxMessage(
            case_id=case.id,
            idempotency_key=key,
            template=request.intent.template,
            channel=channel.value,
            recipient=recipient,
            subject=rendered.subject,
            body=rendered.text,
            html_body=rendered.html,
            status=MessageStatus.QUEUED,
            attempts=0,
            obligation_key=request.intent.obligation_key,
            created_at=request.at,
        )

    def _context(
        self, case: models.Case, victim: models.Victim, request: SendMessage
    ) -> MessageContext:
        facts = request.intent.facts
        borough = self._settings.unit_names.get(case.borough, case.borough)
        return MessageContext(
            reference=case.reference,
            contact_number=request.contact_number,
            force_name=self._settings.force_name,
            victim_name=victim.name,
            category=case.category,
            borough=borough,
            discreet=victim.discreet,
            officer_name=case.officer_name,
            officer_contact=case.officer_contact,
            unit_name=self._settings.unit_name_pattern.format(borough=borough),
            reason=facts.get("reason"),
            outcome=facts.get("outcome"),
            update_interval_days=victim.update_interval_days,
        )


def _retry_later(row: models.OutboxMessage, request: SendMessage) -> MessageOutcome:
    return MessageOutcome(
        status=DeliveryStatus.DEFERRED,
        channel=row.channel,
        retry_at=retry_instant(request.at, row.attempts),
        error=row.error,
    )


def _outcome_of(row: models.OutboxMessage) -> MessageOutcome:
    return outcome_of_row(row.status, row.channel, row.error)
