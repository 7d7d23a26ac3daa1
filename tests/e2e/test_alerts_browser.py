"""The alerts page in headless Chromium: a VFU officer takes a victim's request first,
acknowledges it and gives another alert to a colleague; no axe-core violation (moderate
and minor included) at 1280 and 390 px, and nothing wider than the phone. Saves
tests/e2e/screenshots/alerts-1280.png and alerts-390.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from standards.obligations import AlertKind
from standards.staff import StaffRole
from standards.vocabulary import RecipientRole
from storage import models
from tests.support.browser import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    WIDTHS,
    axe_violations,
    chromium_path,
    page_width,
)
from tests.support.case_rows import add_case
from tests.support.pages import STAFF_PASSWORD, create_staff_user, running_pages

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

NOW = datetime.now(UTC).replace(microsecond=0)
OFFICER = "vfu-camden@met.example"
COLLEAGUE = "vfu2-camden@met.example"


async def test_a_vfu_officer_acknowledges_a_victims_request_and_gives_an_alert_to_a_colleague(
    sqlite_url: str,
) -> None:
    from playwright.async_api import async_playwright

    chromium = chromium_path()
    create_staff_user(sqlite_url, OFFICER, StaffRole.VFU, "camden")
    create_staff_user(sqlite_url, COLLEAGUE, StaffRole.VFU, "camden")
    async with running_pages(sqlite_url, clock=lambda: NOW) as pages:
        case_id = add_case(pages.sessions, NOW, "01/000001/26")
        with pages.sessions.begin() as session:
            for minutes, kind in ((5, AlertKind.BREACH), (90, AlertKind.UPDATE_REQUESTED)):
                session.add(
                    models.Alert(
                        case_id=case_id,
                        reference="01/000001/26",
                        borough="camden",
                        standard="victim_update",
                        obligation_key=f"victim_update:{kind.value}",
                        kind=kind.value,
                        at=NOW - timedelta(minutes=minutes),
                        detail="The victim asked on their page for an update.",
                        recipient_role=RecipientRole.VFU.value,
                    )
                )
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page()
                await page.goto(pages.base_url + "/sign-in?next=/alerts")
                await page.get_by_label("Email address").fill(OFFICER)
                await page.get_by_label("Password").fill(STAFF_PASSWORD)
                await page.get_by_role("button", name="Sign in").click()
                assert page.url.endswith("/alerts")
                first_row = page.locator("tbody tr").first
                assert "Victim asked for an update" in await first_row.inner_text()
                problems: dict[str, list[str]] = {}
                for width in WIDTHS:
                    laid_out = await page_width(page, width)
                    assert laid_out <= width, f"{laid_out} px wide at {width}"
                    problems[f"{width}"] = await axe_violations(page)
                    await page.screenshot(
                        path=str(SCREENSHOTS / f"alerts-{width}.png"), full_page=True
                    )
                assert problems == {"1280": [], "390": []}

                await page.set_viewport_size({"width": 1280, "height": 800})
                await first_row.get_by_role("button", name="Acknowledge").click()
                assert await page.get_by_text("Acknowledged", exact=True).first.is_visible()
                remaining = page.locator("tbody tr").first
                assert "Breached" in await remaining.inner_text()
                await remaining.get_by_label("Give the alert for 01/000001/26 to").select_option(
                    label=COLLEAGUE
                )
                await remaining.get_by_role("button", name="Give").click()
                assert await page.get_by_text("Given to someone").is_visible()
                assert COLLEAGUE in await page.locator("tbody tr").first.inner_text()
                assert await axe_violations(page) == []
            finally:
                await browser.close()
