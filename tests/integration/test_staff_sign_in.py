"""Staff sign-in over a real socket: cookies, the form token, expiry, sign-out, throttling."""

from __future__ import annotations

import logging

import httpx
import pytest

from service.accounts import disable_user
from standards.staff import StaffRole
from standards.vocabulary import AuthEvent
from tests.support.pages import (
    STAFF_PASSWORD,
    MovableClock,
    auth_events,
    cookie_attributes,
    create_staff_user,
    csrf_token_of,
    form_token,
    running_pages,
    sign_in,
    sign_in_response,
    staff_state,
)

COOKIE = "pledge_session"


def with_cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={value}"}


async def test_signing_in_sets_a_fresh_http_only_lax_cookie_and_lands_on_the_roles_start_page(
    database_url: str,
) -> None:
    homes = {
        "vfu@camden.example.org": (StaffRole.VFU, "camden", "/queue"),
        "manager@force.example.org": (StaffRole.MANAGER, None, "/dashboard"),
        "admin@force.example.org": (StaffRole.ADMIN, None, "/admin/users"),
    }
    for email, (role, borough, _) in homes.items():
        create_staff_user(database_url, email, role, borough)
    async with running_pages(database_url) as pages:
        for email, (_, _, home) in homes.items():
            async with pages.client() as browser:
                first = await sign_in_response(browser, email.upper())
                assert first.status_code == 303
                assert first.headers["location"] == home
                cookie = cookie_attributes(first, COOKIE)
                assert "httponly" in cookie
                assert cookie["samesite"].lower() == "lax"
                # Plain http on loopback (development): a Secure cookie would never return.
                assert "secure" not in cookie
                assert (await browser.get("/")).headers["location"] == home

            # A browser that already carries a session id (planted, or left from before)
            # gets a new one when it signs in, and the old one is ended.
            async with pages.client() as planted:
                form = await planted.get("/sign-in")
                pre = form.cookies["pledge_session_signin"]
                second = await planted.post(
                    "/sign-in",
                    data={
                        "csrf_token": csrf_token_of(form.text),
                        "email": email,
                        "password": STAFF_PASSWORD,
                    },
                    headers={"Cookie": f"pledge_session_signin={pre}; {COOKIE}={cookie['value']}"},
                )
                assert second.status_code == 303
                assert cookie_attributes(second, COOKIE)["value"] != cookie["value"]
                assert (await planted.get("/")).headers["location"] == home
            old = await pages.http.get("/", headers=with_cookie(cookie["value"]))
            assert old.headers["location"] == "/sign-in"


async def test_the_session_cookie_is_secure_when_the_service_is_not_plain_http_on_loopback(
    database_url: str,
) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    async with running_pages(database_url, public_base_url="https://pledge.example.org") as pages:
        page = await pages.http.get("/sign-in")
        pre = cookie_attributes(page, "pledge_session_signin")
        assert "secure" in pre and "httponly" in pre
        # The client would not send a Secure cookie over http; the test sends it by hand.
        response = await pages.http.post(
            "/sign-in",
            data={
                "csrf_token": csrf_token_of(page.text),
                "email": "admin@force.example.org",
                "password": STAFF_PASSWORD,
            },
            headers={"Cookie": f"pledge_session_signin={pre['value']}"},
        )
        assert response.status_code == 303
        cookie = cookie_attributes(response, COOKIE)
        assert "secure" in cookie and "httponly" in cookie
        assert cookie["samesite"].lower() == "lax"


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    database_url: str,
) -> None:
    create_staff_user(database_url, "vfu@camden.example.org", StaffRole.VFU, "camden")
    create_staff_user(database_url, "gone@camden.example.org", StaffRole.VFU, "camden")
    async with running_pages(database_url) as pages:
        disable_user(pages.sessions, "gone@camden.example.org", actor="test")
        answers = []
        for email, password in (
            ("vfu@camden.example.org", "not the right password"),
            ("nobody@camden.example.org", "not the right password"),
            ("gone@camden.example.org", STAFF_PASSWORD),
        ):
            response = await sign_in_response(pages.http, email, password)
            assert COOKIE not in response.cookies
            answers.append((response.status_code, response.text.replace(email, "EMAIL")))
        assert answers[0][0] == 400
        assert "Enter the email address and password of an active account" in answers[0][1]
        assert "There is a problem" in answers[0][1]
        assert answers[0] == answers[1] == answers[2]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "same-origin"


async def test_empty_fields_are_named_in_the_error_summary_and_beside_each_field(
    database_url: str,
) -> None:
    async with running_pages(database_url) as pages:
        token = await form_token(pages.http, "/sign-in")
        response = await pages.http.post(
            "/sign-in", data={"csrf_token": token, "email": "", "password": ""}
        )
        assert response.status_code == 400
        assert "<title>Error: Sign in" in response.text
        assert '<a href="#email">Enter your email address</a>' in response.text
        assert '<a href="#password">Enter your password</a>' in response.text
        assert 'id="email-error"' in response.text and 'id="password-error"' in response.text


async def test_a_form_without_its_token_is_refused_and_changes_nothing(database_url: str) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        await pages.http.get("/sign-in")
        for token in (None, "", "0" * 64):
            data = {"email": "admin@force.example.org", "password": STAFF_PASSWORD}
            if token is not None:
                data["csrf_token"] = token
            refused = await pages.http.post("/sign-in", data=data)
            assert refused.status_code == 403
            assert "Nothing was changed" in refused.text
            assert COOKIE not in refused.cookies
        await sign_in(pages.http, "admin@force.example.org")
        before = staff_state(pages.sessions)
        add = {
            "email": "new@force.example.org",
            "role": "admin",
            "borough": "",
            "password": STAFF_PASSWORD,
        }
        async with pages.client() as other:
            # The sign-in form's token is not this session's.
            sign_in_token = csrf_token_of((await other.get("/sign-in")).text)
        for data in (add, {**add, "csrf_token": "forged"}, {**add, "csrf_token": sign_in_token}):
            assert (await pages.http.post("/admin/users", data=data)).status_code == 403
        assert (await pages.http.post("/sign-out", data={})).status_code == 403
        assert staff_state(pages.sessions) == before
        assert (await pages.http.get("/admin/users")).status_code == 200


async def test_a_session_ends_after_30_idle_minutes_but_not_while_it_is_used(
    database_url: str,
) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    clock = MovableClock()
    async with running_pages(database_url, clock=clock) as pages:
        await sign_in(pages.http, "admin@force.example.org")
        for _ in range(4):
            clock.advance(minutes=29, seconds=59)
            assert (await pages.http.get("/admin/users")).status_code == 200
        clock.advance(minutes=30)
        ended = await pages.http.get("/admin/users?page=2")
        assert ended.status_code == 303
        # The sign-in page says why (idle=1: "signed out for inactivity").
        assert ended.headers["location"] == "/sign-in?next=/admin/users%3Fpage%3D2&idle=1"
        # Ended on the server: going back in time does not bring it back.
        clock.advance(minutes=-30)
        assert (await pages.http.get("/admin/users")).status_code == 303
        events = [event.event for event in auth_events(pages.sessions)]
        assert AuthEvent.SESSION_EXPIRED in events


async def test_a_session_ends_12_hours_after_sign_in_however_busy(database_url: str) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    clock = MovableClock()
    async with running_pages(database_url, clock=clock) as pages:
        await sign_in(pages.http, "admin@force.example.org")
        for _ in range(47):  # 47 * 15 min = 11 h 45 min, always in use
            clock.advance(minutes=15)
            assert (await pages.http.get("/admin/users")).status_code == 200
        clock.advance(minutes=14, seconds=59)
        assert (await pages.http.get("/admin/users")).status_code == 200
        clock.advance(seconds=1)
        assert (await pages.http.get("/admin/users")).status_code == 303


async def test_signing_out_ends_the_session_on_the_server(database_url: str) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        first = await sign_in_response(pages.http, "admin@force.example.org")
        session_id = cookie_attributes(first, COOKIE)["value"]
        token = await form_token(pages.http, "/admin/users")
        out = await pages.http.post("/sign-out", data={"csrf_token": token})
        assert out.status_code == 303
        assert out.headers["location"] == "/sign-in?signed_out=1"
        assert "You have signed out" in (await pages.http.get(out.headers["location"])).text
        # The old cookie, replayed from another browser, signs nobody in.
        async with pages.client() as other:
            replay = await other.get("/admin/users", headers=with_cookie(session_id))
            assert replay.status_code == 303
            assert replay.headers["location"] == "/sign-in?next=/admin/users"
        assert [e.event for e in auth_events(pages.sessions)][-1] == AuthEvent.SIGNED_OUT


async def test_disabling_a_user_ends_their_sessions_at_once(database_url: str) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        laptop, phone = pages.client(), pages.client()
        async with laptop, phone:
            await sign_in(laptop, "admin@force.example.org")
            await sign_in(phone, "admin@force.example.org")
            assert (await laptop.get("/admin/users")).status_code == 200
            disable_user(pages.sessions, "admin@force.example.org", actor="test")
            for browser in (laptop, phone):
                assert (await browser.get("/admin/users")).status_code == 303
            again = await sign_in_response(laptop, "admin@force.example.org")
            assert again.status_code == 400


async def test_failed_sign_ins_are_throttled_per_account_until_the_window_slides(
    database_url: str,
) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    clock = MovableClock()
    limits = {"staff_sign_in_failures_per_account": 3, "staff_sign_in_window_minutes": 15}
    async with running_pages(database_url, clock=clock, **limits) as pages:
        for _ in range(3):
            wrong = await sign_in_response(pages.http, "admin@force.example.org", "x" * 12)
            assert wrong.status_code == 400
            clock.advance(minutes=1)
        # Even the right password is refused now, and saying so reveals nothing new.
        for _ in range(5):
            throttled = await sign_in_response(pages.http, "admin@force.example.org")
            assert throttled.status_code == 429
            assert "Too many failed attempts to sign in: try again in" in throttled.text
            assert int(throttled.headers["retry-after"]) > 0
            clock.advance(minutes=2)
        # 13 minutes after the first failure: two failures are still in the window.
        # Refused attempts were not counted, so the first failure leaving frees it.
        clock.advance(minutes=2, seconds=1)
        assert (await sign_in_response(pages.http, "admin@force.example.org")).status_code == 303
        events = [event.event for event in auth_events(pages.sessions)]
        assert events.count(AuthEvent.SIGN_IN_FAILED) == 3
        assert events.count(AuthEvent.SIGN_IN_THROTTLED) == 5
        assert events[-1] == AuthEvent.SIGN_IN_OK


async def test_many_failures_from_one_address_throttle_it_for_every_account(
    database_url: str,
) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    clock = MovableClock()
    limits = {"staff_sign_in_failures_per_account": 100, "staff_sign_in_failures_per_address": 4}
    async with running_pages(database_url, clock=clock, **limits) as pages:
        for n in range(4):
            guess = await sign_in_response(pages.http, f"guess{n}@force.example.org", "x" * 12)
            assert guess.status_code == 400
        assert (await sign_in_response(pages.http, "admin@force.example.org")).status_code == 429
        clock.advance(minutes=15)
        assert (await sign_in_response(pages.http, "admin@force.example.org")).status_code == 303


async def test_authentication_events_are_logged_without_the_password(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "a distinctive wrong password"
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        with caplog.at_level(logging.INFO, logger="pledge.auth"):
            await sign_in_response(pages.http, "admin@force.example.org", secret)
            await sign_in(pages.http, "admin@force.example.org")
            token = await form_token(pages.http, "/admin/users")
            await pages.http.post("/sign-out", data={"csrf_token": token})
        logged = caplog.text
        for event in (AuthEvent.SIGN_IN_FAILED, AuthEvent.SIGN_IN_OK, AuthEvent.SIGNED_OUT):
            assert event.value in logged
        assert secret not in logged and STAFF_PASSWORD not in logged
        rows = auth_events(pages.sessions)
        assert [row.event for row in rows] == [
            AuthEvent.USER_ADDED,
            AuthEvent.SIGN_IN_FAILED,
            AuthEvent.SIGN_IN_OK,
            AuthEvent.SIGNED_OUT,
        ]
        assert rows[1].email == "admin@force.example.org" and rows[1].address == "127.0.0.1"
        for row in rows:
            assert secret not in repr(vars(row)) and STAFF_PASSWORD not in repr(vars(row))


async def test_a_page_asks_for_sign_in_and_returns_there_but_never_to_another_site(
    database_url: str,
) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        asked = await pages.http.get("/admin/tokens")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/sign-in?next=/admin/tokens"
        assert (await pages.http.get("/")).headers["location"] == "/sign-in"
        back = await sign_in_response(
            pages.http, "admin@force.example.org", next_path="/admin/tokens"
        )
        assert back.headers["location"] == "/admin/tokens"
        for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            async with pages.client() as other:
                response = await sign_in_response(other, "admin@force.example.org", next_path=bad)
                assert response.headers["location"] == "/admin/users"


async def test_get_requests_never_change_state(database_url: str) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    create_staff_user(database_url, "vfu@camden.example.org", StaffRole.VFU, "camden")
    async with running_pages(database_url) as pages:
        await sign_in(pages.http, "admin@force.example.org")
        before = staff_state(pages.sessions)
        paths = [
            "/",
            "/sign-in",
            "/sign-out",
            "/admin/users",
            "/admin/users?added=1",
            "/admin/users/2/disable",
            "/admin/tokens",
            "/admin/tokens/x/revoke",
        ]
        for path in paths:
            response = await pages.http.get(path)
            assert response.status_code in (200, 303, 404, 405), path
        async with httpx.AsyncClient(base_url=pages.base_url) as anonymous:
            for path in paths:
                await anonymous.get(path)
        assert staff_state(pages.sessions) == before


async def test_sessions_and_log_rows_older_than_90_days_are_forgotten_at_a_sign_in(
    database_url: str,
) -> None:
    create_staff_user(database_url, "admin@force.example.org", StaffRole.ADMIN)
    clock = MovableClock()
    async with running_pages(database_url, clock=clock) as pages:
        await sign_in(pages.http, "admin@force.example.org")
        old = staff_state(pages.sessions)
        assert len(old["sessions"]) == 1
        clock.advance(days=91)
        async with pages.client() as later:
            await sign_in(later, "admin@force.example.org")
        now = staff_state(pages.sessions)
        assert [row[0] for row in now["sessions"]] != [row[0] for row in old["sessions"]]
        assert len(now["sessions"]) == 1
        assert [event.event for event in auth_events(pages.sessions)] == [AuthEvent.SIGN_IN_OK]
