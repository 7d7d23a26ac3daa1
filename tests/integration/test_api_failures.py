"""The HTTP API when requests or its parts go wrong: bad bodies, Temporal or the worker
down, unexpected failures; and what it documents about itself."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from config import Settings
from service.cases import CaseIn, case_record
from standards.policy import load_policy, policy_path
from storage import models
from tests.support.api import (
    CASES_URL,
    PROBLEM_MEDIA_TYPE,
    Api,
    assert_problem,
    case_body,
    open_case_over_http,
    row_counts,
    running_api,
    workflow_exists,
)
from tests.support.dev import free_port


async def test_bodies_not_json_too_large_of_another_type_or_invalid_are_problems_changing_nothing(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api))["reference"]
    before = row_counts(api.sessions)
    auth = api.auth("writer")
    json_type = {**auth, "Content-Type": "application/json"}

    not_json = await api.http.post(CASES_URL, content=b"{not json", headers=json_type)
    assert_problem(not_json, 400)
    assert_problem(await api.http.post(CASES_URL, content=b"[1, 2]", headers=json_type), 400)
    huge = case_body(name="A" * (70 * 1024))
    assert_problem(await api.post(CASES_URL, "writer", huge), 413)
    as_text = await api.http.post(
        CASES_URL, content=b"{}", headers={**auth, "Content-Type": "text/plain"}
    )
    assert_problem(as_text, 415)
    assert_problem(await api.http.post(CASES_URL, data={"a": "b"}, headers=auth), 415)

    bad_phone = assert_problem(await api.post(CASES_URL, "writer", case_body(phone="12")), 422)
    assert [e["pointer"] for e in bad_phone["errors"]] == ["/victim/phone"]
    assert "E.164" in bad_phone["errors"][0]["detail"]
    assert not bad_phone["errors"][0]["detail"].startswith("Value error")
    naive = case_body()
    naive["reported_at"] = "2026-03-27T17:30:00"
    naive_problem = assert_problem(await api.post(CASES_URL, "writer", naive), 422)
    assert naive_problem["errors"][0]["pointer"] == "/reported_at"
    assert "offset" in naive_problem["errors"][0]["detail"]
    category = assert_problem(await api.post(CASES_URL, "writer", case_body(category="arson")), 422)
    assert category["errors"][0]["pointer"] == "/category"
    assert "accepted" in category["errors"][0]["detail"]
    unknown_type = {"type": "teleported", "at": datetime.now(UTC).isoformat()}
    event_problem = assert_problem(
        await api.post(f"{CASES_URL}/{reference}/events", "writer", unknown_type), 422
    )
    assert event_problem["errors"][0]["pointer"] == "/type"

    assert row_counts(api.sessions) == before


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


POLICY_FILE = policy_path(Settings().policy_dir, Settings().default_policy)


async def test_when_temporal_is_down_a_write_answers_503_with_retry_after_in_bounded_time(
    database_url: str,
) -> None:
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    async with running_api(
        dead, database_url, with_worker=False, api_write_timeout_seconds=1.0
    ) as api:
        # A case recorded before Temporal went down, for the event to go to.
        recorded = CaseIn.model_validate(case_body())
        with api.sessions.begin() as session:
            session.add(case_record(recorded, load_policy(POLICY_FILE)))
        before = row_counts(api.sessions)
        started = time.monotonic()
        opened = await api.post(CASES_URL, "writer", case_body())
        event = {"type": "arrest", "at": datetime.now(UTC).isoformat(), "event_id": "e-9"}
        posted = await api.post(f"{CASES_URL}/{recorded.reference}/events", "writer", event)
        elapsed = time.monotonic() - started
        after = row_counts(api.sessions)

    for response in (opened, posted):
        assert "Temporal" in assert_problem(response, 503)["detail"]
        assert int(response.headers["retry-after"]) > 0
    assert elapsed < 20
    assert after == before


async def test_when_the_worker_is_down_a_case_is_202_with_its_location_and_opens_when_it_is_back(
    api_temporal: WorkflowEnvironment, database_url: str
) -> None:
    body = case_body()
    async with running_api(
        api_temporal.client, database_url, with_worker=False, api_write_timeout_seconds=1.0
    ) as api:
        started = time.monotonic()
        accepted = await api.post(CASES_URL, "writer", body)
        elapsed = time.monotonic() - started
        retried = await api.post(CASES_URL, "writer", body)
        queue = api.task_queue

    assert accepted.status_code == 202, accepted.text
    assert elapsed < 10
    assert accepted.headers["location"] == f"{CASES_URL}/{body['reference']}"
    assert accepted.json()["obligations"] == []
    assert retried.status_code == 202
    assert await workflow_exists(api_temporal.client, body["reference"])

    # The worker comes back on the same queue: the intake runs, and a retry reports it.
    async with running_api(api_temporal.client, database_url, task_queue=queue) as api:
        for _ in range(100):
            again = await api.post(CASES_URL, "writer", body)
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
    assert open_operation["responses"]["409"]["content"][PROBLEM_MEDIA_TYPE]
    assert "CaseIn" in document["components"]["schemas"]
    assert docs.status_code == 200
    assert "http://" not in docs.text and "https://" not in docs.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert (await api.http.get(asset)).status_code == 200


async def test_without_twilio_settings_the_webhook_routes_answer_404(api: Api) -> None:
    for path in ("/twilio/status", "/twilio/inbound"):
        assert_problem(await api.http.post(path, data={"MessageSid": "SM1"}), 404)


async def test_nul_characters_anywhere_are_refused_as_unknown_or_invalid_on_either_database(
    api: Api,
) -> None:
    before = row_counts(api.sessions)
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat()}
    nul_borough = case_body(borough="Cam\x00den")
    nul_key = case_body()
    nul_key["victim"]["a\x00"] = 1

    assert_problem(await api.get(f"{CASES_URL}/ab%00cd", "all"), 404)
    assert_problem(await api.post(f"{CASES_URL}/ab%00cd/events", "all", event), 404)
    for query in ("borough=a%00b", "standard=a%00b"):
        assert_problem(await api.get(f"/api/v1/obligations?{query}", "all"), 422)
    problem = assert_problem(await api.post(CASES_URL, "all", nul_borough), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["/borough"]
    problem = assert_problem(await api.post(CASES_URL, "all", nul_key), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["/victim/a\x00"]
    assert row_counts(api.sessions) == before


async def test_reports_from_the_future_or_distant_past_and_oversized_officer_details_are_422(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api))["reference"]
    before = row_counts(api.sessions)
    future = case_body(reported_at=datetime.now(UTC) + timedelta(days=1))
    ancient = case_body()
    ancient["reported_at"] = "0001-01-01T00:00:00+00:00"
    officer = {
        "type": "officer_assigned",
        "at": datetime.now(UTC).isoformat(),
        "details": {"officer_name": "x" * 300, "officer_contact": "101"},
    }

    for body in (future, ancient):
        problem = assert_problem(await api.post(CASES_URL, "all", body), 422)
        assert [e["pointer"] for e in problem["errors"]] == ["/reported_at"]
    path = f"{CASES_URL}/{reference}/events"
    problem = assert_problem(await api.post(path, "all", officer), 422)
    assert "officer_name is longer than 200" in problem["errors"][0]["detail"]
    assert row_counts(api.sessions) == before
    assert not await workflow_exists(api.temporal, future["reference"])
