"""What a dashboard request selects: the period, the borough and standard the manager may
see, the as-of instant; checked once for the dashboard, its downloads and its lists of
cases, so a figure and the cases behind it are read with the same filters.

A manager with a borough sees that borough alone: asking for another borough's figures
answers 404, as if they did not exist; a force-wide manager chooses any borough or all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from reporting.compliance import ComplianceReport, ReportError, compliance_report, parse_dimensions
from reporting.views import Names, ReportViews, report_views
from standards.clock import LONDON
from storage.summary import local_midnight
from web.api.context import api_context
from web.pages.rendering import FieldError
from web.pages.staff_auth import PageNotFound, StaffRole, StaffUser, can_see, require_staff

DASHBOARD_PATH: Final = "/dashboard"
CASES_PATH: Final = "/dashboard/cases"
# The downloads group as the dashboard's table and grid do, unless told otherwise.
DOWNLOAD_BY: Final = "standard,borough"
DEFAULT_DAYS: Final = 28

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

    def cases_url(
        self, *, borough: str | None = None, standard: str | None = None, state: str = ""
    ) -> str:
        """The list of the obligations behind a figure: this selection, narrowed."""
        values = {
            "from": self.first_day.isoformat(),
            "to": self.after_last_day.isoformat(),
            "borough": borough or self.borough or "",
            "standard": standard or self.standard or "",
            "state": state,
            "as_of": self.as_of.isoformat(),
        }
        return f"{CASES_PATH}?{urlencode({k: v for k, v in values.items() if v})}"

    def report(
        self, session: Session, by: Sequence[str], *, percentiles: bool = True
    ) -> ComplianceReport:
        """`pledge report`'s figures for this selection, grouped `by` (the times to meet
        only with ``percentiles``: the page shows none, the downloads do)."""
        return compliance_report(
            session,
            self.start,
            self.end,
            by,
            self.as_of,
            percentiles=percentiles,
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
