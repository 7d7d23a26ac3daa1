"""Sending the victim an update now, end to end on SQLite and PostgreSQL: through the API
(`update_sent_on_request`) and from the case page (its confirmation, the 303, the history
by name). The policy's periodic update goes to the victim and, delivered, answers their
request and restarts the periodic update's clock; a victim who asked not to be contacted,
a closed case and a case from demo history are refused in one line (409), nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
from sqlalchemy import select, update

from standards.staff import StaffRole
from storage import models
from tests.support.api import CASES_URL, Api, assert_problem, open_case_over_http
from tests.support.pages import create_staff_user, csrf_token_of, sign_in

VFU_EMAIL = "vfu-update@met.example"
VFU_NAME = "Priya Shah"


async def post_event(api: Api, reference: str, type: str, **details: Any) -> httpx.Response:
    body = {"type": type, "at": datetime.now(UTC).isoformat(), "details": details}
    return await api.post(f"{CASES_URL}/{reference}/events", "writer", body)


async def states(api: Api, reference: str, standard: str) -> list[str]:
    view = (await api.get(f"{CASES_URL}/{reference}", "reader")).json()
    return [o["state"] for o in view["obligations"] if o["standard"] == standard]


def rows_of(api: Api, reference: str, column: Any) -> list[str]:
    """One column of a case's rows (its messages or its events), oldest first."""
    table = column.class_
    with api.sessions() as session:
        return list(
            session.scalars(
                select(column)
                .join(models.Case, models.Case.id == table.case_id)
                .where(models.Case.reference == reference)
                .order_by(table.id)
            )
        )


def templates_sent(api: Api, reference: str) -> list[str]:
    return rows_of(api, reference, models.OutboxMessage.template)


def event_types(api: Api, reference: str) -> list[str]:
    return rows_of(api, reference, models.CaseEventRecord.type)


async def test_an_update_sent_through_the_api_answers_the_request_and_restarts_the_clock(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api, category="burglary"))["reference"]
    assert (await post_event(api, reference, "update_requested")).status_code == 200
    assert await states(api, reference, "update_request_reply") == ["pending"]

    response = await post_event(api, reference, "update_sent_on_request")

    assert response.status_code == 200, response.text
    assert templates_sent(api, reference)[-1] == "periodic_update"
    assert await states(api, reference, "update_request_reply") == ["met"]
    assert await states(api, reference, "victim_update") == ["met", "pending"]


async def test_a_victim_who_asked_not_to_be_contacted_is_refused_with_409_and_nothing_changes(
    api: Api,
) -> None:
    reference = (await open_case_over_http(api, category="burglary", do_not_contact=True))[
        "reference"
    ]
    before = (templates_sent(api, reference), await states(api, reference, "victim_update"))

    refused = await post_event(api, reference, "update_sent_on_request")

    detail = assert_problem(refused, 409)["detail"]
    assert detail == (
        f"update_sent_on_request refused for case {reference}: the victim asked not to be "
        "contacted automatically: contact them another way and record the contact"
    )
    assert (templates_sent(api, reference), await states(api, reference, "victim_update")) == (
        before
    )
    assert event_types(api, reference) == []


async def test_a_closed_case_and_a_demo_history_case_refuse_an_update_now_with_409(
    api: Api,
) -> None:
    closed = (await open_case_over_http(api, category="burglary"))["reference"]
    assert (await post_event(api, closed, "closed", reason="no leads")).status_code == 200
    refused = await post_event(api, closed, "update_sent_on_request")
    assert (
        "is closed: update_sent_on_request is not accepted"
        in (assert_problem(refused, 409)["detail"])
    )
    assert event_types(api, closed) == ["closed"]

    history = (await open_case_over_http(api, category="burglary"))["reference"]
    with api.sessions.begin() as session:
        session.execute(
            update(models.Case).where(models.Case.reference == history).values(demo_history=True)
        )
    refused = await post_event(api, history, "update_sent_on_request")
    assert "is demo history, read-only" in assert_problem(refused, 409)["detail"]
    assert event_types(api, history) == []


async def test_the_case_page_sends_it_after_a_confirmation_and_names_who_sent_it(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden", name=VFU_NAME)
    reference = (await open_case_over_http(api, category="burglary"))["reference"]
    assert (await post_event(api, reference, "update_requested")).status_code == 200
    http = await sign_in(api.http, VFU_EMAIL)
    path = f"/cases/{reference}/send-update"

    page = unescape((await http.get(f"/cases/{reference}")).text)
    next_up = page[page.index('id="next"') : page.index('id="actions"')]
    assert 'href="#action-send-update"' in next_up
    form = page[page.index(f'action="{path}"') :]
    form = form[: form.index("</form>")]
    assert "It goes to their safe channel: text message, within their safe hours" in form
    fields = {
        "csrf_token": csrf_token_of(page),
        "event_id": "page-update-now-1",
        "back": "case",
    }

    unconfirmed = await http.post(path, data=fields)
    assert unconfirmed.status_code == 422
    assert "Confirm that the update should go to the victim now" in unescape(unconfirmed.text)
    assert event_types(api, reference) == ["update_requested"]

    sent = await http.post(path, data={**fields, "send-update-confirm": "yes"})
    assert sent.status_code == 303, sent.text
    shown = unescape((await http.get(sent.headers["location"])).text)
    assert "Update sent to the victim's safe channel" in shown and reference in shown
    history = shown[shown.index('id="history"') :]
    assert "Update sent on request" in history and VFU_NAME in history
    assert templates_sent(api, reference)[-1] == "periodic_update"
    assert await states(api, reference, "update_request_reply") == ["met"]

    # The same form sent again records it once.
    again = await http.post(path, data={**fields, "send-update-confirm": "yes"})
    assert again.status_code == 303
    assert event_types(api, reference) == ["update_requested", "update_sent_on_request"]


async def test_the_case_page_says_why_a_do_not_contact_victim_cannot_be_sent_one(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden", name=VFU_NAME)
    reference = (await open_case_over_http(api, category="burglary", do_not_contact=True))[
        "reference"
    ]
    http = await sign_in(api.http, VFU_EMAIL)
    page = unescape((await http.get(f"/cases/{reference}")).text)
    path = f"/cases/{reference}/send-update"
    assert f'action="{path}"' not in page
    assert 'href="#action-send-update"' not in page
    assert (
        "Send the victim an update now: The victim asked not to be contacted automatically" in page
    )
    refused = await http.post(
        path,
        data={
            "csrf_token": csrf_token_of(page),
            "event_id": "page-update-now-2",
            "back": "case",
            "send-update-confirm": "yes",
        },
    )
    assert refused.status_code == 409
    assert "Nothing recorded: The victim asked not to be contacted automatically" in unescape(
        refused.text
    )
    assert event_types(api, reference) == []


async def test_a_queue_row_of_the_periodic_update_links_to_the_confirmation(
    api: Api, database_url: str
) -> None:
    create_staff_user(database_url, VFU_EMAIL, StaffRole.VFU, "camden", name=VFU_NAME)
    # 27 days in: the four-weekly update is past its warning point, on the queue.
    reported_at = datetime.now(UTC) - timedelta(days=27)
    reachable = (await open_case_over_http(api, category="burglary", reported_at=reported_at))[
        "reference"
    ]
    unreachable = (
        await open_case_over_http(
            api, category="burglary", reported_at=reported_at, do_not_contact=True
        )
    )["reference"]
    http = await sign_in(api.http, VFU_EMAIL)

    queue = (await http.get("/queue", params={"standard": "victim_update"})).text

    assert f"/cases/{reachable}" in queue and f"/cases/{unreachable}" in queue
    assert f'href="/cases/{reachable}#action-send-update"' in queue
    assert f'href="/cases/{unreachable}#action-send-update"' not in queue
