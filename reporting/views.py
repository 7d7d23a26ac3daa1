"""The charts' figures for a period: what the dashboard and ``pledge report --html`` show.

Every figure comes from ``compliance_report`` (the same code, the same numbers as the
table and the CSV), without percentiles, which the charts do not need: one report by
(standard, borough) for the standard, borough and grid charts, and the trend by week (a
period of up to 13 weeks) or by month against the period of the same length before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from reporting.charts import Grid, RateItem, TrendPoint, pair_buckets, standard_borough_grid
from reporting.compliance import ComplianceReport, GroupFigures, compliance_report
from reporting.periods import month_boundaries
from standards.clock import LONDON
from standards.force import Force
from standards.policy import Policy
from storage.summary import local_midnight

# Up to this many days the trend is by week; longer periods by month.
WEEKLY_UP_TO_DAYS: Final = 91


@dataclass(frozen=True)
class Names:
    """Display names: standards' titles (in the policy's order), boroughs' names, and
    each standard's on-time target (0 to 1)."""

    standards: Sequence[tuple[str, str]]
    boroughs: Sequence[tuple[str, str]]
    targets: Mapping[str, float]

    def title(self, standard: str) -> str:
        return dict(self.standards).get(standard, standard)

    def borough(self, borough: str) -> str:
        return dict(self.boroughs).get(borough, borough)

    @classmethod
    def of(cls, policy: Policy | None, force: Force | None) -> Names:
        """The names and targets in the policy and the force file (ids where absent)."""
        return cls(
            standards=[(rule.id, rule.title) for rule in policy.standards] if policy else [],
            boroughs=[(unit.id, unit.name) for unit in force.units] if force else [],
            targets=policy.on_time_targets() if policy else {},
        )


@dataclass(frozen=True)
class ReportViews:
    by_standard: list[RateItem]
    by_borough: list[RateItem]
    grid: Grid
    trend: list[TrendPoint]
    trend_unit: str  # "week" or "month"
    # What the force's targets ask of this mix of obligations (see weighted_target).
    target: float | None
    previous_start: datetime
    previous_end: datetime
    rate: float | None
    previous_rate: float | None


def weighted_target(
    due_by_standard: Mapping[str, int], targets: Mapping[str, float]
) -> float | None:
    """The on-time rate that meeting each standard's target exactly would give, for
    obligations due in these numbers per standard (None when a standard has no target
    or nothing is due)."""
    due = sum(due_by_standard.values())
    if not due or any(standard not in targets for standard, n in due_by_standard.items() if n):
        return None
    return sum(targets[standard] * n for standard, n in due_by_standard.items()) / due


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length just before: the same number of London days when
    both ends are London midnights, else the same duration."""
    first, last = start.astimezone(LONDON), end.astimezone(LONDON)
    if local_midnight(first.date()) == start and local_midnight(last.date()) == end:
        days = (last.date() - first.date()).days
        return local_midnight(first.date() - timedelta(days=days)), start
    return start - (end - start), start


def week_buckets(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(label, from, to) for each 7 London days from ``start``; the last may be shorter."""
    buckets = []
    day = start.astimezone(LONDON).date()
    lower = start
    while lower < end:
        day += timedelta(days=7)
        upper = min(local_midnight(day), end)
        if upper <= lower:  # a start that is not a midnight
            upper = min(lower + timedelta(days=7), end)
        label = f"w/c {lower.astimezone(LONDON):%d %b}"
        buckets.append((label, lower, upper))
        lower = upper
    return buckets


def _bucketed(
    bind: Connection | Session,
    start: datetime,
    end: datetime,
    as_of: datetime,
    weekly: bool,
    borough: str | None,
    standard: str | None,
) -> list[tuple[str, float | None, int]]:
    if weekly:
        found = []
        for label, lower, upper in week_buckets(start, end):
            report = compliance_report(
                bind, lower, upper, (), as_of, percentiles=False, borough=borough, standard=standard
            )
            found.append((label, report.total.on_time_rate, report.total.due))
        return found
    report = compliance_report(
        bind, start, end, ("month",), as_of, percentiles=False, borough=borough, standard=standard
    )
    by_month = {group.key[0]: group for group in report.groups}
    labels = [label for label, _lower, _upper in month_boundaries(start, end)]
    return [
        (
            _month_text(label),
            by_month[label].on_time_rate if label in by_month else None,
            by_month[label].due if label in by_month else 0,
        )
        for label in labels
    ]


def _month_text(label: str) -> str:
    return date.fromisoformat(f"{label}-01").strftime("%b %Y")


def report_views(
    bind: Connection | Session,
    start: datetime,
    end: datetime,
    as_of: datetime,
    names: Names,
    *,
    borough: str | None = None,
    standard: str | None = None,
) -> ReportViews:
    """Every chart's figures for [start, end) as of ``as_of``, filtered as the report is."""
    cells = compliance_report(
        bind,
        start,
        end,
        ("standard", "borough"),
        as_of,
        percentiles=False,
        borough=borough,
        standard=standard,
    )
    by_standard = _sum_by(cells, 0)
    by_borough = _sum_by(cells, 1)
    due_per_borough: dict[str, dict[str, int]] = {}
    for group in cells.groups:
        due_per_borough.setdefault(group.key[1], {})[group.key[0]] = group.due
    standard_items = [
        RateItem(key, names.title(key), f.on_time_rate, f.due, names.targets.get(key))
        for key, f in by_standard.items()
    ]
    borough_items = [
        RateItem(
            key,
            names.borough(key),
            f.on_time_rate,
            f.due,
            weighted_target(due_per_borough.get(key, {}), names.targets),
        )
        for key, f in by_borough.items()
    ]
    grid = standard_borough_grid(
        {(g.key[0], g.key[1]): (g.met_on_time, g.due) for g in cells.groups},
        names.standards,
        [(key, names.borough(key)) for key in sorted(by_borough, key=names.borough)],
        names.targets,
    )
    previous_start, previous_end = previous_period(start, end)
    weekly = (end - start) <= timedelta(days=WEEKLY_UP_TO_DAYS)
    current = _bucketed(bind, start, end, as_of, weekly, borough, standard)
    previous = _bucketed(bind, previous_start, previous_end, as_of, weekly, borough, standard)
    previous_total = compliance_report(
        bind,
        previous_start,
        previous_end,
        (),
        as_of,
        percentiles=False,
        borough=borough,
        standard=standard,
    )
    return ReportViews(
        by_standard=standard_items,
        by_borough=borough_items,
        grid=grid,
        trend=pair_buckets(current, previous),
        trend_unit="week" if weekly else "month",
        target=weighted_target({k: f.due for k, f in by_standard.items()}, names.targets),
        previous_start=previous_start,
        previous_end=previous_end,
        rate=cells.total.on_time_rate,
        previous_rate=previous_total.total.on_time_rate,
    )


def _sum_by(report: ComplianceReport, position: int) -> dict[str, GroupFigures]:
    """The counts of a (standard, borough) report added up by one of its keys."""
    sums: dict[str, GroupFigures] = {}
    for group in report.groups:
        key = group.key[position]
        total = sums.setdefault(key, GroupFigures(key=(key,)))
        total.due += group.due
        total.met_on_time += group.met_on_time
        total.met_late += group.met_late
        total.breached += group.breached
        total.awaiting_breach += group.awaiting_breach
    return sums
