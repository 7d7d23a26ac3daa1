"""The managers' dashboard over a real socket: who may see what, and that its figures,
its CSV and its HTML are `pledge report`'s for the same period and filters."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from markupsafe import escape

from reporting.compliance import compliance_report
from standards.staff import StaffRole
from storage.database import make_engine
from storage.summary import local_midnight
from tests.support.pages import MovableClock, Pages, create_staff_user, running_pages, sign_in
from tests.support.reports import (
    NOW,
    csv_of,
    pledge_report,
    pledge_report_csv,
    write_demo_history,
)

FORCE_MANAGER = "chief@met.example"
CAMDEN_MANAGER = "manager@camden.example"
CAMDEN_VFU = "vfu@camden.example"
ADMIN = "admin@met.example"
AS_OF = "2025-07-28T09:30:00+00:00"
PERIOD = {"from": "2025-03-17", "to": "2025-07-01", "as_of": AS_OF}
CLI_PERIOD = ("--from", "2025-03-17", "--to", "2025-07-01", "--as-of", AS_OF)


@pytest_asyncio.fixture
async def pages(database_url: str) -> AsyncIterator[Pages]:
    write_demo_history(database_url, cases=150)
    create_staff_user(database_url, FORCE_MANAGER, StaffRole.MANAGER)
    create_staff_user(database_url, CAMDEN_MANAGER, StaffRole.MANAGER, "camden")
    create_staff_user(database_url, CAMDEN_VFU, StaffRole.VFU, "camden")
    create_staff_user(database_url, ADMIN, StaffRole.ADMIN)
    async with running_pages(database_url, clock=MovableClock(NOW)) as running:
        yield running


async def _get_as(pages: Pages, email: str, path: str, **params: str) -> tuple[int, str]:
    async with pages.client() as http:
        await sign_in(http, email)
        response = await http.get(path, params=params, follow_redirects=False)
        return response.status_code, response.text


def _numbers_in(html: str, element_id: str) -> list[str]:
    found = re.search(rf'id="{element_id}".*?</table>', html, re.S)
    assert found is not None, f"no #{element_id} on the page"
    cells = re.findall(r'<td class="numeric"[^>]*>(.*?)</td>', found.group(0), re.S)
    # A figure is a link to its cases; its text is the figure.
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


async def test_the_dashboards_csv_is_pledge_reports_csv_for_the_same_period(
    pages: Pages, database_url: str, tmp_path: Path
) -> None:
    status, page = await _get_as(pages, FORCE_MANAGER, "/dashboard", **PERIOD)
    assert status == 200, page
    link = re.search(r'id="download-csv" href="([^"]+)"', page)
    assert link is not None
    async with pages.client() as http:
        await sign_in(http, FORCE_MANAGER)
        download = await http.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    expected = pledge_report_csv(tmp_path, database_url, *CLI_PERIOD, "--by", "standard,borough")
    assert len(expected) > 10
    assert csv_of(download.text) == expected


async def test_a_filtered_download_is_the_filtered_pledge_report(
    pages: Pages, database_url: str, tmp_path: Path
) -> None:
    status, text = await _get_as(
        pages,
        FORCE_MANAGER,
        "/dashboard/report.csv",
        **PERIOD,
        borough="camden",
        standard="acknowledgement",
        by="category,month",
    )
    assert status == 200, text
    expected = pledge_report_csv(
        tmp_path,
        database_url,
        *CLI_PERIOD,
        "--by",
        "category,month",
        "--borough",
        "Camden",
        "--standard",
        "acknowledgement",
    )
    assert len(expected) > 1
    assert csv_of(text) == expected


async def test_the_html_download_is_pledge_report_html(
    pages: Pages, database_url: str, tmp_path: Path
) -> None:
    status, html = await _get_as(
        pages, FORCE_MANAGER, "/dashboard/report.html", **PERIOD, by="standard"
    )
    assert status == 200
    done = pledge_report(tmp_path, database_url, *CLI_PERIOD, "--html", str(tmp_path / "r.html"))
    assert done.returncode == 0, done.stderr
    assert html == (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count('class="chart"') == 4 and 'id="grid"' in html


async def test_the_page_shows_the_reports_figures(pages: Pages, database_url: str) -> None:
    status, page = await _get_as(pages, FORCE_MANAGER, "/dashboard", **PERIOD)
    assert status == 200
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            report = compliance_report(
                connection,
                local_midnight(date(2025, 3, 17)),
                local_midnight(date(2025, 7, 1)),
                ("standard",),
                NOW,
                percentiles=False,
            )
    finally:
        engine.dispose()
    total = report.total
    rate = f"{total.met_on_time / total.due * 100:.1f}"
    figures = _numbers_in(page, "figures")
    # The footer row: due, met on time, met late, breached, awaiting breach, rate.
    assert figures[-6:] == [
        str(total.due),
        str(total.met_on_time),
        str(total.met_late),
        str(total.breached),
        str(total.awaiting_breach),
        rate,
    ]
    assert re.search(rf"{rate} % of <a href=\"[^\"]*\">{total.due} due</a>", page)
    for chart in ("chart-standards", "chart-boroughs", "chart-trend"):
        assert f'id="{chart}"' in page
    assert 'id="grid"' in page and 'id="register"' in page
    assert "Westminster" in page  # display names, not ids
    assert "<script" not in page and "https://" not in page


async def test_a_borough_manager_sees_only_their_borough(pages: Pages) -> None:
    status, page = await _get_as(pages, CAMDEN_MANAGER, "/dashboard", **PERIOD)
    assert status == 200
    assert 'id="borough-shown"' in page and "Camden" in page
    assert "Westminster" not in page and "Hackney" not in page
    status, text = await _get_as(pages, CAMDEN_MANAGER, "/dashboard/report.csv", **PERIOD)
    assert status == 200
    rows = csv_of(text)
    assert len(rows) > 1 and {row[1] for row in rows[1:]} == {"camden"}


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/report.csv", "/dashboard/report.html"])
async def test_a_borough_manager_asking_for_another_borough_gets_not_found(
    pages: Pages, path: str
) -> None:
    status, page = await _get_as(pages, CAMDEN_MANAGER, path, **PERIOD, borough="hackney")
    assert status == 404
    assert "hackney" not in page.lower()


async def test_a_force_wide_manager_sees_every_borough_or_the_one_chosen(pages: Pages) -> None:
    status, page = await _get_as(pages, FORCE_MANAGER, "/dashboard", **PERIOD)
    assert status == 200 and "Westminster" in page and "Camden" in page
    status, text = await _get_as(
        pages, FORCE_MANAGER, "/dashboard/report.csv", **PERIOD, borough="hackney"
    )
    assert status == 200 and {row[1] for row in csv_of(text)[1:]} == {"hackney"}


@pytest.mark.parametrize("email", [CAMDEN_VFU, ADMIN], ids=["vfu", "admin"])
@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/report.csv", "/dashboard/report.html"])
async def test_vfu_and_admin_users_get_not_found(pages: Pages, email: str, path: str) -> None:
    status, _page = await _get_as(pages, email, path, **PERIOD)
    assert status == 404


async def test_without_signing_in_the_dashboard_sends_you_to_sign_in(pages: Pages) -> None:
    async with pages.client() as http:
        response = await http.get("/dashboard", params=PERIOD, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


async def test_a_wrong_date_is_named_in_the_error_summary(pages: Pages) -> None:
    status, page = await _get_as(
        pages, FORCE_MANAGER, "/dashboard", **{**PERIOD, "from": "17/03/2025"}
    )
    assert status == 400
    assert "There is a problem" in page
    assert 'href="#from"' in page and "must be a date like 2025-03-17" in page
    assert 'value="17/03/2025"' in page
    status, text = await _get_as(
        pages, FORCE_MANAGER, "/dashboard/report.csv", **{**PERIOD, "to": "2025-03-01"}
    )
    assert status == 400 and "must be after the first day" in text


async def test_the_page_shows_the_ministry_of_justice_measures_as_pledge_report_gives_them(
    pages: Pages, database_url: str, tmp_path: Path
) -> None:
    status, page = await _get_as(pages, FORCE_MANAGER, "/dashboard", **PERIOD)
    assert status == 200
    assert "The Ministry of Justice's Victims' Code measures" in page
    expected = pledge_report_csv(tmp_path, database_url, *CLI_PERIOD, "--measures", "moj")
    header, *rows = expected
    assert header[:6] == ["measure", "title", "due", "met_on_time", "met_late", "breached"]
    assert len(rows) >= 5
    # Each row of the page: due, on time, late, breached, on-time %; as the CSV says.
    shown = _numbers_in(page, "measures-table-moj")
    assert len(shown) == 5 * len(rows)
    for index, row in enumerate(rows):
        due, on_time, late, breached, rate = shown[5 * index : 5 * index + 5]
        assert [due, on_time, late, breached] == row[2:6], row[1]
        assert rate == ("" if row[6] == "" else f"{float(row[6]):.1f}")
        assert str(escape(row[1])) in page
    # The history shares the Code's acknowledgement and updates: some measure has cases.
    assert any(int(row[2]) > 0 for row in rows)
