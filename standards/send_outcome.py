"""What the outcome of one send records: the case book's rule, kept pure and apart.

The case book reacts to every send's outcome (`CaseBook.on_send_outcome`) with these
functions. The activity that sends a wake's messages applies the same functions to the
book's own obligations as the book handed them over (`DeliveryMeets`), so it can record
the reaction in the transaction that records the send, and the workflow need not record
it again (workflows/side_effects.py, SENDS_RECORDED_TOGETHER).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from standards.delivery import DeliveryStatus, MessageIntent, MessageOutcome
from standards.obligations import Alert, AlertKind, Obligation, breach_if_overdue, satisfy


@dataclass
class DeliveryMeets:
    """What delivering one message meets, as the case book planned it before the send:
    the keys of the obligations, and the cause and rule they are met with."""

    obligation_keys: list[str] = field(default_factory=list)
    cause: str = ""
    breach_overdue_at_once: bool = True


def manual_contact_alert(
    intent: MessageIntent, detail: str, kind: AlertKind = AlertKind.MANUAL_CONTACT_REQUIRED
) -> Alert:
    return Alert(
        kind=kind,
        obligation_key=intent.key,
        standard=intent.template,
        at=intent.at,
        due_at=None,
        detail=detail,
    )


def outcome_alerts(intent: MessageIntent, outcome: MessageOutcome) -> list[Alert]:
    """The staff alerts an outcome raises: a fallback after a permanent failure, a
    message nothing automatic may send, or one no allowed channel delivered."""
    alerts: list[Alert] = []
    if outcome.fell_back_from is not None:
        alerts.append(
            manual_contact_alert(
                intent,
                f"{outcome.fell_back_from} failed permanently ({outcome.error}); "
                f"fell back to {outcome.channel}",
                kind=AlertKind.DELIVERY_FAILED,
            )
        )
    if outcome.status == DeliveryStatus.NOT_ALLOWED:
        alerts.append(
            manual_contact_alert(
                intent, outcome.error or "no automatic message may be sent: contact by hand"
            )
        )
    elif outcome.status == DeliveryStatus.FAILED:
        alerts.append(
            manual_contact_alert(
                intent,
                f"message could not be delivered on any allowed channel: {outcome.error}",
                kind=AlertKind.DELIVERY_FAILED,
            )
        )
    return alerts


def meet_one(
    obligation: Obligation, at: datetime, cause: str, breach_overdue_at_once: bool
) -> tuple[list[Alert], bool]:
    """Meet one obligation the book has found met by what happened at `at`: its breach
    first if its deadline has passed unseen (the book's rule since BREACH_OVERDUE_AT_ONCE),
    then met or met late. Returns the alerts and whether the obligation was met."""
    alerts = breach_if_overdue(obligation, at) if breach_overdue_at_once else []
    return alerts, satisfy(obligation, at, cause)


def meet_on_delivery(
    obligations: list[Obligation], meets: DeliveryMeets, delivered_at: datetime
) -> tuple[list[Alert], list[Obligation]]:
    """Meet what a delivery meets, as the book planned it: the alerts it raises and the
    obligations it changed (each changed in place)."""
    alerts: list[Alert] = []
    met: list[Obligation] = []
    for obligation in obligations:
        raised, changed = meet_one(
            obligation, delivered_at, meets.cause, meets.breach_overdue_at_once
        )
        alerts += raised
        if changed:
            met.append(obligation)
    return alerts, met


def alert_identity(alert: Alert) -> str:
    """An alert as the records know it: raised once per obligation key and kind."""
    return f"{alert.obligation_key}|{alert.kind.value}"
