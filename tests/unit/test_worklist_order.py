"""The worklist's order (standards.worklist): what can still be saved first, the least
time left first and the higher risk on an equal deadline, then the breaches, the most
recent first; and what "due today" means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standards.vocabulary import ObligationState
from standards.worklist import (
    Risk,
    end_of_london_day,
    is_due_today,
    is_savable,
    risk_of,
    risk_rank,
    worklist_key,
)

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ENHANCED = ("domestic_abuse", "sexual_offence", "hate_crime", "serious_assault")


@dataclass(frozen=True)
class Row:
    due_at: datetime
    state: str = ObligationState.PENDING
    warn_at: datetime | None = None
    breached_at: datetime | None = None
    explained_at: datetime | None = None


def pending(due_in: timedelta) -> Row:
    return Row(due_at=NOW + due_in, warn_at=NOW - HOUR)


def breached(hours_ago: float) -> Row:
    due = NOW - timedelta(hours=hours_ago)
    return Row(due_at=due, state=ObligationState.BREACHED, breached_at=due)


def test_a_savable_row_comes_before_every_breach_however_old() -> None:
    soon = worklist_key(pending(20 * HOUR), risk_of("burglary", False, ENHANCED), 2, NOW)
    fresh_breach = worklist_key(breached(0.1), risk_of("domestic_abuse", True, ENHANCED), 1, NOW)
    assert soon < fresh_breach


def test_the_officer_s_case_a_vulnerable_victim_due_in_4_hours_tops_months_old_breaches() -> None:
    rows = {f"update breached {n} months ago": breached(24 * 30 * n) for n in range(1, 32)}
    rows["dv contact due in 4 hours"] = pending(4 * HOUR)
    rows["ack due in 30 hours"] = pending(30 * HOUR)
    risks = {name: risk_of("burglary", False, ENHANCED) for name in rows}
    risks["dv contact due in 4 hours"] = risk_of("domestic_abuse", True, ENHANCED)
    ordered = sorted(rows, key=lambda n: worklist_key(rows[n], risks[n], list(rows).index(n), NOW))
    assert ordered[:2] == ["dv contact due in 4 hours", "ack due in 30 hours"]
    # The breaches by age, the most recent first.
    assert ordered[2:5] == [f"update breached {n} months ago" for n in (1, 2, 3)]


def test_savable_rows_go_by_time_left_and_an_equal_deadline_by_risk() -> None:
    due = pending(3 * HOUR)
    later = pending(3 * HOUR + timedelta(minutes=1))
    plain = risk_of("burglary", False, ENHANCED)
    vulnerable = risk_of("burglary", True, ENHANCED)
    abuse = risk_of("domestic_abuse", False, ENHANCED)
    hate = risk_of("hate_crime", False, ENHANCED)
    keys = {
        "later, vulnerable": worklist_key(later, vulnerable, 1, NOW),
        "plain": worklist_key(due, plain, 2, NOW),
        "hate crime": worklist_key(due, hate, 3, NOW),
        "domestic abuse": worklist_key(due, abuse, 4, NOW),
        "vulnerable": worklist_key(due, vulnerable, 5, NOW),
    }
    assert sorted(keys, key=keys.__getitem__) == [
        "vulnerable",
        "domestic abuse",
        "hate crime",
        "plain",
        "later, vulnerable",
    ]


def test_risk_ranks_vulnerability_then_enhanced_rights_then_a_high_risk_category() -> None:
    assert risk_rank(Risk(True, True, True)) == 0
    assert risk_rank(risk_of("burglary", True, ENHANCED)) == 1
    assert risk_rank(risk_of("domestic_abuse", False, ENHANCED)) == 4
    assert risk_rank(risk_of("hate_crime", False, ENHANCED)) == 5
    assert risk_rank(risk_of("burglary", False, ENHANCED)) == 7
    # Vulnerable means enhanced rights whatever the category (Policy.has_enhanced_rights).
    assert risk_of("general", True, ()).enhanced


def test_ties_are_broken_by_the_obligation_id_so_the_order_is_total() -> None:
    row = breached(5)
    risk = risk_of("burglary", False, ENHANCED)
    assert worklist_key(row, risk, 1, NOW) < worklist_key(row, risk, 2, NOW)


def test_due_exactly_now_is_a_breach_not_savable() -> None:
    at_deadline = Row(due_at=NOW, warn_at=NOW - HOUR)
    assert not is_savable(at_deadline, NOW)
    assert is_savable(Row(due_at=NOW + timedelta(seconds=1), warn_at=NOW), NOW)
    assert not is_savable(breached(-1), NOW)


def test_due_today_is_due_soon_before_midnight_in_london() -> None:
    # 28 March 2026 is the last day of GMT: midnight in London is 00:00 UTC.
    assert end_of_london_day(NOW) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    # In summer time London's midnight is 23:00 UTC the day before.
    summer = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
    assert end_of_london_day(summer) == datetime(2026, 7, 1, 23, 0, tzinfo=UTC)
    assert end_of_london_day(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == datetime(
        2026, 7, 2, 23, 0, tzinfo=UTC
    )
    assert is_due_today(pending(11 * HOUR), NOW)
    assert not is_due_today(pending(12 * HOUR), NOW)
    # Not yet at its warning point: not due soon, so not on the list's "due today".
    assert not is_due_today(Row(due_at=NOW + HOUR, warn_at=NOW + 30 * timedelta(minutes=1)), NOW)
