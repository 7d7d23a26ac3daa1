"""The what-if's figures, counted in memory from the replayed obligations.

A replay's obligations never reach a database: each process that replays cases counts
them as `pledge report` counts obligations (``reporting.compliance``: due in [from, to)
and not after the as-of instant, not cancelled; per state; a late one's reason, and a
replayed breach is always ``unexplained``), grouped by the report's dimensions, and the
counts are added up. ``tests/integration/test_what_if_figures.py`` checks the result
against `compliance_report` over the same obligations written to SQLite and PostgreSQL.

The what-if shows counts and rates only, so, like ``compliance_report(...,
percentiles=False)``, it computes no times to meet (median and p90 stay None).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reporting.compliance import (
    FIGURE_OF_STATE,
    ComplianceReport,
    GroupFigures,
    parse_dimensions,
)
from reporting.periods import month_boundaries
from standards.clock import require_aware
from standards.obligations import Obligation, ObligationState
from storage.summary import LATE_STATES, UNEXPLAINED


@dataclass(frozen=True)
class Counting:
    """What a report counts: the period, the as-of instant, the groups and the filters."""

    start: datetime
    end: datetime
    as_of: datetime
    by: tuple[str, ...]
    borough: str | None = None
    standard: str | None = None
    # The London months' first instants after the first (bisected for a deadline's month).
    _month_starts: tuple[datetime, ...] = field(default=(), repr=False)
    _month_labels: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def of(
        cls,
        start: datetime,
        end: datetime,
        by: Sequence[str],
        as_of: datetime,
        *,
        borough: str | None = None,
        standard: str | None = None,
    ) -> Counting:
        start = require_aware(start, "start").astimezone(UTC)
        end = require_aware(end, "end").astimezone(UTC)
        months = month_boundaries(start, end)
        return cls(
            start=start,
            end=end,
            as_of=require_aware(as_of, "as_of").astimezone(UTC),
            by=parse_dimensions(by),
            borough=borough,
            standard=standard,
            _month_starts=tuple(lower for _label, lower, _upper in months[1:]),
            _month_labels=tuple(label for label, _lower, _upper in months),
        )

    def month(self, due_at: datetime) -> str:
        """The London month (YYYY-MM) of a deadline in the period."""
        return self._month_labels[bisect_right(self._month_starts, due_at)]


# (group key, state) -> number of obligations.
Tally = Counter[tuple[tuple[str, ...], str]]


def count_obligations(
    tally: Tally,
    counting: Counting,
    obligations: Iterable[Obligation],
    borough: str,
    category: str,
) -> None:
    """Add one case's counted obligations to `tally`."""
    if counting.borough is not None and borough != counting.borough:
        return
    start, end, as_of, only = counting.start, counting.end, counting.as_of, counting.standard
    cancelled = ObligationState.CANCELLED
    for obligation in obligations:
        due_at = obligation.due_at
        if not start <= due_at < end or due_at > as_of or obligation.state == cancelled:
            continue
        if only is not None and obligation.standard != only:
            continue
        key = tuple(_part(name, obligation, borough, category, counting) for name in counting.by)
        tally[(key, obligation.state.value)] += 1


def _part(
    name: str, obligation: Obligation, borough: str, category: str, counting: Counting
) -> str:
    if name == "standard":
        return obligation.standard
    if name == "borough":
        return borough
    if name == "category":
        return category
    return counting.month(obligation.due_at)


def report_of(tally: Tally, counting: Counting) -> ComplianceReport:
    """The compliance report these counts make (no times to meet)."""
    groups: dict[tuple[str, ...], GroupFigures] = {}
    total = GroupFigures(key=())
    for (key, state), count in sorted(tally.items()):
        group = groups.get(key)
        if group is None:
            group = groups[key] = GroupFigures(key=key)
        for figures in (group, total):
            figures.due += count
            name = FIGURE_OF_STATE.get(state)
            if name is not None:
                setattr(figures, name, getattr(figures, name) + count)
            if state in LATE_STATES:
                figures.reasons[UNEXPLAINED] = figures.reasons.get(UNEXPLAINED, 0) + count
    return ComplianceReport(
        start=counting.start,
        end=counting.end,
        as_of=counting.as_of,
        by=counting.by,
        groups=[groups[key] for key in sorted(groups)],
        total=total,
        borough=counting.borough,
        standard=counting.standard,
    )
