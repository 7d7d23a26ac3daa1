"""A force rehearses adopting the Victims' Code on its recorded year: `pledge what-if
--policy policies/victims-code-2021.toml` replays the Met Pledge's cases under the Code
and shows the standards the Code adds, with nothing refused or lost."""

from __future__ import annotations

from pathlib import Path

from tests.support.dev import dev_environment_in, pledge
from tests.support.what_if import SHIPPED_POLICY, recorded_year_in

CODE_POLICY = SHIPPED_POLICY.parent / "victims-code-2021.toml"
PERIOD = ("--from", "2026-01-01", "--to", "2027-01-01", "--as-of", "2027-01-01T00:00+00:00")


def test_the_code_rehearsed_on_a_recorded_year_adds_its_rights_and_keeps_the_shared_ones(
    database_url: str, tmp_path: Path
) -> None:
    recorded_year_in(database_url)
    environment = dev_environment_in(tmp_path / "data", DATABASE_URL=database_url)
    table = tmp_path / "code.csv"
    result = pledge(
        environment,
        *("what-if", "--policy", str(CODE_POLICY), *PERIOD, "--csv", str(table)),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    header, *rows = [line.split(",") for line in table.read_text().splitlines()]
    by_standard = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    # Every crime case now owes a needs assessment and a referral (none recorded: breached).
    assert int(by_standard["support_referral"]["proposed_due"]) > 0
    assert int(by_standard["support_referral"]["current_due"]) == 0
    # A standard both policies share is counted under each.
    assert int(by_standard["acknowledgement"]["current_due"]) > 0
    assert int(by_standard["acknowledgement"]["proposed_due"]) > 0
