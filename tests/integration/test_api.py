"""The HTTP API over a real socket, on SQLite and PostgreSQL with the Temporal dev server:
opening cases, posting events, reading cases and obligations, retries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from storage import models
from tests.support.api import (
    CASES_URL,
    Api,
    assert_problem,
    case_body,
    open_case_over_http,
    row_counts,
    running_api,
)


async def test_an_opened_case_is_201_with_its_location_and_reads_back_by_either_spelling(
    api: Api,
) -> None:
    body = case_body()
    response = await api.post(CASES_URL, "writer", body)

    assert response.status_code == 201, response.text
    reference = body["reference"]
    assert response.headers["location"] == f"{CASES_URL}/{reference}"
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
    encoded = await api.get(f"{CASES_URL}/{reference.replace('/', '%2F')}", "reader")
    assert as_issued.status_code == encoded.status_code == 200
    assert as_issued.json() == encoded.json() == opened


async def test_an_event_answers_200_with_its_receipt_and_the_case_shows_the_obligation_met(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api))["reference"]
    encoded = reference.replace("/", "%2F")
    response = await api.post(
        f"{CASES_URL}/{encoded}/events",
        "writer",
        {"type": "contact_recorded", "at": datetime.now(UTC).isoformat(), "standard": "dv_contact"},
    )

    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["reference"] == reference and receipt["event"] == "contact_recorded"
    assert receipt["changed"]
    view = (await api.get(f"{CASES_URL}/{reference}", "reader")).json()
    dv = next(o for o in view["obligations"] if o["standard"] == "dv_contact")
    assert dv["state"] == "met" and dv["met_at"]


async def test_victim_contact_details_are_shown_only_to_a_token_with_victims_read(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api))["reference"]

    plain = (await api.get(f"{CASES_URL}/{reference}", "reader")).json()
    with_victim = (await api.get(f"{CASES_URL}/{reference}", "victims")).json()

    assert plain["victim"] is None
    assert "+447700900123" not in str(plain)
    assert with_victim["victim"]["phone"] == "+447700900123"
    assert with_victim["victim"]["name"] == "Alex Smith"


async def test_a_duplicate_reference_is_409_and_a_retry_of_the_same_case_gets_the_first_outcome(
    api: Api,
) -> None:
    body = case_body()
    first = await api.post(CASES_URL, "writer", body)
    assert first.status_code == 201
    after_first = row_counts(api.sessions)

    retry = await api.post(CASES_URL, "writer", body)
    other = {**body, "victim": {**body["victim"], "name": "Someone Else"}}
    duplicate = await api.post(CASES_URL, "writer", other)

    assert retry.status_code == 201
    assert retry.headers["location"] == first.headers["location"]
    assert retry.json() == first.json()
    assert "already exists" in assert_problem(duplicate, 409)["detail"]
    assert row_counts(api.sessions) == after_first


async def test_retries_sent_while_the_first_request_still_runs_share_its_outcome(
    api: Api,
) -> None:
    body = case_body()
    opened = await asyncio.gather(*(api.post(CASES_URL, "writer", body) for _ in range(3)))
    path = f"{CASES_URL}/{body['reference']}/events"
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat(), "event_id": "crs-7"}
    posted = await asyncio.gather(*(api.post(path, "writer", event) for _ in range(3)))

    assert [r.status_code for r in opened] == [201, 201, 201], [r.text for r in opened]
    assert opened[0].json() == opened[1].json() == opened[2].json()
    assert [r.status_code for r in posted] == [200, 200, 200]
    assert posted[0].json() == posted[1].json() == posted[2].json()
    messages = (await api.get(f"{CASES_URL}/{body['reference']}", "reader")).json()["messages"]
    assert [m["template"] for m in messages] == ["acknowledgement", "arrest"]


async def test_an_event_that_does_not_fit_the_case_is_409_with_the_reason_and_changes_nothing(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api))["reference"]
    before = row_counts(api.sessions)
    path = f"{CASES_URL}/{reference}/events"
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
    reference = (await open_case_over_http(api))["reference"]
    path = f"{CASES_URL}/{reference}/events"
    event = {"type": "arrest", "at": datetime.now(UTC).isoformat(), "event_id": "crs-42"}

    first = await api.post(path, "writer", event)
    after_first = row_counts(api.sessions)
    retry = await api.post(path, "writer", event)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert row_counts(api.sessions) == after_first
    messages = (await api.get(f"{CASES_URL}/{reference}", "reader")).json()["messages"]
    assert [m["template"] for m in messages].count("arrest") == 1


async def test_obligations_are_listed_most_urgent_first_filtered_and_in_keyset_pages(
    api: Api,
) -> None:
    now = datetime.now(UTC)
    opened = [
        (await open_case_over_http(api, reported_at=now - timedelta(hours=hours)))["reference"]
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


async def test_overdue_means_open_and_due_by_the_app_s_clock(
    api_temporal: WorkflowEnvironment, sqlite_url: str
) -> None:
    async with running_api(api_temporal.client, sqlite_url) as api:
        reference = (await open_case_over_http(api))["reference"]
    later = datetime.now(UTC) + timedelta(hours=30)
    async with running_api(
        api_temporal.client, sqlite_url, clock=lambda: later, with_worker=False
    ) as api:
        overdue = (await api.get("/api/v1/obligations?state=overdue", "reader")).json()
    assert ("dv_contact", reference) in {
        (o["standard"], o["reference"]) for o in overdue["obligations"]
    }
    # The workflow has not marked the breach (no worker at that clock): overdue all the same.
    assert all(o["state"] in ("pending", "breached") for o in overdue["obligations"])
