"""The alerts page over a real socket, on SQLite and PostgreSQL: whose desk holds what,
acknowledging and giving an alert to someone (who and when recorded), and actions that
are refused in one line without changing anything."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import select

from service.alert_desk import ALERTS_PER_PAGE
from standards.obligations import AlertKind
from standards.staff import StaffRole
from standards.vocabulary import RecipientRole
from storage import models
from tests.support.case_rows import add_case
from tests.support.pages import Pages, create_staff_user, csrf_token_of, running_pages, sign_in

NOW = datetime.now(UTC).replace(microsecond=0)
CAMDEN = "01/000001/26"
HACKNEY = "02/000002/26"
ACCOUNTS = {
    "vfu-camden": (StaffRole.VFU, "camden"),
    "vfu2-camden": (StaffRole.VFU, "camden"),
    "vfu-hackney": (StaffRole.VFU, "hackney"),
    "manager-camden": (StaffRole.MANAGER, "camden"),
}
# The display names of those that have one (the others are shown by their email).
NAMES = {"vfu2-camden": "Priya Shah"}


@dataclass
class Desk:
    pages: Pages
    database_url: str
    case_ids: dict[str, int]
    user_ids: dict[str, int]

    @contextlib.asynccontextmanager
    async def browser(self, account: str) -> AsyncIterator[httpx.AsyncClient]:
        async with self.pages.client() as client:
            yield await sign_in(client, f"{account}@met.example")

    def raise_alert(
        self,
        reference: str,
        kind: AlertKind,
        minutes_ago: int = 10,
        recipient: RecipientRole = RecipientRole.VFU,
        key: str | None = None,
    ) -> int:
        borough = "camden" if reference == CAMDEN else "hackney"
        with self.pages.sessions.begin() as session:
            alert = models.Alert(
                case_id=self.case_ids[reference],
                reference=reference,
                borough=borough,
                standard="victim_update",
                obligation_key=key or f"victim_update:{kind.value}:{minutes_ago}",
                kind=kind.value,
                at=NOW - timedelta(minutes=minutes_ago),
                due_at=None,
                detail=f"{kind.value} for {reference}",
                recipient_role=recipient.value,
            )
            session.add(alert)
            session.flush()
            return alert.id

    def alert(self, alert_id: int) -> dict[str, Any]:
        with self.pages.sessions() as session:
            row = session.get(models.Alert, alert_id)
            assert row is not None
            return {
                "acknowledged_at": row.acknowledged_at,
                "acknowledged_by_id": row.acknowledged_by_id,
                "assigned_to_id": row.assigned_to_id,
                "assigned_by_id": row.assigned_by_id,
                "assigned_at": row.assigned_at,
            }


@pytest_asyncio.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    async with running_pages(database_url, clock=lambda: NOW) as pages:
        case_ids = {
            CAMDEN: add_case(pages.sessions, NOW, CAMDEN),
            HACKNEY: add_case(pages.sessions, NOW, HACKNEY, borough="hackney"),
        }
        user_ids = {
            account: create_staff_user(
                database_url, f"{account}@met.example", role, borough, name=NAMES.get(account)
            ).id
            for account, (role, borough) in ACCOUNTS.items()
        }
        yield Desk(pages, database_url, case_ids, user_ids)


def rows_of(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", row) for row in body.split("<tr>")[1:]]


async def post(http: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    token = csrf_token_of((await http.get("/alerts")).text)
    return await http.post(path, data={"csrf_token": token, **data})


async def test_a_vfu_desk_holds_its_boroughs_alerts_with_a_victims_request_first(
    desk: Desk,
) -> None:
    breach = desk.raise_alert(CAMDEN, AlertKind.BREACH, minutes_ago=1)
    request = desk.raise_alert(CAMDEN, AlertKind.UPDATE_REQUESTED, minutes_ago=60)
    desk.raise_alert(HACKNEY, AlertKind.UPDATE_REQUESTED)
    desk.raise_alert(CAMDEN, AlertKind.ESCALATION, recipient=RecipientRole.MANAGER)
    async with desk.browser("vfu-camden") as http:
        page = await http.get("/alerts")
    assert page.status_code == 200
    rows = rows_of(page.text)
    # The victim waiting comes before the newer breach; Hackney's and the manager's are not here.
    assert len(rows) == 2
    assert "Victim asked for an update" in rows[0] and f"/alerts/{request}/" in rows[0]
    assert "Breached" in rows[1] and f"/alerts/{breach}/" in rows[1]
    assert HACKNEY not in page.text and "Escalation" not in "".join(rows)
    counts = re.sub(r"\s+", " ", page.text.split('aria-label="Open alerts"')[1].split("</ul>")[0])
    assert "1</span> victim asked for an update" in counts
    assert "1</span> breached" in counts


async def test_a_managers_desk_holds_the_escalations_raised_for_managers(desk: Desk) -> None:
    escalation = desk.raise_alert(CAMDEN, AlertKind.ESCALATION, recipient=RecipientRole.MANAGER)
    desk.raise_alert(CAMDEN, AlertKind.UPDATE_REQUESTED)
    async with desk.browser("manager-camden") as http:
        page = await http.get("/alerts")
    rows = rows_of(page.text)
    assert len(rows) == 1 and f"/alerts/{escalation}/" in rows[0]
    assert "<h1>Escalations</h1>" in page.text


async def test_acknowledging_records_who_and_when_and_a_second_time_changes_nothing(
    desk: Desk,
) -> None:
    alert = desk.raise_alert(CAMDEN, AlertKind.MANUAL_CONTACT_REQUIRED)
    async with desk.browser("vfu-camden") as first, desk.browser("vfu2-camden") as second:
        done = await post(first, f"/alerts/{alert}/acknowledge", back="status=all")
        # Back to the page (a reload posts nothing again), with the filters it came from.
        assert done.status_code == 303
        assert done.headers["location"] == "/alerts?status=all&done=acknowledged"
        recorded = desk.alert(alert)
        assert recorded["acknowledged_at"] == NOW
        assert recorded["acknowledged_by_id"] == desk.user_ids["vfu-camden"]
        shown = await first.get("/alerts?status=acknowledged")
        assert "by vfu-camden@met.example" in rows_of(shown.text)[0]
        # Acknowledged already: one line, and nothing changed.
        again = await post(second, f"/alerts/{alert}/acknowledge")
        assert again.status_code == 303
        refused = await second.get(again.headers["location"])
        assert "This alert was already acknowledged" in refused.text
        assert 'class="error-summary"' in refused.text
        assert desk.alert(alert) == recorded
    # Off the open list now.
    async with desk.browser("vfu-camden") as http:
        assert "No alerts here." in (await http.get("/alerts")).text


async def test_an_alert_is_given_to_a_colleague_and_never_to_someone_outside_the_borough(
    desk: Desk,
) -> None:
    alert = desk.raise_alert(CAMDEN, AlertKind.UPDATE_REQUESTED)
    colleague = desk.user_ids["vfu2-camden"]
    async with desk.browser("vfu-camden") as http:
        page = await http.get("/alerts")
        # Offered by name where the account has one.
        assert f'<option value="{colleague}">Priya Shah</option>' in page.text
        assert "vfu2-camden@met.example" not in page.text
        assert "vfu-hackney@met.example" not in page.text
        outsider = await post(
            http, f"/alerts/{alert}/assign", assignee=str(desk.user_ids["vfu-hackney"])
        )
        refused = await http.get(outsider.headers["location"])
        assert "Choose someone from the list who works on these cases" in refused.text
        assert desk.alert(alert)["assigned_to_id"] is None
        given = await post(http, f"/alerts/{alert}/assign", assignee=str(colleague))
        assert given.headers["location"] == "/alerts?done=assigned"
    recorded = desk.alert(alert)
    assert recorded["assigned_to_id"] == colleague
    assert recorded["assigned_by_id"] == desk.user_ids["vfu-camden"]
    assert recorded["assigned_at"] == NOW
    async with desk.browser("vfu2-camden") as http:
        mine = await http.get("/alerts?mine=yes")
        rows = rows_of(mine.text)
        # Given to a named colleague, by someone without a name (shown by their email).
        assert len(rows) == 1 and "by vfu-camden@met.example" in rows[0]
        assert "Priya Shah" in rows[0]
        assert "1</span> given to you" in re.sub(r"\s+", " ", mine.text)


async def test_another_boroughs_alert_cannot_be_touched_and_looks_like_none(desk: Desk) -> None:
    alert = desk.raise_alert(HACKNEY, AlertKind.UPDATE_REQUESTED)
    async with desk.browser("vfu-camden") as http:
        acknowledged = await post(http, f"/alerts/{alert}/acknowledge")
        assigned = await post(http, f"/alerts/{alert}/assign", assignee="nobody")
        missing = await post(http, "/alerts/999999/acknowledge")
    assert acknowledged.status_code == assigned.status_code == missing.status_code == 404
    assert desk.alert(alert)["acknowledged_at"] is None


async def test_a_wrong_filter_is_named_and_the_page_still_answers(desk: Desk) -> None:
    async with desk.browser("vfu-camden") as http:
        page = await http.get("/alerts?kind=escalation&status=later&page=0")
    assert page.status_code == 400
    assert "Choose a kind of alert from the list" in page.text
    assert "Choose which alerts to show from the list" in page.text
    assert "The page must be a whole number from 1" in page.text


async def test_a_long_desk_is_paged(desk: Desk) -> None:
    for minute in range(ALERTS_PER_PAGE + 5):
        desk.raise_alert(CAMDEN, AlertKind.WARNING, minutes_ago=minute + 1)
    async with desk.browser("vfu-camden") as http:
        first = await http.get("/alerts")
        second = await http.get("/alerts?page=2")
    assert len(rows_of(first.text)) == ALERTS_PER_PAGE
    assert f"{ALERTS_PER_PAGE + 5} alerts, page 1 of 2" in first.text
    assert 'rel="next" href="?page=2"' in first.text
    assert len(rows_of(second.text)) == 5
    with desk.pages.sessions() as session:
        oldest = session.scalar(select(models.Alert.id).order_by(models.Alert.at).limit(1))
    assert f"/alerts/{oldest}/" in rows_of(second.text)[-1]
