"""The VFU queue page and the case page over a real socket state the read-side rules at
their boundary instants by the app's clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio

from standards.staff import StaffRole
from tests.support.pages import create_staff_user, listed_references, running_pages, sign_in
from tests.support.read_rules import BOUNDARIES, NOW, Boundary, add_boundary_cases

VFU = "vfu-camden@met.example"
QUEUE_VIEWS: dict[str, Callable[[Boundary], bool]] = {
    "": lambda b: b.queued,
    "overdue": lambda b: b.queued and b.overdue,
    "due_soon": lambda b: b.queued and b.due_soon,
}


@pytest_asyncio.fixture
async def signed_in(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A Camden VFU's browser on the app at NOW, and the boundary cases' references."""
    async with running_pages(database_url, clock=lambda: NOW) as pages:
        references = add_boundary_cases(pages.sessions, BOUNDARIES)
        create_staff_user(database_url, VFU, StaffRole.VFU, "camden")
        async with pages.client() as client:
            yield await sign_in(client, VFU), references


@pytest.mark.parametrize("state", list(QUEUE_VIEWS), ids=lambda s: s or "everything")
async def test_the_queue_page_lists_exactly_the_rows_the_rules_put_in_it(
    signed_in: tuple[httpx.AsyncClient, dict[str, str]], state: str
) -> None:
    browser, references = signed_in

    response = await browser.get(f"/queue?state={state}")

    assert response.status_code == 200, response.text
    expected = {references[b.name] for b in BOUNDARIES if QUEUE_VIEWS[state](b)}
    assert set(listed_references(response.text)) == expected


async def test_the_case_page_offers_an_explanation_exactly_where_one_is_needed(
    signed_in: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    browser, references = signed_in

    for boundary in BOUNDARIES:
        reference = references[boundary.name]
        page = await browser.get(f"/cases/{reference}")
        assert page.status_code == 200, page.text
        offered = f'action="/cases/{reference}/explanation"' in page.text
        assert offered is boundary.needs_explanation, boundary.name
