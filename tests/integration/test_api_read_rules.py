"""The API's obligation listing over a real socket states the read-side rules at their
boundary instants by the app's clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.api import running_api
from tests.support.read_rules import BOUNDARIES, NOW, Boundary, add_boundary_cases

FILTERS: dict[str, Callable[[Boundary], bool]] = {
    "overdue": lambda b: b.overdue,
    "due_soon": lambda b: b.due_soon,
}


@pytest.mark.parametrize("state", list(FILTERS))
async def test_the_api_lists_overdue_and_due_soon_obligations_by_the_one_rule(
    api_temporal: WorkflowEnvironment, database_url: str, state: str
) -> None:
    async with running_api(
        api_temporal.client, database_url, clock=lambda: NOW, with_worker=False
    ) as api:
        references = add_boundary_cases(api.sessions, BOUNDARIES)
        response = await api.get(f"/api/v1/obligations?state={state}&limit=500", "reader")

    assert response.status_code == 200, response.text
    listed = {o["reference"] for o in response.json()["obligations"]}
    assert listed == {references[b.name] for b in BOUNDARIES if FILTERS[state](b)}
