"""Headless Chromium for the browser tests: Debian's build, its flags, and axe-core."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this machine
# cannot reach.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# Every rule axe-core tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA, and its best
# practices; violations of every impact count, moderate and minor included.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "e2e" / "screenshots"
WIDTHS = (1280, 390)


def chromium_path() -> Path:
    """Debian's Chromium; the test is skipped, saying how to install it, if it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium not found at /usr/bin/chromium (apt-get install -y chromium)")
    return Path(found)


async def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page (WCAG 2.2 AA and best practice), one line each."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} "
        f"({', '.join(str(n['target']) for n in v['nodes'])})"
        for v in results.response["violations"]
    ]


async def page_width(page: Any, width: int) -> int:
    """How wide the page is laid out at a viewport `width` px wide (more: it scrolls sideways)."""
    await page.set_viewport_size({"width": width, "height": 800})
    scroll_width: int = await page.evaluate("document.documentElement.scrollWidth")
    return scroll_width
