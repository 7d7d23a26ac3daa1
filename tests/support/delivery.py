"""Cases, messages and delivery backends for the tests of sending: a case and victim
written straight to the database, a send request, message activities over given
backends, and fake providers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from activities.messages import MessageActivities, MessageSettings
from adapters.delivery import DeliveryBackend, DeliveryReceipt, Envelope
from messaging.rendering import DEFAULT_TEMPLATE_DIR, MessageRenderer
from standards.case import CaseBook
from standards.case_state import CaseFacts
from standards.contracts import SendMessage
from standards.delivery import DeferredMessage, MessageIntent
from standards.policy import load_policy
from standards.schedules import opening
from standards.vocabulary import Channel, MessageStatus
from storage import models

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")


def seed_case(
    sessions: sessionmaker[Session],
    *,
    phone: str | None = "+447700900123",
    email: str | None = "alex@example.org",
    preferred_channel: str = "sms",
    allowed_channels: list[str] | None = None,
    safe_hours: tuple[time, time] | None = None,
    do_not_contact: bool = False,
) -> str:
    """A case and its victim written straight to the database; returns the reference."""
    reference = f"T-{uuid.uuid4().hex[:12]}"
    with sessions.begin() as session:
        case = models.Case(
            reference=reference,
            workflow_id=f"case:{reference}",
            category="general",
            borough="Camden",
            vulnerable=False,
            nation="england_and_wales",
            reported_at=AT,
            policy_id="met-pledge",
            policy_version=1,
            status="open",
        )
        session.add(case)
        session.flush()
        session.add(
            models.Victim(
                case_id=case.id,
                name="Alex Smith",
                email=email,
                phone=phone,
                preferred_channel=preferred_channel,
                allowed_channels=allowed_channels or [preferred_channel],
                safe_hours_start=safe_hours[0] if safe_hours else None,
                safe_hours_end=safe_hours[1] if safe_hours else None,
                discreet=False,
                do_not_contact=do_not_contact,
            )
        )
    return reference


def send_request(reference: str, template: str = "acknowledgement", seq: int = 1) -> SendMessage:
    intent = MessageIntent(key=f"{reference}|{template}|{seq}", template=template, at=AT)
    return SendMessage(reference=reference, intent=intent, at=AT, contact_number="101")


def message_activities(
    sessions: sessionmaker[Session],
    backends: dict[Channel, DeliveryBackend],
    status_callback_url: str | None = None,
) -> MessageActivities:
    return MessageActivities(
        sessions,
        MessageRenderer(DEFAULT_TEMPLATE_DIR),
        backends,
        MessageSettings(force_name="Metropolitan Police", status_callback_url=status_callback_url),
    )


def outbox_rows(sessions: sessionmaker[Session], reference: str) -> list[models.OutboxMessage]:
    with sessions() as session:
        return list(
            session.scalars(
                select(models.OutboxMessage)
                .join(models.Case, models.Case.id == models.OutboxMessage.case_id)
                .where(models.Case.reference == reference)
                .order_by(models.OutboxMessage.id)
            )
        )


def victim_of(sessions: sessionmaker[Session], reference: str) -> models.Victim:
    with sessions() as session:
        victim = session.scalar(
            select(models.Victim).join(models.Case).where(models.Case.reference == reference)
        )
        assert victim is not None
        return victim


class WorkerCrashed(RuntimeError):
    """Stands for the worker dying after the provider accepted a message."""


class CrashAfterFirstSend:
    """Hands the first envelope to the real backend, then fails as if the worker died."""

    def __init__(self, inner: DeliveryBackend) -> None:
        self.inner = inner
        self.crashed = False

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        receipt = self.inner.send(envelope)
        if not self.crashed:
            self.crashed = True
            raise WorkerCrashed("the worker died after the send and before recording it")
        return receipt

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        return self.inner.recover(envelope)


@dataclass
class FakeProvider:
    """Remembers what it accepted; answers with a scripted receipt or error per call."""

    script: list[DeliveryReceipt | Exception] = field(default_factory=list)
    accepted: list[Envelope] = field(default_factory=list)
    calls: int = 0

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        self.calls += 1
        outcome: DeliveryReceipt | Exception = (
            self.script.pop(0)
            if self.script
            else DeliveryReceipt(status=MessageStatus.DELIVERED, provider_id=f"p{self.calls}")
        )
        if isinstance(outcome, Exception):
            raise outcome
        if outcome.status != MessageStatus.FAILED:
            self.accepted.append(envelope)
        return outcome

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        for accepted in self.accepted:
            if accepted.idempotency_key == envelope.idempotency_key:
                return DeliveryReceipt(status=MessageStatus.DELIVERED, provider_id="recovered")
        return None


def book_before_acknowledgement(
    reference: str, category: str = "general", reported_at: datetime = AT
) -> tuple[CaseBook, DeferredMessage]:
    """A case book with its opening obligations running, not yet recorded (dirty), and
    its acknowledgement, not yet sent."""
    facts = CaseFacts(
        reference=reference,
        category=category,
        borough="Camden",
        reported_at=reported_at,
        policy=POLICY,
    )
    plan = opening(facts)
    book = CaseBook(facts, plan.state)
    book.schedule(plan.effects, {s.key: s for s in plan.schedules}, reported_at)
    (acknowledgement,) = plan.effects.sends
    return book, acknowledgement


def alerts_not_emailed(sessions: sessionmaker[Session]) -> int:
    """How many alerts the alert mailer has not emailed yet."""
    with sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(models.Alert).where(models.Alert.emailed_at.is_(None))
        )
    return int(count or 0)
