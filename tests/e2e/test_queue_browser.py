"""The VFU worklist and the case page in real headless Chromium, against the whole service
(the app on a socket, the Temporal dev server and a worker): a VFU signs in and finds the
vulnerable victim's contact that can still be saved at the top, filters, sorts and pages
the list, records a contact on an overdue obligation from its row and sees it leave;
axe-core finds no violation at 1280 and 390 px; nothing loads from another host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from standards.staff import StaffRole
from storage import models
from storage.database import make_engine, make_session_factory
from storage.enums import ObligationState
from tests.support.api import Api, open_case_over_http, running_api
from tests.support.browser import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    axe_violations,
    chromium_path,
    page_width,
)
from tests.support.case_rows import ObligationSpec, add_case
from tests.support.pages import STAFF_PASSWORD, create_staff_user

VFU_EMAIL = "vfu-camden@met.example"

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")


HOUR = timedelta(hours=1)
# The vulnerable domestic abuse victim whose 24-hour contact is due in 4 hours.
URGENT = "99/000001/26"


def seed_rows(database_url: str, now: datetime, count: int, first: int) -> None:
    """`count` rows written straight into the database (no workflows: only the list reads
    them): victim updates breached weeks and months ago, and two savable ones."""
    engine = make_engine(database_url)
    try:
        sessions = make_session_factory(engine)
        for number in range(first, first + count):
            if number == 1:
                spec = ObligationSpec("dv_contact", ObligationState.PENDING, 3.8 * HOUR)
            elif number == 2:
                spec = ObligationSpec("acknowledgement", ObligationState.PENDING, 5 * HOUR)
            else:
                spec = ObligationSpec(
                    "victim_update",
                    ObligationState.BREACHED,
                    -number * 24 * HOUR,
                    window=28 * 24 * HOUR,
                )
            add_case(
                sessions,
                now,
                f"99/{number:06d}/26",
                spec,
                category="domestic_abuse" if number == 1 else "burglary",
                vulnerable=number == 1,
                officer_name="PC Filter" if number == 3 else "PC Many",
            )
    finally:
        engine.dispose()


def dv_contact_of(api: Api, reference: str) -> models.Obligation:
    with api.sessions() as session:
        row = session.scalar(
            select(models.Obligation)
            .join(models.Case, models.Case.id == models.Obligation.case_id)
            .where(models.Case.reference == reference, models.Obligation.standard == "dv_contact")
        )
    assert row is not None
    return row


async def test_a_vfu_finds_the_most_urgent_row_first_filters_sorts_pages_and_records(
    e2e_temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    chromium = chromium_path()
    from playwright.async_api import FloatRect, async_playwright

    create_staff_user(sqlite_url, VFU_EMAIL, StaffRole.VFU, "camden")
    async with running_api(e2e_temporal.client, sqlite_url) as api:
        now = datetime.now(UTC)
        overdue = (await open_case_over_http(api, reported_at=now - timedelta(hours=30)))[
            "reference"
        ]
        due_soon = (await open_case_over_http(api, reported_at=now - timedelta(hours=20)))[
            "reference"
        ]
        # 43 more rows, 45 in all: the list the VFU officer found 20 screens long.
        seed_rows(sqlite_url, now, 43, 1)
        dv = dv_contact_of(api, overdue)
        assert dv.state == ObligationState.BREACHED
        base_url = str(api.http.base_url).rstrip("/")
        requests: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                page.on("request", lambda request: requests.append(request.url))
                await page.goto(f"{base_url}/queue")
                # Not signed in: the sign-in page, which comes back to the queue.
                await page.get_by_label("Email address").fill(VFU_EMAIL)
                await page.get_by_label("Password").fill(STAFF_PASSWORD)
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url(f"{base_url}/queue")

                rows = page.locator("tbody tr")
                assert await rows.count() == 45
                # The vulnerable victim's contact due in 4 hours is the first row.
                first = await rows.first.inner_text()
                assert URGENT in first and "Vulnerable" in first and "due in 3 hours" in first
                assert "Showing 1\N{EN DASH}45 of 45" in await page.locator("caption").inner_text()
                counts = await page.get_by_role("list", name="The queue at a glance").inner_text()
                assert "breached" in counts and "requests from victims" in counts
                assert await axe_violations(page) == []
                # The pause control the refresh script adds (a meta refresh could not pause).
                assert await page.locator("#queue-refresh-pause").count() == 1
                height = await page.evaluate("document.documentElement.scrollHeight")
                print(f"queue page height at 45 rows, 1280 px wide: {height} px")
                await page.screenshot(path=str(SCREENSHOTS / "queue-1280.png"), full_page=True)
                assert height < 45 * 100

                # Filter by officer: one row; the filters keep the sort and vice versa.
                await page.get_by_label("Officer").select_option("PC Filter")
                await page.get_by_role("button", name="Apply filters").click()
                await page.wait_for_url("**officer=PC+Filter*")
                assert await rows.count() == 1
                assert "99/000003/26" in await rows.first.inner_text()
                await page.get_by_role("link", name="Reference").click()
                await page.wait_for_url("**sort=reference*")
                assert "officer=PC+Filter" in page.url
                assert await rows.count() == 1

                # Sort the whole list by reference, then page it (more rows than a page).
                seed_rows(sqlite_url, now, 10, 44)
                await page.goto(f"{base_url}/queue?sort=reference")
                header = page.locator("th[aria-sort='ascending']")
                assert "Reference" in await header.inner_text()
                first_two = [await rows.nth(i).locator("td").first.inner_text() for i in (0, 1)]
                assert first_two == sorted(first_two)
                await page.get_by_role("link", name="Next page").click()
                await page.wait_for_url("**page=2*")
                assert "Showing 51\N{EN DASH}55 of 55" in await page.locator("caption").inner_text()
                assert "sort=reference" in page.url

                # The queue refreshes by itself: a contact recorded elsewhere (the API) on the
                # due-soon case, and a minute later its row has gone from this page.
                await page.clock.install()
                await page.goto(f"{base_url}/queue")
                soon = dv_contact_of(api, due_soon)
                assert await page.locator(f"#obligation-{soon.id}").count() == 1
                contact = {"type": "contact_recorded", "at": datetime.now(UTC).isoformat(),
                           "standard": "dv_contact"}  # fmt: skip
                posted = await api.post(f"/api/v1/cases/{due_soon}/events", "writer", contact)
                assert posted.status_code == 200, posted.text
                async with page.expect_navigation():
                    await page.clock.fast_forward("01:01")
                assert await page.locator(f"#obligation-{soon.id}").count() == 0
                # The reload asked not to count as use; the address bar does not say so.
                assert "auto_refresh" not in page.url

                # Record a contact from the overdue row (on page 2, by the breaches' age).
                await page.goto(f"{base_url}/queue?state=overdue")
                row = page.locator(f"#obligation-{dv.id}")
                await row.get_by_label("How was the victim contacted?").select_option("phone")
                await row.get_by_role("button", name="Record contact").click()
                await page.wait_for_url("**/queue?state=overdue&done=contact*")

                notice = page.get_by_role("status")
                assert f"Contact recorded on case {overdue}" in await notice.inner_text()
                assert await page.locator(f"#obligation-{dv.id}").count() == 0
                assert dv_contact_of(api, overdue).state == ObligationState.MET_LATE

                # At 390 px the table stacks, each cell under its column's name.
                await page.goto(f"{base_url}/queue")
                await page.set_viewport_size({"width": 390, "height": 844})
                assert await axe_violations(page) == []
                assert await page_width(page, 390) <= 390
                # The top of the page and the first rows, stacked.
                top: FloatRect = {"x": 0, "y": 0, "width": 390, "height": 2200}
                await page.screenshot(
                    path=str(SCREENSHOTS / "queue-390.png"), full_page=True, clip=top
                )

                await page.set_viewport_size({"width": 1280, "height": 900})
                await page.goto(f"{base_url}/cases/{overdue}")
                heading = await page.get_by_role("heading", level=1).inner_text()
                assert heading.endswith(f"Case {overdue}"), heading
                assert "Met late" in await page.locator(f"#obligation-{dv.id}").inner_text()
            finally:
                await browser.close()
    # The pages, their stylesheets and script: all from the app itself.
    assert requests and all(url.startswith(base_url) for url in requests), requests
