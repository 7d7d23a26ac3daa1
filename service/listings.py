"""The tables of `pledge case show`, `pledge cases` and `pledge alerts`, built to fit 80 columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.table import Table
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from messaging.display import Name, listing, minute_text, name_column, number_column
from standards.case_state import CaseStatus
from storage import read_rules as rules
from storage.enums import ObligationState
from storage.models import Alert, Case, Obligation


@dataclass(frozen=True)
class CaseRow:
    """One open case as its recorded obligations show it."""

    reference: str
    borough: str
    category: str
    breached: int
    next_deadline: datetime | None


def open_cases(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    overdue: bool = False,
    due_soon: bool = False,
    boroughs: Sequence[str] | None = None,
    limit: int = 100,
) -> list[CaseRow]:
    """Open cases, earliest next deadline first, from the database the workflows record
    into; with `overdue` or `due_soon`, only those with an obligation overdue or due soon
    at `now`, by the rules every surface reads (storage.read_rules)."""
    statement = (
        select(
            Case.reference,
            Case.borough,
            Case.category,
            func.count(Obligation.id).filter(Obligation.state == ObligationState.BREACHED),
            func.min(Obligation.due_at).filter(Obligation.state == ObligationState.PENDING),
        )
        .outerjoin(Obligation, Obligation.case_id == Case.id)
        .where(Case.status == CaseStatus.OPEN)
        .group_by(Case.id, Case.reference, Case.borough, Case.category)
    )
    wanted = [
        rule(now) for on, rule in ((overdue, rules.is_overdue), (due_soon, rules.is_due_soon)) if on
    ]
    if wanted:
        # Either kind: a case with one overdue obligation and another due soon is both.
        statement = statement.where(Case.id.in_(select(Obligation.case_id).where(or_(*wanted))))
    if boroughs is not None:
        statement = statement.where(Case.borough.in_(boroughs))
    earliest = func.min(Obligation.due_at).filter(Obligation.state == ObligationState.PENDING)
    statement = statement.order_by(earliest.is_(None), earliest, Case.reference).limit(limit)
    with sessions() as session:
        return [
            CaseRow(
                reference=reference,
                borough=borough,
                category=category,
                breached=count,
                next_deadline=deadline,
            )
            for reference, borough, category, count, deadline in session.execute(statement)
        ]


def _instant(iso: str | None) -> str:
    return "" if iso is None else minute_text(datetime.fromisoformat(iso))


def case_table(view: dict[str, Any]) -> Table:
    """A case's obligations (the JSON view of ``service.cases.view_as_dict``)."""
    table = listing(
        f"{view['reference']} · {view['category']} · {view['borough']} · "
        f"{view['status']} · {view['policy']}",
        name_column("obligation"),
        name_column("state"),
        name_column("started"),
        name_column("due"),
        name_column("met"),
    )
    for obligation in view["obligations"]:
        table.add_row(
            Name(obligation["key"]),
            Name(obligation["state"]),
            _instant(obligation["started_at"]),
            _instant(obligation["due_at"]),
            _instant(obligation["met_at"]),
        )
    return table


def cases_table(rows: Sequence[CaseRow], *, overdue: bool, due_soon: bool = False) -> Table:
    kinds = [kind for kind, wanted in (("overdue", overdue), ("due soon", due_soon)) if wanted]
    table = listing(
        f"{', '.join(kinds)} cases" if kinds else "open cases",
        name_column("reference"),
        name_column("borough"),
        name_column("category"),
        number_column("breached"),
        name_column("next deadline"),
    )
    for row in rows:
        table.add_row(
            row.reference,
            Name(row.borough),
            Name(row.category),
            str(row.breached),
            minute_text(row.next_deadline),
        )
    return table


def alerts_table(alerts: Iterable[Alert]) -> Table:
    """Staff alerts; the case is its reference over its borough, to leave room at 80."""
    table = listing(
        "alerts",
        name_column("at"),
        name_column("case"),
        name_column("standard"),
        name_column("kind"),
        name_column("for"),
    )
    for alert in alerts:
        table.add_row(
            minute_text(alert.at),
            Name(f"{alert.reference} {alert.borough}"),
            Name(alert.standard),
            Name(alert.kind),
            Name(alert.recipient_role),
        )
    return table


__all__ = ["CaseRow", "alerts_table", "case_table", "cases_table", "open_cases"]
