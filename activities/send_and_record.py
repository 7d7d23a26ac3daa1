"""A wake's sends and its changes, recorded together.

The messages are sent in the transaction that records the case's changes and the case
book's reaction to each outcome, worked out with the book's own rule
(standards.send_outcome) on the obligations the book handed over. An in-house send
(the outbox) is then one transaction in all; an outside provider's hand-over mark is
committed first, before the provider is called (delivery.send), and the rest
with the receipts. A retry finds its outbox rows, transitions and alerts and writes
none of them twice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.messages import MessageActivities
from standards.contracts import (
    SEND_AND_RECORD,
    DeliveryStatus,
    SendAndRecord,
    SentAndRecorded,
)
from standards.obligations import Alert, Obligation
from standards.send_outcome import alert_identity, meet_on_delivery, outcome_alerts
from storage.case_records import write_case_changes


class SendAndRecordActivities:
    def __init__(self, session_factory: sessionmaker[Session], messages: MessageActivities) -> None:
        self._sessions = session_factory
        self._messages = messages

    @activity.defn(name=SEND_AND_RECORD)
    def send_and_record(self, wake: SendAndRecord) -> SentAndRecorded:
        with self._sessions() as session:
            outcomes = [
                self._messages.send_in(session, planned.request, settle=session.flush)
                for planned in wake.sends
            ]
            obligations = {o.key: o for o in wake.changes.obligations}
            may_meet = {o.key: o for o in wake.may_meet}
            reacted: dict[str, Obligation] = {}
            alerts: list[Alert] = []
            for planned, outcome in zip(wake.sends, outcomes, strict=True):
                alerts += outcome_alerts(planned.request.intent, outcome)
                meets = planned.on_delivery
                if outcome.status != DeliveryStatus.DELIVERED or meets is None:
                    continue
                candidates = [
                    obligations.get(key) or may_meet[key] for key in meets.obligation_keys
                ]
                raised, met = meet_on_delivery(candidates, meets, planned.request.at)
                alerts += raised
                reacted.update({o.key: o for o in met})
            # What is recorded, in the input itself: the metrics count it from there.
            changes = wake.changes
            changes.obligations = changes.obligations + [
                o for key, o in reacted.items() if key not in obligations
            ]
            changes.alerts = changes.alerts + alerts
            write_case_changes(session.connection(), changes)
            session.commit()
        return SentAndRecorded(
            outcomes=outcomes,
            reacted_obligations=list(reacted),
            reacted_alerts=[alert_identity(a) for a in alerts],
        )
