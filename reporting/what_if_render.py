"""A what-if's outputs: the two reports side by side as a table, CSV and an HTML page.

Every figure is one of `pledge report`'s (reporting.compliance), shown as it shows them:
the on-time rate a percentage from 0 to 100, and the difference in percentage points.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rich.console import Console

from messaging.display import Name, fit, listing, name_column, number_column
from reporting.compliance import ComplianceReport, GroupFigures, definitions
from reporting.render import period_text
from reporting.what_if import WhatIf

TEMPLATE: Final = "reports/what_if.html.j2"
SIDES: Final = ("current", "proposed")
FIGURES: Final = ("due", "met_on_time", "met_late", "breached", "on_time_rate_percent")
HEADERS: Final = ("due", "on time", "late", "breached", "on-time %")


@dataclass(frozen=True)
class ComparedRow:
    """One group under both policies; `key` is empty for the whole period."""

    key: tuple[str, ...]
    current: GroupFigures
    proposed: GroupFigures

    @property
    def rate_difference(self) -> float | None:
        """Proposed minus current on-time rate, in percentage points."""
        before, after = self.current.on_time_rate, self.proposed.on_time_rate
        return None if before is None or after is None else (after - before) * 100


def compared_rows(result: WhatIf) -> list[ComparedRow]:
    """Every group either report has (an absent one counts nothing), then the total."""
    current = {g.key: g for g in result.current.groups}
    proposed = {g.key: g for g in result.proposed.groups}
    rows = [
        ComparedRow(key, current.get(key, GroupFigures(key)), proposed.get(key, GroupFigures(key)))
        for key in sorted(current.keys() | proposed.keys())
        if key
    ]
    rows.append(ComparedRow((), result.current.total, result.proposed.total))
    return rows


def _rate(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value * 100:.{digits}f}"


def _difference(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:+.{digits}f}"


def _figures(group: GroupFigures, digits: int = 1) -> list[str]:
    return [
        str(group.due),
        str(group.met_on_time),
        str(group.met_late),
        str(group.breached),
        _rate(group.on_time_rate, digits),
    ]


def _label(report: ComplianceReport, row: ComparedRow) -> str:
    return " / ".join(row.key) if row.key else "all"


def print_what_if(console: Console, result: WhatIf) -> None:
    report = result.current
    console.print(
        f"What-if {period_text(report)}: {result.cases} cases reported in the period, "
        f"replayed under {', '.join(result.current_policies)} (current) and "
        f"{result.proposed_policy.id} v{result.proposed_policy.version} (proposed)",
        highlight=False,
        soft_wrap=True,
    )
    for note in notes(result):
        console.print(f"Note: {note}", highlight=False, soft_wrap=True)
    table = listing(
        "Current | proposed",
        name_column(" / ".join(report.by) or "period"),
        *(number_column(f"{header} {side[:4]}") for header in HEADERS for side in SIDES),
        number_column("on-time ± pts"),
    )
    for row in compared_rows(result):
        now, then = _figures(row.current), _figures(row.proposed)
        cells = [cell for pair in zip(now, then, strict=True) for cell in pair]
        table.add_row(Name(_label(report, row)), *cells, _difference(row.rate_difference))
    console.print(fit(console, table))


def notes(result: WhatIf) -> list[str]:
    said: list[str] = []
    if result.erased_cases:
        said.append(
            f"{result.erased_cases} cases' contact profiles were erased by retention; their "
            "messages were replayed as reaching the victim by email at any hour"
        )
    if result.events_without_details:
        said.append(
            f"{result.events_without_details} events were recorded before their standard and "
            "details were kept; replayed without them"
        )
    if result.other_versions:
        said.append(
            f"{result.other_versions} cases were opened on another version of their policy "
            "than the policy folder holds; replayed under the folder's version"
        )
    return said


def csv_rows(result: WhatIf) -> list[list[str]]:
    """A header, then a row per group and the total (``all``): each figure under both
    policies, the rate in percent, and the difference in percentage points."""
    report = result.current
    header = [*report.by] if report.by else ["period"]
    header += [f"{side}_{name}" for side in SIDES for name in FIGURES]
    rows = [[*header, "on_time_rate_difference_points"]]
    for row in compared_rows(result):
        key = list(row.key) if row.key else ["all"] * max(1, len(report.by))
        rows.append(
            [
                *key,
                *_figures(row.current, 6),
                *_figures(row.proposed, 6),
                _difference(row.rate_difference, 6),
            ]
        )
    return rows


def write_csv(result: WhatIf, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(csv_rows(result))


def render_html(result: WhatIf, *, template_dir: Path, force_name: str) -> str:
    environment = Environment(
        loader=FileSystemLoader(template_dir), autoescape=select_autoescape(["j2", "html"])
    )
    report = result.current
    rows = [
        {
            "label": _label(report, row),
            "current": _figures(row.current),
            "proposed": _figures(row.proposed),
            "difference": _difference(row.rate_difference),
            "total": not row.key,
        }
        for row in compared_rows(result)
    ]
    return environment.get_template(TEMPLATE).render(
        force_name=force_name,
        period=period_text(report),
        by=" / ".join(report.by) or "period",
        headers=HEADERS,
        rows=rows,
        result=result,
        notes=notes(result),
        definitions=definitions(report.as_of),
    )
