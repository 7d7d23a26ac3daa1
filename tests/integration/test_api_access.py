"""Who may do what through the HTTP API: tokens, scopes, borough limits, rate limits, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from service.tokens import revoke_token
from storage import models
from tests.support.api import (
    CASES_URL,
    Api,
    assert_problem,
    case_body,
    open_case_over_http,
    row_counts,
    running_api,
    workflow_exists,
)


async def test_a_missing_unknown_or_revoked_token_is_401_with_www_authenticate_and_changes_nothing(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api))["reference"]
    before = row_counts(api.sessions)
    revoke_token(api.sessions, "victims")
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat()}
    refused_case = case_body()
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", CASES_URL, refused_case),
        ("POST", f"{CASES_URL}/{reference}/events", event),
        ("GET", f"{CASES_URL}/{reference}", None),
        ("GET", "/api/v1/obligations", None),
    ]
    for method, path, body in attempts:
        for headers in (
            {},
            {"Authorization": "Bearer pledge_not-a-token"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            api.auth("victims"),
        ):
            response = await api.http.request(method, path, json=body, headers=headers)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer")

    assert row_counts(api.sessions) == before
    assert not await workflow_exists(api.temporal, refused_case["reference"])


async def test_a_token_without_the_route_s_scope_gets_403_and_changes_nothing(api: Api) -> None:
    reference = (await open_case_over_http(api))["reference"]
    before = row_counts(api.sessions)
    body = case_body()

    assert_problem(await api.post(CASES_URL, "reader", body), 403)
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat()}
    assert_problem(await api.post(f"{CASES_URL}/{reference}/events", "reader", event), 403)
    assert_problem(await api.get(f"{CASES_URL}/{reference}", "write-only"), 403)
    assert_problem(await api.get("/api/v1/obligations", "write-only"), 403)

    assert row_counts(api.sessions) == before
    assert not await workflow_exists(api.temporal, body["reference"])


async def test_a_borough_limited_token_sees_another_borough_s_case_as_404_on_every_route(
    api: Api,
) -> None:
    islington = (await open_case_over_http(api, borough="Islington"))["reference"]
    camden = (await open_case_over_http(api, "camden", borough="Camden"))["reference"]
    before = row_counts(api.sessions)

    event = {"type": "arrest", "at": datetime.now(UTC).isoformat()}
    assert_problem(await api.get(f"{CASES_URL}/{islington}", "camden"), 404)
    assert_problem(await api.post(f"{CASES_URL}/{islington}/events", "camden", event), 404)
    other = case_body(borough="Islington")
    assert_problem(await api.post(CASES_URL, "camden", other), 403)
    listed = (await api.get("/api/v1/obligations", "camden")).json()["obligations"]
    asked = (await api.get("/api/v1/obligations?borough=Islington", "camden")).json()

    assert row_counts(api.sessions) == before
    assert not await workflow_exists(api.temporal, other["reference"])
    assert {o["reference"] for o in listed} == {camden}
    assert asked["obligations"] == []
    assert (await api.get(f"{CASES_URL}/{camden}", "camden")).status_code == 200
    # The limit is on the borough, however its name is written.
    assert (await api.get(f"{CASES_URL}/{islington}", "reader")).status_code == 200


async def test_a_token_over_its_rate_limit_gets_429_with_retry_after(
    api_temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    async with running_api(
        api_temporal.client, sqlite_url, with_worker=False, api_rate_per_minute=1, api_rate_burst=3
    ) as api:
        answers = [(await api.get("/api/v1/obligations", "reader")) for _ in range(4)]
        other = await api.get("/api/v1/obligations", "victims")

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert_problem(answers[-1], 429)
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert other.status_code == 200


async def test_every_accepted_write_is_audited_without_personal_data(api: Api) -> None:
    reference = (await open_case_over_http(api))["reference"]
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat(), "event_id": "e-1"}
    await api.post(f"{CASES_URL}/{reference}/events", "writer", event)
    assert_problem(await api.post(CASES_URL, "reader", case_body()), 403)

    with api.sessions() as session:
        rows = list(
            session.scalars(select(models.ApiAuditRecord).order_by(models.ApiAuditRecord.id))
        )
    assert [(r.token_name, r.route, r.reference, r.status_code) for r in rows] == [
        ("writer", "POST /api/v1/cases", reference, 201),
        ("writer", "POST /api/v1/cases/{reference}/events", reference, 200),
    ]
    assert all(r.at is not None and r.outcome for r in rows)
    recorded = " ".join(f"{r.request_key} {r.receipt}" for r in rows)
    assert "Alex" not in recorded and "+4477" not in recorded
