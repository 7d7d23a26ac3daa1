"""The report's outputs: a terminal table, CSV, and a self-contained HTML page with SVG charts.

Charts are drawn here as inline SVG rather than with a charting library so that the HTML
file works offline and from a locked-down machine: no scripts, fonts or images to fetch.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from rich.console import Console
from rich.table import Table

from reporting.compliance import DEFINITIONS, ComplianceReport, GroupFigures
from standards.clock import LONDON

CSV_TAIL: Final = (
    "due",
    "met_on_time",
    "met_late",
    "breached",
    "on_time_rate",
    "median_time_to_meet_hours",
    "p90_time_to_meet_hours",
)
TEMPLATE: Final = "reports/compliance.html.j2"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def period_text(report: ComplianceReport) -> str:
    def local(instant: datetime) -> str:
        return instant.astimezone(LONDON).isoformat(timespec="minutes")

    return (
        f"[{local(report.start)}, {local(report.end)}) as of "
        f"{report.as_of.isoformat(timespec='seconds')}"
    )


def terminal_table(report: ComplianceReport, titles: dict[str, str] | None = None) -> Table:
    table = Table(title=f"Compliance {period_text(report)}", show_footer=True)
    footer = ["all"] + [""] * (len(report.by) - 1) if report.by else []
    for index, name in enumerate(report.by):
        table.add_column(name, footer=footer[index])
    columns = (
        "due", "met on time", "met late", "breached", "awaiting breach", "on-time rate",
        "median h", "p90 h", "median share", "p90 share",
    )  # fmt: skip
    total = _cells(report.total)
    for index, name in enumerate(columns):
        table.add_column(name, justify="right", footer=total[index])
    for group in report.groups:
        keys = list(group.key)
        if titles and "standard" in report.by:
            position = report.by.index("standard")
            keys[position] = titles.get(keys[position], keys[position])
        table.add_row(*keys, *_cells(group))
    return table


def _cells(group: GroupFigures) -> list[str]:
    return [
        str(group.due),
        str(group.met_on_time),
        str(group.met_late),
        str(group.breached),
        str(group.awaiting_breach),
        _rate(group.on_time_rate),
        _fmt(group.median_hours),
        _fmt(group.p90_hours),
        _fmt(group.median_share, 3),
        _fmt(group.p90_share, 3),
    ]


def definitions_table() -> Table:
    table = Table(title="Definitions", show_header=False, box=None)
    table.add_column("term", style="bold")
    table.add_column("meaning")
    for term, meaning in DEFINITIONS:
        table.add_row(term, meaning)
    return table


def reasons_table(report: ComplianceReport) -> Table:
    table = Table(title="Breach reasons (breached and met late)")
    table.add_column("reason")
    table.add_column("count", justify="right")
    for reason, count in sorted(report.total.reasons.items(), key=lambda item: -item[1]):
        table.add_row(reason, str(count))
    return table


def print_report(console: Console, report: ComplianceReport, titles: dict[str, str]) -> None:
    console.print(terminal_table(report, titles))
    console.print(reasons_table(report))
    console.print(definitions_table())


def csv_rows(report: ComplianceReport) -> list[list[str]]:
    """The CSV: a header, then one row per group; rates 0..1, durations in hours."""
    rows = [[*report.by, *CSV_TAIL]]
    for group in report.groups:
        rate = group.on_time_rate
        rows.append(
            [
                *group.key,
                str(group.due),
                str(group.met_on_time),
                str(group.met_late),
                str(group.breached),
                "" if rate is None else f"{rate:.6f}",
                "" if group.median_hours is None else f"{group.median_hours:.6f}",
                "" if group.p90_hours is None else f"{group.p90_hours:.6f}",
            ]
        )
    return rows


def write_csv(report: ComplianceReport, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(csv_rows(report))


def bar_chart(
    title: str, items: Sequence[tuple[str, float]], *, maximum: float, percent: bool
) -> Markup:
    """A horizontal bar chart as inline SVG; one labelled bar per item."""
    bar_height, gap, label_width, bar_width = 18, 6, 220, 360
    height = 30 + len(items) * (bar_height + gap)
    width = label_width + bar_width + 80
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    scale = bar_width / maximum if maximum > 0 else 0.0
    for index, (label, value) in enumerate(items):
        y = 30 + index * (bar_height + gap)
        length = max(value * scale, 0.0)
        shown = f"{value:.1%}" if percent else f"{value:g}"
        parts += [
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>',
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" '
            f'height="{bar_height}"><title>{escape(label)}: {shown}</title></rect>',
            f'<text x="{label_width + length + 4:.1f}" y="{y + 13}">{shown}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _rates(report: ComplianceReport) -> list[tuple[str, float]]:
    return [
        (" / ".join(group.key), group.on_time_rate)
        for group in report.groups
        if group.on_time_rate is not None
    ]


def render_html(
    report: ComplianceReport,
    by_month: ComplianceReport,
    by_borough: ComplianceReport,
    *,
    template_dir: Path,
    titles: dict[str, str],
    force_name: str,
) -> str:
    environment = Environment(
        loader=FileSystemLoader(template_dir), autoescape=select_autoescape(["html", "j2"])
    )
    reasons = sorted(report.total.reasons.items(), key=lambda item: -item[1])
    charts = [
        bar_chart("On-time rate by month", _rates(by_month), maximum=1.0, percent=True),
        bar_chart("On-time rate by borough", _rates(by_borough), maximum=1.0, percent=True),
        bar_chart(
            "Breaches by reason (breached and met late)",
            [(reason, float(count)) for reason, count in reasons],
            maximum=float(max((count for _, count in reasons), default=0)),
            percent=False,
        ),
    ]
    header = [*report.by, *(column.replace("_", " ") for column in CSV_TAIL[:4])]
    header += ["awaiting breach", "on-time rate", "median h", "p90 h", "median share", "p90 share"]
    rows = [[*_titled(report, group, titles), *_cells(group)] for group in report.groups]
    total = [*(["all"] + [""] * (len(report.by) - 1) if report.by else []), *_cells(report.total)]
    return environment.get_template(TEMPLATE).render(
        force_name=force_name,
        period=period_text(report),
        header=header,
        rows=rows,
        total=total,
        charts=charts,
        reasons=reasons,
        definitions=DEFINITIONS,
    )


def _titled(report: ComplianceReport, group: GroupFigures, titles: dict[str, str]) -> list[str]:
    keys = list(group.key)
    if "standard" in report.by:
        position = report.by.index("standard")
        keys[position] = titles.get(keys[position], keys[position])
    return keys


def late_text(late: timedelta) -> str:
    hours = late.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"
