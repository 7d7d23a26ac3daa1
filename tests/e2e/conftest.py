"""Fixtures of the browser tests that need the whole service (helpers: tests/support)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.support.api import temporal_dev_server


@pytest_asyncio.fixture(scope="module")
async def e2e_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server for the browser tests of one module."""
    async with temporal_dev_server() as env:
        yield env
