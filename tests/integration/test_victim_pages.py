"""The victims' pages over a real socket: sign-in by one-time code, the case page, the quick
exit, and /dev/outbox (the app, the Temporal dev server and a worker, on each database)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import time, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from service.victim_case import VICTIM_UPDATE_STANDARD, promised_day
from service.victim_requests import VICTIM_ACTOR
from standards.events import EventType
from standards.staff import StaffRole
from storage import models
from storage.enums import AlertKind
from storage.victim_models import VictimSession
from tests.support.api import Api, running_api
from tests.support.pages import create_staff_user
from tests.support.pages import sign_in as staff_sign_in
from tests.support.victim import (
    CASE,
    CODE,
    TRACK,
    MovableClock,
    ask_for_code,
    codes_sent,
    enter_code,
    new_code,
    open_victim_case,
    requests_dealt_with,
    set_officer,
    sign_in,
    wait_for_obligation,
)

EXIT_URL = "http://127.0.0.1:9/neutral"
# The met-pledge policy's standard for replying to a victim's request for an update.
REPLY_STANDARD = "update_request_reply"


@contextlib.asynccontextmanager
async def victim_app(
    temporal: WorkflowEnvironment, database_url: str, **settings: Any
) -> AsyncIterator[tuple[Api, MovableClock]]:
    clock = MovableClock()
    async with running_api(
        temporal.client, database_url, clock=clock, victim_exit_url=EXIT_URL, **settings
    ) as api:
        yield api, clock


@pytest_asyncio.fixture
async def app(
    api_temporal: WorkflowEnvironment, database_url: str
) -> AsyncIterator[tuple[Api, MovableClock]]:
    async with victim_app(api_temporal, database_url) as running:
        yield running


def browser(api: Api) -> httpx.AsyncClient:
    """Another person's browser: its own cookies."""
    return httpx.AsyncClient(base_url=str(api.http.base_url), timeout=60)


async def test_the_answer_is_the_same_for_a_real_an_unknown_and_a_do_not_contact_reference(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    real, real_id = await open_victim_case(api)
    blocked, blocked_id = await open_victim_case(api, do_not_contact=True)
    unknown = "01/999999/26"
    answers = []
    for reference in (real, blocked, unknown):
        async with browser(api) as http:
            posted = await ask_for_code(http, reference)
            page = await http.get(CODE)
            answers.append(
                (
                    posted.status_code,
                    posted.headers["location"],
                    posted.text,
                    page.status_code,
                    page.text.replace(reference, "REFERENCE"),
                )
            )
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:2] == (303, CODE)
    # The do-not-contact victim is told to call, on the page everyone sees.
    assert "If you asked us not to contact you, we cannot send one." in answers[0][4]
    assert "Call 101" in answers[0][4]
    assert await requests_dealt_with(api.sessions) == ["sent", "do_not_contact", "no_such_case"]
    assert len(codes_sent(api.sessions, real_id)) == 1
    assert codes_sent(api.sessions, blocked_id) == []


async def test_a_code_signs_in_once_and_never_again(app: tuple[Api, MovableClock]) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api)
    async with browser(api) as first:
        code = await new_code(first, api.sessions, reference, case_id)
        signed_in = await enter_code(first, code)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == CASE
        page = await first.get(CASE)
        assert page.status_code == 200 and reference in page.text
        # Nobody assigned yet: said as that, not as a contact "not yet recorded".
        assert "No one is named yet" in page.text and "Not yet recorded" not in page.text
    async with browser(api) as second:
        await ask_for_code(second, "01/999999/26")
        second.cookies.set("updates_reference", reference, path=TRACK)
        again = await enter_code(second, code)
        assert again.status_code == 400
        assert "The code is wrong or has expired" in again.text
        assert "updates_session" not in again.cookies


async def test_a_code_is_dead_after_ten_minutes(app: tuple[Api, MovableClock]) -> None:
    api, clock = app
    reference, case_id = await open_victim_case(api)
    async with browser(api) as http:
        code = await new_code(http, api.sessions, reference, case_id)
        clock.advance(timedelta(minutes=10))
        late = await enter_code(http, code)
        assert late.status_code == 400 and "wrong or has expired" in late.text
    async with browser(api) as http:
        code = await new_code(http, api.sessions, reference, case_id)
        clock.advance(timedelta(minutes=9, seconds=59))
        in_time = await enter_code(http, code)
        assert in_time.status_code == 303 and in_time.headers["location"] == CASE


async def test_five_wrong_codes_lock_the_reference_for_fifteen_minutes(
    app: tuple[Api, MovableClock],
) -> None:
    api, clock = app
    reference, case_id = await open_victim_case(api)
    async with browser(api) as http:
        code = await new_code(http, api.sessions, reference, case_id)
        wrong = "000000" if code != "000000" else "111111"
        for attempt in range(4):
            answer = await enter_code(http, wrong)
            assert "wrong or has expired" in answer.text, attempt
        fifth = await enter_code(http, wrong)
        assert "You have entered a wrong code too many times" in fifth.text
        # Locked: even the right code does not sign in.
        refused = await enter_code(http, code)
        assert "too many times" in refused.text and refused.status_code == 400
        clock.advance(timedelta(minutes=14, seconds=59))
        still = await enter_code(http, code)
        assert "too many times" in still.text
        clock.advance(timedelta(seconds=1))
        fresh = await new_code(http, api.sessions, reference, case_id)
        unlocked = await enter_code(http, fresh)
        assert unlocked.status_code == 303 and unlocked.headers["location"] == CASE


async def test_someone_who_knows_the_reference_cannot_lock_the_victim_out_or_use_their_code(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api)
    async with browser(api) as victim, browser(api) as abuser:
        code = await new_code(victim, api.sessions, reference, case_id)
        # The abuser asks for a code too (it reaches the victim's phone, not them), then
        # types wrong codes until their own browser is locked.
        await new_code(abuser, api.sessions, reference, case_id)
        for _ in range(5):
            answer = await enter_code(abuser, "000000" if code != "000000" else "111111")
        assert "too many times on this device" in answer.text
        # The victim's code does not work in another browser, even with the reference.
        stolen = await enter_code(abuser, code)
        assert stolen.status_code == 400 and "updates_session" not in stolen.cookies
        # The abuser's request did not end the victim's code, nor lock the victim's browser.
        signed_in = await enter_code(victim, code)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == CASE


async def test_codes_asked_from_many_browsers_are_spaced_out_but_the_victim_still_gets_one(
    app: tuple[Api, MovableClock],
) -> None:
    api, clock = app
    reference, case_id = await open_victim_case(api)
    for _ in range(3):
        async with browser(api) as stranger:
            await new_code(stranger, api.sessions, reference, case_id)
    async with browser(api) as victim:
        # A fourth code to the same victim within the hour waits (a back-off, not a lock).
        await ask_for_code(victim, reference)
        assert (await requests_dealt_with(api.sessions))[-1] == "reference_backoff"
        clock.advance(timedelta(minutes=1))
        code = await new_code(victim, api.sessions, reference, case_id)
        signed_in = await enter_code(victim, code)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == CASE


async def test_an_unknown_reference_locks_exactly_as_a_real_one(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    async with browser(api) as http:
        await ask_for_code(http, "01/999998/26")
        answers = [(await enter_code(http, "123456")).text for _ in range(5)]
    assert all("wrong or has expired" in text for text in answers[:4])
    assert "too many times" in answers[4]


async def test_one_address_may_ask_for_only_so_many_codes_in_an_hour(
    api_temporal: WorkflowEnvironment, database_url: str
) -> None:
    async with (
        victim_app(api_temporal, database_url, victim_code_requests_per_address=3) as (
            api,
            clock,
        ),
        browser(api) as http,
    ):
        for number in range(3):
            answer = await ask_for_code(http, f"01/00000{number}/26")
            assert answer.status_code == 303
        refused = await ask_for_code(http, "01/000009/26")
        assert refused.status_code == 429
        assert "too many codes from this device" in refused.text
        assert 'href="#reference"' in refused.text  # the error summary names the field
        clock.advance(timedelta(minutes=60))
        again = await ask_for_code(http, "01/000009/26")
        assert again.status_code == 303


async def test_every_victim_page_and_redirect_is_never_stored(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api)
    async with browser(api) as http:
        answers = [await http.get(TRACK), await ask_for_code(http, "no")]
        answers.append(await ask_for_code(http, reference))
        answers.append(await http.get(CODE))
        answers.append(await enter_code(http, "12"))
        await requests_dealt_with(api.sessions)
        answers.append(await enter_code(http, codes_sent(api.sessions, case_id)[0]))
        answers.append(await http.get(CASE))
        token = _form_token(answers[-1].text)
        answers.append(await http.post(f"{CASE}/update", data={"csrf_token": token}))
        answers.append(await http.post(f"{TRACK}/sign-out", data={"csrf_token": token}))
        answers.append(await http.get(CASE))
        answers.append(await http.get(f"{TRACK}/exit"))
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200, 400, 303, 200, 400, 303, 200, 303, 303, 303, 303]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.url
        assert answer.headers["referrer-policy"] == "no-referrer"


def _form_token(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def test_a_victim_sees_only_their_own_case(app: tuple[Api, MovableClock]) -> None:
    api, _ = app
    mine, mine_id = await open_victim_case(api, name="Sam Jones", email="sam@example.org")
    theirs, theirs_id = await open_victim_case(api, name="Kim Lee", email="kim@example.org")
    set_officer(api.sessions, mine_id, "DC Ada Brown", "020 7946 0001")
    set_officer(api.sessions, theirs_id, "DC Bo Green", "020 7946 0002")
    async with browser(api) as sam, browser(api) as kim:
        await sign_in(sam, api.sessions, mine, mine_id)
        await sign_in(kim, api.sessions, theirs, theirs_id)
        sams = (await sam.get(CASE)).text
        kims = (await kim.get(CASE)).text
    assert mine in sams and "DC Ada Brown" in sams and "020 7946 0001" in sams
    assert theirs not in sams and "DC Bo Green" not in sams
    assert theirs in kims and mine not in kims
    async with browser(api) as stranger:
        stranger.cookies.set("updates_session", "forged-token", path=TRACK)
        refused = await stranger.get(CASE)
        assert refused.status_code == 303 and refused.headers["location"] == TRACK


async def test_the_case_page_shows_status_contact_next_update_and_messages(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api, category="burglary")
    await wait_for_obligation(api.sessions, case_id, VICTIM_UPDATE_STANDARD)
    with api.sessions() as session:
        due = session.scalar(
            select(models.Obligation.due_at).where(
                models.Obligation.case_id == case_id,
                models.Obligation.standard == VICTIM_UPDATE_STANDARD,
            )
        )
    assert due is not None
    from service.victim_case import london_date

    async with browser(api) as http:
        await sign_in(http, api.sessions, reference, case_id)
        page = (await http.get(CASE)).text
    assert "Open: we are working on it" in page
    assert "Burglary" in page
    assert f"By {london_date(due)}" in page
    # The acknowledgement the worker sent is listed; the sign-in code is not.
    assert "Your crime reference number" in page
    assert "your code is" not in page.lower()


async def test_a_request_for_an_update_raises_one_alert_a_day_and_starts_one_reply_obligation(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api)
    await wait_for_obligation(api.sessions, case_id, VICTIM_UPDATE_STANDARD)

    def obligations(standard: str | None = None) -> list[tuple[Any, ...]]:
        with api.sessions() as session:
            query = select(models.Obligation).where(models.Obligation.case_id == case_id)
            if standard is not None:
                query = query.where(models.Obligation.standard == standard)
            return [
                (o.key, o.state, o.due_at, o.met_at, o.warn_at)
                for o in session.scalars(query.order_by(models.Obligation.key))
            ]

    def alerts() -> list[str]:
        with api.sessions() as session:
            return list(
                session.scalars(
                    select(models.Alert.obligation_key).where(
                        models.Alert.case_id == case_id,
                        models.Alert.kind == AlertKind.UPDATE_REQUESTED,
                    )
                )
            )

    before = obligations()
    async with browser(api) as http:
        await sign_in(http, api.sessions, reference, case_id)
        page = (await http.get(CASE)).text
        # The promise is the policy's window, before anything is asked.
        assert "We will reply within 2 working days" in page
        token = _form_token(page)
        first = await http.post(f"{CASE}/update", data={"csrf_token": token})
        # Back to the case page itself: nothing in the address for the history to keep.
        assert first.headers["location"] == CASE
        replies = obligations(REPLY_STANDARD)
        assert [key for key, *_ in replies] == [f"{REPLY_STANDARD}#1"]
        _key, state, due, _met, _warn = replies[0]
        assert state == "pending"
        page = (await http.get(CASE)).text
        assert "We have asked for someone to get in touch" in page
        assert f"We will reply by {promised_day(due)}" in page
        # Said once: a reload of the page does not say it again.
        assert "We have asked for someone" not in (await http.get(CASE)).text
        second = await http.post(f"{CASE}/update", data={"csrf_token": token})
        assert second.headers["location"] == CASE
        assert "You have already asked today" in (await http.get(CASE)).text
        assert len(alerts()) == 1
        forged = await http.post(f"{CASE}/update", data={"csrf_token": "not-the-token"})
        assert forged.headers["location"] == TRACK
    assert len(alerts()) == 1
    # The other obligations are as they were; the one reply is all that was added.
    assert [o for o in obligations() if not o[0].startswith(REPLY_STANDARD)] == before
    assert len(obligations(REPLY_STANDARD)) == 1
    with api.sessions() as session:
        actors = list(
            session.scalars(
                select(models.CaseEventRecord.actor).where(
                    models.CaseEventRecord.case_id == case_id,
                    models.CaseEventRecord.type == EventType.UPDATE_REQUESTED,
                )
            )
        )
    assert actors == [VICTIM_ACTOR]


async def test_the_victim_changes_channel_safe_hours_and_texts_and_the_case_hears_of_it(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api, phone="+447700900123")
    await wait_for_obligation(api.sessions, case_id, VICTIM_UPDATE_STANDARD)
    async with browser(api) as http:
        await sign_in(http, api.sessions, reference, case_id)
        token = _form_token((await http.get(CASE)).text)
        wrong = await http.post(
            f"{CASE}/preferences",
            data={"csrf_token": token, "channel": "sms", "no_texts": "yes", "safe_from": "9"},
        )
        assert wrong.status_code == 400
        assert wrong.headers["cache-control"] == "no-store"
        assert "There is a problem" in wrong.text
        assert 'href="#channel"' in wrong.text and 'href="#safe_from"' in wrong.text
        with api.sessions() as session:
            victim = session.scalar(select(models.Victim).where(models.Victim.case_id == case_id))
            assert victim is not None and victim.safe_hours_start is None
        done = await http.post(
            f"{CASE}/preferences",
            data={
                "csrf_token": token,
                "channel": "email",
                "no_texts": "yes",
                "safe_from": "09:00",
                "safe_until": "18:30",
            },
        )
        assert done.status_code == 303 and done.headers["location"] == CASE
        page = (await http.get(CASE)).text
        assert "Your preferences have been saved" in page
        assert 'value="18:30"' in page
    with api.sessions() as session:
        victim = session.scalar(select(models.Victim).where(models.Victim.case_id == case_id))
        assert victim is not None
        assert victim.preferred_channel == "email" and victim.allowed_channels == ["email"]
        assert (victim.safe_hours_start, victim.safe_hours_end) == (time(9), time(18, 30))
        recorded = session.scalars(
            select(models.CaseEventRecord).where(
                models.CaseEventRecord.case_id == case_id,
                models.CaseEventRecord.type == EventType.PREFERENCES_CHANGED,
            )
        ).all()
    assert [(r.actor, r.details) for r in recorded] == [(VICTIM_ACTOR, {"contact_changed": True})]


async def test_the_victim_chooses_the_language_of_their_messages_and_a_wrong_one_changes_nothing(
    app: tuple[Api, MovableClock],
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api)
    await wait_for_obligation(api.sessions, case_id, VICTIM_UPDATE_STANDARD)

    def language() -> str | None:
        with api.sessions() as session:
            return session.scalar(
                select(models.Victim.language).where(models.Victim.case_id == case_id)
            )

    async with browser(api) as http:
        await sign_in(http, api.sessions, reference, case_id)
        page = (await http.get(CASE)).text
        token = _form_token(page)
        assert 'name="language" value="en" lang="en" checked' in page
        kept = {"csrf_token": token, "channel": "email", "safe_from": "", "safe_until": ""}
        wrong = await http.post(f"{CASE}/preferences", data={**kept, "language": "fr"})
        assert wrong.status_code == 400 and 'href="#language"' in wrong.text
        assert "Choose a language from the list" in wrong.text
        assert language() == "en"
        done = await http.post(f"{CASE}/preferences", data={**kept, "language": "cy"})
        assert done.status_code == 303
        welsh = (await http.get(CASE)).text
        assert '<html lang="cy"' in welsh
        assert 'name="language" value="cy" lang="cy" checked' in welsh
        assert language() == "cy"
        # Their page is Welsh now: so is what it says of a wrong field.
        wrong_time = await http.post(f"{CASE}/preferences", data={**kept, "safe_from": "9am"})
        assert wrong_time.status_code == 400
        assert '<span class="visually-hidden">Gwall:</span>' in wrong_time.text
        assert "Rhowch amser ar y cloc 24 awr" in wrong_time.text
        # The same again changes nothing; back to English tells the case the language alone.
        again = await http.post(f"{CASE}/preferences", data={**kept, "language": "cy"})
        assert again.status_code == 303
        back = await http.post(f"{CASE}/preferences", data={**kept, "language": "en"})
        assert back.status_code == 303
    assert language() == "en"
    with api.sessions() as session:
        recorded = session.scalars(
            select(models.CaseEventRecord.details).where(
                models.CaseEventRecord.case_id == case_id,
                models.CaseEventRecord.type == EventType.PREFERENCES_CHANGED,
            )
        ).all()
    assert len(recorded) == 2 and recorded[0]["language"] == "cy"
    assert recorded[1] == {"language": "en"}


async def test_a_session_ends_after_thirty_idle_minutes_and_at_exit(
    app: tuple[Api, MovableClock],
) -> None:
    api, clock = app
    reference, case_id = await open_victim_case(api)
    async with browser(api) as http:
        await sign_in(http, api.sessions, reference, case_id)
        clock.advance(timedelta(minutes=29))
        assert (await http.get(CASE)).status_code == 200
        clock.advance(timedelta(minutes=29))
        assert (await http.get(CASE)).status_code == 200  # viewing keeps it alive
        clock.advance(timedelta(minutes=30))
        idle = await http.get(CASE)
        assert idle.status_code == 303 and idle.headers["location"] == TRACK
        await sign_in(http, api.sessions, reference, case_id)
        token = http.cookies.get("updates_session")
        left = await http.get(f"{TRACK}/exit")
        assert left.status_code == 303 and left.headers["location"] == EXIT_URL
        # The browser is asked to drop the site's cookies, storage and cached pages too.
        assert left.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    async with browser(api) as replay:
        assert token is not None
        replay.cookies.set("updates_session", token, path=TRACK)
        after = await replay.get(CASE)
        assert after.status_code == 303 and after.headers["location"] == TRACK
    with api.sessions() as session:
        newest = session.scalars(select(VictimSession).order_by(VictimSession.id.desc())).first()
        assert newest is not None and newest.ended_at is not None


async def test_dev_outbox_lists_the_codes_with_the_local_outbox_only(
    api_temporal: WorkflowEnvironment, database_url: str
) -> None:
    async with victim_app(api_temporal, database_url) as (api, _):
        reference, case_id = await open_victim_case(api)
        await new_code(api.http, api.sessions, reference, case_id)
        page = await api.http.get("/dev/outbox")
        assert page.status_code == 200
        assert "Development only, on this machine only" in page.text
        assert codes_sent(api.sessions, case_id)[0] in page.text
        assert page.headers["cache-control"] == "no-store"
    # Served for development on this machine only: a public address that is not this
    # machine's means a deployment, where the page does not exist.
    async with victim_app(
        api_temporal, database_url, public_base_url="https://updates.police.test", with_worker=False
    ) as (api, _):
        assert (await api.http.get("/dev/outbox")).status_code == 404
    # A mail server configured: messages really leave, and the page is not there.
    async with victim_app(
        api_temporal, database_url, smtp_host="127.0.0.1", smtp_port=9, with_worker=False
    ) as (api, _):
        assert (await api.http.get("/dev/outbox")).status_code == 404
    async with victim_app(
        api_temporal,
        database_url,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="secret",
        twilio_from_number="+447700900000",
        with_worker=False,
    ) as (api, _):
        assert (await api.http.get("/dev/outbox")).status_code == 404


@pytest.mark.parametrize("safe_hours", ["00:00-00:01"])
async def test_no_code_is_sent_outside_safe_hours_and_the_page_does_not_say_so(
    app: tuple[Api, MovableClock], safe_hours: str
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api, safe_hours=safe_hours)
    async with browser(api) as http:
        asked = await ask_for_code(http, reference)
        assert asked.status_code == 303 and asked.headers["location"] == CODE
        page = await http.get(CODE)
    assert "We only send codes at the times you told us are safe" in page.text
    assert await requests_dealt_with(api.sessions) == ["outside_safe_hours"]
    assert codes_sent(api.sessions, case_id) == []


async def test_victim_and_staff_sessions_never_stand_in_for_each_other(
    app: tuple[Api, MovableClock], database_url: str
) -> None:
    api, _ = app
    reference, case_id = await open_victim_case(api)
    staff = create_staff_user(database_url, "vfu@camden.example", StaffRole.VFU, "camden")
    async with browser(api) as member_of_staff:
        await staff_sign_in(member_of_staff, staff.email)
        assert (await member_of_staff.get("/queue")).status_code == 200
        refused = await member_of_staff.get(CASE)
        assert refused.status_code == 303 and refused.headers["location"] == TRACK
    async with browser(api) as victim:
        await sign_in(victim, api.sessions, reference, case_id)
        assert (await victim.get(CASE)).status_code == 200
        queue = await victim.get("/queue")
        assert queue.status_code == 303 and queue.headers["location"].startswith("/sign-in")
