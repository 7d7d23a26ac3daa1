"""`/dashboard`: the managers' compliance figures, charts and breach register.

Every figure comes from the code `pledge report` runs (reporting.compliance, .views,
.render, .register), so the page, its CSV and its HTML download say what the command
says for the same period, borough, standard and as-of instant. The page pins the
instant it counted to (`as_of`) in its download links, so a download is the page.

Every figure links to the obligations behind it (`/dashboard/cases`, see
web.pages.dashboard_cases), and the breach register is paged by keyset (`after`), so
the whole register can be read 50 at a time. Figures by standard and by borough are
ordered worst on-time rate first; a figure of fewer than FEW_CASES obligations is marked
"few cases" rather than shown as the equal of one of thousands.

Managers only (anyone else: 404); see web.pages.dashboard_selection for who sees which
borough.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from messaging.display import minute_text
from reporting.chart_drawing import CHART_CSS, grid_table
from reporting.charts import FEW_CASES, RateItem, percent_text, worst_first
from reporting.compliance import ComplianceReport, GroupFigures
from reporting.list_position import PositionError
from reporting.measures import MeasuresReport, measures_report, measures_sets
from reporting.register import RegisterCursor, register_page
from reporting.render import (
    COUNT_HEADERS,
    RATE_HEADER,
    csv_rows,
    late_text,
    period_text,
    reasons_chart,
    render_html,
    view_charts,
)
from reporting.views import Names
from service.alert_desk import open_on_desk
from standards.policy import Policy
from storage.summary import UNEXPLAINED
from web.api.context import api_context
from web.pages.case_views import BREACH_REASONS, case_url
from web.pages.dashboard_selection import (
    DASHBOARD_PATH,
    DOWNLOAD_BY,
    Asked,
    Manager,
    Selection,
    checked_selection,
)
from web.pages.rendering import FieldError, render, templates
from web.pages.staff_auth import StaffUser

router = APIRouter(include_in_schema=False)
# Rates on the page are written as the charts write them.
templates.env.filters["percent"] = percent_text

CSV_PATH: Final = "/dashboard/report.csv"
HTML_PATH: Final = "/dashboard/report.html"
REGISTER_LIMIT: Final = 50
ALERTS_PATH: Final = "/alerts"
# The states a count column of the figures table lists (None: every obligation due).
COUNT_STATES: Final = (None, "met", "met_late", "breached", "pending")
UNEXPLAINED_TEXT: Final = "Not yet explained"


def reason_names() -> dict[str, str]:
    """What each recorded breach reason says, as the case page's explanation form says it."""
    return {str(reason): text for reason, text in BREACH_REASONS.items()} | {
        UNEXPLAINED: UNEXPLAINED_TEXT
    }


def reason_text(reason: str | None) -> str:
    if reason is None:
        return UNEXPLAINED_TEXT
    return reason_names().get(reason, reason.replace("_", " "))


def _count_cells(selection: Selection, group: GroupFigures, **narrow: str) -> list[dict[str, str]]:
    counts = [group.due, group.met_on_time, group.met_late, group.breached, group.awaiting_breach]
    return [
        {
            "text": str(count),
            "url": selection.cases_url(state=state or "", **narrow) if count else "",
        }
        for count, state in zip(counts, COUNT_STATES, strict=True)
    ]


def _standard_rows(
    selection: Selection, groups: list[GroupFigures], names: Names
) -> list[dict[str, Any]]:
    """The figures by standard, worst on-time rate first (nothing due last)."""
    items = [
        RateItem(group.key[0], names.title(group.key[0]), group.on_time_rate, group.due)
        for group in groups
    ]
    by_key = {group.key[0]: group for group in groups}
    rows = []
    for item in worst_first(items):
        group = by_key[item.key]
        rate = group.on_time_rate
        rows.append(
            {
                "standard": item.label,
                "url": selection.cases_url(standard=item.key),
                "cells": _count_cells(selection, group, standard=item.key),
                "rate": "" if rate is None else f"{rate * 100:.1f}",
                "few": 0 < group.due < FEW_CASES,
                "target": names.targets.get(item.key),
            }
        )
    return rows


def _borough_rows(selection: Selection, items: list[RateItem]) -> list[dict[str, Any]]:
    return [
        {
            "borough": item.label,
            "url": selection.cases_url(borough=item.key),
            "rate": item.rate,
            "due": item.due,
            "target": item.target,
            "few": item.few,
            "below": item.band.value in ("below", "far_below"),
        }
        for item in worst_first(items)
    ]


def _measures(policy: Policy | None, report: ComplianceReport) -> list[MeasuresReport]:
    """Each set of measures the policy defines (the MoJ's), over the page's figures by
    standard: the same counts as `pledge report --measures NAME` for the period."""
    if policy is None:
        return []
    return [measures_report(policy, name, report) for name in measures_sets(policy)]


def _escalations(request: Request, user: StaffUser) -> int:
    """Escalations addressed to this manager not yet acknowledged (the alerts page's count)."""
    context = api_context(request)
    with context.sessions() as session:
        return open_on_desk(session, user, context.force)


def _register_rows(
    selection: Selection, entries: list[Any], names: Names
) -> list[Mapping[str, Any]]:
    return [
        {
            "reference": entry.reference,
            "url": case_url(entry.reference),
            "borough": names.borough(entry.borough),
            "standard": names.title(entry.standard),
            "state": entry.state.replace("_", " "),
            "due": minute_text(entry.due_at),
            "late_by": late_text(entry.late_by),
            "reason": reason_text(entry.reason) if entry.reason else "",
            "stale": entry.stale_unexplained,
        }
        for entry in entries
    ]


@router.get(DASHBOARD_PATH, response_class=HTMLResponse)
def dashboard(
    request: Request,
    user: Manager,
    asked: Asked,
    after: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    """The figures, charts and breach register for the chosen period and filters."""
    selection, errors = checked_selection(request, user, asked)
    cursor = None
    if after:
        try:
            cursor = RegisterCursor.parse(after)
        except PositionError:
            errors.append(
                FieldError(
                    "register",
                    "The register page asked for is not one this page links to; showing the start",
                )
            )
    context = api_context(request)
    names = Names.of(context.policy, context.force)
    with context.sessions() as session:
        # The page shows no times to meet: reading the summaries' packed times for
        # percentiles was half of its database time (py-spy, 900,000 cases).
        report = selection.report(session, ("standard",), percentiles=False)
        views = selection.views(session, names)
        register = register_page(
            session,
            borough=selection.borough,
            standard=selection.standard,
            due_from=selection.start,
            due_before=selection.end,
            limit=REGISTER_LIMIT,
            as_of=selection.as_of,
            after=cursor,
        )
    boroughs = (
        [(unit.id, unit.name) for unit in sorted(context.force.units, key=lambda u: u.name)]
        if user.borough is None
        else [(user.borough, names.borough(user.borough))]
    )
    reasons = reason_names()
    measures = _measures(context.measures_policy, report)
    return render(
        request,
        "dashboard.html",
        {
            "nav_current": "dashboard",
            "selection": selection,
            "first_day": asked.from_
            if any(e.field == "from" for e in errors)
            else selection.first_day.isoformat(),
            "after_last_day": asked.to
            if any(e.field == "to" for e in errors)
            else selection.after_last_day.isoformat(),
            "borough_options": ([("", "All boroughs")] if user.borough is None else []) + boroughs,
            "standard_options": [("", "All standards"), *names.standards],
            "borough_locked": user.borough is not None,
            "scope_name": names.borough(selection.borough) if selection.borough else "All boroughs",
            "standard_name": names.title(selection.standard) if selection.standard else "",
            "period": period_text(report),
            "as_of_text": minute_text(selection.as_of),
            "report": report,
            "few_cases": FEW_CASES,
            "rate_header": RATE_HEADER,
            "count_headers": COUNT_HEADERS,
            "rows": _standard_rows(selection, report.groups, names),
            "total": _count_cells(selection, report.total),
            "all_due_url": selection.cases_url(),
            "borough_rows": _borough_rows(selection, views.by_borough),
            "measures": measures,
            "measures_policy": context.measures_policy,
            "reasons": [
                (reasons.get(reason, reason), count)
                for reason, count in sorted(report.total.reasons.items(), key=lambda i: -i[1])
            ],
            "views": views,
            "previous_text": (
                f"{minute_text(views.previous_start)} to {minute_text(views.previous_end)}"
            ),
            "charts": [*view_charts(views), reasons_chart(report, reasons)],
            "grid": grid_table(
                views.grid,
                "On-time rate by borough and standard (worst borough first)",
                link=lambda borough, standard: selection.cases_url(
                    borough=borough, standard=standard
                ),
            ),
            "chart_css": Markup(CHART_CSS),
            "register": _register_rows(selection, register.entries, names),
            "register_limit": REGISTER_LIMIT,
            "register_paged": cursor is not None,
            "register_start_url": f"{DASHBOARD_PATH}?{selection.query_string()}#breach-register",
            "register_next_url": (
                f"{DASHBOARD_PATH}?{selection.query_string(after=register.next_cursor.text())}"
                "#breach-register"
                if register.next_cursor is not None
                else ""
            ),
            "escalations": _escalations(request, user),
            "alerts_url": ALERTS_PATH,
            "csv_url": f"{CSV_PATH}?{selection.query_string(by=DOWNLOAD_BY)}",
            "html_url": f"{HTML_PATH}?{selection.query_string(by='standard')}",
        },
        status_code=400 if errors else 200,
        no_store=True,
        errors=errors,
    )


def _download_name(selection: Selection, suffix: str) -> str:
    scope = selection.borough or "all"
    return f"compliance-{scope}-{selection.first_day}-to-{selection.after_last_day}.{suffix}"


@router.get(CSV_PATH)
def dashboard_csv(request: Request, user: Manager, asked: Asked) -> Response:
    """The report as `pledge report --csv` writes it, for the dashboard's selection."""
    selection, errors = checked_selection(request, user, asked)
    if errors:
        return Response(errors[0].message, status_code=400, media_type="text/plain")
    context = api_context(request)
    with context.sessions() as session:
        report = selection.report(session, selection.by)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(report))
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_download_name(selection, "csv")}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(HTML_PATH)
def dashboard_html(request: Request, user: Manager, asked: Asked) -> Response:
    """The report as `pledge report --html` writes it, for the dashboard's selection."""
    selection, errors = checked_selection(request, user, asked)
    if errors:
        return Response(errors[0].message, status_code=400, media_type="text/plain")
    context = api_context(request)
    names = Names.of(context.policy, context.force)
    with context.sessions() as session:
        report = selection.report(session, selection.by)
        views = selection.views(session, names)
    html = render_html(
        report,
        views,
        template_dir=context.settings.template_dir,
        titles=dict(names.standards),
        force_name=context.settings.force_name,
    )
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_download_name(selection, "html")}"',
            "Cache-Control": "no-store",
        },
    )
