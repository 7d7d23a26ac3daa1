"""The VFU worklist's order: what can still be saved comes first, then the breaches.

An obligation not yet breached (pending, its deadline still ahead) can still be met on
time, so those come first, the least time left first; an equal deadline goes to the
higher risk (a vulnerable victim, then enhanced rights under the Victims' Code, then a
high-risk category such as domestic abuse). The breaches follow by age, the most recent
first: a victim let down an hour ago can still be called today, one let down months ago
has waited on the list long enough not to bury everything after it. Then the obligation
id, so the order is total and a page never shows a row twice.

"Overdue" and "due soon" are standards.read_rules' (one meaning everywhere);
storage.read_rules.worklist_order is this order compiled to SQL, and a test checks the
database gives the order `worklist_key` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

from standards.clock import LONDON
from standards.read_rules import ObligationFacts, is_due_soon, is_overdue
from standards.vocabulary import ObligationState

# Categories ranked above others of the same deadline, after vulnerability and enhanced
# rights (the policy's categories; a policy without them ranks none this way).
HIGH_RISK_CATEGORIES: Final = ("domestic_abuse",)
# The two groups of the order, savable first.
SAVABLE: Final = 0
BREACHED: Final = 1


@dataclass(frozen=True)
class Risk:
    """What the order reads of a case besides its obligation."""

    vulnerable: bool
    # The Victims' Code's enhanced rights (Policy.has_enhanced_rights: vulnerable, or a
    # category the policy names).
    enhanced: bool
    high_risk: bool


def risk_of(category: str, vulnerable: bool, enhanced_categories: tuple[str, ...]) -> Risk:
    """A case's risk from its category and vulnerability, as the policy ranks them."""
    return Risk(
        vulnerable=vulnerable,
        enhanced=vulnerable or category in enhanced_categories,
        high_risk=category in HIGH_RISK_CATEGORIES,
    )


def risk_rank(risk: Risk) -> int:
    """0 (vulnerable, enhanced rights, high-risk category) to 7 (none of them): the three
    facts compared in that order."""
    vulnerable = 0 if risk.vulnerable else 4
    return vulnerable + (0 if risk.enhanced else 2) + (0 if risk.high_risk else 1)


def is_savable(obligation: ObligationFacts, now: datetime) -> bool:
    """Not yet breached: pending and not overdue, so it can still be met on time."""
    return obligation.state == ObligationState.PENDING and not is_overdue(obligation, now)


def worklist_key(
    obligation: ObligationFacts, risk: Risk, obligation_id: int, now: datetime
) -> tuple[int, float, int, int]:
    """The sort key of one row of the worklist (ascending)."""
    seconds = (obligation.due_at - now).total_seconds()
    if is_savable(obligation, now):
        return (SAVABLE, seconds, risk_rank(risk), obligation_id)
    # Later deadline first: the most recent breach.
    return (BREACHED, -seconds, risk_rank(risk), obligation_id)


def end_of_london_day(now: datetime) -> datetime:
    """The next midnight in London after `now` (what "due today" counts up to), in UTC."""
    tomorrow = now.astimezone(LONDON).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), tzinfo=LONDON).astimezone(UTC)


def is_due_today(obligation: ObligationFacts, now: datetime) -> bool:
    """Due soon (standards.read_rules.is_due_soon) and due before midnight in London."""
    return is_due_soon(obligation, now) and obligation.due_at < end_of_london_day(now)


__all__ = [
    "BREACHED",
    "HIGH_RISK_CATEGORIES",
    "SAVABLE",
    "Risk",
    "end_of_london_day",
    "is_due_today",
    "is_savable",
    "risk_of",
    "risk_rank",
    "worklist_key",
]
