"""Obligations placed on the read-side rules' boundaries, and what each rule says of them.

One table for every surface's boundary test (the pure predicates, their SQL, the API,
the queue, the case page, the CLI listing and the report), so each states the same rule
at the same instants: due exactly now, a second before, a second after, and the warning
point's edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage.enums import ObligationState
from tests.support.case_rows import ObligationSpec, add_case

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)

PENDING = ObligationState.PENDING
BREACHED = ObligationState.BREACHED


@dataclass(frozen=True)
class Boundary:
    """One obligation at one boundary, as of NOW, with the rules' answers for it."""

    name: str
    state: ObligationState
    due_at: datetime
    warn_at: datetime
    breached: bool = False
    explained: bool = False
    # What the rules say of it at NOW.
    open: bool = False
    overdue: bool = False
    due_soon: bool = False
    needs_explanation: bool = False

    @property
    def breached_at(self) -> datetime | None:
        return self.due_at if self.breached else None

    @property
    def explained_at(self) -> datetime | None:
        return NOW if self.explained else None

    @property
    def queued(self) -> bool:
        """In the VFU queue: due soon, overdue before its breach, or breached unexplained."""
        return self.due_soon or (
            self.open and ((self.state == PENDING and self.overdue) or self.needs_explanation)
        )


def _pending(name: str, due_in: timedelta, warn_in: timedelta, **rules: bool) -> Boundary:
    return Boundary(name, PENDING, NOW + due_in, NOW + warn_in, open=True, **rules)


BOUNDARIES: tuple[Boundary, ...] = (
    _pending("pending, due exactly now", timedelta(0), -6 * HOUR, overdue=True),
    _pending("pending, due a second ago", -SECOND, -6 * HOUR, overdue=True),
    _pending("pending, due in a second", SECOND, -6 * HOUR, due_soon=True),
    _pending("pending, warning point exactly now", 6 * HOUR, timedelta(0), due_soon=True),
    _pending("pending, warning point a second ago", 6 * HOUR, -SECOND, due_soon=True),
    _pending("pending, warning point in a second", 6 * HOUR, SECOND),
    Boundary(
        "breached exactly now, unexplained",
        BREACHED,
        NOW,
        NOW - 6 * HOUR,
        breached=True,
        open=True,
        overdue=True,
        needs_explanation=True,
    ),
    Boundary(
        "breached a second ago, explained",
        BREACHED,
        NOW - SECOND,
        NOW - 6 * HOUR,
        breached=True,
        explained=True,
        open=True,
        overdue=True,
    ),
    Boundary(
        "met late after its breach, unexplained",
        ObligationState.MET_LATE,
        NOW - SECOND,
        NOW - 6 * HOUR,
        breached=True,
        needs_explanation=True,
    ),
    Boundary("met, due exactly now", ObligationState.MET, NOW, NOW - 6 * HOUR),
    Boundary("cancelled, due exactly now", ObligationState.CANCELLED, NOW, NOW - 6 * HOUR),
)

# The report's period for the counted-in-a-period boundaries: [START, END), London
# midnights (GMT then, so UTC ones) that the dashboard's days name too.
START = datetime(2026, 2, 27, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PeriodBoundary:
    """One obligation's deadline at an edge of the report's period or its as-of instant."""

    name: str
    due_at: datetime
    as_of: datetime
    counted: bool
    state: ObligationState = ObligationState.MET

    @property
    def warn_at(self) -> datetime:
        return self.due_at - 6 * HOUR

    @property
    def breached_at(self) -> datetime | None:
        return None

    @property
    def explained_at(self) -> datetime | None:
        return None


PERIOD_BOUNDARIES: tuple[PeriodBoundary, ...] = (
    PeriodBoundary("due exactly at the period's start", START, NOW, counted=True),
    PeriodBoundary("due a second before the period's start", START - SECOND, NOW, counted=False),
    PeriodBoundary("due exactly at the period's end", END, NOW, counted=False),
    PeriodBoundary("due a second before the period's end", END - SECOND, NOW, counted=True),
    # As of an instant inside the period: the deadline at it is counted, after it not yet.
    PeriodBoundary("due exactly at the as-of instant", START + HOUR, START + HOUR, counted=True),
    PeriodBoundary(
        "due a second after the as-of instant", START + HOUR + SECOND, START + HOUR, counted=False
    ),
    PeriodBoundary(
        "cancelled, due in the period",
        START + HOUR,
        NOW,
        counted=False,
        state=ObligationState.CANCELLED,
    ),
)


def add_boundary_cases(
    sessions: sessionmaker[Session], obligations: Sequence[Boundary | PeriodBoundary]
) -> dict[str, str]:
    """One open Camden case per obligation, as the workflow would have recorded it;
    returns each case's reference by the boundary's name."""
    references: dict[str, str] = {}
    for index, obligation in enumerate(obligations):
        reference = references[obligation.name] = f"01/{index + 1:06d}/26"
        spec = ObligationSpec(
            "dv_contact",
            obligation.state,
            due_in=obligation.due_at - NOW,
            warn_in=obligation.warn_at - NOW,
            explained=obligation.explained_at is not None,
        )
        add_case(sessions, NOW, reference, spec)
    return references


def names_where(rule: str) -> set[str]:
    """The boundaries a rule (a Boundary field: open, overdue, ...) holds for at NOW."""
    return {b.name for b in BOUNDARIES if getattr(b, rule)}


RULES = ("open", "overdue", "due_soon", "needs_explanation")
