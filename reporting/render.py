"""The report's outputs: a terminal table, CSV, and a self-contained HTML page with SVG charts.

Charts are drawn here as inline SVG rather than with a charting library so that the HTML
file works offline and from a locked-down machine: no scripts, fonts or images to fetch.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from messaging.display import (
    Figure,
    Name,
    exact_text,
    fit,
    listing,
    minute_text,
    name_column,
    number_column,
    print_listing,
)
from reporting.chart_drawing import CHART_CSS, grid_table, rate_chart, trend_chart
from reporting.compliance import ComplianceReport, GroupFigures, definitions
from reporting.register import BreachEntry
from reporting.views import ReportViews
from storage.timeline import TimelineStep

CSV_TAIL: Final = (
    "due",
    "met_on_time",
    "met_late",
    "breached",
    "on_time_rate_percent",
    "median_time_to_meet_hours",
    "p90_time_to_meet_hours",
)
TEMPLATE: Final = "reports/compliance.html.j2"
# The on-time rate is a percentage (0 to 100) everywhere: table, CSV and HTML.
RATE_HEADER: Final = "on-time %"
COUNT_HEADERS: Final = ("due", "met on time", "met late", "breached", "awaiting breach")
TIME_HEADERS: Final = ("median h", "p90 h", "median share", "p90 share")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value * 100:.{digits}f}"


def period_text(report: ComplianceReport) -> str:
    return (
        f"[{minute_text(report.start)}, {minute_text(report.end)}) as of {exact_text(report.as_of)}"
    )


def _group_label(report: ComplianceReport, group: GroupFigures) -> Name:
    return Name(" / ".join(group.key) if report.by else "all")


def counts_table(report: ComplianceReport) -> Table:
    """Counts and the on-time rate, one row per group; fits 80 columns however many --by."""
    headers = (*COUNT_HEADERS, RATE_HEADER)
    title = f"Compliance {period_text(report)}"
    return _grouped_table(report, title, headers, slice(0, len(headers)), report.groups)


def times_table(report: ComplianceReport) -> Table:
    """Times to meet (hours, and share of the window), for the groups that have any."""
    timed = [group for group in report.groups if group.median_hours is not None]
    start = len(COUNT_HEADERS) + 1
    return _grouped_table(report, "Time to meet", TIME_HEADERS, slice(start, None), timed)


def _grouped_table(
    report: ComplianceReport,
    title: str,
    headers: Sequence[str],
    cells: slice,
    groups: Sequence[GroupFigures],
) -> Table:
    """One column naming the group (its --by keys joined, so it wraps as one), then
    ``headers`` with those ``cells`` of each group; the total as the footer, or as the
    only row when the report is not grouped."""
    grouped = bool(report.by)
    total = _cells(report.total)[cells]
    table = listing(
        title,
        name_column(" / ".join(report.by) or "period", footer="all" if grouped else ""),
        *(
            number_column(name, footer=total[index] if grouped else "")
            for index, name in enumerate(headers)
        ),
        footer=grouped,
    )
    for group in groups if grouped else [report.total]:
        table.add_row(_group_label(report, group), *_cells(group)[cells])
    return table


def wide_table(report: ComplianceReport, titles: dict[str, str] | None = None) -> Table:
    """Every figure in one table, a column per --by key and standards by title (--wide)."""
    footer = ["all"] + [""] * (len(report.by) - 1) if report.by else []
    total = _cells(report.total)
    table = Table(title=f"Compliance {period_text(report)}", show_footer=True)
    for index, name in enumerate(report.by):
        table.add_column(name, footer=footer[index])
    for index, name in enumerate((*COUNT_HEADERS, RATE_HEADER, *TIME_HEADERS)):
        table.add_column(name, justify="right", footer=total[index], no_wrap=True)
    for group in report.groups:
        table.add_row(*_titled(report, group, titles or {}), *_cells(group))
    return table


def standards_table(report: ComplianceReport, titles: dict[str, str]) -> Table:
    """What each standard id in the table stands for, from the policy."""
    table = listing("Standards", name_column("standard"), name_column("title"))
    if "standard" in report.by:
        position = report.by.index("standard")
        for standard in sorted({group.key[position] for group in report.groups}):
            if standard in titles:
                table.add_row(Name(standard), titles[standard])
    return table


def _cells(group: GroupFigures) -> list[str]:
    return [
        str(group.due),
        str(group.met_on_time),
        str(group.met_late),
        str(group.breached),
        str(group.awaiting_breach),
        _percent(group.on_time_rate),
        _fmt(group.median_hours),
        _fmt(group.p90_hours),
        _fmt(group.median_share, 3),
        _fmt(group.p90_share, 3),
    ]


def definitions_table(report: ComplianceReport) -> Table:
    table = Table(title="Definitions", show_header=False, box=None)
    table.add_column("term", style="bold", no_wrap=True)
    table.add_column("meaning", overflow="fold")
    for term, meaning in definitions(report.as_of):
        table.add_row(term, meaning)
    return table


def reasons_table(report: ComplianceReport) -> Table:
    table = listing(
        "Breach reasons (breached and met late)", name_column("reason"), number_column("count")
    )
    for reason, count in sorted(report.total.reasons.items(), key=lambda item: -item[1]):
        table.add_row(Name(reason), str(count))
    return table


def print_report(
    console: Console, report: ComplianceReport, titles: dict[str, str], *, wide: bool = False
) -> None:
    """The report at 80 columns (counts, times, standards' titles), or in one wide table."""
    if report.total.due == 0:
        console.print(
            f"Compliance {period_text(report)}: nothing was due", highlight=False, soft_wrap=True
        )
    elif wide:
        table = wide_table(report, titles)
        # Wide on purpose: at its natural width, whatever the terminal, so nothing is cut.
        natural = Measurement.get(console, console.options.update(width=10_000), table)
        terminal = console.width
        console.width = max(terminal, natural.maximum)  # print() alone clamps to the terminal
        try:
            console.print(table)
        finally:
            console.width = terminal
    else:
        console.print(fit(console, counts_table(report)))
        console.print(fit(console, times_table(report)))
        legend = standards_table(report, titles)
        if legend.row_count:
            console.print(fit(console, legend))
    print_listing(console, reasons_table(report))
    console.print(definitions_table(report))


def csv_rows(report: ComplianceReport) -> list[list[str]]:
    """The CSV: a header, then one row per group; the rate in percent, durations in hours."""
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
                _percent(rate, 6),
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
    bar_height, gap, label_width, bar_width = 18, 6, 300, 360
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


def reasons_chart(report: ComplianceReport, names: Mapping[str, str] | None = None) -> Markup:
    """The breach reasons, most first, each by its text in ``names`` (its code if absent)."""
    reasons = sorted(report.total.reasons.items(), key=lambda item: -item[1])
    shown = names or {}
    return bar_chart(
        "Breaches by reason (breached and met late)",
        [(shown.get(reason, reason), float(count)) for reason, count in reasons],
        maximum=float(max((count for _, count in reasons), default=0)),
        percent=False,
    )


def view_charts(views: ReportViews) -> list[Markup]:
    """The rate charts (standard, borough, trend) the dashboard and the HTML report share."""
    unit = "week" if views.trend_unit == "week" else "month"
    return [
        rate_chart("chart-standards", "On-time rate by standard", views.by_standard),
        rate_chart("chart-boroughs", "On-time rate by borough", views.by_borough),
        trend_chart(
            "chart-trend",
            f"On-time rate by {unit}, against the period before",
            views.trend,
            views.target,
        ),
    ]


def render_html(
    report: ComplianceReport,
    views: ReportViews,
    *,
    template_dir: Path,
    titles: dict[str, str],
    force_name: str,
) -> str:
    environment = Environment(
        loader=FileSystemLoader(template_dir), autoescape=select_autoescape(["html", "j2"])
    )
    reasons = sorted(report.total.reasons.items(), key=lambda item: -item[1])
    header = [*report.by, *COUNT_HEADERS, RATE_HEADER, *TIME_HEADERS]
    rows = [[*_titled(report, group, titles), *_cells(group)] for group in report.groups]
    total = [*(["all"] + [""] * (len(report.by) - 1) if report.by else []), *_cells(report.total)]
    return environment.get_template(TEMPLATE).render(
        force_name=force_name,
        period=period_text(report),
        header=header,
        rows=rows,
        total=total,
        charts=[*view_charts(views), reasons_chart(report)],
        grid=grid_table(views.grid, "On-time rate by borough and standard (worst borough first)"),
        chart_css=Markup(CHART_CSS),
        reasons=reasons,
        definitions=definitions(report.as_of),
    )


def _titled(report: ComplianceReport, group: GroupFigures, titles: dict[str, str]) -> list[str]:
    keys = list(group.key)
    if "standard" in report.by:
        position = report.by.index("standard")
        keys[position] = titles.get(keys[position], keys[position])
    return keys


def breaches_table(entries: Sequence[BreachEntry], as_of: datetime) -> Table:
    """The breach register at 80 columns: the case is its reference over its borough."""
    table = listing(
        f"Breach register as of {minute_text(as_of)} (unexplained > 48 h first)",
        name_column("case"),
        name_column("standard"),
        name_column("state"),
        name_column("due"),
        number_column("late by"),
        name_column("explained"),
    )
    for entry in entries:
        explained: Name | str = Name(entry.reason) if entry.reason is not None else "no"
        if entry.reason is None and entry.stale_unexplained:
            explained = "[red]no[/red]"
        table.add_row(
            Name(f"{entry.reference} {entry.borough}"),
            Name(entry.standard),
            Name(entry.state),
            minute_text(entry.due_at),
            Figure(late_text(entry.late_by)),
            explained,
        )
    return table


def timeline_table(reference: str, steps: Sequence[TimelineStep]) -> Table:
    """A case's recorded transitions, to the minute in London, at 80 columns."""
    table = listing(
        f"{reference}: what happened, when and why",
        name_column("at (London)"),
        name_column("obligation"),
        name_column("event"),
        name_column("state after"),
        name_column("cause"),
    )
    for step in steps:
        table.add_row(
            minute_text(step.at),
            Name(step.obligation_key),
            Name(step.event),
            Name(step.state),
            step.cause,
        )
    return table


def late_text(late: timedelta) -> str:
    hours = late.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"
