"""The managers' dashboard over a real socket states the read-side rules at their
boundary instants, on SQLite and PostgreSQL: what its report counts as due in the
period, and which breaches its register puts first as needing an explanation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
import pytest_asyncio

from reporting.register import STALE_AFTER
from standards.staff import StaffRole
from storage.summary import rebuild_report_summary
from tests.support.pages import Pages, create_staff_user, running_pages, sign_in
from tests.support.read_rules import (
    BOUNDARIES,
    END,
    NOW,
    PERIOD_BOUNDARIES,
    START,
    PeriodBoundary,
    add_boundary_cases,
)
from tests.support.reports import csv_of

MANAGER = "chief@met.example"
STALE_TAG = "Unexplained over 48 hours"


@pytest_asyncio.fixture
async def pages(database_url: str) -> AsyncIterator[Pages]:
    create_staff_user(database_url, MANAGER, StaffRole.MANAGER)
    async with running_pages(database_url, clock=lambda: NOW) as running:
        yield running


@pytest_asyncio.fixture
async def manager(pages: Pages) -> AsyncIterator[httpx.AsyncClient]:
    async with pages.client() as http:
        yield await sign_in(http, MANAGER)


def _day(instant: datetime) -> str:
    return instant.date().isoformat()


@pytest.mark.parametrize("boundary", PERIOD_BOUNDARIES, ids=lambda b: b.name)
async def test_the_dashboard_counts_an_obligation_due_in_the_period_as_the_rule_says(
    pages: Pages, manager: httpx.AsyncClient, boundary: PeriodBoundary
) -> None:
    add_boundary_cases(pages.sessions, (boundary,))
    # As the workflow's recording would have kept it (the report reads whole days from it).
    with pages.sessions.begin() as session:
        rebuild_report_summary(session)
    params = {"from": _day(START), "to": _day(END), "as_of": boundary.as_of.isoformat(), "by": ""}

    download = await manager.get("/dashboard/report.csv", params=params)

    assert download.status_code == 200, download.text
    header, *rows = csv_of(download.text)
    due = sum(int(row[header.index("due")]) for row in rows)
    assert due == (1 if boundary.counted else 0)


async def test_the_dashboard_s_register_marks_exactly_the_breaches_needing_an_explanation(
    pages: Pages, manager: httpx.AsyncClient
) -> None:
    add_boundary_cases(pages.sessions, BOUNDARIES)
    # 48 hours after NOW, a breach due exactly at NOW is at the staleness edge.
    as_of = NOW + STALE_AFTER
    params = {"from": _day(NOW), "to": _day(as_of), "as_of": as_of.isoformat()}

    page = await manager.get("/dashboard", params=params)

    assert page.status_code == 200, page.text
    assert page.text.count(STALE_TAG) == sum(1 for b in BOUNDARIES if b.needs_explanation)
