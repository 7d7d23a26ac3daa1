"""The tables of `pledge case show`, `pledge cases` and `pledge alerts`, built to fit 80 columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.table import Table

from messaging.display import Name, listing, minute_text, name_column, number_column
from storage.models import Alert


@dataclass(frozen=True)
class CaseRow:
    """One open case as Temporal visibility reports it."""

    reference: str
    borough: str
    category: str
    breached: int
    next_deadline: datetime | None


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


def cases_table(rows: Sequence[CaseRow], *, overdue: bool) -> Table:
    table = listing(
        "overdue cases" if overdue else "open cases",
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


__all__ = ["CaseRow", "alerts_table", "case_table", "cases_table"]
