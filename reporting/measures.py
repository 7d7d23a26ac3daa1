"""A policy's named sets of measures over a compliance report, e.g. the Ministry of
Justice's quarterly Victims' Code compliance measures (`pledge report --measures moj`).

Each measure is the standards it names counted together: due, met on time, late and
breached, and the on-time share. The figures come from one `ComplianceReport` grouped by
standard (and any other dimensions), so they agree with `pledge report` to the unit.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from reporting.compliance import ComplianceReport, GroupFigures, ReportError
from standards.policy import Policy


@dataclass
class MeasureFigures:
    key: tuple[str, ...]
    title: str
    standards: list[str]
    due: int = 0
    met_on_time: int = 0
    met_late: int = 0
    breached: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.met_on_time / self.due if self.due else None

    def add(self, group: GroupFigures) -> None:
        self.due += group.due
        self.met_on_time += group.met_on_time
        self.met_late += group.met_late
        self.breached += group.breached


@dataclass
class MeasuresReport:
    name: str
    # The dimensions after `measure` (the report's own, less `standard`).
    by: tuple[str, ...]
    rows: list[MeasureFigures] = field(default_factory=list)


def measures_sets(policy: Policy) -> list[str]:
    return sorted({measure.report for measure in policy.measures})


def measures_report(policy: Policy, name: str, report: ComplianceReport) -> MeasuresReport:
    """The measures `name` of `policy` from `report`, which must be grouped by standard
    first; a name the policy does not define is refused, naming those it does."""
    measures = policy.measures_in(name)
    if not measures:
        defined = ", ".join(measures_sets(policy)) or "none"
        raise ReportError(f"policy {policy.id} defines no measures {name!r}; defined: {defined}")
    if not report.by or report.by[0] != "standard":
        raise ReportError("a measures report needs the figures grouped by standard first")
    rest = report.by[1:]
    rows: dict[tuple[str, ...], MeasureFigures] = {}
    if not rest:
        # Every measure has its row, with nothing due when none of its standards was.
        for measure in measures:
            rows[(measure.id,)] = MeasureFigures((measure.id,), measure.title, measure.standards)
    for group in report.groups:
        standard, others = group.key[0], group.key[1:]
        for measure in measures:
            if standard in measure.standards:
                key = (measure.id, *others)
                if key not in rows:
                    rows[key] = MeasureFigures(key, measure.title, measure.standards)
                rows[key].add(group)
    order = {measure.id: i for i, measure in enumerate(measures)}
    ordered = sorted(rows.values(), key=lambda row: (order[row.key[0]], row.key[1:]))
    return MeasuresReport(name=name, by=rest, rows=ordered)


CSV_HEADER = ("due", "met_on_time", "met_late", "breached", "on_time_percent", "standards")


def measures_csv_rows(report: MeasuresReport) -> list[list[str]]:
    rows = [["measure", "title", *report.by, *CSV_HEADER]]
    for row in report.rows:
        rate = row.on_time_rate
        rows.append(
            [
                row.key[0],
                row.title,
                *row.key[1:],
                str(row.due),
                str(row.met_on_time),
                str(row.met_late),
                str(row.breached),
                "" if rate is None else f"{rate * 100:.6f}",
                " ".join(row.standards),
            ]
        )
    return rows


def write_measures_csv(report: MeasuresReport, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(measures_csv_rows(report))


def measures_table(report: MeasuresReport) -> Table:
    """The measures at a glance: one row per measure (and group), its on-time share."""
    table = Table(title=f"Measures {report.name}", title_justify="left")
    table.add_column("measure")
    for name in report.by:
        table.add_column(name)
    for heading in ("due", "on time", "late", "breached", "on time %"):
        table.add_column(heading, justify="right")
    for row in report.rows:
        rate = row.on_time_rate
        table.add_row(
            row.title,
            *row.key[1:],
            str(row.due),
            str(row.met_on_time),
            str(row.met_late),
            str(row.breached),
            "-" if rate is None else f"{rate:.1%}",
        )
    return table
