"""`/dashboard/cases`: the obligations behind a dashboard figure, 50 to a page.

The dashboard links every figure here with its filters (period, as-of instant, borough,
standard, state), checked as the dashboard checks them (web.pages.dashboard_selection):
a borough manager sees their borough only, another borough answers 404. The list is
reporting.drill_down's (the read rules of storage.read_rules, keyset paging on
(due_at, id)); its total is the report's figure for the same filters, so the number on
the dashboard is the number here. Each case links to its case page.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from messaging.display import minute_text
from reporting.drill_down import Filters, obligation_page
from reporting.list_position import ListPosition, PositionError
from reporting.views import Names
from standards.vocabulary import ObligationState
from web.api.context import api_context
from web.pages.case_views import case_url
from web.pages.dashboard import reason_text
from web.pages.dashboard_selection import (
    CASES_PATH,
    DASHBOARD_PATH,
    Asked,
    Manager,
    checked_selection,
)
from web.pages.rendering import FieldError, render

router = APIRouter(include_in_schema=False)

# The states a figure counts, as the dashboard's columns name them (the report's words).
STATE_NAMES: Final = {
    ObligationState.MET.value: "Met on time",
    ObligationState.MET_LATE.value: "Met late",
    ObligationState.BREACHED.value: "Breached",
    ObligationState.PENDING.value: "Awaiting breach",
}


@router.get(CASES_PATH, response_class=HTMLResponse)
def dashboard_cases(
    request: Request,
    user: Manager,
    asked: Asked,
    state: Annotated[str, Query(max_length=40)] = "",
    after: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    """One page of the obligations a dashboard figure counts."""
    selection, errors = checked_selection(request, user, asked)
    chosen = state.strip() or None
    if chosen is not None and chosen not in STATE_NAMES:
        errors.append(
            FieldError(
                "state",
                "Choose a state from the list: met on time, met late, breached or awaiting breach",
            )
        )
        chosen = None
    position = None
    if after:
        try:
            position = ListPosition.parse(after)
        except PositionError:
            errors.append(
                FieldError(
                    "after", "The page asked for is not one this list links to; showing the first"
                )
            )
    context = api_context(request)
    names = Names.of(context.policy, context.force)
    filters = Filters(
        selection.start,
        selection.end,
        selection.as_of,
        borough=selection.borough,
        standard=selection.standard,
        state=chosen,
    )
    with context.sessions() as session:
        page = obligation_page(session, filters, position)
    here = selection.cases_url(state=chosen or "")
    described = [
        names.borough(selection.borough) if selection.borough else "All boroughs",
        names.title(selection.standard) if selection.standard else "all standards",
        STATE_NAMES[chosen].lower() if chosen else "every obligation due",
    ]
    return render(
        request,
        "dashboard_cases.html",
        {
            "nav_current": "dashboard",
            "described": ", ".join(described),
            "scope": ", ".join(described[:2]),
            "period": f"{minute_text(selection.start)} to {minute_text(selection.end)}",
            "as_of_text": minute_text(selection.as_of),
            "total": page.total,
            "rows": [
                {
                    "reference": row.reference,
                    "url": case_url(row.reference),
                    "borough": names.borough(row.borough),
                    "standard": names.title(row.standard),
                    "state": STATE_NAMES.get(row.state, row.state.replace("_", " ")),
                    "due": minute_text(row.due_at),
                    "met": minute_text(row.met_at) if row.met_at is not None else "",
                    "reason": reason_text(row.reason)
                    if row.state in (ObligationState.BREACHED, ObligationState.MET_LATE)
                    else "",
                }
                for row in page.rows
            ],
            "paged": position is not None,
            "first_url": here,
            "next_url": (
                f"{here}&{urlencode({'after': page.next_position.text()})}"
                if page.next_position is not None
                else ""
            ),
            "dashboard_url": f"{DASHBOARD_PATH}?{selection.query_string()}",
            "state_links": [
                (
                    STATE_NAMES[value] if value else "All due",
                    selection.cases_url(state=value),
                    value == (chosen or ""),
                )
                for value in ("", *STATE_NAMES)
            ],
        },
        status_code=400 if errors else 200,
        no_store=True,
        errors=errors,
    )
