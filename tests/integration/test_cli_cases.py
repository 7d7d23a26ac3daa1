"""`pledge cases` as a user runs it: open cases from the database, and with --overdue or
--due-soon only those the read-side rules name now (the exact instants are stated by
test_read_rules_surfaces.py, which can fix the clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.enums import ObligationState
from tests.support.case_rows import ObligationSpec, add_case
from tests.support.reports import pledge_on

MINUTE = timedelta(minutes=1)
OVERDUE = "01/000001/26"
DUE_SOON = "01/000002/26"
NOT_YET = "01/000003/26"
MET = "01/000004/26"


@pytest.fixture
def listed_cases(db_session_factory: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    pending = ObligationState.PENDING
    # A 24-hour window warns at 18 hours: due in an hour is due soon, in 20 hours not yet.
    for reference, spec in (
        (OVERDUE, ObligationSpec("dv_contact", pending, -MINUTE)),
        (DUE_SOON, ObligationSpec("dv_contact", pending, 60 * MINUTE)),
        (NOT_YET, ObligationSpec("dv_contact", pending, 20 * 60 * MINUTE)),
        (MET, ObligationSpec("dv_contact", ObligationState.MET, -MINUTE)),
    ):
        add_case(db_session_factory, now, reference, spec)


@pytest.mark.parametrize(
    ("flags", "title", "listed"),
    [
        ((), "open cases", {OVERDUE, DUE_SOON, NOT_YET, MET}),
        (("--overdue",), "overdue cases", {OVERDUE}),
        (("--due-soon",), "due soon cases", {DUE_SOON}),
        (("--overdue", "--due-soon"), "overdue, due soon cases", {OVERDUE, DUE_SOON}),
    ],
)
@pytest.mark.usefixtures("listed_cases")
def test_pledge_cases_lists_the_open_cases_the_rules_name(
    tmp_path: Path, database_url: str, flags: tuple[str, ...], title: str, listed: set[str]
) -> None:
    done = pledge_on(tmp_path, database_url, "cases", *flags)

    assert done.returncode == 0, done.stderr
    assert title in done.stdout
    shown = {r for r in (OVERDUE, DUE_SOON, NOT_YET, MET) if r in done.stdout}
    assert shown == listed
