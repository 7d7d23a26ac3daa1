"""The read-side rules at their boundary instants, and the case book deciding by them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from standards import read_rules
from standards.obligations import AlertKind, Obligation, ObligationState, advance_clock
from tests.support.read_rules import (
    BOUNDARIES,
    END,
    NOW,
    PERIOD_BOUNDARIES,
    RULES,
    START,
    Boundary,
    PeriodBoundary,
)

PREDICATES = {
    "open": lambda b: read_rules.is_open(b),
    "overdue": lambda b: read_rules.is_overdue(b, NOW),
    "due_soon": lambda b: read_rules.is_due_soon(b, NOW),
    "needs_explanation": lambda b: read_rules.needs_explanation(b),
}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.name)
def test_each_rule_holds_exactly_where_the_table_says_at_its_boundary(
    boundary: Boundary, rule: str
) -> None:
    assert PREDICATES[rule](boundary) is getattr(boundary, rule)


@pytest.mark.parametrize("boundary", PERIOD_BOUNDARIES, ids=lambda b: b.name)
def test_an_obligation_is_counted_in_a_period_by_its_deadline_its_as_of_and_its_state(
    boundary: PeriodBoundary,
) -> None:
    counted = read_rules.is_counted_in_period(boundary, START, END, boundary.as_of)
    assert counted is boundary.counted


def test_an_overdue_obligation_is_never_due_soon() -> None:
    assert not any(b.overdue and b.due_soon for b in BOUNDARIES)


def _book_obligation(boundary: Boundary) -> Obligation:
    return Obligation(
        key="dv_contact#0",
        standard="dv_contact",
        occurrence=0,
        state=boundary.state,
        started_at=boundary.due_at - timedelta(hours=24),
        due_at=boundary.due_at,
        warn_at=boundary.warn_at,
        escalate_at=boundary.due_at + timedelta(hours=24),
        window_amount=24,
        window_unit="hours",
    )


PENDING_BOUNDARIES = [b for b in BOUNDARIES if b.state == ObligationState.PENDING]


@pytest.mark.parametrize("boundary", PENDING_BOUNDARIES, ids=lambda b: b.name)
def test_the_book_breaches_a_pending_obligation_exactly_when_it_is_overdue(
    boundary: Boundary,
) -> None:
    obligation = _book_obligation(boundary)
    kinds = [alert.kind for alert in advance_clock(obligation, NOW)]
    assert (AlertKind.BREACH in kinds) is boundary.overdue
    assert (obligation.state == ObligationState.BREACHED) is boundary.overdue


@pytest.mark.parametrize("boundary", PENDING_BOUNDARIES, ids=lambda b: b.name)
def test_the_book_warns_of_a_pending_obligation_exactly_when_it_is_due_soon(
    boundary: Boundary,
) -> None:
    kinds = [alert.kind for alert in advance_clock(_book_obligation(boundary), NOW)]
    assert (AlertKind.WARNING in kinds) is boundary.due_soon


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: b.name)
def test_the_book_s_obligation_is_open_exactly_when_the_rule_says(boundary: Boundary) -> None:
    assert _book_obligation(boundary).is_open is boundary.open
