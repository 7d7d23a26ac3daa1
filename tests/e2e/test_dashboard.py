"""The managers' dashboard in real headless Chromium: a manager signs in, picks a period,
reads the charts, downloads the CSV (whose figures are `pledge report`'s), drills into a
borough and a standard and pages the breach register; axe-core (WCAG and best practice,
every impact) finds nothing at 1280 and 390 px, and nothing is wider than the screen.
Saves tests/e2e/screenshots/dashboard-1280.png and dashboard-390.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from standards.staff import StaffRole
from tests.support.browser import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    WIDTHS,
    axe_violations,
    chromium_path,
    page_width,
)
from tests.support.pages import (
    STAFF_PASSWORD,
    MovableClock,
    Pages,
    create_staff_user,
    running_pages,
)
from tests.support.reports import NOW, csv_of, pledge_report_csv, write_demo_history

MANAGER = "chief@met.example"
# What sticks out past the screen and is not inside a scrolling frame (named on failure).
WIDER_THAN_SCREEN = """w => [...document.querySelectorAll('body *')].filter(e => {
  if (e.getBoundingClientRect().right <= w + 1) return false;
  for (let a = e.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return false;
  }
  return true;
}).slice(0, 8).map(e => `${e.tagName}.${e.className}#${e.id}`)"""

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


async def test_a_manager_drills_into_a_borough_and_a_standard_and_pages_the_register(
    pages: Pages,
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium_path()), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{pages.base_url}/dashboard?from=2025-02-03&to=2025-07-22")
            await page.fill("#email", MANAGER)
            await page.fill("#password", STAFF_PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/dashboard**")
            problems: dict[str, list[str]] = {}
            for width in WIDTHS:
                laid_out = await page_width(page, width)
                wide = await page.evaluate(WIDER_THAN_SCREEN, width)
                assert laid_out <= width, f"the dashboard is {laid_out} px wide at {width}: {wide}"
                problems[f"dashboard {width}"] = await axe_violations(page)
                await page.screenshot(
                    path=str(SCREENSHOTS / f"dashboard-{width}.png"), full_page=True
                )
            await page.set_viewport_size({"width": 1280, "height": 900})
            # The grid's frame is labelled and its header row stays in view as it scrolls.
            grid = page.get_by_role("region", name="On-time rate by borough and standard")
            await grid.evaluate("frame => { frame.scrollTop = 200; }")
            header = await page.locator("#grid thead th").first.bounding_box()
            frame = await grid.bounding_box()
            assert header is not None and frame is not None
            assert abs(header["y"] - frame["y"]) < 3

            # A borough: its name in the borough table leads to its cases.
            borough_link = page.locator("#boroughs tbody th a").first
            borough = (await borough_link.inner_text()).strip()
            await borough_link.click()
            await page.wait_for_url("**/dashboard/cases**")
            assert borough in await page.locator("#cases-scope").inner_text()
            rows = page.locator("#cases tbody tr")
            assert await rows.count() >= 1
            assert {
                (await rows.nth(i).locator("td").nth(1).inner_text()).strip()
                for i in range(await rows.count())
            } == {borough}
            for width in WIDTHS:
                laid_out = await page_width(page, width)
                assert laid_out <= width, f"the list is {laid_out} px wide at {width}"
                problems[f"cases {width}"] = await axe_violations(page)
            await page.set_viewport_size({"width": 1280, "height": 900})
            await page.go_back()
            await page.wait_for_url("**/dashboard?**")

            # A standard: its breached figure in the figures table, then the next page.
            standard_link = page.locator("#figures tbody th a").first
            standard = (await standard_link.inner_text()).strip()
            await standard_link.click()
            await page.wait_for_url("**/dashboard/cases**")
            assert standard in await page.locator("#cases-scope").inner_text()
            await page.get_by_role("link", name="Breached", exact=True).click()
            await page.wait_for_url("**state=breached**")
            states = page.locator("#cases tbody tr td:nth-child(4)")
            assert {s.strip() for s in await states.all_inner_texts()} <= {"Breached"}
            # Its dashboard: the figures of that standard alone.
            await page.locator("#cases-dashboard").click()
            await page.wait_for_url("**standard=**")
            assert standard in await page.locator(".caption").first.inner_text()
            await page.go_back()
            await page.go_back()
            await page.go_back()
            await page.wait_for_url("**/dashboard?**")
            assert "standard=" not in page.url

            # The register: 50 to a page, the next page different, and back to the start.
            first_page = await page.locator("#register tbody tr td:first-child").all_inner_texts()
            assert len(first_page) == 50
            await page.locator("#register-next").click()
            await page.wait_for_url("**after=**")
            second_page = await page.locator("#register tbody tr td:first-child").all_inner_texts()
            assert second_page and second_page != first_page
            problems["register page 2"] = await axe_violations(page)
            await page.locator("#register-start").click()
            await page.wait_for_load_state("load")
            assert (
                await page.locator("#register tbody tr td:first-child").all_inner_texts()
                == first_page
            )
            assert all(not found for found in problems.values()), problems
        finally:
            await browser.close()
