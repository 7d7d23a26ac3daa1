"""The staff sign-in and admin pages in headless Chromium: usable without JavaScript, nothing
loaded from another host, and no accessibility violations that axe-core finds."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from standards.staff import StaffRole
from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.pages import STAFF_PASSWORD, create_staff_user, running_pages

ADMIN = "admin@force.example.org"

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")


@pytest.fixture
def chromium() -> Path:
    return chromium_path()


async def test_an_admin_signs_in_adds_an_account_and_signs_out_without_javascript(
    sqlite_url: str, chromium: Path
) -> None:
    from playwright.async_api import async_playwright

    create_staff_user(sqlite_url, ADMIN, StaffRole.ADMIN)
    async with running_pages(sqlite_url) as pages, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(java_script_enabled=False)
            page = await context.new_page()
            hosts: set[str] = set()
            page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
            await page.goto(pages.base_url + "/admin/tokens")
            assert page.url.endswith("/sign-in?next=/admin/tokens")
            await page.get_by_label("Email address").fill(ADMIN)
            await page.get_by_label("Password").fill("not my password at all")
            await page.get_by_role("button", name="Sign in").click()
            assert await page.title() == "Error: Sign in - Pledge Monitor"
            # The error summary links to the field it is about.
            await page.get_by_role("link", name="Enter the email address and password").click()
            await page.get_by_label("Password").fill(STAFF_PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            assert page.url.endswith("/admin/tokens")

            await page.get_by_role("link", name="Users").click()
            await page.get_by_label("Email address").fill("jo@camden.example.org")
            await page.get_by_label("Role").select_option("vfu")
            await page.get_by_label("Borough").select_option(label="Camden")
            await page.get_by_label("Password").fill("another long passphrase")
            await page.get_by_role("button", name="Add account").click()
            assert await page.get_by_text("Account added for jo@camden.example.org").is_visible()

            await page.get_by_role("button", name="Sign out").click()
            assert await page.get_by_text("You have signed out").is_visible()
            await page.goto(pages.base_url + "/admin/users")
            assert "/sign-in" in page.url
            assert hosts == {urlsplit(pages.base_url).netloc}
        finally:
            await browser.close()


async def test_the_sign_in_and_admin_pages_have_no_axe_violations(
    sqlite_url: str, chromium: Path
) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    create_staff_user(sqlite_url, ADMIN, StaffRole.ADMIN)
    axe = Axe()
    async with running_pages(sqlite_url) as pages, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            reports: dict[str, str] = {}

            async def check(name: str) -> None:
                results = await axe.run(page)
                if results.violations_count:
                    reports[name] = results.generate_report()

            await page.goto(pages.base_url + "/sign-in")
            await check("sign-in")
            await page.get_by_role("button", name="Sign in").click()
            await check("sign-in with errors")
            await page.get_by_label("Email address").fill(ADMIN)
            await page.get_by_label("Password").fill(STAFF_PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await check("users")
            await page.get_by_role("button", name="Add account").click()
            await check("users with errors")
            await page.goto(pages.base_url + "/admin/tokens")
            await page.get_by_label("Name").fill("crs")
            await page.get_by_label("cases:read").check()
            await page.get_by_role("button", name="Create token").click()
            assert await page.locator("#new-token").is_visible()
            await check("token created")
            assert reports == {}, "\n".join(f"{k}:\n{v}" for k, v in reports.items())
        finally:
            await browser.close()
