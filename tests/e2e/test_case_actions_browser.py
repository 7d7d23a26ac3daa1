"""The case page in real headless Chromium against the whole service: a VFU opens an
overdue case, sees first what needs doing next (the overdue obligation at the top, its
action a link to the form), records a contact with a note from the Actions section, and
sees it in the case's history under their own name; axe-core finds nothing at 1280 and
390 px, and the page fits both. A VFU sends a victim who asked for an update an update now,
after its confirmation, and sees it sent and in the history under their name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from standards.staff import StaffRole
from storage import models
from tests.support.api import CASES_URL, Api, open_case_over_http, running_api
from tests.support.browser import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    WIDTHS,
    axe_violations,
    chromium_path,
    page_width,
)
from tests.support.pages import STAFF_PASSWORD, create_staff_user

VFU_EMAIL = "vfu-camden@met.example"

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")


def obligation_id(api: Api, reference: str, standard: str) -> int:
    with api.sessions() as session:
        found = session.scalar(
            select(models.Obligation.id)
            .join(models.Case, models.Case.id == models.Obligation.case_id)
            .where(models.Case.reference == reference, models.Obligation.standard == standard)
        )
    assert found is not None
    return found


async def first_action_y(page: object) -> float:
    """How far down the page (px) the first thing a user can act on starts: the first
    form control or link inside the page's main content that acts on the case."""
    y: float = await page.evaluate(  # type: ignore[attr-defined]
        """() => {
            const first = document.querySelector(
                "main form[method=post] button, main a[data-action]");
            return first ? first.getBoundingClientRect().top + window.scrollY : -1;
        }"""
    )
    return y


async def signed_in_case_page(browser: Any, base_url: str, reference: str) -> Any:
    """The case page at 1280 px, the VFU signed in on the way."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{base_url}/cases/{reference}")
    await page.get_by_label("Email address").fill(VFU_EMAIL)
    await page.get_by_label("Password").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base_url}/cases/{reference}")
    return page


async def test_a_vfu_sees_what_needs_doing_first_and_records_a_contact_with_a_note(
    e2e_temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    chromium = chromium_path()
    from playwright.async_api import async_playwright

    create_staff_user(sqlite_url, VFU_EMAIL, StaffRole.VFU, "camden")
    async with running_api(e2e_temporal.client, sqlite_url) as api:
        now = datetime.now(UTC)
        reference = (await open_case_over_http(api, reported_at=now - timedelta(hours=30)))[
            "reference"
        ]
        dv = obligation_id(api, reference, "dv_contact")
        base_url = str(api.http.base_url).rstrip("/")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS
            )
            try:
                page = await signed_in_case_page(browser, base_url, reference)
                y = await first_action_y(page)
                print(f"\nfirst action at 1280 px: y = {y:.0f} px")
                assert 0 <= y < 900, y
                next_up = page.locator("#next")
                rows = next_up.locator("li")
                assert "Overdue" in await rows.first.inner_text()
                await next_up.get_by_role("link", name="Record a contact").first.click()
                assert page.url.endswith(f"#method-{dv}")
                form = page.locator(f"#actions form:has(#method-{dv})")
                await form.get_by_label("How was the victim contacted?").select_option("phone")
                await form.get_by_label("What was said").fill("Spoke to the victim, safe now")
                await form.get_by_role("button", name="Record contact").click()
                await page.wait_for_url("**done=contact*")
                assert "Contact recorded" in await page.get_by_role("status").inner_text()
                history = await page.locator("#history").inner_text()
                assert "Spoke to the victim, safe now" in history
                assert VFU_EMAIL in history
                assert "staff:" not in await page.content()
                assert "Met late" in await page.locator(f"#obligation-{dv}").inner_text()
                for width in WIDTHS:
                    await page.set_viewport_size({"width": width, "height": 900})
                    assert await axe_violations(page) == [], width
                    assert await page_width(page, width) <= width
                    await page.screenshot(
                        path=str(SCREENSHOTS / f"case-{width}.png"), full_page=True
                    )
            finally:
                await browser.close()


async def test_a_vfu_sends_a_victim_who_asked_an_update_now_after_its_confirmation(
    e2e_temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    chromium = chromium_path()
    from playwright.async_api import async_playwright

    create_staff_user(sqlite_url, VFU_EMAIL, StaffRole.VFU, "camden", name="Priya Shah")
    async with running_api(e2e_temporal.client, sqlite_url) as api:
        reference = (await open_case_over_http(api, category="burglary"))["reference"]
        asked = {"type": "update_requested", "at": datetime.now(UTC).isoformat()}
        response = await api.post(f"{CASES_URL}/{reference}/events", "writer", asked)
        assert response.status_code == 200, response.text
        base_url = str(api.http.base_url).rstrip("/")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS
            )
            try:
                page = await signed_in_case_page(browser, base_url, reference)
                next_up = page.locator("#next")
                link = next_up.get_by_role("link", name="Send the victim an update now").first
                await link.click()
                assert page.url.endswith("#action-send-update")
                form = page.locator("#action-send-update form")
                # The victim asked: the confirmation is open, saying where and when it goes.
                assert await form.is_visible()
                what = await form.inner_text()
                assert "It goes to their safe channel: text message" in what
                for width in WIDTHS:
                    await page.set_viewport_size({"width": width, "height": 900})
                    assert await axe_violations(page) == [], width
                    assert await page_width(page, width) <= width
                await page.set_viewport_size({"width": 1280, "height": 900})
                await form.get_by_label("Yes, send the victim this update now").check()
                await form.get_by_role("button", name="Send the victim an update now").click()
                await page.wait_for_url("**done=send-update*")
                status = await page.get_by_role("status").inner_text()
                assert "Update sent to the victim" in status
                history = await page.locator("#history").inner_text()
                assert "Update sent on request" in history and "Priya Shah" in history
                messages = await page.locator("table:has(#messages-caption)").inner_text()
                assert "Periodic update" in messages
                assert await axe_violations(page) == []
            finally:
                await browser.close()
