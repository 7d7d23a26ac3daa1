"""The VFU queue and the case page over a real socket, on SQLite and PostgreSQL: who sees
what, the filters, and forms that are refused without changing anything (no Temporal is
needed for any of these: every one is answered before an event would be posted)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from standards.staff import StaffRole
from storage import models
from storage.enums import ObligationState
from tests.support.case_rows import ObligationSpec, add_case
from tests.support.pages import (
    Pages,
    create_staff_user,
    csrf_token_of,
    listed_references,
    running_pages,
    sign_in,
)

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)
CAMDEN_CASE = "01/000001/26"
CAMDEN_DUE_SOON = "01/000002/26"
HACKNEY_CASE = "02/000003/26"
ACCOUNTS = {
    "vfu-camden": (StaffRole.VFU, "camden"),
    "vfu-hackney": (StaffRole.VFU, "hackney"),
    "manager-camden": (StaffRole.MANAGER, "camden"),
    "manager-force": (StaffRole.MANAGER, None),
    "admin": (StaffRole.ADMIN, None),
}


@dataclass
class QueueSite:
    pages: Pages
    database_url: str
    obligation_ids: dict[str, int]

    @contextlib.asynccontextmanager
    async def browser(self, account: str) -> AsyncIterator[httpx.AsyncClient]:
        """A new browser (cookies of its own) signed in as `account`."""
        # Made when first used: hashing a password is slow by design.
        role, borough = ACCOUNTS[account]
        create_staff_user(self.database_url, f"{account}@met.example", role, borough)
        async with self.pages.client() as client:
            yield await sign_in(client, f"{account}@met.example")


def _obligation_id(sessions: sessionmaker[Session], reference: str, standard: str) -> int:
    with sessions() as session:
        found = session.scalar(
            select(models.Obligation.id)
            .join(models.Case, models.Case.id == models.Obligation.case_id)
            .where(models.Case.reference == reference, models.Obligation.standard == standard)
        )
    assert found is not None
    return found


def _add_cases(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Camden: one breached, one due soon; Hackney: one breached. Their obligation ids."""
    add_case(
        sessions,
        NOW,
        CAMDEN_CASE,
        ObligationSpec("dv_contact", ObligationState.BREACHED, -30 * HOUR),
        officer_name="PC Patel",
        victim_name="Robin Camden-Victim",
    )
    add_case(
        sessions,
        NOW,
        CAMDEN_DUE_SOON,
        ObligationSpec("acknowledgement", ObligationState.PENDING, 2 * HOUR),
        category="burglary",
        officer_name="PC Jones",
    )
    add_case(
        sessions,
        NOW,
        HACKNEY_CASE,
        ObligationSpec("dv_contact", ObligationState.BREACHED, -10 * HOUR),
        borough="hackney",
        victim_name="Sam Hackney-Victim",
    )
    return {
        CAMDEN_CASE: _obligation_id(sessions, CAMDEN_CASE, "dv_contact"),
        HACKNEY_CASE: _obligation_id(sessions, HACKNEY_CASE, "dv_contact"),
    }


@pytest_asyncio.fixture
async def site(database_url: str) -> AsyncIterator[QueueSite]:
    async with running_pages(database_url, clock=lambda: NOW) as pages:
        yield QueueSite(pages, database_url, _add_cases(pages.sessions))


@pytest_asyncio.fixture
async def short_sort_site(database_url: str) -> AsyncIterator[QueueSite]:
    """The same cases on an app that sorts by a column only a list of one row."""
    async with running_pages(database_url, clock=lambda: NOW, queue_column_sort_limit=1) as pages:
        yield QueueSite(pages, database_url, _add_cases(pages.sessions))


def events_recorded(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(models.CaseEventRecord)) or 0


def error_links(html: str) -> list[str]:
    """Where the error summary's links point (the wrong fields' ids)."""
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'href="#([^"]+)"', summary)


async def test_a_vfu_user_sees_what_can_still_be_saved_first_without_victim_names(
    site: QueueSite,
) -> None:
    async with site.browser("vfu-camden") as browser:
        response = await browser.get("/queue")

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    # The acknowledgement due in 2 hours can still be met: above the breach 30 hours old.
    assert listed_references(response.text) == [CAMDEN_DUE_SOON, CAMDEN_CASE]
    assert "1 day 6 hours late" in response.text and "due in 2 hours" in response.text
    assert "Domestic abuse" in response.text and "Burglary" in response.text
    assert "Contact domestic abuse victims within 24 hours" in response.text
    assert "Showing 1\N{EN DASH}2 of 2" in response.text
    # What would meet each standard is written once, above the table, not on every row.
    meets, table = response.text.split("<table", 1)
    assert "a recorded contact with the victim about this" in meets
    assert "a recorded contact with the victim about this" not in table
    assert "Robin Camden-Victim" not in response.text and "+447700900123" not in response.text
    assert HACKNEY_CASE not in response.text
    # Both actions for the breach, with the session's form token.
    assert f'action="/cases/{CAMDEN_CASE}/contact"' in response.text
    assert f'action="/cases/{CAMDEN_CASE}/explanation"' in response.text
    assert csrf_token_of(response.text)
    assert 'src="/static/queue-refresh.js"' in response.text
    assert 'http-equiv="refresh"' in response.text


@pytest.mark.parametrize(
    ("account", "queue_lists", "sees_case", "sees_victim"),
    [
        ("vfu-camden", [CAMDEN_DUE_SOON, CAMDEN_CASE], {CAMDEN_CASE}, {CAMDEN_CASE}),
        ("vfu-hackney", [HACKNEY_CASE], {HACKNEY_CASE}, {HACKNEY_CASE}),
        ("manager-camden", [CAMDEN_DUE_SOON, CAMDEN_CASE], {CAMDEN_CASE}, {CAMDEN_CASE}),
        (
            "manager-force",
            # The savable one, then the breaches, the most recent (10 hours) first.
            [CAMDEN_DUE_SOON, HACKNEY_CASE, CAMDEN_CASE],
            {CAMDEN_CASE, HACKNEY_CASE},
            set(),
        ),
    ],
)
async def test_every_role_sees_only_its_borough_s_queue_and_cases(
    site: QueueSite,
    account: str,
    queue_lists: list[str],
    sees_case: set[str],
    sees_victim: set[str],
) -> None:
    async with site.browser(account) as browser:
        queue = await browser.get("/queue")
        cases = {ref: await browser.get(f"/cases/{ref}") for ref in (CAMDEN_CASE, HACKNEY_CASE)}

    assert queue.status_code == 200
    assert listed_references(queue.text) == queue_lists
    for reference, page in cases.items():
        if reference in sees_case:
            assert page.status_code == 200, page.text
            assert f"Case {reference}" in page.text
            assert page.headers["cache-control"] == "no-store"
        else:
            assert page.status_code == 404
            assert reference not in page.text
        victim = "Robin Camden-Victim" if reference == CAMDEN_CASE else "Sam Hackney-Victim"
        assert (victim in page.text) == (reference in sees_victim)


async def test_an_admin_gets_404_for_the_queue_and_every_case(site: QueueSite) -> None:
    async with site.browser("admin") as browser:
        responses = [
            await browser.get("/queue"),
            await browser.get(f"/cases/{CAMDEN_CASE}"),
            await browser.get(f"/cases/{HACKNEY_CASE}"),
        ]
        token = csrf_token_of(responses[0].text)
        posted = await browser.post(
            f"/cases/{CAMDEN_CASE}/contact",
            data={
                "csrf_token": token,
                "obligation": str(site.obligation_ids[CAMDEN_CASE]),
                f"method-{site.obligation_ids[CAMDEN_CASE]}": "phone",
                "back": "",
            },
        )

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert posted.status_code == 404
    assert events_recorded(site.pages.sessions) == 0


async def test_without_signing_in_the_pages_send_the_browser_to_sign_in(
    site: QueueSite,
) -> None:
    async with site.pages.client() as browser:
        queue = await browser.get("/queue?state=overdue")
        case = await browser.get(f"/cases/{CAMDEN_CASE}")
        posted = await browser.post(f"/cases/{CAMDEN_CASE}/contact", data={"obligation": "1"})

    assert queue.status_code == 303
    assert queue.headers["location"] == "/sign-in?next=/queue%3Fstate%3Doverdue"
    assert case.status_code == 303 and posted.status_code == 303
    assert events_recorded(site.pages.sessions) == 0


@pytest.mark.parametrize("action", ["contact", "explanation"])
async def test_a_post_on_another_borough_s_case_is_404_and_changes_nothing(
    site: QueueSite, action: str
) -> None:
    hackney_obligation = site.obligation_ids[HACKNEY_CASE]
    async with site.browser("vfu-camden") as browser:
        token = csrf_token_of((await browser.get("/queue")).text)
        fields = {
            "csrf_token": token,
            "obligation": str(hackney_obligation),
            f"method-{hackney_obligation}": "phone",
            f"reason-{hackney_obligation}": "victim_unreachable",
            "back": "",
        }
        other_borough = await browser.post(f"/cases/{HACKNEY_CASE}/{action}", data=fields)
        # An obligation of another borough's case posted on one's own case: still 404.
        mismatched = await browser.post(f"/cases/{CAMDEN_CASE}/{action}", data=fields)
        unknown = await browser.post(f"/cases/01/999999/26/{action}", data=fields)

    assert other_borough.status_code == mismatched.status_code == unknown.status_code == 404
    assert "Page not found" in other_borough.text
    assert events_recorded(site.pages.sessions) == 0


async def test_a_post_without_the_form_token_is_refused_and_changes_nothing(
    site: QueueSite,
) -> None:
    obligation = site.obligation_ids[CAMDEN_CASE]
    fields = {"obligation": str(obligation), f"method-{obligation}": "phone", "back": ""}
    async with site.browser("vfu-camden") as browser:
        missing = await browser.post(f"/cases/{CAMDEN_CASE}/contact", data=fields)
        wrong = await browser.post(
            f"/cases/{CAMDEN_CASE}/explanation",
            data={**fields, "csrf_token": "not-the-token", f"reason-{obligation}": "other"},
        )

    assert missing.status_code == wrong.status_code == 403
    assert events_recorded(site.pages.sessions) == 0


async def test_the_filters_narrow_the_queue_by_standard_state_and_officer(
    site: QueueSite,
) -> None:
    async with site.browser("vfu-camden") as browser:
        by_standard = await browser.get("/queue?standard=acknowledgement")
        overdue = await browser.get("/queue?state=overdue")
        due_soon = await browser.get("/queue?state=due_soon")
        by_officer = await browser.get("/queue?officer=PC+Patel")
        nobody = await browser.get("/queue?officer=PC+Nobody")

    assert listed_references(by_standard.text) == [CAMDEN_DUE_SOON]
    assert listed_references(overdue.text) == [CAMDEN_CASE]
    assert listed_references(due_soon.text) == [CAMDEN_DUE_SOON]
    assert listed_references(by_officer.text) == [CAMDEN_CASE]
    assert listed_references(nobody.text) == []
    assert "Nothing is overdue or due soon with these filters" in nobody.text
    # The officer filter offers the borough's officers, and keeps the one chosen.
    assert '<option value="PC Jones">' in by_officer.text
    assert '<option value="PC Patel" selected>' in by_officer.text
    assert '<option value="PC Nobody" selected>' in nobody.text


async def test_a_list_too_long_to_sort_by_a_column_stays_most_urgent_first_and_says_why(
    short_sort_site: QueueSite,
) -> None:
    async with short_sort_site.browser("vfu-camden") as browser:
        asked = await browser.get("/queue?sort=reference&dir=desc")
        by_time_left = await browser.get("/queue?sort=time_left")
        narrowed = await browser.get("/queue?sort=reference&standard=acknowledgement")

    assert asked.status_code == 200
    # Most urgent first: the due-soon row that can still be saved, then the breach.
    assert listed_references(asked.text) == [CAMDEN_DUE_SOON, CAMDEN_CASE]
    assert 'id="sort-set-aside"' in asked.text and "This list has 2 rows" in asked.text
    assert "most urgent first: what can still be saved" in asked.text
    # Only the orders read along an index stay links; the others are plain headings.
    assert "sort=reference" not in asked.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "sort=time_left" in asked.text
    assert 'id="sort-set-aside"' not in by_time_left.text
    assert 'id="sort-set-aside"' not in narrowed.text
    assert listed_references(narrowed.text) == [CAMDEN_DUE_SOON]


async def test_an_unknown_filter_is_a_400_page_naming_each_wrong_field(site: QueueSite) -> None:
    async with site.browser("vfu-camden") as browser:
        response = await browser.get("/queue?standard=no_such_standard&state=lost")
        long_officer = await browser.get("/queue?officer=" + "x" * 201)

    assert response.status_code == 400
    assert response.text.count("<title>Error: ") == 1
    assert error_links(response.text) == ["standard", "state"]
    assert "Select a standard from the list" in response.text
    assert "Select overdue, due soon or due today" in response.text
    assert listed_references(response.text) == []
    assert long_officer.status_code == 400 and error_links(long_officer.text) == ["officer"]


async def test_a_wrong_form_from_the_queue_comes_back_by_303_with_the_error_summary_once(
    site: QueueSite,
) -> None:
    obligation = site.obligation_ids[CAMDEN_CASE]
    async with site.browser("vfu-camden") as browser:
        token = csrf_token_of((await browser.get("/queue")).text)
        base = {"csrf_token": token, "obligation": str(obligation), "back": "state=overdue"}
        no_method = await browser.post(f"/cases/{CAMDEN_CASE}/contact", data=base)
        shown = await browser.get(no_method.headers["location"])
        # Reloading the page shows it as it stands: the error was for that one answer.
        reloaded = await browser.get(no_method.headers["location"])
        bad_method = await browser.post(
            f"/cases/{CAMDEN_CASE}/contact",
            data={**base, f"method-{obligation}": "pigeon", "event_id": "page-kept"},
        )
        bad_method_page = await browser.get(bad_method.headers["location"])
        no_reason = await browser.post(
            f"/cases/{CAMDEN_CASE}/explanation",
            data={**base, f"text-{obligation}": "Tried twice" + "x" * 1990},
        )
        no_reason_page = await browser.get(no_reason.headers["location"])
        bad_event_id = await browser.post(
            f"/cases/{CAMDEN_CASE}/contact",
            data={**base, f"method-{obligation}": "phone", "event_id": "no spaces allowed"},
        )
        bad_event_id_page = await browser.get(bad_event_id.headers["location"])

    assert no_method.status_code == 303
    assert no_method.headers["location"] == "/queue?state=overdue"
    assert shown.status_code == 200
    assert error_links(shown.text) == [f"method-{obligation}"]
    assert shown.headers["cache-control"] == "no-store"
    # The queue comes back with its filters.
    assert listed_references(shown.text) == [CAMDEN_CASE]
    assert 'class="error-summary"' not in reloaded.text
    assert listed_references(reloaded.text) == [CAMDEN_CASE]
    assert "Select how the victim was contacted" in bad_method_page.text
    # The form keeps its event id, so sending it again records it once.
    assert 'name="event_id" value="page-kept"' in bad_method_page.text
    assert error_links(no_reason_page.text) == [f"reason-{obligation}", f"text-{obligation}"]
    # What was typed comes back (2,001 characters, compressed into the flash).
    assert "Tried twice" + "x" * 1990 in no_reason_page.text
    assert bad_event_id.status_code == 303
    assert "The form was out of date" in bad_event_id_page.text
    assert "Traceback" not in bad_event_id_page.text
    assert events_recorded(site.pages.sessions) == 0


async def test_a_wrong_form_from_the_case_page_is_422_on_the_case_page(
    site: QueueSite,
) -> None:
    obligation = site.obligation_ids[CAMDEN_CASE]
    async with site.browser("vfu-camden") as browser:
        token = csrf_token_of((await browser.get("/queue")).text)
        other_without_text = await browser.post(
            f"/cases/{CAMDEN_CASE}/explanation",
            data={
                "csrf_token": token,
                "obligation": str(obligation),
                "back": "case",
                f"reason-{obligation}": "other",
            },
        )

    assert other_without_text.status_code == 422
    assert f"Case {CAMDEN_CASE}" in other_without_text.text
    assert error_links(other_without_text.text) == [f"text-{obligation}"]
    assert events_recorded(site.pages.sessions) == 0


async def test_a_flash_another_session_wrote_or_altered_is_ignored(site: QueueSite) -> None:
    obligation = site.obligation_ids[CAMDEN_CASE]
    async with site.browser("vfu-camden") as browser:
        token = csrf_token_of((await browser.get("/queue")).text)
        posted = await browser.post(
            f"/cases/{CAMDEN_CASE}/contact",
            data={"csrf_token": token, "obligation": str(obligation), "back": ""},
        )
        flash = posted.cookies.get("pledge_session_flash")
        assert flash
        intact = await browser.get("/queue")
        payload, signature = flash.rsplit(".", 1)
        browser.cookies.delete("pledge_session_flash")
        browser.cookies.set("pledge_session_flash", f"{payload}.{'0' * len(signature)}")
        altered = await browser.get("/queue")
    async with site.browser("manager-camden") as other:
        other.cookies.set("pledge_session_flash", flash)
        elsewhere = await other.get("/queue")

    assert 'class="error-summary"' in intact.text
    assert 'class="error-summary"' not in altered.text
    assert 'class="error-summary"' not in elsewhere.text


async def test_a_malformed_reference_is_404(site: QueueSite) -> None:
    async with site.browser("vfu-camden") as browser:
        responses = [
            await browser.get("/cases/"),
            await browser.get("/cases/%00bad"),
            await browser.get("/cases/" + "9" * 40),
        ]

    assert [r.status_code for r in responses] == [404, 404, 404]


async def test_a_contact_while_temporal_is_down_is_503_in_bounded_time_and_changes_nothing(
    database_url: str,
) -> None:
    create_staff_user(database_url, "vfu-camden@met.example", StaffRole.VFU, "camden")
    # No Temporal at all: the app's client points at a port nobody listens on.
    async with running_pages(database_url, clock=lambda: NOW, api_write_timeout_seconds=2) as pages:
        add_case(
            pages.sessions,
            NOW,
            CAMDEN_CASE,
            ObligationSpec("dv_contact", ObligationState.BREACHED, -30 * HOUR),
        )
        obligation = _obligation_id(pages.sessions, CAMDEN_CASE, "dv_contact")
        async with pages.client() as client:
            browser = await sign_in(client, "vfu-camden@met.example")
            queue = await browser.get("/queue")
            started = asyncio.get_running_loop().time()
            response = await browser.post(
                f"/cases/{CAMDEN_CASE}/contact",
                data={
                    "csrf_token": csrf_token_of(queue.text),
                    "obligation": str(obligation),
                    f"method-{obligation}": "phone",
                    "event_id": "page-while-down",
                    "back": "",
                },
            )
            elapsed = asyncio.get_running_loop().time() - started

            shown = await browser.get(response.headers["location"])

        assert response.status_code == 303, response.text
        assert error_links(shown.text) == [f"method-{obligation}"]
        assert "did not answer in time" in shown.text
        assert 'name="event_id" value="page-while-down"' in shown.text
        assert elapsed < 15
        assert events_recorded(pages.sessions) == 0
        assert listed_references(shown.text) == [CAMDEN_CASE]


async def test_the_queue_reloading_itself_does_not_keep_an_idle_session_alive(
    database_url: str,
) -> None:
    create_staff_user(database_url, "vfu-camden@met.example", StaffRole.VFU, "camden")
    clock = [NOW]
    async with (
        running_pages(database_url, clock=lambda: clock[0]) as pages,
        pages.client() as watched,
        pages.client() as used,
    ):
        await sign_in(watched, "vfu-camden@met.example")
        await sign_in(used, "vfu-camden@met.example")
        page = await watched.get("/queue")
        # The page asks to be reloaded with the marker; its own links do not carry it.
        assert "/queue?auto_refresh=1" in page.text
        assert 'href="/queue">Refresh now' in page.text
        answers = []
        # Reloaded every few minutes for 40 minutes (the idle timeout is 30): the
        # unattended screen is signed out, the one someone uses is not.
        for minutes in range(5, 45, 5):
            clock[0] = NOW + timedelta(minutes=minutes)
            answers.append(await watched.get("/queue?auto_refresh=1"))
            assert (await used.get("/queue")).status_code == 200
        signed_out = await watched.get(answers[5].headers["location"])

    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert answers[5].status_code == 303
    assert answers[5].headers["location"] == "/sign-in?next=/queue%3Fauto_refresh%3D1&idle=1"
    assert all(a.status_code == 303 for a in answers[5:])
    assert "You were signed out for inactivity" in signed_out.text
