"""The admin pages over a real socket: only admins, accounts and API tokens from the browser."""

from __future__ import annotations

import re

from service.tokens import authenticate
from standards.staff import StaffRole
from tests.support.pages import (
    STAFF_PASSWORD,
    create_staff_user,
    csrf_token_of,
    form_token,
    running_pages,
    sign_in,
    sign_in_response,
    staff_state,
)

ADMIN = "admin@force.example.org"


async def test_the_admin_pages_are_not_found_for_vfu_and_manager_users(database_url: str) -> None:
    create_staff_user(database_url, ADMIN, StaffRole.ADMIN)
    create_staff_user(database_url, "vfu@camden.example.org", StaffRole.VFU, "camden")
    create_staff_user(database_url, "boss@force.example.org", StaffRole.MANAGER)
    create_staff_user(database_url, "boss@camden.example.org", StaffRole.MANAGER, "camden")
    async with running_pages(database_url) as pages:
        before = staff_state(pages.sessions)
        for email in (
            "vfu@camden.example.org",
            "boss@force.example.org",
            "boss@camden.example.org",
        ):
            async with pages.client() as browser:
                await sign_in(browser, email)
                # The not-found page has the layout, so its sign-out form has the token.
                token = csrf_token_of((await browser.get("/admin/users")).text)
                for path in ("/admin/users", "/admin/tokens"):
                    page = await browser.get(path)
                    assert page.status_code == 404
                    assert "Page not found" in page.text
                for path, data in (
                    ("/admin/users", {"email": "x@example.org", "role": "admin"}),
                    ("/admin/users/1/disable", {}),
                    ("/admin/tokens", {"name": "sneaky", "scopes": "cases:read"}),
                ):
                    response = await browser.post(path, data={**data, "csrf_token": token})
                    assert response.status_code == 404
        after = staff_state(pages.sessions)
        assert after["users"] == before["users"] and after["tokens"] == before["tokens"]


async def test_an_admin_adds_lists_disables_and_enables_accounts_from_the_browser(
    database_url: str,
) -> None:
    create_staff_user(database_url, ADMIN, StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        await sign_in(pages.http, ADMIN)
        token = await form_token(pages.http, "/admin/users")
        added = await pages.http.post(
            "/admin/users",
            data={
                "csrf_token": token,
                "email": "New.Person@Camden.Example.org",
                "role": "vfu",
                "borough": "camden",
                "password": "a long enough passphrase",
            },
        )
        assert added.status_code == 303
        listing = await pages.http.get(added.headers["location"])
        assert "Account added for new.person@camden.example.org" in listing.text
        row = _row_of(listing.text, "new.person@camden.example.org")
        assert "vfu" in row and "Camden" in row and "Active" in row

        async with pages.client() as newcomer:
            response = await sign_in_response(
                newcomer, "new.person@camden.example.org", "a long enough passphrase"
            )
            assert response.headers["location"] == "/queue"
            user_id = re.search(r"/admin/users/(\d+)/disable", row)
            assert user_id is not None
            disabled = await pages.http.post(
                f"/admin/users/{user_id.group(1)}/disable", data={"csrf_token": token}
            )
            assert disabled.status_code == 303
            listing = await pages.http.get(disabled.headers["location"])
            assert "Disabled new.person@camden.example.org" in listing.text
            assert "Disabled" in _row_of(listing.text, "new.person@camden.example.org")
            # Their session ended with the account.
            assert (await newcomer.get("/")).headers["location"] == "/sign-in"

        enabled = await pages.http.post(
            f"/admin/users/{user_id.group(1)}/enable", data={"csrf_token": token}
        )
        assert enabled.status_code == 303
        assert "Active" in _row_of(
            (await pages.http.get("/admin/users")).text, "new.person@camden.example.org"
        )


def _row_of(html: str, email: str) -> str:
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        if f"<td>{email}</td>" in row:
            return str(row)
    raise AssertionError(f"no row for {email}")


async def test_bad_account_details_are_each_named_and_nothing_is_added(database_url: str) -> None:
    create_staff_user(database_url, ADMIN, StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        await sign_in(pages.http, ADMIN)
        token = await form_token(pages.http, "/admin/users")
        before = staff_state(pages.sessions)
        cases = [
            (
                {"email": "not-an-address", "role": "vfu", "borough": "camden"},
                ("email", "Enter an email address"),
            ),
            ({"email": "a@example.org", "role": "vfu", "borough": ""}, ("borough", "vfu user")),
            (
                {"email": "a@example.org", "role": "admin", "borough": "camden"},
                ("borough", "An admin has no borough"),
            ),
            (
                {"email": "a@example.org", "role": "vfu", "borough": "atlantis"},
                ("borough", "Choose a borough from the list"),
            ),
            ({"email": "a@example.org", "role": "chief", "borough": ""}, ("role", "Unknown role")),
            ({"email": ADMIN, "role": "admin", "borough": ""}, ("email", "already has an account")),
        ]
        for values, (field, message) in cases:
            response = await pages.http.post(
                "/admin/users", data={**values, "password": STAFF_PASSWORD, "csrf_token": token}
            )
            assert response.status_code == 400, values
            assert f'href="#{field}"' in response.text and message in response.text, values
            # What was typed is kept (never the password).
            assert f'value="{values["email"]}"' in response.text
            assert STAFF_PASSWORD not in response.text
        short = await pages.http.post(
            "/admin/users",
            data={
                "email": "a@example.org",
                "role": "admin",
                "password": "short",
                "csrf_token": token,
            },
        )
        assert short.status_code == 400
        assert "The password is too short: it needs at least 12 characters" in short.text
        assert staff_state(pages.sessions)["users"] == before["users"]


async def test_an_admin_cannot_disable_their_own_account(database_url: str) -> None:
    me = create_staff_user(database_url, ADMIN, StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        await sign_in(pages.http, ADMIN)
        token = await form_token(pages.http, "/admin/users")
        refused = await pages.http.post(f"/admin/users/{me.id}/disable", data={"csrf_token": token})
        assert refused.status_code == 400
        assert "You cannot disable your own account" in refused.text
        assert (await pages.http.get("/admin/users")).status_code == 200


async def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(database_url: str) -> None:
    create_staff_user(database_url, ADMIN, StaffRole.ADMIN)
    async with running_pages(database_url) as pages:
        await sign_in(pages.http, ADMIN)
        token = await form_token(pages.http, "/admin/tokens")
        created = await pages.http.post(
            "/admin/tokens",
            data={
                "csrf_token": token,
                "name": "crime-recording",
                "scopes": ["cases:write", "cases:read"],
                "borough": "camden",
            },
        )
        assert created.status_code == 201
        assert created.headers["cache-control"] == "no-store"
        secret = re.search(r'<code id="new-token">(pledge_[^<]+)</code>', created.text)
        assert secret is not None
        holder = authenticate(pages.sessions, secret.group(1))
        assert holder is not None and holder.borough == "camden"
        assert {scope.value for scope in holder.scopes} == {"cases:write", "cases:read"}

        listing = await pages.http.get("/admin/tokens")
        assert secret.group(1) not in listing.text
        assert "crime-recording" in listing.text and "Active" in listing.text

        refused = await pages.http.post(
            "/admin/tokens", data={"csrf_token": token, "name": "crime-recording", "scopes": []}
        )
        assert refused.status_code == 400
        assert "Choose at least one thing the token may do" in refused.text

        revoked = await pages.http.post(
            "/admin/tokens/crime-recording/revoke", data={"csrf_token": token}
        )
        assert revoked.status_code == 303
        listing = await pages.http.get(revoked.headers["location"])
        assert "Token crime-recording revoked" in listing.text and "Revoked" in listing.text
        assert authenticate(pages.sessions, secret.group(1)) is None
