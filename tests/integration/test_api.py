"""The HTTP API over a real socket, on SQLite and PostgreSQL, with the Temporal dev server."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, text
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from service.tokens import revoke_token
from storage import models
from tests.support.api import (
    Api,
    case_body,
    row_counts,
    running_api,
    temporal_dev_server,
    workflow_exists,
)
from tests.support.dev import free_port

PROBLEM = "application/problem+json"
CASES = "/api/v1/cases"


@pytest_asyncio.fixture(scope="module")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


@pytest_asyncio.fixture
async def api(temporal: WorkflowEnvironment, database_url: str) -> AsyncIterator[Api]:
    async with running_api(temporal.client, database_url) as running:
        yield running


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] and problem["title"] and problem["detail"]
    assert "Traceback" not in response.text
    return problem


async def open_case(api: Api, token: str = "writer", **body: Any) -> dict[str, Any]:
    response = await api.post(CASES, token, case_body(**body))
    assert response.status_code == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened


async def test_an_opened_case_is_201_with_its_location_and_reads_back_by_either_spelling(
    api: Api,
) -> None:
    body = case_body()
    response = await api.post(CASES, "writer", body)

    assert response.status_code == 201, response.text
    reference = body["reference"]
    assert response.headers["location"] == f"{CASES}/{reference}"
    opened = response.json()
    assert opened["reference"] == reference
    assert opened["policy"]["id"] == "met-pledge" and opened["policy"]["version"] >= 1
    standards = {o["standard"] for o in opened["obligations"]}
    assert {"acknowledgement", "dv_contact"} <= standards
    dv = next(o for o in opened["obligations"] if o["standard"] == "dv_contact")
    assert dv["state"] == "pending" and dv["occurrence"] >= 0
    assert dv["started_at"] and dv["due_at"] and dv["warning_at"] and dv["met_at"] is None
    assert [m["template"] for m in opened["messages"]] == ["acknowledgement"]
    assert opened["victim"] is None

    as_issued = await api.get(response.headers["location"], "reader")
    encoded = await api.get(f"{CASES}/{reference.replace('/', '%2F')}", "reader")
    assert as_issued.status_code == encoded.status_code == 200
    assert as_issued.json() == encoded.json() == opened


async def test_an_event_answers_200_with_its_receipt_and_the_case_shows_the_obligation_met(
    api: Api,
) -> None:
    reference = (await open_case(api))["reference"]
    encoded = reference.replace("/", "%2F")
    response = await api.post(
        f"{CASES}/{encoded}/events",
        "writer",
        {"type": "contact_recorded", "at": datetime.now(UTC).isoformat(), "standard": "dv_contact"},
    )

    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["reference"] == reference and receipt["event"] == "contact_recorded"
    assert receipt["changed"]
    view = (await api.get(f"{CASES}/{reference}", "reader")).json()
    dv = next(o for o in view["obligations"] if o["standard"] == "dv_contact")
    assert dv["state"] == "met" and dv["met_at"]


async def test_victim_contact_details_are_shown_only_to_a_token_with_victims_read(
    api: Api,
) -> None:
    reference = (await open_case(api))["reference"]

    plain = (await api.get(f"{CASES}/{reference}", "reader")).json()
    with_victim = (await api.get(f"{CASES}/{reference}", "victims")).json()

    assert plain["victim"] is None
    assert "+447700900123" not in str(plain)
    assert with_victim["victim"]["phone"] == "+447700900123"
    assert with_victim["victim"]["name"] == "Alex Smith"


async def test_a_missing_unknown_or_revoked_token_is_401_with_www_authenticate_and_changes_nothing(
    api: Api,
) -> None:
    reference = (await open_case(api))["reference"]
    before = row_counts(api.sessions)
    revoke_token(api.sessions, "victims")
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat()}
    refused_case = case_body()
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", CASES, refused_case),
        ("POST", f"{CASES}/{reference}/events", event),
        ("GET", f"{CASES}/{reference}", None),
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
    reference = (await open_case(api))["reference"]
    before = row_counts(api.sessions)
    body = case_body()

    assert_problem(await api.post(CASES, "reader", body), 403)
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat()}
    assert_problem(await api.post(f"{CASES}/{reference}/events", "reader", event), 403)
    assert_problem(await api.get(f"{CASES}/{reference}", "write-only"), 403)
    assert_problem(await api.get("/api/v1/obligations", "write-only"), 403)

    assert row_counts(api.sessions) == before
    assert not await workflow_exists(api.temporal, body["reference"])


async def test_a_borough_limited_token_sees_another_borough_s_case_as_404_on_every_route(
    api: Api,
) -> None:
    islington = (await open_case(api, borough="Islington"))["reference"]
    camden = (await open_case(api, "camden", borough="Camden"))["reference"]
    before = row_counts(api.sessions)

    event = {"type": "arrest", "at": datetime.now(UTC).isoformat()}
    assert_problem(await api.get(f"{CASES}/{islington}", "camden"), 404)
    assert_problem(await api.post(f"{CASES}/{islington}/events", "camden", event), 404)
    other = case_body(borough="Islington")
    assert_problem(await api.post(CASES, "camden", other), 403)
    listed = (await api.get("/api/v1/obligations", "camden")).json()["obligations"]
    asked = (await api.get("/api/v1/obligations?borough=Islington", "camden")).json()

    assert row_counts(api.sessions) == before
    assert not await workflow_exists(api.temporal, other["reference"])
    assert {o["reference"] for o in listed} == {camden}
    assert asked["obligations"] == []
    assert (await api.get(f"{CASES}/{camden}", "camden")).status_code == 200
    # The limit is on the borough, however its name is written.
    assert (await api.get(f"{CASES}/{islington}", "reader")).status_code == 200


async def test_bodies_not_json_too_large_of_another_type_or_invalid_are_problems_changing_nothing(
    api: Api,
) -> None:
    reference = (await open_case(api))["reference"]
    before = row_counts(api.sessions)
    auth = api.auth("writer")
    json_type = {**auth, "Content-Type": "application/json"}

    not_json = await api.http.post(CASES, content=b"{not json", headers=json_type)
    assert_problem(not_json, 400)
    assert_problem(await api.http.post(CASES, content=b"[1, 2]", headers=json_type), 400)
    huge = case_body(name="A" * (70 * 1024))
    assert_problem(await api.post(CASES, "writer", huge), 413)
    as_text = await api.http.post(
        CASES, content=b"{}", headers={**auth, "Content-Type": "text/plain"}
    )
    assert_problem(as_text, 415)
    assert_problem(await api.http.post(CASES, data={"a": "b"}, headers=auth), 415)

    bad_phone = assert_problem(await api.post(CASES, "writer", case_body(phone="12")), 422)
    assert [e["pointer"] for e in bad_phone["errors"]] == ["/victim/phone"]
    assert "E.164" in bad_phone["errors"][0]["detail"]
    assert not bad_phone["errors"][0]["detail"].startswith("Value error")
    naive = case_body()
    naive["reported_at"] = "2026-03-27T17:30:00"
    naive_problem = assert_problem(await api.post(CASES, "writer", naive), 422)
    assert naive_problem["errors"][0]["pointer"] == "/reported_at"
    assert "offset" in naive_problem["errors"][0]["detail"]
    category = assert_problem(await api.post(CASES, "writer", case_body(category="arson")), 422)
    assert category["errors"][0]["pointer"] == "/category"
    assert "accepted" in category["errors"][0]["detail"]
    unknown_type = {"type": "teleported", "at": datetime.now(UTC).isoformat()}
    event_problem = assert_problem(
        await api.post(f"{CASES}/{reference}/events", "writer", unknown_type), 422
    )
    assert event_problem["errors"][0]["pointer"] == "/type"

    assert row_counts(api.sessions) == before


async def test_a_duplicate_reference_is_409_and_a_retry_of_the_same_case_gets_the_first_outcome(
    api: Api,
) -> None:
    body = case_body()
    first = await api.post(CASES, "writer", body)
    assert first.status_code == 201
    after_first = row_counts(api.sessions)

    retry = await api.post(CASES, "writer", body)
    other = {**body, "victim": {**body["victim"], "name": "Someone Else"}}
    duplicate = await api.post(CASES, "writer", other)

    assert retry.status_code == 201
    assert retry.headers["location"] == first.headers["location"]
    assert retry.json() == first.json()
    assert "already exists" in assert_problem(duplicate, 409)["detail"]
    assert row_counts(api.sessions) == after_first


async def test_retries_sent_while_the_first_request_still_runs_share_its_outcome(
    api: Api,
) -> None:
    body = case_body()
    opened = await asyncio.gather(*(api.post(CASES, "writer", body) for _ in range(3)))
    path = f"{CASES}/{body['reference']}/events"
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat(), "event_id": "crs-7"}
    posted = await asyncio.gather(*(api.post(path, "writer", event) for _ in range(3)))

    assert [r.status_code for r in opened] == [201, 201, 201], [r.text for r in opened]
    assert opened[0].json() == opened[1].json() == opened[2].json()
    assert [r.status_code for r in posted] == [200, 200, 200]
    assert posted[0].json() == posted[1].json() == posted[2].json()
    messages = (await api.get(f"{CASES}/{body['reference']}", "reader")).json()["messages"]
    assert [m["template"] for m in messages] == ["acknowledgement", "arrest"]


async def test_an_event_that_does_not_fit_the_case_is_409_with_the_reason_and_changes_nothing(
    api: Api,
) -> None:
    reference = (await open_case(api))["reference"]
    before = row_counts(api.sessions)
    path = f"{CASES}/{reference}/events"
    now = datetime.now(UTC).isoformat()

    standard = await api.post(path, "writer", {"type": "arrest", "at": now, "standard": "x"})
    unknown = await api.post(
        path, "writer", {"type": "contact_recorded", "at": now, "standard": "no_such_standard"}
    )
    early = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    before_report = await api.post(path, "writer", {"type": "arrest", "at": early})

    assert "does not take a standard" in assert_problem(standard, 409)["detail"]
    assert "no_such_standard" in assert_problem(unknown, 409)["detail"]
    assert_problem(before_report, 409)
    assert row_counts(api.sessions) == before


async def test_a_retried_event_with_the_same_event_id_gets_the_first_receipt_and_sends_once(
    api: Api,
) -> None:
    reference = (await open_case(api))["reference"]
    path = f"{CASES}/{reference}/events"
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat(), "event_id": "crs-42"}

    first = await api.post(path, "writer", event)
    after_first = row_counts(api.sessions)
    retry = await api.post(path, "writer", event)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert row_counts(api.sessions) == after_first
    messages = (await api.get(f"{CASES}/{reference}", "reader")).json()["messages"]
    assert [m["template"] for m in messages].count("arrest") == 1


async def test_obligations_are_listed_most_urgent_first_filtered_and_in_keyset_pages(
    api: Api,
) -> None:
    now = datetime.now(UTC)
    opened = [
        (await open_case(api, reported_at=now - timedelta(hours=hours)))["reference"]
        for hours in (1, 20)
    ]
    listed: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(20):
        url = "/api/v1/obligations?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.get(url, "reader")).json()
        assert len(page["obligations"]) <= 2
        listed += page["obligations"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    with api.sessions() as session:
        total = len(list(session.scalars(select(models.Obligation.id))))

    assert len(listed) == total
    assert [o["due_at"] for o in listed] == sorted(o["due_at"] for o in listed)
    dv = (await api.get("/api/v1/obligations?standard=dv_contact", "reader")).json()
    assert {o["reference"] for o in dv["obligations"]} == set(opened)
    due_soon = (await api.get("/api/v1/obligations?state=due_soon", "reader")).json()
    # Reported 20 hours ago: past the 18-hour warning of the 24-hour contact standard.
    assert [(o["reference"], o["standard"]) for o in due_soon["obligations"]] == [
        (opened[1], "dv_contact")
    ]
    cutoff = (now + timedelta(hours=12)).isoformat().replace("+00:00", "Z")
    before = (await api.get(f"/api/v1/obligations?due_before={cutoff}", "reader")).json()
    assert {o["reference"] for o in before["obligations"]} == {opened[1]}
    naive = await api.get("/api/v1/obligations?due_before=2026-01-01T00:00:00", "reader")
    assert_problem(naive, 422)
    assert_problem(await api.get("/api/v1/obligations?cursor=rubbish", "reader"), 422)
    assert_problem(await api.get("/api/v1/obligations?state=lost", "reader"), 422)


async def test_overdue_means_pending_and_past_due_by_the_app_s_clock(
    temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    async with running_api(temporal.client, sqlite_url) as api:
        reference = (await open_case(api))["reference"]
    later = datetime.now(UTC) + timedelta(hours=30)
    async with running_api(
        temporal.client, sqlite_url, clock=lambda: later, with_worker=False
    ) as api:
        overdue = (await api.get("/api/v1/obligations?state=overdue", "reader")).json()
    assert ("dv_contact", reference) in {
        (o["standard"], o["reference"]) for o in overdue["obligations"]
    }
    assert all(o["state"] == "pending" for o in overdue["obligations"])


async def test_healthz_answers_and_readyz_names_temporal_when_it_does_not_answer(
    api: Api, database_url: str
) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    assert (await api.http.get("/readyz")).status_code == 200
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    async with running_api(dead, database_url, with_worker=False) as down:
        started = time.monotonic()
        problem = assert_problem(await down.http.get("/readyz"), 503)
    assert "Temporal" in problem["detail"] and "database" not in problem["detail"]
    assert time.monotonic() - started < 10


async def test_when_temporal_is_down_a_write_answers_503_with_retry_after_in_bounded_time(
    database_url: str,
) -> None:
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    async with running_api(
        dead, database_url, with_worker=False, api_write_timeout_seconds=1.0
    ) as api:
        before = row_counts(api.sessions)
        started = time.monotonic()
        response = await api.post(CASES, "writer", case_body())
        elapsed = time.monotonic() - started
        after = row_counts(api.sessions)

    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    assert elapsed < 10
    assert after == before


async def test_when_the_worker_is_down_a_case_is_202_with_its_location_and_opens_when_it_is_back(
    temporal: WorkflowEnvironment, database_url: str
) -> None:
    body = case_body()
    async with running_api(
        temporal.client, database_url, with_worker=False, api_write_timeout_seconds=1.0
    ) as api:
        started = time.monotonic()
        accepted = await api.post(CASES, "writer", body)
        elapsed = time.monotonic() - started
        retried = await api.post(CASES, "writer", body)
        queue = api.task_queue

    assert accepted.status_code == 202, accepted.text
    assert elapsed < 10
    assert accepted.headers["location"] == f"{CASES}/{body['reference']}"
    assert accepted.json()["obligations"] == []
    assert retried.status_code == 202
    assert await workflow_exists(temporal.client, body["reference"])

    # The worker comes back on the same queue: the intake runs, and a retry reports it.
    async with running_api(temporal.client, database_url, task_queue=queue) as api:
        for _ in range(100):
            again = await api.post(CASES, "writer", body)
            if again.status_code == 201:
                break
            await _pause()
        assert again.status_code == 201, again.text
        assert again.json()["obligations"]
        with api.sessions() as session:
            cases = list(session.scalars(select(models.Case.reference)))
        assert cases.count(body["reference"]) == 1


async def _pause() -> None:
    await asyncio.sleep(0.1)


async def test_a_token_over_its_rate_limit_gets_429_with_retry_after(
    temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    async with running_api(
        temporal.client, sqlite_url, with_worker=False, api_rate_per_minute=1, api_rate_burst=3
    ) as api:
        answers = [(await api.get("/api/v1/obligations", "reader")) for _ in range(4)]
        other = await api.get("/api/v1/obligations", "victims")

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert_problem(answers[-1], 429)
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert other.status_code == 200


async def test_every_accepted_write_is_audited_without_personal_data(api: Api) -> None:
    reference = (await open_case(api))["reference"]
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat(), "event_id": "e-1"}
    await api.post(f"{CASES}/{reference}/events", "writer", event)
    assert_problem(await api.post(CASES, "reader", case_body()), 403)

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


async def test_an_unexpected_failure_is_a_problem_with_an_opaque_id_that_is_in_the_log(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # A table gone from under the app: no route expects that.
    with api.sessions.begin() as session:
        session.execute(text("ALTER TABLE obligations RENAME TO obligations_gone"))
    with caplog.at_level(logging.ERROR, logger="pledge.web"):
        response = await api.get("/api/v1/obligations", "reader")

    problem = assert_problem(response, 500)
    assert problem["id"] and problem["id"] in caplog.text
    assert "sqlite" not in response.text.lower() and "psycopg" not in response.text.lower()


async def test_the_openapi_document_covers_every_route_and_the_docs_page_loads_nothing_remote(
    api: Api,
) -> None:
    document = (await api.http.get("/openapi.json")).json()
    docs = await api.http.get("/docs")

    assert set(document["paths"]) >= {
        "/api/v1/cases",
        "/api/v1/cases/{reference}",
        "/api/v1/cases/{reference}/events",
        "/api/v1/obligations",
        "/healthz",
        "/readyz",
    }
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    open_operation = document["paths"]["/api/v1/cases"]["post"]
    assert open_operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"201", "202", "400", "401", "403", "409", "413", "415", "422", "429", "503"} <= set(
        open_operation["responses"]
    )
    assert open_operation["responses"]["409"]["content"][PROBLEM]
    assert "CaseIn" in document["components"]["schemas"]
    assert docs.status_code == 200
    assert "http://" not in docs.text and "https://" not in docs.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert (await api.http.get(asset)).status_code == 200


async def test_without_twilio_settings_the_webhook_routes_answer_404(api: Api) -> None:
    for path in ("/twilio/status", "/twilio/inbound"):
        assert_problem(await api.http.post(path, data={"MessageSid": "SM1"}), 404)
