"""The API fuzzed from its own OpenAPI document with schemathesis, over a real socket."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from tests.support.api import open_case_over_http, row_counts, running_api

# Enough to reach every route's bodies and parameters, few enough to finish in seconds.
EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

REQUIRED_HEADERS = {201: "Location", 202: "Location", 401: "WWW-Authenticate"}


def fuzz(
    base_url: str, headers: dict[str, str], statuses: list[int], reference: str | None = None
) -> None:
    """Every operation of the document, each with generated requests; every answer checked.

    With a `reference`, requests about one case go to that (existing) case, so that what
    is generated reaches the case's validation and workflow, not only a 404.
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            if reference is not None and "reference" in (case.path_parameters or {}):
                case.path_parameters = {"reference": reference}
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)
            # The headers the document marks required (schemathesis leaves them unchecked).
            required = REQUIRED_HEADERS.get(response.status_code)
            assert required is None or required.lower() in response.headers, case

        call()


async def test_fuzzed_requests_with_a_valid_token_get_no_5xx_and_answers_conform(
    api_temporal: WorkflowEnvironment, database_url: str
) -> None:
    async with running_api(api_temporal.client, database_url, api_rate_per_minute=100_000) as api:
        statuses: list[int] = []
        base_url, auth = str(api.http.base_url), api.auth("all")
        await asyncio.to_thread(fuzz, base_url, auth, statuses)
        reference = (await open_case_over_http(api, "all"))["reference"]
        await asyncio.to_thread(fuzz, base_url, auth, statuses, reference)
    print(sorted(collections.Counter(statuses).items()))
    assert not [s for s in statuses if s >= 500]
    # The generated requests did reach the routes, not only their refusals.
    assert {200, 422} <= set(statuses)


async def test_fuzzed_requests_without_a_valid_token_change_nothing(
    api_temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    async with running_api(api_temporal.client, sqlite_url, api_rate_per_minute=100_000) as api:
        before = row_counts(api.sessions)
        statuses: list[int] = []
        for headers in ({}, {"Authorization": "Bearer pledge_forged"}):
            await asyncio.to_thread(fuzz, str(api.http.base_url), headers, statuses)
        after = row_counts(api.sessions)
        started = await api.temporal.count_workflows(f"TaskQueue = '{api.task_queue}'")

    assert after == before
    assert started.count == 0
    assert 401 in statuses
