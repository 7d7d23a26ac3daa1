"""The dashboard's drill-down and its paged breach register over a real socket, on both
databases: every figure leads to exactly the obligations it counts, a page at a time,
and following the register's pages reads the whole register in its order."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime
from html import unescape
from urllib.parse import urlencode

import pytest_asyncio
from sqlalchemy import func, select

from reporting.compliance import compliance_report
from reporting.register import breach_register
from standards.obligations import AlertKind
from standards.staff import StaffRole
from standards.vocabulary import RecipientRole
from storage.database import make_engine
from storage.models import Alert, Case, Obligation
from storage.read_rules import is_counted_in_periods
from storage.summary import local_midnight
from tests.support.pages import MovableClock, Pages, create_staff_user, running_pages, sign_in
from tests.support.reports import NOW, write_demo_history

FORCE_MANAGER = "chief@met.example"
CAMDEN_MANAGER = "manager@camden.example"
AS_OF = "2025-07-28T09:30:00+00:00"
PERIOD = {"from": "2025-03-17", "to": "2025-07-01", "as_of": AS_OF}
START, END = local_midnight(date(2025, 3, 17)), local_midnight(date(2025, 7, 1))
AS_OF_INSTANT = datetime.fromisoformat(AS_OF)
# More pages than a test should ever need: a loop that did not end is a failure.
MAX_PAGES = 60


@pytest_asyncio.fixture
async def pages(database_url: str) -> AsyncIterator[Pages]:
    write_demo_history(database_url, cases=150)
    create_staff_user(database_url, FORCE_MANAGER, StaffRole.MANAGER)
    create_staff_user(database_url, CAMDEN_MANAGER, StaffRole.MANAGER, "camden")
    async with running_pages(database_url, clock=MovableClock(NOW)) as running:
        yield running


def _rows_of(html: str, table_id: str) -> list[list[str]]:
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    if found is None:
        return []
    body = found.group(0).split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _link(html: str, link_id: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" id="{link_id}"', html)
    return unescape(found.group(1)) if found else None


async def _follow(
    pages: Pages, email: str, first: str, table_id: str, next_id: str
) -> tuple[list[list[str]], list[str]]:
    """Every row of every page from `first` on, following the "next" link; and the pages'
    texts."""
    rows: list[list[str]] = []
    texts: list[str] = []
    async with pages.client() as http:
        await sign_in(http, email)
        path: str | None = first
        while path is not None:
            assert len(texts) < MAX_PAGES, "the pages never ended"
            response = await http.get(path)
            assert response.status_code == 200, response.text
            texts.append(response.text)
            rows += _rows_of(response.text, table_id)
            path = _link(response.text, next_id)
    return rows, texts


def _counted(database_url: str, **only: str) -> list[tuple[str, str]]:
    """(reference, due) of the obligations the report counts, earliest due first."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = (
                select(Case.reference, Obligation.due_at)
                .join(Case, Case.id == Obligation.case_id)
                .where(is_counted_in_periods([(START, END)], AS_OF_INSTANT))
                .where(*(getattr(Obligation, name) == value for name, value in only.items()))
                .order_by(Obligation.due_at, Obligation.id)
            )
            return [(row.reference, row.due_at) for row in connection.execute(query)]
    finally:
        engine.dispose()


async def test_every_obligation_due_is_listed_once_in_deadline_order_across_the_pages(
    pages: Pages, database_url: str
) -> None:
    rows, texts = await _follow(
        pages,
        FORCE_MANAGER,
        f"/dashboard/cases?{urlencode(PERIOD)}",
        "cases",
        "cases-next",
    )
    expected = _counted(database_url)
    assert len(texts) == -(-len(expected) // 50) and len(texts) > 2
    assert [row[0] for row in rows] == [reference for reference, _due in expected]
    assert f"{len(expected)} obligations" in texts[0]


async def test_a_standards_breached_figure_leads_to_exactly_its_breaches(
    pages: Pages, database_url: str
) -> None:
    async with pages.client() as http:
        await sign_in(http, FORCE_MANAGER)
        dashboard = (await http.get("/dashboard", params=PERIOD)).text
    figures = re.search(r'id="figures".*?</tbody>', dashboard, re.S)
    assert figures is not None
    # The first row is the worst standard; its breached column links to its breaches.
    first_row = figures.group(0).split("<tbody>")[1].split("</tr>")[0]
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', first_row)
    breached = [(unescape(url), text) for url, text in links if "state=breached" in url]
    assert breached, "the breached figure is not a link"
    url, figure = breached[0]
    standard = re.search(r"standard=([a-z_]+)", url)
    assert standard is not None
    rows, texts = await _follow(pages, FORCE_MANAGER, url, "cases", "cases-next")
    expected = _counted(database_url, standard=standard.group(1), state="breached")
    assert int(figure) == len(expected) == len(rows) > 0
    assert [row[0] for row in rows] == [reference for reference, _due in expected]
    assert all(row[3] == "Breached" for row in rows)
    assert f"{figure} obligation" in texts[0]


async def test_the_worst_standard_heads_the_figures(pages: Pages, database_url: str) -> None:
    async with pages.client() as http:
        await sign_in(http, FORCE_MANAGER)
        dashboard = (await http.get("/dashboard", params=PERIOD)).text
    rates = [float(row[-2]) for row in _rows_of(dashboard, "figures") if row[-2]]
    assert len(rates) >= 3 and rates == sorted(rates)


async def test_following_the_registers_pages_reads_the_whole_register_in_order(
    pages: Pages, database_url: str
) -> None:
    rows, texts = await _follow(
        pages,
        FORCE_MANAGER,
        f"/dashboard?{urlencode(PERIOD)}",
        "register",
        "register-next",
    )
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            expected = breach_register(
                connection, as_of=AS_OF_INSTANT, due_from=START, due_before=END
            )
    finally:
        engine.dispose()
    assert len(expected) > 50 and len(texts) == -(-len(expected) // 50)
    assert [row[0] for row in rows] == [entry.reference for entry in expected]
    assert "Back to the start of the register" in texts[-1]


async def test_a_borough_manager_drills_into_their_borough_only(pages: Pages) -> None:
    async with pages.client() as http:
        await sign_in(http, CAMDEN_MANAGER)
        own = await http.get("/dashboard/cases", params=PERIOD)
        other = await http.get("/dashboard/cases", params={**PERIOD, "borough": "hackney"})
    assert own.status_code == 200
    assert {row[1] for row in _rows_of(own.text, "cases")} == {"Camden"}
    assert other.status_code == 404 and "hackney" not in other.text.lower()


async def test_a_wrong_state_or_page_position_is_named_and_the_first_page_shown(
    pages: Pages,
) -> None:
    async with pages.client() as http:
        await sign_in(http, FORCE_MANAGER)
        state = await http.get("/dashboard/cases", params={**PERIOD, "state": "lost"})
        after = await http.get("/dashboard/cases", params={**PERIOD, "after": "yesterday"})
        register = await http.get("/dashboard", params={**PERIOD, "after": "0~x~1"})
    assert state.status_code == 400 and "Choose a state from the list" in state.text
    assert after.status_code == 400 and "not one this list links to" in after.text
    assert register.status_code == 400 and "not one this page links to" in register.text
    for response in (state, after, register):
        assert "Traceback" not in response.text and "There is a problem" in response.text


async def test_a_grid_cell_leads_to_that_boroughs_cases_of_that_standard(
    pages: Pages, database_url: str
) -> None:
    async with pages.client() as http:
        await sign_in(http, FORCE_MANAGER)
        dashboard = (await http.get("/dashboard", params=PERIOD)).text
    grid = re.search(r'id="grid".*?</table>', dashboard, re.S)
    assert grid is not None
    cell = re.search(r'<a href="(/dashboard/cases\?[^"]*)">', grid.group(0))
    assert cell is not None
    url = unescape(cell.group(1))
    borough = re.search(r"borough=([a-z_]+)", url)
    standard = re.search(r"standard=([a-z_]+)", url)
    assert borough is not None and standard is not None
    rows, _texts = await _follow(pages, FORCE_MANAGER, url, "cases", "cases-next")
    expected = _counted(database_url, borough=borough.group(1), standard=standard.group(1))
    assert [row[0] for row in rows] == [reference for reference, _due in expected]
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            report = compliance_report(
                connection,
                START,
                END,
                (),
                AS_OF_INSTANT,
                percentiles=False,
                borough=borough.group(1),
                standard=standard.group(1),
            )
    finally:
        engine.dispose()
    assert report.total.due == len(rows)


async def test_the_dashboard_counts_the_managers_unacknowledged_escalations(
    pages: Pages, database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            open_escalations = connection.execute(
                select(func.count())
                .select_from(Alert)
                .where(
                    Alert.kind == AlertKind.ESCALATION.value,
                    Alert.recipient_role == RecipientRole.MANAGER.value,
                    Alert.acknowledged_at.is_(None),
                )
            ).scalar_one()
    finally:
        engine.dispose()
    async with pages.client() as http:
        await sign_in(http, FORCE_MANAGER)
        dashboard = (await http.get("/dashboard", params=PERIOD)).text
    escalations = re.search(
        r'id="escalations">\s*<a href="/alerts"><strong>(\d+)</strong>', dashboard
    )
    assert open_escalations > 0 and escalations is not None
    assert int(escalations.group(1)) == open_escalations
