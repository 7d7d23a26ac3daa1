"""The read-side rules: what "open", "overdue", "due soon", "needs an explanation" and
"counted in a period" mean, defined once.

The case book decides by these same predicates (standards.obligations imports them: the
clock breaches an obligation the instant it is overdue and warns while it is due soon),
and storage.read_rules compiles them to SQL for every surface that reads the database:
the API, the VFU queue, the case page, the CLI's listings and the report. A surface that
wrote its own comparison would drift from the book at the boundary instant.

The rules read only the facts named by `ObligationFacts`, so they apply alike to the
book's obligations and to the rows the workflow records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Protocol

from standards.vocabulary import ObligationState

# Pending (before its breach) or breached (still unmet): something may still meet it.
OPEN_STATES: Final = (ObligationState.PENDING, ObligationState.BREACHED)


class StateFact(Protocol):
    """All that `is_open` reads: the obligation's state."""

    @property
    def state(self) -> str: ...


class ObligationFacts(StateFact, Protocol):
    """What the rules read of an obligation (the book's, or a recorded row)."""

    @property
    def due_at(self) -> datetime: ...
    @property
    def warn_at(self) -> datetime | None: ...
    @property
    def breached_at(self) -> datetime | None: ...
    @property
    def explained_at(self) -> datetime | None: ...


def is_open(obligation: StateFact) -> bool:
    """Neither met (on time or late) nor cancelled."""
    return obligation.state in OPEN_STATES


def is_overdue(obligation: ObligationFacts, now: datetime) -> bool:
    """Open, and its deadline is at or before `now`: an obligation due exactly now is
    overdue (the clock breaches it at its deadline), whether or not the breach is
    recorded yet."""
    return is_open(obligation) and obligation.due_at <= now


def is_due_soon(obligation: ObligationFacts, now: datetime) -> bool:
    """Pending, past its warning point (the policy's warning window before the deadline,
    the point included) and not yet overdue: an overdue obligation is never due soon, as
    the book sends no warning once the deadline has gone."""
    warn_at = obligation.warn_at
    return (
        obligation.state == ObligationState.PENDING
        and warn_at is not None
        and warn_at <= now
        and now < obligation.due_at
    )


def needs_explanation(obligation: ObligationFacts) -> bool:
    """Breached (now, or before it was met late) and not yet explained: what the case
    accepts an explanation for."""
    return obligation.breached_at is not None and obligation.explained_at is None


def is_counted_in_period(
    obligation: ObligationFacts, start: datetime, end: datetime, as_of: datetime
) -> bool:
    """Due in the report's period: its deadline in [start, end) and not after `as_of`
    (not due yet is never a failure), and not cancelled."""
    return (
        start <= obligation.due_at < end
        and obligation.due_at <= as_of
        and obligation.state != ObligationState.CANCELLED
    )


__all__ = [
    "OPEN_STATES",
    "ObligationFacts",
    "StateFact",
    "is_counted_in_period",
    "is_due_soon",
    "is_open",
    "is_overdue",
    "needs_explanation",
]
