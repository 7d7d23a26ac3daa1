"""`make run` (`pledge dev`) serves the staff pages and says how to create the first admin."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from cli.dev import FIRST_ADMIN_COMMAND, first_admin_lines
from service.accounts import add_user, disable_user
from standards.staff import StaffRole
from tests.support.dev import dev_environment_in, pledge, start_dev, stop_dev
from tests.support.pages import STAFF_PASSWORD, sign_in

ADMIN = "you@example.org"


async def test_pledge_dev_prints_the_sign_in_page_and_the_command_for_a_first_admin(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    process, printed = start_dev(environment)
    try:
        match = re.search(r"staff pages: (http://127\.0\.0\.1:\d+)/sign-in", printed)
        assert match, printed
        assert f"  {FIRST_ADMIN_COMMAND}" in printed
        # The printed command, run as printed (the password on stdin), works.
        added = pledge(environment, *shlex.split(FIRST_ADMIN_COMMAND)[1:], stdin=STAFF_PASSWORD)
        assert added.returncode == 0, added.stderr
        async with httpx.AsyncClient(base_url=match.group(1), timeout=30) as browser:
            await sign_in(browser, ADMIN)
            page = await browser.get("/")
            assert page.status_code == 303 and page.headers["location"] == "/admin/users"
            users = await browser.get("/admin/users")
            assert users.status_code == 200 and ADMIN in users.text
            assert "Alex Morgan" in users.text
    finally:
        output = stop_dev(process)
    assert process.returncode == 0, output


def test_the_first_admin_hint_goes_once_an_active_admin_exists(
    sessions: sessionmaker[Session],
) -> None:
    assert FIRST_ADMIN_COMMAND in "\n".join(first_admin_lines(sessions))
    add_user(sessions, "vfu@example.org", StaffRole.VFU, "camden", STAFF_PASSWORD, actor="test")
    assert first_admin_lines(sessions) != []
    add_user(sessions, ADMIN, StaffRole.ADMIN, None, STAFF_PASSWORD, actor="test")
    assert first_admin_lines(sessions) == []
    disable_user(sessions, ADMIN, actor="test")
    assert first_admin_lines(sessions) != []
