"""The what-if's side-by-side rows: groups either side has, the total, the difference."""

from __future__ import annotations

from datetime import UTC, datetime

from reporting.compliance import ComplianceReport, GroupFigures
from reporting.what_if import WhatIf
from reporting.what_if_render import compared_rows, csv_rows
from standards.policy import load_policy
from tests.support.what_if import SHIPPED_POLICY

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


def report(groups: list[GroupFigures], total: GroupFigures) -> ComplianceReport:
    return ComplianceReport(START, END, END, ("standard",), groups, total)


def test_a_group_only_the_proposal_has_counts_nothing_under_the_current_policy() -> None:
    current = report(
        [GroupFigures(("victim_update",), due=10, met_on_time=8)],
        GroupFigures((), due=10, met_on_time=8),
    )
    proposed = report(
        [
            GroupFigures(("new_standard",), due=2, met_on_time=1),
            GroupFigures(("victim_update",), due=14, met_on_time=7),
        ],
        GroupFigures((), due=16, met_on_time=8),
    )
    result = WhatIf(current, proposed, load_policy(SHIPPED_POLICY), ["met-pledge v1"], 5, 0, 0, 0)
    rows = compared_rows(result)
    assert [row.key for row in rows] == [("new_standard",), ("victim_update",), ()]
    assert rows[0].current.due == 0 and rows[0].rate_difference is None
    assert rows[1].rate_difference == (0.5 - 0.8) * 100
    table = csv_rows(result)
    assert table[0][0] == "standard" and table[0][-1] == "on_time_rate_difference_points"
    assert table[2][0] == "victim_update" and table[2][-1] == "-30.000000"
    assert table[-1][0] == "all" and table[-1][1] == "10" and table[-1][6] == "16"
