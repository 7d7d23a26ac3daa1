"""The Ministry of Justice's measures (`pledge report --measures moj`) from one compliance
report grouped by standard: each measure counts the standards it names together."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reporting.compliance import ComplianceReport, GroupFigures, ReportError
from reporting.measures import measures_csv_rows, measures_report
from standards.policy import PolicyError, load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
CODE = load_policy(ROOT / "policies" / "victims-code-2021.toml")
PLEDGE = load_policy(ROOT / "policies" / "met-pledge.toml")
START, END = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)


def figures(by: tuple[str, ...], *groups: GroupFigures) -> ComplianceReport:
    total = GroupFigures(key=())
    return ComplianceReport(
        start=START, end=END, as_of=END, by=by, groups=list(groups), total=total
    )


def group(*key: str, due: int, on_time: int, late: int = 0, breached: int = 0) -> GroupFigures:
    return GroupFigures(key=key, due=due, met_on_time=on_time, met_late=late, breached=breached)


def test_updates_in_timeframe_adds_up_every_update_standard_and_nothing_else() -> None:
    report = measures_report(
        CODE,
        "moj",
        figures(
            ("standard",),
            group("victim_update", due=10, on_time=8, late=1, breached=1),
            group("release_update", due=4, on_time=2, breached=2),
            group("acknowledgement", due=20, on_time=19, late=1),
        ),
    )
    rows = {row.key[0]: row for row in report.rows}
    assert (rows["updates_in_timeframe"].due, rows["updates_in_timeframe"].met_on_time) == (14, 10)
    assert rows["release_communication"].on_time_rate == 0.5
    assert rows["written_acknowledgement"].on_time_rate == 0.95
    # A measure with nothing due still has its row, and no rate.
    assert rows["vps_offered"].due == 0 and rows["vps_offered"].on_time_rate is None
    assert report.rows[0].key == ("written_acknowledgement",)


def test_measures_by_borough_keep_each_boroughs_figures_apart() -> None:
    report = measures_report(
        CODE,
        "moj",
        figures(
            ("standard", "borough"),
            group("support_referral", "camden", due=3, on_time=3),
            group("support_referral", "hackney", due=2, on_time=1, breached=1),
        ),
    )
    assert [(row.key, row.due) for row in report.rows] == [
        (("referral_to_support", "camden"), 3),
        (("referral_to_support", "hackney"), 2),
    ]
    header, *rows = measures_csv_rows(report)
    assert header[:3] == ["measure", "title", "borough"]
    assert rows[1][-2:] == ["50.000000", "support_referral"]


def test_a_policy_without_the_measures_is_refused_naming_those_it_has() -> None:
    with pytest.raises(
        ReportError, match="policy met-pledge defines no measures 'moj'; defined: none"
    ):
        measures_report(PLEDGE, "moj", figures(("standard",)))
    with pytest.raises(ReportError, match="defined: moj"):
        measures_report(CODE, "quarterly", figures(("standard",)))


def test_a_measure_naming_a_standard_the_policy_lacks_is_refused_with_its_line() -> None:
    source = (ROOT / "policies" / "victims-code-2021.toml").read_text(encoding="utf-8")
    broken = source.replace('standards = ["vps_offer"]', 'standards = ["vps_ofer"]')
    with pytest.raises(
        PolicyError, match=r"must name standards of the policy; unknown: \['vps_ofer'\]"
    ):
        parse_policy(broken, "victims-code-2021.toml")
