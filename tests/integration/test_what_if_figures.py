"""The what-if's figures: a known small result on SQLite and PostgreSQL, whichever way the
cases are read, and exactly `pledge report`'s counts of the replayed obligations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from config import Settings
from engine.run import EngineConfig
from reporting.compliance import ComplianceReport, compliance_report, local_midnight
from reporting.what_if import StoredHistory, replay_case, what_if
from reporting.what_if_history import History, Period, case_refs, read_history
from reporting.what_if_tally import Counting, Tally, count_obligations, report_of
from service.simulate_in_process import engine_config
from standards.force import load_force
from standards.policy import load_policy
from storage.database import make_engine
from storage.models import Case, Obligation
from storage.summary import rebuild_report_summary
from tests.support.dev import ROOT
from tests.support.what_if import (
    SHIPPED_POLICY,
    figures,
    policy_with_window,
    recorded_year_in,
)

FORCE = load_force(ROOT / "policies" / "met.force.toml")
YEAR = (local_midnight(datetime(2026, 1, 1).date()), local_midnight(datetime(2027, 1, 1).date()))
AS_OF = datetime(2027, 1, 1, tzinfo=UTC)
# The moment the replays run to: fixed, so that the figures are known.
NOW = datetime(2026, 12, 2, tzinfo=UTC)

# 120 cases of 2026 (seed 3), by standard: due, on time, late, breached, awaiting breach;
# as the what-if counted them when it wrote the replays into a database and ran
# `compliance_report` there.
SAME = {
    "acknowledgement": (119, 119, 0, 0, 0),
    "arrest_charge_update": (25, 10, 15, 0, 0),
    "closure_explanation": (67, 67, 0, 0, 0),
    "dv_contact": (14, 8, 2, 4, 0),
    "feedback_acknowledgement": (1, 1, 0, 0, 0),
    "serious_assault_review": (14, 9, 3, 2, 0),
    "traffic_unit_contact": (14, 13, 0, 1, 0),
}
KNOWN_CURRENT = {**SAME, "victim_update": (396, 327, 34, 31, 4), "all": (650, 554, 54, 38, 4)}
KNOWN_PROPOSED = {**SAME, "victim_update": (413, 250, 125, 32, 6), "all": (667, 477, 145, 39, 6)}


def by_standard(report: ComplianceReport) -> dict[str, tuple[int, ...]]:
    return {key[0] if key else "all": counts for key, counts in figures(report).items()}


def history_in(url: str) -> tuple[StoredHistory, History]:
    """The recorded year as the command reads it (left in the database), and in memory."""
    period = Period(*YEAR)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            stored = StoredHistory(url, FORCE, period, case_refs(connection, period))
            return stored, read_history(connection, FORCE, *YEAR)
    finally:
        engine.dispose()


def configs(tmp_path: Path) -> tuple[EngineConfig, EngineConfig]:
    settings = Settings()
    proposed = load_policy(policy_with_window(tmp_path, "victim_update", 21))
    return (
        engine_config(settings, load_policy(SHIPPED_POLICY), FORCE),
        engine_config(settings, proposed, FORCE),
    )


@pytest.mark.parametrize("processes", [1, 2])
def test_updates_every_21_days_over_a_known_year_give_the_known_figures_however_read(
    database_url: str, tmp_path: Path, processes: int
) -> None:
    recorded_year_in(database_url)
    current, proposed = configs(tmp_path)
    for history in history_in(database_url):
        result = what_if(
            history,
            {current.policy.id: current},
            proposed,
            *YEAR,
            ["standard"],
            AS_OF,
            processes=processes,
            now=NOW,
        )
        assert (result.cases, result.erased_cases, result.other_versions) == (120, 0, 0)
        assert result.current_policies == [f"met-pledge v{load_policy(SHIPPED_POLICY).version}"]
        assert by_standard(result.current) == KNOWN_CURRENT
        assert by_standard(result.proposed) == KNOWN_PROPOSED


def test_the_shipped_policy_as_proposal_is_replayed_once_and_counts_the_same(
    database_url: str, tmp_path: Path
) -> None:
    recorded_year_in(database_url)
    current, _ = configs(tmp_path)
    _, history = history_in(database_url)
    result = what_if(
        history, {current.policy.id: current}, current, *YEAR, ["standard"], AS_OF, now=NOW
    )
    assert by_standard(result.current) == by_standard(result.proposed) == KNOWN_CURRENT


# (by, start, end, as of, borough, standard): whole months, a running month, part days.
REPORTS = [
    (("standard",), *YEAR, AS_OF, None, None),
    (("standard", "borough", "category", "month"), *YEAR, AS_OF, None, None),
    (
        ("month", "category"),
        datetime(2026, 3, 17, 10, 30, tzinfo=UTC),
        datetime(2026, 8, 1, tzinfo=UTC),
        datetime(2026, 6, 15, 12, tzinfo=UTC),
        "camden",
        None,
    ),
    ((), datetime(2026, 2, 3, 7, tzinfo=UTC), *YEAR[1:], AS_OF, None, "victim_update"),
]


def test_the_counts_in_memory_are_pledge_reports_counts_of_the_same_obligations(
    database_url: str, tmp_path: Path
) -> None:
    recorded_year_in(database_url)
    _, proposed = configs(tmp_path)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            history: History = read_history(connection, FORCE, *YEAR)
            ids = dict(connection.execute(select(Case.reference, Case.id)).all())
            runs = [
                (recorded.case, replay_case(proposed, recorded.case, NOW).book.state.obligations)
                for recorded in history.cases
            ]
            rows = [
                {
                    "case_id": ids[case.reference],
                    "key": o.key,
                    "standard": o.standard,
                    "occurrence": o.occurrence,
                    "state": o.state.value,
                    "borough": case.borough,
                    "category": case.category,
                    "started_at": o.started_at,
                    "due_at": o.due_at,
                    "met_at": o.met_at,
                    "window_amount": o.window_amount,
                    "window_unit": o.window_unit,
                    "updated_at": NOW,
                }
                for case, obligations in runs
                for o in obligations
            ]
            connection.execute(insert(Obligation), rows)
            rebuild_report_summary(connection)
        with engine.connect() as connection:
            for by, start, end, as_of, borough, standard in REPORTS:
                counting = Counting.of(start, end, by, as_of, borough=borough, standard=standard)
                tally = Tally()
                for case, obligations in runs:
                    count_obligations(tally, counting, obligations, case.borough, case.category)
                expected = compliance_report(
                    connection,
                    start,
                    end,
                    by,
                    as_of,
                    percentiles=False,
                    borough=borough,
                    standard=standard,
                )
                assert expected.total.due > 0
                assert report_of(tally, counting) == expected, by
    finally:
        engine.dispose()
