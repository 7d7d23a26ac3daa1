"""Staff accounts' display names, on SQLite and PostgreSQL: the case page names who did
what by the name their account holds now (else its email), `pledge user add --name` and
`pledge user rename` set it, the admin pages show and change it, and a bad name is refused
in one line with nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.accounts import rename_user
from standards.staff import StaffRole
from storage import models
from storage.database import make_engine, make_session_factory
from tests.support.api import Api, open_case_over_http
from tests.support.dev import dev_environment_in, pledge
from tests.support.pages import (
    STAFF_PASSWORD,
    create_staff_user,
    csrf_token_of,
    form_token,
    running_pages,
    sign_in,
    staff_state,
)

NAMED = "priya.shah@met.example"
UNNAMED = "vfu2-camden@met.example"
ADMIN = "admin@force.example.org"


def names(database_url: str) -> dict[str, str | None]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.scalars(select(models.StaffUserRecord))
            return {row.email: row.display_name for row in rows}
    finally:
        engine.dispose()


async def record_contact(api: Api, email: str, reference: str) -> str:
    """Record a contact on the case's first open obligation from its page, as `email`;
    the page after."""
    async with httpx.AsyncClient(base_url=api.http.base_url, timeout=30) as client:
        http = await sign_in(client, email)
        page = await http.get(f"/cases/{reference}")
        with api.sessions() as session:
            obligation = session.scalar(
                select(models.Obligation)
                .join(models.Case, models.Case.id == models.Obligation.case_id)
                .where(models.Case.reference == reference, models.Obligation.met_at.is_(None))
                .order_by(models.Obligation.id)
            )
        assert obligation is not None
        event_id = page.text.split(f'action="/cases/{reference}/contact"', 1)[1]
        event_id = event_id.split('name="event_id" value="', 1)[1].split('"', 1)[0]
        form = {
            "csrf_token": csrf_token_of(page.text),
            "obligation": str(obligation.id),
            f"method-{obligation.id}": "phone",
            "event_id": event_id,
            "back": "case",
        }
        done = await http.post(f"/cases/{reference}/contact", data=form)
        assert done.status_code == 303, done.text
        return unescape((await http.get(done.headers["location"])).text)


async def test_the_case_page_names_who_did_it_by_display_name_and_falls_back_to_email(
    api: Api, database_url: str
) -> None:
    priya = create_staff_user(database_url, NAMED, StaffRole.VFU, "camden", name="Priya Shah")
    create_staff_user(database_url, UNNAMED, StaffRole.VFU, "camden")
    reference = (
        await open_case_over_http(api, reported_at=datetime.now(UTC) - timedelta(hours=30))
    )["reference"]

    after = await record_contact(api, NAMED, reference)

    history = after[after.index('id="history"') :]
    assert "Priya Shah" in history and NAMED not in history
    assert "Contact recorded by Priya Shah" in after
    assert "staff:" not in after and "actor:" not in after
    # The name is read when the page is drawn: a new one shows at once, on old events too.
    rename_user(api.sessions, NAMED, "Priya Shah-Khan", actor="test")
    async with httpx.AsyncClient(base_url=api.http.base_url, timeout=30) as client:
        page = unescape((await (await sign_in(client, UNNAMED)).get(f"/cases/{reference}")).text)
    assert "Contact recorded by Priya Shah-Khan" in page
    # What the case recorded holds the account's id, never its name.
    with api.sessions() as session:
        actors = set(session.scalars(select(models.CaseEventRecord.actor)))
    assert actors == {f"staff:{priya.id}"}

    # An account with no name is shown by its email.
    second = await record_contact(api, UNNAMED, reference)
    assert UNNAMED in second[second.index('id="history"') :]


@pytest.fixture
def environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    return dev_environment_in(tmp_path, DATABASE_URL=database_url, COLUMNS="200")


def test_pledge_user_add_and_rename_set_the_name_and_list_shows_it(
    environment: dict[str, str], database_url: str
) -> None:
    added = pledge(
        environment,
        *("user", "add", "--email", NAMED, "--name", "  Priya Shah ", "--role", "vfu"),
        *("--borough", "camden"),
        stdin=STAFF_PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    assert names(database_url) == {NAMED: "Priya Shah"}

    renamed = pledge(environment, "user", "rename", NAMED.upper(), "--name", "Priya Shah-Khan")
    assert renamed.returncode == 0, renamed.stderr
    assert f"{NAMED} is now shown as Priya Shah-Khan" in renamed.stdout
    listing = pledge(environment, "user", "list")
    assert any(NAMED in line and "Priya Shah-Khan" in line for line in listing.stdout.splitlines())


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "the name is empty"),
        ("x" * 101, "the name has 101 characters"),
        ("Priya\nShah", "the name holds a control character"),
    ],
)
def test_a_bad_name_is_refused_in_one_line_and_changes_nothing(
    environment: dict[str, str], database_url: str, name: str, problem: str
) -> None:
    create_staff_user(database_url, NAMED, StaffRole.VFU, "camden", name="Priya Shah")
    other = "jo@met.example"

    for args in (
        ("user", "rename", NAMED, "--name", name),
        ("user", "add", "--email", other, "--name", name, "--role", "vfu", "--borough", "camden"),
    ):
        refused = pledge(environment, *args, stdin=STAFF_PASSWORD)
        assert refused.returncode == 1, args
        [line] = refused.stderr.strip().splitlines()
        assert problem in line and "accepted: a name of 1 to 100 characters on one line" in line
        assert "Traceback" not in refused.stderr
        assert names(database_url) == {NAMED: "Priya Shah"}


async def test_the_admin_page_shows_adds_and_changes_names_and_names_a_bad_one(
    database_url: str,
) -> None:
    create_staff_user(database_url, ADMIN, StaffRole.ADMIN)
    jo = create_staff_user(database_url, "jo@met.example", StaffRole.VFU, "camden")
    async with running_pages(database_url) as pages:
        await sign_in(pages.http, ADMIN)
        listing = await pages.http.get("/admin/users")
        assert "None: shown as their email" in listing.text
        token = await form_token(pages.http, "/admin/users")
        added = await pages.http.post(
            "/admin/users",
            data={
                "csrf_token": token,
                "email": NAMED,
                "display_name": "Priya Shah",
                "role": "vfu",
                "borough": "camden",
                "password": STAFF_PASSWORD,
            },
        )
        assert added.status_code == 303
        assert "<td>Priya Shah</td>" in (await pages.http.get(added.headers["location"])).text

        renamed = await pages.http.post(
            "/admin/users/name",
            data={"csrf_token": token, "account": str(jo.id), "new_name": "Jo Bloggs"},
        )
        assert renamed.status_code == 303
        shown = await pages.http.get(renamed.headers["location"])
        assert "jo@met.example is now shown as Jo Bloggs" in shown.text
        assert names(database_url)["jo@met.example"] == "Jo Bloggs"

        before = staff_state(pages.sessions)
        refused = await pages.http.post(
            "/admin/users/name",
            data={"csrf_token": token, "account": str(jo.id), "new_name": "x" * 101},
        )
        assert refused.status_code == 400
        assert 'href="#new_name"' in refused.text
        assert "The name has 101 characters" in refused.text
        nobody = await pages.http.post(
            "/admin/users/name",
            data={"csrf_token": token, "account": "999999", "new_name": "Jo"},
        )
        assert nobody.status_code == 400 and "Choose an account from the list" in nobody.text
        assert staff_state(pages.sessions) == before
