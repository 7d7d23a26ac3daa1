"""`/dashboard`: the managers' compliance figures, charts and breach register.

Every figure comes from the code `pledge report` runs (reporting.compliance, .views,
.render, .register), so the page, its CSV and its HTML download say what the command
says for the same period, borough, standard and as-of instant. The page pins the
instant it counted to (`as_of`) in its download links, so a download is the page.

Managers only (anyone else: 404). A manager with a borough sees that borough alone:
asking for another borough's figures answers 404, as if they did not exist; a
force-wide manager chooses any borough or all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from messaging.display import minute_text
from reporting.chart_drawing import CHART_CSS, grid_table
from reporting.charts import percent_text
from reporting.compliance import (
    ComplianceReport,
    GroupFigures,
    ReportError,
    compliance_report,
    parse_dimensions,
)
from reporting.register import breach_register
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
from reporting.views import Names, ReportViews, report_views
from standards.clock import LONDON
from storage.summary import local_midnight
from web.api.context import api_context
from web.pages.rendering import FieldError, render, templates
from web.pages.staff_auth import PageNotFound, StaffRole, StaffUser, can_see, require_staff

router = APIRouter(include_in_schema=False)
# Rates on the page are written as the charts write them.
templates.env.filters["percent"] = percent_text

DASHBOARD_PATH: Final = "/dashboard"
CSV_PATH: Final = "/dashboard/report.csv"
HTML_PATH: Final = "/dashboard/report.html"
# The downloads group as the dashboard's table and grid do, unless told otherwise.
DOWNLOAD_BY: Final = "standard,borough"
DEFAULT_DAYS: Final = 28
REGISTER_LIMIT: Final = 50
DATE_HINT: Final = "For example, 2025-03-17"

Manager = Annotated[StaffUser, Depends(require_staff(StaffRole.MANAGER))]


@dataclass(frozen=True)
class DashboardQuery:
    """What the manager asked for, as typed into the filters (all optional)."""

    from_: str = ""
    to: str = ""
    borough: str = ""
    standard: str = ""
    as_of: str = ""
    by: str = DOWNLOAD_BY


def dashboard_query(
    from_: Annotated[str, Query(alias="from", max_length=40)] = "",
    to: Annotated[str, Query(max_length=40)] = "",
    borough: Annotated[str, Query(max_length=64)] = "",
    standard: Annotated[str, Query(max_length=64)] = "",
    as_of: Annotated[str, Query(max_length=40)] = "",
    by: Annotated[str, Query(max_length=80)] = DOWNLOAD_BY,
) -> DashboardQuery:
    return DashboardQuery(from_, to, borough, standard, as_of, by)


Asked = Annotated[DashboardQuery, Depends(dashboard_query)]


@dataclass(frozen=True)
class Selection:
    """A checked request: the period, the filters the user may see, the instant."""

    first_day: date
    after_last_day: date
    borough: str | None
    standard: str | None
    as_of: datetime
    by: tuple[str, ...]

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return local_midnight(self.after_last_day)

    def query_string(self, **extra: str) -> str:
        values = {
            "from": self.first_day.isoformat(),
            "to": self.after_last_day.isoformat(),
            "borough": self.borough or "",
            "standard": self.standard or "",
            "as_of": self.as_of.isoformat(),
            **extra,
        }
        return urlencode(values)

    def report(self, session: Session, by: Sequence[str]) -> ComplianceReport:
        """`pledge report`'s figures for this selection, grouped `by`."""
        return compliance_report(
            session,
            self.start,
            self.end,
            by,
            self.as_of,
            borough=self.borough,
            standard=self.standard,
        )

    def views(self, session: Session, names: Names) -> ReportViews:
        """The charts' data for this selection."""
        return report_views(
            session,
            self.start,
            self.end,
            self.as_of,
            names,
            borough=self.borough,
            standard=self.standard,
        )


def _date(raw: str, field: str, label: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(FieldError(field, f"{label} must be a date like 2025-03-17"))
        return None


def checked_selection(
    request: Request, user: StaffUser, asked: DashboardQuery
) -> tuple[Selection, list[FieldError]]:
    """The selection the request asks for, and what was wrong with it (the defaults stand
    in for a wrong field, so the page can still show something beside the errors).

    Raises PageNotFound for a borough the user may not see."""
    context = api_context(request)
    errors: list[FieldError] = []
    now = context.clock().astimezone(UTC).replace(microsecond=0)
    today = now.astimezone(LONDON).date()
    to = _date(asked.to, "to", "The day after the last day", errors) if asked.to else today
    first = (
        _date(asked.from_, "from", "The first day", errors)
        if asked.from_
        else (to or today) - timedelta(days=DEFAULT_DAYS)
    )
    if first is not None and to is not None and to <= first:
        errors.append(FieldError("to", "The day after the last day must be after the first day"))
        to = None
    borough = asked.borough.strip() or None
    if user.borough is not None:
        # A borough manager sees their borough only; another one does not exist for them.
        if borough is not None and not can_see(user, borough):
            raise PageNotFound()
        borough = user.borough
    elif borough is not None and context.force.unit(borough) is None:
        errors.append(FieldError("borough", "Choose a borough from the list"))
        borough = None
    standard = asked.standard.strip() or None
    if standard is not None and not context.policy.has_standard(standard):
        errors.append(FieldError("standard", "Choose a standard from the list"))
        standard = None
    as_of = now
    if asked.as_of:
        try:
            as_of = datetime.fromisoformat(asked.as_of)
        except ValueError:
            as_of = now
        if as_of.utcoffset() is None:
            as_of = now
        as_of = as_of.astimezone(UTC)
    try:
        by = parse_dimensions(asked.by)
    except ReportError:
        by = parse_dimensions(DOWNLOAD_BY)
    after_last = to or today
    first_day = (
        first
        if first is not None and first < after_last
        else after_last - timedelta(days=DEFAULT_DAYS)
    )
    return Selection(first_day, after_last, borough, standard, as_of, by), errors


@router.get(DASHBOARD_PATH, response_class=HTMLResponse)
def dashboard(request: Request, user: Manager, asked: Asked) -> Response:
    """The figures, charts and breach register for the chosen period and filters."""
    selection, errors = checked_selection(request, user, asked)
    context = api_context(request)
    names = Names.of(context.policy, context.force)
    titles = dict(names.standards)
    with context.sessions() as session:
        report = selection.report(session, ("standard",))
        views = selection.views(session, names)
        register = breach_register(
            session,
            borough=selection.borough,
            standard=selection.standard,
            due_from=selection.start,
            due_before=selection.end,
            limit=REGISTER_LIMIT,
            as_of=selection.as_of,
        )
    boroughs = (
        [(unit.id, unit.name) for unit in sorted(context.force.units, key=lambda u: u.name)]
        if user.borough is None
        else [(user.borough, names.borough(user.borough))]
    )
    rows = [
        {
            "standard": titles.get(group.key[0], group.key[0]),
            "cells": _count_cells(group),
            "target": names.targets.get(group.key[0]),
        }
        for group in report.groups
    ]
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
            "standard_name": titles.get(selection.standard, "") if selection.standard else "",
            "period": period_text(report),
            "as_of_text": minute_text(selection.as_of),
            "report": report,
            "rate_header": RATE_HEADER,
            "count_headers": COUNT_HEADERS,
            "rows": rows,
            "total": _count_cells(report.total),
            "views": views,
            "previous_text": (
                f"{minute_text(views.previous_start)} to {minute_text(views.previous_end)}"
            ),
            "charts": [*view_charts(views), reasons_chart(report)],
            "grid": grid_table(
                views.grid, "On-time rate by borough and standard (worst borough first)"
            ),
            "chart_css": Markup(CHART_CSS),
            "register": [
                {
                    "reference": entry.reference,
                    "borough": names.borough(entry.borough),
                    "standard": titles.get(entry.standard, entry.standard),
                    "state": entry.state.replace("_", " "),
                    "due": minute_text(entry.due_at),
                    "late_by": late_text(entry.late_by),
                    "reason": entry.reason,
                    "stale": entry.stale_unexplained,
                }
                for entry in register
            ],
            "register_limit": REGISTER_LIMIT,
            "csv_url": f"{CSV_PATH}?{selection.query_string(by=DOWNLOAD_BY)}",
            "html_url": f"{HTML_PATH}?{selection.query_string(by='standard')}",
        },
        status_code=400 if errors else 200,
        no_store=True,
        errors=errors,
    )


def _count_cells(group: GroupFigures) -> list[str]:
    rate = group.on_time_rate
    return [
        str(group.due),
        str(group.met_on_time),
        str(group.met_late),
        str(group.breached),
        str(group.awaiting_breach),
        "" if rate is None else f"{rate * 100:.1f}",
    ]


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
