"""The managers' dashboard in real headless Chromium: a manager signs in, picks a period,
reads the charts, downloads the CSV (whose figures are `pledge report`'s), and axe-core
finds no accessibility violations. Saves tests/e2e/screenshots/dashboard.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from standards.staff import StaffRole
from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.pages import (
    STAFF_PASSWORD,
    MovableClock,
    Pages,
    create_staff_user,
    running_pages,
)
from tests.support.reports import NOW, csv_of, pledge_report_csv, write_demo_history

SCREENSHOT = Path(__file__).resolve().parent / "screenshots" / "dashboard.png"
MANAGER = "chief@met.example"

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")


@pytest_asyncio.fixture
async def pages(sqlite_url: str) -> AsyncIterator[Pages]:
    chromium_path()  # skips the test, saying how to install it, if it is missing
    write_demo_history(sqlite_url, cases=400)
    create_staff_user(sqlite_url, MANAGER, StaffRole.MANAGER)
    async with running_pages(sqlite_url, clock=MovableClock(NOW)) as running:
        yield running


async def test_a_manager_downloads_the_dashboards_csv_and_it_is_pledge_reports(
    pages: Pages, sqlite_url: str, tmp_path: Path
) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    requests: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium_path()), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                accept_downloads=True, viewport={"width": 1280, "height": 900}
            )
            page = await context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            await page.goto(f"{pages.base_url}/dashboard")
            # Not signed in: the sign-in page, which comes back to the dashboard.
            await page.fill("#email", MANAGER)
            await page.fill("#password", STAFF_PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/dashboard**")
            await page.fill("#from", "2025-03-17")
            await page.fill("#to", "2025-07-01")
            await page.click("text=Show figures")
            await page.wait_for_load_state("load")
            assert "from=2025-03-17" in page.url
            for chart in ("#chart-standards", "#chart-boroughs", "#chart-trend"):
                box = await page.locator(chart).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100
            assert await page.locator("#chart-boroughs circle.dot").count() >= 20
            assert await page.locator("#grid tbody tr").count() >= 20
            assert await page.locator("#register tbody tr").count() >= 1

            results = await Axe().run(page)
            assert results.violations_count == 0, results.generate_report()

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True)

            async with page.expect_download() as caught:
                await page.click("#download-csv")
            download = await caught.value
            saved = tmp_path / "dashboard.csv"
            await download.save_as(saved)
            as_of = page.url.split("as_of=")[1] if "as_of=" in page.url else None
            href = await page.get_attribute("#download-csv", "href")
        finally:
            await browser.close()
    assert href is not None and "as_of=" in href
    instant = href.split("as_of=")[1].split("&")[0].replace("%3A", ":").replace("%2B", "+")
    assert as_of is None  # the form does not carry as_of: the page counted to "now"
    expected = pledge_report_csv(
        tmp_path,
        sqlite_url,
        *("--from", "2025-03-17", "--to", "2025-07-01", "--as-of", instant),
        *("--by", "standard,borough"),
    )
    assert len(expected) > 20
    assert csv_of(saved.read_text(encoding="utf-8")) == expected
    # Nothing came from another host: every request went to the app itself.
    assert requests and all(url.startswith(pages.base_url) for url in requests)
