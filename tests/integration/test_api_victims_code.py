"""The Victims' Code over the HTTP API, a force's default policy set to it: a referral
without consent refused with the reason, a refusal of consent making it not applicable,
and a reassessment re-timing an open update, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.support.api import CASES_URL, Api, assert_problem, open_case_over_http, running_api


@pytest_asyncio.fixture
async def code_api(api_temporal: WorkflowEnvironment, database_url: str) -> AsyncIterator[Api]:
    async with running_api(
        api_temporal.client, database_url, default_policy="victims-code-2021"
    ) as running:
        yield running


async def post_event(api: Api, reference: str, type: str, **details: Any) -> Any:
    body = {"type": type, "at": datetime.now(UTC).isoformat(), "details": details}
    return await api.post(f"{CASES_URL}/{reference}/events", "writer", body)


async def obligations(api: Api, reference: str, standard: str) -> list[dict[str, Any]]:
    view = (await api.get(f"{CASES_URL}/{reference}", "reader")).json()
    return [o for o in view["obligations"] if o["standard"] == standard]


async def test_a_referral_needs_consent_and_without_it_is_not_applicable(code_api: Api) -> None:
    opened = await open_case_over_http(code_api, category="sexual_offence")
    reference = opened["reference"]
    assert opened["policy"]["id"] == "victims-code-2021"

    refused = await post_event(code_api, reference, "referral_made")
    assert "needs their explicit consent" in assert_problem(refused, 409)["detail"]
    assert (
        await post_event(code_api, reference, "support_consent", given=False)
    ).status_code == 200
    [referral] = await obligations(code_api, reference, "support_referral")
    assert referral["state"] == "cancelled"


async def test_a_reassessment_to_enhanced_rights_re_times_an_open_release_update(
    code_api: Api,
) -> None:
    # A do-not-contact victim: the release message is not sent, so its update stays open.
    opened = await open_case_over_http(code_api, category="burglary", do_not_contact=True)
    reference = opened["reference"]
    assert (await post_event(code_api, reference, "released_on_bail")).status_code == 200
    [before] = await obligations(code_api, reference, "release_update")
    response = await post_event(
        code_api, reference, "needs_assessed", enhanced=True, basis="intimidated"
    )
    assert response.status_code == 200, response.text
    [after] = await obligations(code_api, reference, "release_update")
    assert after["state"] == "pending" and after["due_at"] < before["due_at"]
