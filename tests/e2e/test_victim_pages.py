"""The victims' pages in headless Chromium: a code from /dev/outbox, signing in, the quick
exit by Shift pressed three times, a discreet case's page, axe-core on every page."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from messaging.discreet import discreet_problems
from storage import models
from storage.victim_models import VictimSession
from tests.support.api import Api, running_api, temporal_dev_server
from tests.support.browser import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    WIDTHS,
    axe_violations,
    chromium_path,
    page_width,
)
from tests.support.dev import free_port
from tests.support.victim import open_victim_case

pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")

from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

NEUTRAL_TITLE = "Weather forecast"
WAIT_MS = 30_000


class NeutralPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<!doctype html><title>{NEUTRAL_TITLE}</title><p>Sunny intervals.</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def neutral_site() -> Iterator[str]:
    """A stand-in for the neutral site, on loopback: the exit URL of the app under test."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), NeutralPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/weather"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest_asyncio.fixture
async def site(sqlite_url: str) -> AsyncIterator[tuple[Api, str]]:
    chromium_path()  # skips the test, saying how to install it, if it is missing
    with neutral_site() as exit_url:
        async with (
            temporal_dev_server() as env,
            running_api(env.client, sqlite_url, victim_exit_url=exit_url) as api,
        ):
            yield api, exit_url


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium_path()), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def assert_accessible(page: Page) -> None:
    """axe-core's WCAG 2.2 AA and best-practice rules, of every impact (tests/support)."""
    violations = await axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


async def assert_fits_320_pixels(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 640})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} is {width}px wide at a 320px viewport"
    await page.set_viewport_size({"width": 1000, "height": 800})


async def code_from_dev_outbox(page: Page, base_url: str, reference: str) -> str:
    """The newest code the local outbox holds for `reference`, as a newcomer reads it."""
    deadline = asyncio.get_running_loop().time() + WAIT_MS / 1000
    while True:
        await page.goto(f"{base_url}/dev/outbox")
        for row in await page.locator("tbody tr").all():
            text = await row.inner_text()
            # Six digits on their own, in any language's wording (a reference's are
            # between slashes).
            found = re.search(r"(?<![\d/])(\d{6})(?![\d/])", text)
            if reference in text and found:
                return found.group(1)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no code for {reference} in /dev/outbox within {WAIT_MS}ms")
        await asyncio.sleep(0.2)


async def sign_in(page: Page, outbox: Page, base_url: str, reference: str) -> None:
    await page.goto(f"{base_url}/track")
    await page.get_by_label("Reference number").fill(reference)
    await page.get_by_role("button", name="Send me a code").click()
    await page.wait_for_url(f"{base_url}/track/code")
    code = await code_from_dev_outbox(outbox, base_url, reference)
    await page.get_by_label("Code").fill(code)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url(f"{base_url}/track/case")


async def settled_content(page: Page) -> str:
    """The page's HTML once it has stopped navigating (going back may redirect)."""
    for _ in range(50):
        await page.wait_for_load_state("load")
        with contextlib.suppress(PlaywrightError):
            return await page.content()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{page.url} kept navigating for 5s")


def ended_sessions(api: Api) -> int:
    with api.sessions() as session:
        rows = session.scalars(select(VictimSession)).all()
        return sum(1 for row in rows if row.ended_at is not None)


async def test_a_victim_signs_in_with_a_code_and_leaves_with_shift_pressed_three_times(
    site: tuple[Api, str], browser: Browser
) -> None:
    api, exit_url = site
    base_url = str(api.http.base_url).rstrip("/")
    reference, _ = await open_victim_case(api, category="burglary")
    context = await browser.new_context(viewport={"width": 1000, "height": 800})
    hosts: set[str] = set()
    context.on(
        "request", lambda request: hosts.add(re.sub(r"^(\w+://[^/]+).*", r"\1", request.url))
    )
    page, outbox = await context.new_page(), await context.new_page()

    await page.goto(f"{base_url}/track")
    assert await page.title() == "Sign in - Your updates"
    await assert_accessible(page)
    await assert_fits_320_pixels(page)
    await page.screenshot(path=str(SCREENSHOTS / "victim-sign-in.png"), full_page=True)

    # The error summary names the wrong field and links to it.
    await page.get_by_role("button", name="Send me a code").click()
    summary = page.locator(".error-summary")
    await summary.wait_for()
    assert await summary.get_by_role("link").get_attribute("href") == "#reference"
    assert await page.title() == "Error: Sign in - Your updates"
    assert await page.evaluate("document.activeElement.className") == "error-summary"
    await assert_accessible(page)

    await page.get_by_label("Reference number").fill(reference)
    await page.get_by_role("button", name="Send me a code").click()
    await page.wait_for_url(f"{base_url}/track/code")
    await assert_accessible(page)
    await page.get_by_role("button", name="Continue").click()
    await page.locator(".error-summary").wait_for()
    await assert_accessible(page)
    code = await code_from_dev_outbox(outbox, base_url, reference)
    await page.get_by_label("Code").fill(code)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url(f"{base_url}/track/case")
    assert reference in await page.inner_text("h1")
    assert await page.title() == "Home - Your updates"
    exit_button = page.get_by_role("link", name="Exit this page")
    assert await exit_button.is_visible()
    assert await page.get_by_text("Or press Shift 3 times").is_visible()
    await assert_accessible(page)
    await assert_fits_320_pixels(page)
    await page.screenshot(path=str(SCREENSHOTS / "victim-case.png"), full_page=True)
    # Nothing came from another host (the neutral site has not been visited yet).
    assert hosts == {base_url}

    await page.locator("h1").click()
    for _ in range(3):
        await page.keyboard.press("Shift")
    await page.wait_for_url(exit_url, timeout=WAIT_MS)
    assert await page.title() == NEUTRAL_TITLE
    assert ended_sessions(api) == 1
    # Going back does not show the case: the session is gone and nothing was cached.
    # (The entry before is the code form's answer to a post: Chromium will not show a
    # no-store post answer again, so going back may end on its own error page.)
    with contextlib.suppress(PlaywrightError):
        await page.go_back()
    shown = await settled_content(page)
    assert reference not in shown and "Your crime report" not in shown
    await page.goto(f"{base_url}/track/case")
    assert page.url == f"{base_url}/track"
    await context.close()


async def test_a_discreet_case_page_names_no_crime_type_unit_or_department(
    site: tuple[Api, str], browser: Browser
) -> None:
    api, exit_url = site
    base_url = str(api.http.base_url).rstrip("/")
    reference, _ = await open_victim_case(api, category="domestic_abuse", discreet=True)
    context = await browser.new_context()
    page, outbox = await context.new_page(), await context.new_page()
    await sign_in(page, outbox, base_url, reference)
    # The acknowledgement has been sent before the page is read, so its words are checked too.
    text = await page.inner_text("body")
    title = await page.title()
    assert reference in text
    terms = [
        "domestic_abuse",
        "domestic abuse",
        "Camden",
        "Camden Victim Focus Unit",
        "Metropolitan Police",
    ]
    assert discreet_problems(f"{title}\n{text}", terms) == []
    assert discreet_problems(await page.content(), terms) == []
    await assert_accessible(page)
    # The button, as well as the keys: straight to the neutral site, session ended.
    await page.get_by_role("link", name="Exit this page").click()
    await page.wait_for_url(exit_url, timeout=WAIT_MS)
    assert ended_sessions(api) == 1
    await context.close()


def victim_language(api: Api, reference: str) -> str | None:
    with api.sessions() as session:
        return session.scalar(
            select(models.Victim.language)
            .join(models.Case, models.Case.id == models.Victim.case_id)
            .where(models.Case.reference == reference)
        )


async def test_a_victim_asks_for_an_update_changes_their_preferences_and_leaves(
    site: tuple[Api, str], browser: Browser
) -> None:
    api, exit_url = site
    base_url = str(api.http.base_url).rstrip("/")
    reference, _ = await open_victim_case(api, category="burglary", phone="+447700900123")
    context = await browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page, outbox = await context.new_page(), await context.new_page()
    await sign_in(page, outbox, base_url, reference)
    assert "We will reply within 2 working days" in await page.inner_text("main")
    await page.get_by_role("button", name="Request an update").click()
    await page.get_by_text("We have asked for someone to get in touch").wait_for()
    assert "We will reply by" in await page.inner_text("main")
    await assert_accessible(page)
    # The error summary links to the wrong field of the preferences form.
    await page.get_by_label("Safe from").fill("nine")
    await page.get_by_role("button", name="Save preferences").click()
    summary = page.locator(".error-summary")
    await summary.wait_for()
    links = [await a.get_attribute("href") for a in await summary.get_by_role("link").all()]
    assert links == ["#safe_from"]
    await assert_accessible(page)
    await page.get_by_role("radio", name="Text message").check()
    await page.get_by_role("checkbox", name="Do not send me text messages").uncheck()
    await page.get_by_label("Safe from").fill("09:00")
    await page.get_by_label("Safe until").fill("18:30")
    await page.get_by_role("button", name="Save preferences").click()
    await page.get_by_text("Your preferences have been saved").wait_for()
    for width in WIDTHS:
        assert await page_width(page, width) <= width
        await assert_accessible(page)
        await page.screenshot(path=str(SCREENSHOTS / f"victim-{width}.png"), full_page=True)
    # They choose Welsh for their messages: the case takes it, and their pages follow.
    assert await page.get_by_role("radio", name="English").is_checked()
    await page.get_by_role("radio", name="Cymraeg").check()
    await page.get_by_role("button", name="Save preferences").click()
    await page.wait_for_function("document.documentElement.lang === 'cy'", timeout=WAIT_MS)
    assert await page.get_by_role("radio", name="Cymraeg").is_checked()
    assert victim_language(api, reference) == "cy"
    await assert_accessible(page)
    await page.get_by_role("link", name="Gadael y dudalen hon").click()
    await page.wait_for_url(exit_url, timeout=WAIT_MS)
    assert ended_sessions(api) == 1
    await context.close()


async def test_a_welsh_victim_reads_the_pages_in_welsh_and_may_switch_them(
    site: tuple[Api, str], browser: Browser
) -> None:
    api, _ = site
    base_url = str(api.http.base_url).rstrip("/")
    reference, _ = await open_victim_case(api, category="burglary", language="cy")
    context = await browser.new_context(viewport={"width": 1000, "height": 800})
    page, outbox = await context.new_page(), await context.new_page()

    # Before sign-in the pages are English, with the switch to Welsh (GOV.UK's pattern).
    await page.goto(f"{base_url}/track")
    await page.get_by_role("link", name="Cymraeg").click()
    await page.get_by_role("heading", name="Gwirio am ddiweddariadau").wait_for()
    assert await page.title() == "Mewngofnodi - Eich diweddariadau"
    assert await page.get_attribute("html", "lang") == "cy"
    await assert_accessible(page)
    # The choice is kept as the victim goes on, errors included.
    await page.get_by_role("button", name="Anfonwch god ataf").click()
    await page.locator(".error-summary").wait_for()
    assert "Rhowch eich cyfeirnod" in await page.inner_text(".error-summary")
    assert await page.title() == "Gwall: Mewngofnodi - Eich diweddariadau"
    await assert_accessible(page)
    await page.get_by_role("link", name="English").click()
    await page.get_by_role("heading", name="Check for updates").wait_for()

    # Signed in (in English), the case's language is the pages' default: Welsh.
    await sign_in(page, outbox, base_url, reference)
    assert await page.inner_text("h1") == f"Eich adroddiad trosedd {reference}"
    assert await page.title() == "Hafan - Eich diweddariadau"
    assert await page.get_attribute("html", "lang") == "cy"
    assert await page.get_by_role("link", name="Gadael y dudalen hon").is_visible()
    # Its dates and the reply's window too.
    main = await page.inner_text("main")
    assert "Erbyn Dydd " in main and "o fewn 2 diwrnod gwaith" in main
    await assert_accessible(page)
    await assert_fits_320_pixels(page)
    await page.screenshot(path=str(SCREENSHOTS / "victim-case-welsh.png"), full_page=True)
    await page.get_by_role("link", name="English").click()
    await page.get_by_role("heading", name=f"Your crime report {reference}").wait_for()
    assert await page.get_attribute("html", "lang") == "en-GB"
    await context.close()
