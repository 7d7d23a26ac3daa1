"""A case's timeline: every recorded transition of its obligations, in order.

One read shared by `pledge case explain` (cli/reports.py) and the staff case page
(service/case_page.py), so it sits below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from storage.models import Case, Obligation, ObligationTransition, UnknownCase


@dataclass(frozen=True)
class TimelineStep:
    obligation_key: str
    standard: str
    seq: int
    event: str
    state: str
    at: datetime
    cause: str


def as_connection(bind: Connection | Session) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def case_timeline(bind: Connection | Session, reference: str) -> list[TimelineStep]:
    """Every recorded transition of every obligation of the case, in the order it happened."""
    connection = as_connection(bind)
    case_id = connection.execute(select(Case.id).where(Case.reference == reference)).scalar()
    if case_id is None:
        raise UnknownCase(reference)
    query = (
        select(
            Obligation.key,
            Obligation.standard,
            ObligationTransition.seq,
            ObligationTransition.event,
            ObligationTransition.state,
            ObligationTransition.at,
            ObligationTransition.cause,
        )
        .join(Obligation, Obligation.id == ObligationTransition.obligation_id)
        .where(ObligationTransition.case_id == case_id)
        .order_by(ObligationTransition.at, Obligation.id, ObligationTransition.seq)
    )
    return [
        TimelineStep(
            obligation_key=row.key,
            standard=row.standard,
            seq=row.seq,
            event=row.event,
            state=row.state,
            at=row.at,
            cause=row.cause,
        )
        for row in connection.execute(query)
    ]
