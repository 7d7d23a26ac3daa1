"""Victim messages: the send activity, over the database's outbox.

The send path itself (channels, outbox row, provider, outcome) is `delivery.send`, the
same the rehearsal runs; this activity finds the case, renders from its facts and hands
the path `storage.outbox.SqlOutbox`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from adapters.delivery import DeliveryBackend
from delivery.send import CaseMessage, send_message
from messaging.rendering import MessageContext, MessageRenderer
from standards.contact import profile_of
from standards.contracts import SEND_MESSAGE, DeliveryStatus, MessageOutcome, SendMessage
from standards.vocabulary import Channel
from storage import models
from storage.case_records import find_case
from storage.outbox import SqlOutbox


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
        context = self._context(case, victim, request)
        message = CaseMessage(
            intent_key=request.intent.key,
            at=request.at,
            excluded_channels=request.excluded_channels,
            profile=profile_of(victim),
            email=victim.email,
            phone=victim.phone,
            render=lambda channel: self._renderer.render(request.intent.template, channel, context),
            obligation_key=request.intent.obligation_key,
        )
        return send_message(
            SqlOutbox(session, case.id, victim, settle),
            message,
            self._backends,
            self._settings.status_callback_url,
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
            language=victim.language,
        )
