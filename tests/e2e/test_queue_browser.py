"""The VFU queue and the case page in real headless Chromium, against the whole service
(the app on a socket, the Temporal dev server and a worker): a VFU signs in, records a
contact on an overdue obligation and sees it leave the queue; axe-core finds no WCAG 2.2
AA violation on either page; both fit 320 px; nothing loads from another host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from standards.staff import StaffRole
from storage import models
from storage.enums import ObligationState
from tests.support.api import Api, open_case_over_http, running_api
from tests.support.browser import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    axe_violations,
    chromium_path,
    page_width,
)
from tests.support.pages import STAFF_PASSWORD, create_staff_user

VFU_EMAIL = "vfu-camden@met.example"

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")


def dv_contact_of(api: Api, reference: str) -> models.Obligation:
    with api.sessions() as session:
        row = session.scalar(
            select(models.Obligation)
            .join(models.Case, models.Case.id == models.Obligation.case_id)
            .where(models.Case.reference == reference, models.Obligation.standard == "dv_contact")
        )
    assert row is not None
    return row


async def test_a_vfu_records_a_contact_and_the_obligation_leaves_the_queue(
    e2e_temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    chromium = chromium_path()
    from playwright.async_api import async_playwright

    create_staff_user(sqlite_url, VFU_EMAIL, StaffRole.VFU, "camden")
    async with running_api(e2e_temporal.client, sqlite_url) as api:
        now = datetime.now(UTC)
        overdue = (await open_case_over_http(api, reported_at=now - timedelta(hours=30)))[
            "reference"
        ]
        due_soon = (await open_case_over_http(api, reported_at=now - timedelta(hours=20)))[
            "reference"
        ]
        dv = dv_contact_of(api, overdue)
        assert dv.state == ObligationState.BREACHED
        base_url = str(api.http.base_url).rstrip("/")
        requests: list[str] = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 1024, "height": 900})
                page.on("request", lambda request: requests.append(request.url))
                await page.goto(f"{base_url}/queue")
                # Not signed in: the sign-in page, which comes back to the queue.
                await page.get_by_label("Email address").fill(VFU_EMAIL)
                await page.get_by_label("Password").fill(STAFF_PASSWORD)
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url(f"{base_url}/queue")

                row = page.locator(f"#obligation-{dv.id}")
                await row.wait_for()
                assert overdue in await row.inner_text()
                assert "late" in await row.inner_text()
                assert await page.locator(f"h2 a[href='/cases/{due_soon}']").count() >= 1
                assert await axe_violations(page) == []
                # The pause control the refresh script adds (a meta refresh could not pause).
                assert await page.locator("#queue-refresh-pause").count() == 1
                await page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)
                assert await page_width(page, 320) <= 320
                await page.set_viewport_size({"width": 1024, "height": 900})

                # The queue refreshes by itself: a contact recorded elsewhere (the API) on the
                # due-soon case, and a minute later its row has gone from this page.
                await page.clock.install()
                await page.reload()
                soon = dv_contact_of(api, due_soon)
                assert await page.locator(f"#obligation-{soon.id}").count() == 1
                contact = {"type": "contact_recorded", "at": datetime.now(UTC).isoformat(),
                           "standard": "dv_contact"}  # fmt: skip
                posted = await api.post(f"/api/v1/cases/{due_soon}/events", "writer", contact)
                assert posted.status_code == 200, posted.text
                async with page.expect_navigation():
                    await page.clock.fast_forward("01:01")
                assert await page.locator(f"#obligation-{soon.id}").count() == 0
                row = page.locator(f"#obligation-{dv.id}")

                await row.get_by_label("How was the victim contacted?").select_option("phone")
                await row.get_by_role("button", name="Record contact").click()
                await page.wait_for_url("**/queue?done=contact*")

                notice = page.get_by_role("status")
                assert f"Contact recorded on case {overdue}" in await notice.inner_text()
                assert await page.locator(f"#obligation-{dv.id}").count() == 0
                assert dv_contact_of(api, overdue).state == ObligationState.MET_LATE

                await page.goto(f"{base_url}/cases/{overdue}")
                heading = await page.get_by_role("heading", level=1).inner_text()
                assert heading.endswith(f"Case {overdue}"), heading
                assert "Met late" in await page.locator(f"#obligation-{dv.id}").inner_text()
                assert "Alex Smith" in await page.content()
                assert await axe_violations(page) == []
                await page.screenshot(path=str(SCREENSHOTS / "case.png"), full_page=True)
                assert await page_width(page, 320) <= 320
            finally:
                await browser.close()
    # The pages, their stylesheets and script: all from the app itself.
    assert requests and all(url.startswith(base_url) for url in requests), requests
