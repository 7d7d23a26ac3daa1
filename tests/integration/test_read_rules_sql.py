"""The read-side rules compiled to SQL select, on SQLite and PostgreSQL, exactly the
obligations the pure predicates name, at the same boundary instants."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from storage import models, read_rules
from tests.support.read_rules import (
    BOUNDARIES,
    END,
    NOW,
    PERIOD_BOUNDARIES,
    RULES,
    START,
    PeriodBoundary,
    add_boundary_cases,
    names_where,
)

COMPILED: dict[str, Callable[[], ColumnElement[bool]]] = {
    "open": read_rules.is_open,
    "overdue": lambda: read_rules.is_overdue(NOW),
    "due_soon": lambda: read_rules.is_due_soon(NOW),
    "needs_explanation": read_rules.needs_explanation,
}


def _selected(sessions: sessionmaker[Session], where: ColumnElement[bool]) -> set[str]:
    with sessions() as session:
        return set(
            session.scalars(
                select(models.Case.reference)
                .join(models.Obligation, models.Obligation.case_id == models.Case.id)
                .where(where)
            )
        )


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_in_sql_selects_the_obligations_its_predicate_names(
    db_session_factory: sessionmaker[Session], rule: str
) -> None:
    references = add_boundary_cases(db_session_factory, BOUNDARIES)
    expected = {references[name] for name in names_where(rule)}
    assert _selected(db_session_factory, COMPILED[rule]()) == expected


@pytest.mark.parametrize("boundary", PERIOD_BOUNDARIES, ids=lambda b: b.name)
def test_counted_in_a_period_in_sql_agrees_with_its_predicate(
    db_session_factory: sessionmaker[Session], boundary: PeriodBoundary
) -> None:
    add_boundary_cases(db_session_factory, (boundary,))
    where = read_rules.is_counted_in_periods([(START, END)], boundary.as_of)
    assert bool(_selected(db_session_factory, where)) is boundary.counted
