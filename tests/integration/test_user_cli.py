"""`pledge user add | list | disable | enable`, run as a user runs them (a subprocess)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from service.accounts import password_matches
from storage import models
from storage.database import make_engine, make_session_factory
from tests.support.dev import dev_environment_in, pledge

PASSWORD = "a perfectly long passphrase"


@pytest.fixture
def environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    return dev_environment_in(tmp_path, DATABASE_URL=database_url, COLUMNS="200")


def stored(database_url: str) -> dict[str, models.StaffUserRecord]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.scalars(select(models.StaffUserRecord))
            return {row.email: row for row in rows}
    finally:
        engine.dispose()


def test_user_add_reads_the_password_from_stdin_and_stores_only_its_hash(
    environment: dict[str, str], database_url: str
) -> None:
    added = pledge(
        environment,
        *("user", "add", "--email", "Jo.Bloggs@Camden.Example.org", "--role", "vfu"),
        *("--borough", "CAMDEN"),
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added jo.bloggs@camden.example.org (vfu in camden)" in added.stdout
    row = stored(database_url)["jo.bloggs@camden.example.org"]
    assert row.role == "vfu" and row.borough == "camden"
    assert PASSWORD not in row.password_hash and row.password_hash.startswith("$argon2id$")
    assert password_matches(row.password_hash, PASSWORD)
    assert PASSWORD not in added.stdout + added.stderr

    manager = pledge(
        environment,
        *("user", "add", "--email", "boss@example.org", "--role", "manager"),
        stdin=PASSWORD,
    )
    assert manager.returncode == 0, manager.stderr
    listing = pledge(environment, "user", "list")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert any("jo.bloggs@camden.example.org" in line and "camden" in line for line in lines)
    assert any("boss@example.org" in line and "(all)" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--email", "nope", "--role", "admin"), PASSWORD, "'nope' is not an email address"),
        (("--email", "a@example.org", "--role", "chief"), PASSWORD, "unknown role 'chief'"),
        (("--email", "a@example.org", "--role", "vfu"), PASSWORD, "give --borough"),
        (
            ("--email", "a@example.org", "--role", "admin", "--borough", "camden"),
            PASSWORD,
            "an admin has no borough",
        ),
        (
            ("--email", "a@example.org", "--role", "vfu", "--borough", "atlantis"),
            PASSWORD,
            "unknown borough 'atlantis'",
        ),
        (("--email", "a@example.org", "--role", "admin"), "short\n", "at least 12 characters"),
        (("--email", "a@example.org", "--role", "admin"), "", "at least 12 characters"),
    ],
)
def test_user_add_refuses_bad_input_in_one_line_and_adds_nobody(
    tmp_path: Path, sqlite_url: str, args: tuple[str, ...], stdin: str, message: str
) -> None:
    # Bad input is refused before the database is used: one database is enough.
    environment = dev_environment_in(tmp_path, DATABASE_URL=sqlite_url)
    database_url = sqlite_url
    result = pledge(environment, "user", "add", *args, stdin=stdin)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert stored(database_url) == {}


def test_a_second_account_for_one_address_and_a_missing_option_are_refused(
    environment: dict[str, str], database_url: str
) -> None:
    add = ("user", "add", "--email", "a@example.org", "--role", "admin")
    assert pledge(environment, *add, stdin=PASSWORD).returncode == 0
    again = pledge(
        environment, "user", "add", "--email", "A@Example.org", "--role", "admin", stdin=PASSWORD
    )
    assert again.returncode == 1
    assert "a@example.org already has an account" in again.stderr
    missing = pledge(environment, "user", "add", "--email", "b@example.org")
    assert missing.returncode == 2
    assert "--role" in missing.stderr and "Traceback" not in missing.stderr


def test_user_disable_and_enable_change_the_account_and_say_so(
    environment: dict[str, str], database_url: str
) -> None:
    add = ("user", "add", "--email", "a@example.org", "--role", "admin")
    assert pledge(environment, *add, stdin=PASSWORD).returncode == 0
    disabled = pledge(environment, "user", "disable", "A@example.org")
    assert disabled.returncode == 0 and "a@example.org disabled" in disabled.stdout
    assert stored(database_url)["a@example.org"].disabled_at is not None
    again = pledge(environment, "user", "disable", "a@example.org")
    assert again.returncode == 0 and "already disabled" in again.stdout
    assert "disabled" in pledge(environment, "user", "list").stdout
    enabled = pledge(environment, "user", "enable", "a@example.org")
    assert enabled.returncode == 0 and "a@example.org enabled" in enabled.stdout
    assert stored(database_url)["a@example.org"].disabled_at is None
    unknown = pledge(environment, "user", "disable", "nobody@example.org")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "error: no account for nobody@example.org; `pledge user list` shows them"
    )
