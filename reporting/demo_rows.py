"""The rows a demo case's run leaves, as the service would have written them.

The case and its victim as intake writes them, every obligation with its transitions as
the workflow's records write them (``activities.records``), each message as the send
activity writes it, each alert once per obligation and kind, and every accepted event
as ``case_events`` keeps it. Values are bound for the database's dialect here, in the
process that ran the case (``storage.bulk``), so the writer only numbers the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from engine.driver import CaseRun, PostedEvent
from standards.events import NOTE, STORED_DETAILS
from standards.vocabulary import MessageStatus
from storage import models
from storage.bulk import BulkTable
from storage.case_records import OBLIGATION_FIELDS, alert_values

Bound = tuple[Any, ...]


# Each table the demo writes, and the columns the writer numbers (ids, parents' ids).
NUMBERED: dict[Table, tuple[str, ...]] = {
    cast(Table, models.Case.__table__): ("id",),
    cast(Table, models.Victim.__table__): ("id", "case_id"),
    cast(Table, models.Obligation.__table__): ("id", "case_id"),
    cast(Table, models.ObligationTransition.__table__): ("id", "obligation_id", "case_id"),
    cast(Table, models.OutboxMessage.__table__): ("id", "case_id"),
    cast(Table, models.Alert.__table__): ("id", "case_id"),
    cast(Table, models.CaseEventRecord.__table__): ("id", "case_id"),
}


@dataclass
class DemoTables:
    """The demo's inserts for one dialect."""

    case: BulkTable
    victim: BulkTable
    obligation: BulkTable
    transition: BulkTable
    message: BulkTable
    alert: BulkTable
    event: BulkTable

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> DemoTables:
        return cls(*(BulkTable(table, dialect, numbered) for table, numbered in NUMBERED.items()))

    def in_order(self) -> list[BulkTable]:
        """Parents before children."""
        return [self.case, self.victim, self.obligation, self.transition, self.message,
                self.alert, self.event]  # fmt: skip


@dataclass
class DemoCase:
    """One case's rows without their numbered columns, bound for the database
    (`transitions[i]` are `obligations[i]`'s), and each obligation's standard, state and
    deadline, for counting."""

    case: Bound
    victim: Bound
    obligations: list[Bound] = field(default_factory=list)
    transitions: list[list[Bound]] = field(default_factory=list)
    messages: list[Bound] = field(default_factory=list)
    alerts: list[Bound] = field(default_factory=list)
    events: list[Bound] = field(default_factory=list)
    outcomes: list[tuple[str, str, datetime]] = field(default_factory=list)


def demo_rows(
    tables: DemoTables,
    run: CaseRun,
    events: list[PostedEvent],
    do_not_contact: bool,
) -> DemoCase:
    """What the service would have written for the case's run."""
    book, outbox = run.book, run.outbox
    facts, state = book.facts, book.state
    victim = outbox.victim
    rows = DemoCase(
        case=tables.case.values(
            {
                "reference": facts.reference,
                "workflow_id": f"case:{facts.reference}",
                "category": facts.category,
                "borough": facts.borough,
                "vulnerable": facts.vulnerable,
                "nation": (facts.nation or facts.policy.nation).value,
                "reported_at": facts.reported_at,
                "policy_id": facts.policy.id,
                "policy_version": facts.policy.version,
                "status": state.status.value,
                "closed_at": state.closed_at,
                "created_at": facts.reported_at,
                "officer_name": outbox.officer.get("officer_name"),
                "officer_contact": outbox.officer.get("officer_contact"),
                # Read-only: no workflow runs for it (out of the queue, refuses events).
                "demo_history": True,
            }
        ),
        victim=tables.victim.values(
            {
                "name": victim.name,
                "email": victim.email,
                "phone": victim.phone,
                "preferred_channel": victim.profile.preferred_channel,
                "allowed_channels": list(victim.profile.allowed_channels),
                "safe_hours_start": None,
                "safe_hours_end": None,
                "discreet": victim.discreet,
                "do_not_contact": do_not_contact,
                "sms_opted_out": victim.profile.sms_opted_out,
                "update_interval_days": state.update_interval_days,
                "updates_paused": state.updates_paused,
                "language": victim.language,
            }
        ),
    )
    for obligation in state.obligations:
        rows.outcomes.append((obligation.standard, obligation.state.value, obligation.due_at))
        rows.obligations.append(
            tables.obligation.values(
                {
                    "key": obligation.key,
                    "standard": obligation.standard,
                    "occurrence": obligation.occurrence,
                    "borough": facts.borough,
                    "category": facts.category,
                    **{name: getattr(obligation, name) for name in OBLIGATION_FIELDS},
                    "updated_at": max(step.at for step in obligation.history),
                }
            )
        )
        rows.transitions.append(
            [
                tables.transition.values(
                    {
                        "seq": seq,
                        "event": step.event,
                        "state": step.state.value,
                        "at": step.at,
                        "cause": step.cause,
                    }
                )
                for seq, step in enumerate(obligation.history)
            ]
        )
    for message in outbox.rows.values():
        delivered = message.status == MessageStatus.DELIVERED
        rows.messages.append(
            tables.message.values(
                {
                    "idempotency_key": message.key,
                    "template": message.template,
                    "channel": message.channel,
                    "recipient": message.recipient,
                    "subject": None,
                    "body": message.body,
                    "html_body": None,
                    "status": message.status.value,
                    "error": message.error,
                    "provider_id": None,
                    # The rehearsal's outbox does not keep it; nothing reads it.
                    "obligation_key": None,
                    "created_at": message.created_at,
                    "sent_at": message.sent_at,
                    "delivered_at": message.sent_at if delivered else None,
                    "attempts": message.attempts,
                    "language": message.language,
                    "fallback_from": message.fallback_from,
                }
            )
        )
    for alert in run.raised_alerts:
        rows.alerts.append(
            tables.alert.values(
                {
                    **alert_values(facts.reference, facts.borough, alert),
                    "acknowledged_at": None,
                    "acknowledged_by_id": None,
                    "assigned_to_id": None,
                    "assigned_by_id": None,
                    "assigned_at": None,
                    # Emailed when raised: a worker started on demo data mails nothing old.
                    "emailed_at": alert.at,
                }
            )
        )
    refused = {refusal.index for refusal in run.refusals}
    for event in events:
        if event.index in refused:
            continue
        stored = STORED_DETAILS.get(event.type, ())
        rows.events.append(
            tables.event.values(
                {
                    "event_id": event.event_id,
                    "type": event.type.value,
                    "at": event.at,
                    "actor": event.actor,
                    "received_at": event.posted_at,
                    "standard": event.standard,
                    "details": {k: v for k, v in event.details.items() if k not in stored},
                    "note": event.details.get(NOTE),
                }
            )
        )
    return rows
