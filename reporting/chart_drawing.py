"""The charts drawn: inline SVG and an HTML table, with the styles they need.

No scripts and nothing fetched: the SVG is inline and its styles go in the page, so the
HTML report opens offline and the dashboard loads nothing from another host. What is
drawn comes from ``reporting.charts`` (see there for why the charts look as they do).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Final

from markupsafe import Markup

from reporting.charts import (
    BAND_TEXT,
    FEW_CASES,
    FEW_TEXT,
    NO_FIGURE,
    Band,
    Grid,
    RateItem,
    TrendPoint,
    axis_floor,
    axis_ticks,
    common_target,
    percent_text,
    worst_first,
)

_LABEL_WIDTH: Final = 430
_PLOT_WIDTH: Final = 420
_TEXT_WIDTH: Final = 300
_ROW: Final = 26
_TOP: Final = 44


def _x(rate: float, floor: float) -> float:
    span = 1.0 - floor
    return _LABEL_WIDTH + (rate - floor) / span * _PLOT_WIDTH if span > 0 else _LABEL_WIDTH


def _axis(floor: float, height: int) -> list[str]:
    parts = []
    for tick in axis_ticks(floor):
        x = _x(tick, floor)
        parts += [
            f'<line class="grid-line" x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" '
            f'y2="{height - 22}"/>',
            f'<text class="tick" x="{x:.1f}" y="{height - 6}" text-anchor="middle">'
            f"{tick * 100:.0f} %</text>",
        ]
    return parts


def rate_chart(chart_id: str, title: str, items: Sequence[RateItem]) -> Markup:
    """A dot plot of on-time rates, worst first, each with its figure, due count and
    whether it is below target; the target as a line (one line when all share it, a
    tick per row when they differ)."""
    ordered = worst_first(items)
    shown = [item for item in ordered if item.rate is not None]
    floor = axis_floor([item.rate for item in shown] + [item.target for item in shown])
    height = _TOP + max(len(ordered), 1) * _ROW + 30
    width = _LABEL_WIDTH + _PLOT_WIDTH + _TEXT_WIDTH
    shared = common_target([item.target for item in ordered])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}, worst first</title>',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
        f'<text x="0" y="34" class="chart-note">Worst first. Axis from '
        f"{floor * 100:.0f} % to 100 %."
        + (f" Target {percent_text(shared)} (dashed line)." if shared is not None else "")
        + f" Hollow dot: {FEW_TEXT} (under {FEW_CASES} due).</text>",
        *_axis(floor, height),
    ]
    if shared is not None:
        x = _x(shared, floor)
        parts.append(
            f'<line class="target" x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" y2="{height - 22}"/>'
        )
    for index, item in enumerate(ordered):
        y = _TOP + index * _ROW + _ROW // 2
        parts.append(
            f'<text class="label" x="{_LABEL_WIDTH - 8}" y="{y + 4}" text-anchor="end">'
            f"{escape(item.label)}</text>"
        )
        if item.target is not None and shared is None:
            x = _x(item.target, floor)
            parts.append(
                f'<line class="target" x1="{x:.1f}" y1="{y - 9}" x2="{x:.1f}" y2="{y + 9}"/>'
            )
        if item.rate is not None:
            x = _x(item.rate, floor)
            few = " dot--few" if item.few else ""
            parts += [
                f'<line class="stem" x1="{_LABEL_WIDTH}" y1="{y}" x2="{x:.1f}" y2="{y}"/>',
                f'<circle class="dot dot--{item.band.value}{few}" cx="{x:.1f}" cy="{y}" r="6">'
                f"<title>{escape(item.label)}: {percent_text(item.rate)} of {item.due} "
                f"on time, {BAND_TEXT[item.band]}</title></circle>",
            ]
        note = f"{percent_text(item.rate)} of {item.due}"
        if item.band in (Band.BELOW, Band.FAR_BELOW):
            note += f" · below {percent_text(item.target)}"
        if item.few:
            note += f" · {FEW_TEXT}"
        parts.append(
            f'<text class="value value--{item.band.value}" '
            f'x="{_LABEL_WIDTH + _PLOT_WIDTH + 10}" y="{y + 4}">{escape(note)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(
    chart_id: str, title: str, points: Sequence[TrendPoint], target: float | None
) -> Markup:
    """Two lines over the buckets: this period (solid, round dots) and the previous
    one (dashed, square dots); the target as a line; each point's figure written."""
    # Wide enough for its two lines of notes whatever the number of points.
    left, plot_width, top, plot_height = 60, max(84 * len(points), 560), 66, 200
    width, height = left + plot_width + 40, top + plot_height + 60
    floor = axis_floor([p.rate for p in points] + [p.previous_rate for p in points] + [target])
    span = 1.0 - floor

    def y_of(rate: float) -> float:
        return top + (1.0 - (rate - floor) / span) * plot_height if span > 0 else top

    def x_of(index: int) -> float:
        step = plot_width / max(len(points), 1)
        return left + step * index + step / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
        '<text x="0" y="34" class="chart-note">Solid line and dots: this period. '
        "Dashed line and squares: the period before.</text>",
        '<text x="0" y="52" class="chart-note">'
        + (f"Target {percent_text(target)} (dashed red). " if target is not None else "")
        + f"Hollow: {FEW_TEXT} (under {FEW_CASES} due).</text>",
    ]
    for tick in axis_ticks(floor):
        y = y_of(tick)
        parts += [
            f'<line class="grid-line" x1="{left}" y1="{y:.1f}" x2="{left + plot_width}" '
            f'y2="{y:.1f}"/>',
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{tick * 100:.0f} %</text>",
        ]
    if target is not None:
        y = y_of(target)
        parts.append(
            f'<line class="target" x1="{left}" y1="{y:.1f}" x2="{left + plot_width}" y2="{y:.1f}"/>'
        )
    for series, css in (("previous", "previous"), ("current", "current")):
        rates = [p.previous_rate if series == "previous" else p.rate for p in points]
        coords = [(x_of(i), y_of(rate)) for i, rate in enumerate(rates) if rate is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline class="trend trend--{css}" points="{path}"/>')
    for index, point in enumerate(points):
        x = x_of(index)
        if point.previous_rate is not None:
            y = y_of(point.previous_rate)
            parts.append(
                f'<rect class="mark mark--previous" x="{x - 4:.1f}" y="{y - 4:.1f}" '
                f'width="8" height="8"><title>{escape(point.previous_label)}: '
                f"{percent_text(point.previous_rate)} of {point.previous_due}</title></rect>"
            )
        if point.rate is not None:
            y = y_of(point.rate)
            # The figure goes on the side away from the period before's point, so the two
            # never overlap: above when this period is higher, below when lower.
            below = point.previous_rate is not None and point.previous_rate > point.rate
            label_y = y + 19 if below else y - 10
            few = " mark--few" if 0 < point.due < FEW_CASES else ""
            parts += [
                f'<circle class="mark mark--current{few}" cx="{x:.1f}" cy="{y:.1f}" r="5">'
                f"<title>{escape(point.label)}: {percent_text(point.rate)} of {point.due}"
                f"</title></circle>",
                f'<text class="value" x="{x:.1f}" y="{label_y:.1f}" text-anchor="middle">'
                f"{point.rate * 100:.0f}</text>",
            ]
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{top + plot_height + 20}" '
            f'text-anchor="middle">{escape(point.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def grid_table(grid: Grid, caption: str, link: Callable[[str, str], str] | None = None) -> Markup:
    """The grid as an HTML table: each cell's rate written, coloured by its band, and
    marked with a symbol and hidden text for the band, so colour is never the only cue.
    A cell of fewer than FEW_CASES obligations is hatched and says so. With ``link``
    (borough, standard -> address) each cell with anything due links to its cases."""
    symbols = {Band.MET: "", Band.BELOW: "▼", Band.FAR_BELOW: "▼▼"}
    head = "".join(f'<th scope="col">{escape(title)}</th>' for _sid, title in grid.columns)
    body = []
    for row in grid.rows:
        cells = []
        for (standard, _title), cell in zip(grid.columns, row.cells, strict=True):
            symbol = symbols.get(cell.band, "")
            mark = f'<span aria-hidden="true">{symbol} </span>' if symbol else ""
            text = escape(cell.text or NO_FIGURE)
            if link is not None and cell.due:
                text = f'<a href="{escape(link(row.key, standard))}">{text}</a>'
            few = f'<span class="grid-few"> {FEW_TEXT}</span>' if cell.few else ""
            hatched = " grid-cell--few" if cell.few else ""
            cells.append(
                f'<td class="grid-cell grid-cell--{cell.band.value}{hatched}" '
                f'title="{cell.due} due, {BAND_TEXT[cell.band]}">{mark}{text}{few}'
                f'<span class="visually-hidden"> ({BAND_TEXT[cell.band]}, {cell.due} due)'
                "</span></td>"
            )
        body.append(
            f'<tr><th scope="row">{escape(row.label)} '
            f'<span class="grid-overall">{percent_text(row.overall)}</span></th>'
            f"{''.join(cells)}</tr>"
        )
    legend = " ".join(
        f'<span class="grid-cell grid-cell--{value.value}">{symbols.get(value, "")} '
        f"{BAND_TEXT[value]}</span>"
        for value in (Band.MET, Band.BELOW, Band.FAR_BELOW, Band.NOTHING_DUE)
    ) + (f' <span class="grid-cell grid-cell--few">{FEW_TEXT}: under {FEW_CASES} due</span>')
    return Markup(
        # Focusable, so a keyboard can scroll it when it is wider than the screen.
        f'<div class="table-wrap" tabindex="0" role="region" aria-label="{escape(caption)}">'
        f'<table class="table grid" id="grid"><caption>{escape(caption)}'
        f'</caption><thead><tr><th scope="col">Borough (overall on time)</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f'<p class="grid-legend">On-time rate, per cent, against each standard\'s target: '
        f"{legend}</p>"
    )


# The charts' and grid's styles, put in the page by both the dashboard and the HTML report.
# Colours pass 4.5:1 contrast against their backgrounds; the band is also in the text.
CHART_CSS: Final = """
.chart { display: block; margin: 1rem 0; font-size: 13px; max-width: 100%; height: auto; }
.chart .chart-title { font-weight: bold; font-size: 15px; fill: #0b0c0c; }
.chart .chart-note, .chart .tick { fill: #505a5f; }
.chart .label, .chart .value { fill: #0b0c0c; }
.chart .value--far_below, .chart .value--below { font-weight: bold; }
.chart .grid-line { stroke: #dcdcdc; }
.chart .target { stroke: #d4351c; stroke-width: 2; stroke-dasharray: 5 3; }
.chart .stem { stroke: #b1b4b6; stroke-width: 2; }
.chart .dot--met { fill: #00703c; }
.chart .dot--below { fill: #b45f00; }
.chart .dot--far_below { fill: #d4351c; }
.chart .dot--no_target { fill: #1d70b8; }
.chart .dot--few, .chart .mark--few { fill: #fff; stroke-width: 2; }
.chart .dot--few.dot--met { stroke: #00703c; }
.chart .dot--few.dot--below { stroke: #b45f00; }
.chart .dot--few.dot--far_below { stroke: #d4351c; }
.chart .dot--few.dot--no_target, .chart .mark--few { stroke: #1d70b8; }
.chart .trend { fill: none; stroke-width: 2; }
.chart .trend--current { stroke: #1d70b8; }
.chart .trend--previous { stroke: #505a5f; stroke-dasharray: 6 4; }
.chart .mark--current { fill: #1d70b8; }
.chart .mark--previous { fill: #505a5f; }
.chart .bar { fill: #1d70b8; }
.grid td, .grid th { white-space: nowrap; padding: 6px 8px; }
.grid-cell { font-variant-numeric: tabular-nums; text-align: right; }
.grid-cell--met { background: #cce2d8; color: #002d18; }
.grid-cell--below { background: #fff7bf; color: #3d3400; }
.grid-cell--far_below { background: #f4cdc6; color: #2a0b06; font-weight: bold; }
.grid-cell--no_target { background: #d2e2f1; color: #0c2d4a; }
.grid-cell--nothing_due { background: #f3f2f1; color: #505a5f; }
.grid-cell--few { background-image: repeating-linear-gradient(45deg, transparent 0 6px,
  rgba(255, 255, 255, 0.75) 6px 9px); }
.grid-few { display: block; font-size: 12px; font-weight: normal; }
.grid-legend .grid-cell { display: inline-block; padding: 2px 6px; margin-right: 4px; }
.grid-overall { font-weight: normal; color: #505a5f; }
.visually-hidden { position: absolute !important; width: 1px !important; height: 1px !important;
  margin: 0 !important; padding: 0 !important; overflow: hidden !important;
  clip: rect(0 0 0 0) !important; border: 0 !important; white-space: nowrap !important; }
"""
