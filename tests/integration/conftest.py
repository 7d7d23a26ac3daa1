"""Fixtures of the HTTP API tests (their helpers are in tests/support/api.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.support.api import Api, running_api, temporal_dev_server


@pytest_asyncio.fixture(scope="module")
async def api_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server for the API tests of one module."""
    async with temporal_dev_server() as env:
        yield env


@pytest_asyncio.fixture
async def api(api_temporal: WorkflowEnvironment, database_url: str) -> AsyncIterator[Api]:
    """The app on a real socket with a worker, on each database."""
    async with running_api(api_temporal.client, database_url) as running:
        yield running
