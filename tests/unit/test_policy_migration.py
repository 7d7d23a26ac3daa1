"""Moving a running case to a newer policy version: which deadlines move, and how."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState, Effects
from standards.obligations import ObligationState
from standards.policy import Policy, load_policy
from standards.policy_migration import (
    MigrationRefused,
    apply_migration,
    deadline_moves,
    plan_migration,
)
from standards.schedules import schedule_for
from tests.support.what_if import SHIPPED_POLICY, policy_with_window

POLICY = load_policy(SHIPPED_POLICY)
REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def opened(category: str) -> CaseBook:
    """A case opened at REPORTED, its opening deadlines planned and its messages delivered."""
    book = CaseBook(
        CaseFacts(
            reference="01/9/26",
            category=category,
            borough="camden",
            reported_at=REPORTED,
            policy=POLICY,
        ),
        CaseState(),
    )
    effects = book.open_case()
    while effects.starts or effects.messages:
        schedules = {r.key: schedule_for(r) for r in effects.schedule_requests}
        book.begin(effects.starts, schedules, REPORTED)
        messages, effects = effects.messages, Effects()
        for message in messages:
            effects.extend(book.message_delivered(message, REPORTED))
    return book


def proposed(tmp_path: Path, standard: str, window: int) -> Policy:
    return load_policy(policy_with_window(tmp_path, standard, window))


def test_a_shorter_update_window_moves_the_running_update_deadline(tmp_path: Path) -> None:
    book = opened("burglary")
    plan = plan_migration(book, proposed(tmp_path, "victim_update", 21))
    schedules = {r.key: schedule_for(r) for r in plan.effects.schedule_requests}
    (move,) = deadline_moves(book, plan, schedules)
    assert (move.standard, move.window_before, move.window_after) == (
        "victim_update",
        "28 days",
        "21 days",
    )
    assert move.due_before == REPORTED + timedelta(days=28)
    assert move.due_after == REPORTED + timedelta(days=21)


def test_applying_it_records_the_old_and_new_deadline_and_puts_the_case_on_the_new_version(
    tmp_path: Path,
) -> None:
    book = opened("burglary")
    new = proposed(tmp_path, "victim_update", 21)
    plan = plan_migration(book, new)
    schedules = {r.key: schedule_for(r) for r in plan.effects.schedule_requests}
    at = REPORTED + timedelta(days=2)
    book.take_dirty()
    apply_migration(book, plan, schedules, at)
    update = next(o for o in book.state.obligations if o.standard == "victim_update")
    assert update.due_at == REPORTED + timedelta(days=21)
    assert (update.window_amount, update.window_unit) == (21, "days")
    last = update.history[-1]
    assert (last.event, last.at) == ("retimed", at)
    assert f"v{POLICY.version} to v{POLICY.version + 1}" in last.cause
    assert "28 days -> 21 days" in last.cause
    assert (REPORTED + timedelta(days=28)).isoformat() in last.cause
    assert (REPORTED + timedelta(days=21)).isoformat() in last.cause
    assert [o.key for o in book.take_dirty()] == [update.key]
    newer = POLICY.version + 1
    assert book.policy.version == newer and book.facts.policy.version == newer


def test_a_met_obligation_never_changes(tmp_path: Path) -> None:
    book = opened("burglary")
    acknowledgement = next(o for o in book.state.obligations if o.standard == "acknowledgement")
    assert acknowledgement.state == ObligationState.MET
    plan = plan_migration(book, proposed(tmp_path, "acknowledgement", 2))
    assert plan.effects.retimes == []


def test_a_breached_obligation_never_changes(tmp_path: Path) -> None:
    book = opened("domestic_abuse")
    book.advance(REPORTED + timedelta(hours=30))
    contact = next(o for o in book.state.obligations if o.standard == "dv_contact")
    assert contact.state == ObligationState.BREACHED
    plan = plan_migration(book, proposed(tmp_path, "dv_contact", 48))
    assert [r.key for r in plan.effects.retimes] == []


def test_an_unchanged_window_moves_nothing(tmp_path: Path) -> None:
    book = opened("burglary")
    plan = plan_migration(book, proposed(tmp_path, "dv_contact", 48))
    assert plan.effects.retimes == [] and plan.dropped == []


def test_only_a_newer_version_of_the_cases_own_policy_is_accepted(tmp_path: Path) -> None:
    book = opened("burglary")
    with pytest.raises(MigrationRefused, match="give a newer version"):
        plan_migration(book, POLICY)
    other = tmp_path / "other.toml"
    other.write_text(SHIPPED_POLICY.read_text().replace('id = "met-pledge"', 'id = "other"', 1))
    with pytest.raises(MigrationRefused, match="only move to a version of it"):
        plan_migration(book, load_policy(other))
